// Depthwise convolution backward-data, computed directly like the forward: each invocation gathers
// four neighbouring input positions of dx from every output position whose window covers them.
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let quads = (P.in_w + 3u) / 4u;
  let index = flat_index(gid, nwg);
  if (index >= P.batch * P.in_c * P.in_h * quads) { return; }
  let iw0 = (index % quads) * 4u;
  let ih = (index / quads) % P.in_h;
  let c = (index / (quads * P.in_h)) % P.in_c;
  let n = index / (quads * P.in_h * P.in_c);
  let multiplier = out_c_per_group();
  var acc = vec4<f32>(0.0);
  for (var m = 0u; m < multiplier; m++) {
    let oc = c * multiplier + m;
    for (var kh = 0u; kh < P.k_h; kh++) {
      let th = i32(ih) + P.pad_t - i32(kh * P.dil_h);
      if (th < 0 || u32(th) % P.stride_h != 0u || u32(th) / P.stride_h >= P.out_h) { continue; }
      let row = ((n * P.out_c + oc) * P.out_h + u32(th) / P.stride_h) * P.out_w;
      for (var kw = 0u; kw < P.k_w; kw++) {
        let w = weight[(oc * P.k_h + kh) * P.k_w + kw];
        for (var j = 0u; j < 4u; j++) {
          let tw = i32(iw0 + j) + P.pad_l - i32(kw * P.dil_w);
          if (tw >= 0 && u32(tw) % P.stride_w == 0u && u32(tw) / P.stride_w < P.out_w) { acc[j] += w * dy[row + u32(tw) / P.stride_w]; }
        }
      }
    }
  }
  let in_row = ((n * P.in_c + c) * P.in_h + ih) * P.in_w;
  for (var j = 0u; j < 4u; j++) {
    if (iw0 + j < P.in_w) {
      if (P.accumulate != 0u) { dx[in_row + iw0 + j] += acc[j]; } else { dx[in_row + iw0 + j] = acc[j]; }
    }
  }
}
