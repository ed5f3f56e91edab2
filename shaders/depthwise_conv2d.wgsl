// Depthwise convolution (one input channel per group, out_c/groups outputs per channel) computed
// directly: a GEMM with one row per group would leave most of a tile idle. Each invocation produces
// four neighbouring outputs along the row.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let quads = (P.out_w + 3u) / 4u;
  let index = flat_index(gid, nwg);
  if (index >= P.batch * P.out_c * P.out_h * quads) { return; }
  let ow0 = (index % quads) * 4u;
  let oh = (index / quads) % P.out_h;
  let oc = (index / (quads * P.out_h)) % P.out_c;
  let n = index / (quads * P.out_h * P.out_c);
  let c = oc / out_c_per_group();
  var acc = vec4<f32>(bias[oc]);
  for (var kh = 0u; kh < P.k_h; kh++) {
    let ih = i32(oh * P.stride_h + kh * P.dil_h) - P.pad_t;
    if (ih < 0 || ih >= i32(P.in_h)) { continue; }
    let row = ((n * P.in_c + c) * P.in_h + u32(ih)) * P.in_w;
    for (var kw = 0u; kw < P.k_w; kw++) {
      let w = weight[(oc * P.k_h + kh) * P.k_w + kw];
      for (var j = 0u; j < 4u; j++) {
        let iw = i32((ow0 + j) * P.stride_w + kw * P.dil_w) - P.pad_l;
        if (iw >= 0 && iw < i32(P.in_w)) { acc[j] += w * x[row + u32(iw)]; }
      }
    }
  }
  let out_row = ((n * P.out_c + oc) * P.out_h + oh) * P.out_w;
  for (var j = 0u; j < 4u; j++) {
    if (ow0 + j < P.out_w) { y[out_row + ow0 + j] = acc[j]; }
  }
}
