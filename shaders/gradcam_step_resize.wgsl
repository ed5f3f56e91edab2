// Unfused Grad-CAM, step 3 of 4: bilinear resize, one invocation per output pixel.
@group(0) @binding(1) var<storage, read> coarse: array<f32>;
@group(0) @binding(2) var<storage, read_write> raw: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let pixels = P.out_h * P.out_w;
  let index = flat_index(gid, nwg);
  if (index >= P.batch * pixels) { return; }
  let q = index % pixels;
  let t = bilinear_taps(q / P.out_w, q % P.out_w);
  let base = (index / pixels) * P.in_h * P.in_w;
  raw[index] = interpolate(t, coarse[base + t.i00], coarse[base + t.i01], coarse[base + t.i10], coarse[base + t.i11]);
}
