// AveragePool forward: one invocation per output; see window_divisor for what it divides by.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.planes * P.out_h * P.out_w) { return; }
  let ow = index % P.out_w;
  let oh = (index / P.out_w) % P.out_h;
  let plane = index / (P.out_w * P.out_h);
  let origin = window_origin(oh, ow);
  let base = plane * P.in_h * P.in_w;
  var sum = 0.0;
  for (var kh = 0u; kh < P.k_h; kh++) {
    let ih = origin.x + i32(kh * P.dil_h);
    if (ih < 0 || ih >= i32(P.in_h)) { continue; }
    for (var kw = 0u; kw < P.k_w; kw++) {
      let iw = origin.y + i32(kw * P.dil_w);
      if (iw >= 0 && iw < i32(P.in_w)) { sum += x[base + u32(ih) * P.in_w + u32(iw)]; }
    }
  }
  y[index] = sum / window_divisor(origin);
}
