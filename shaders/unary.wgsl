// y = f(x) elementwise; {{OP}} is the formula in x.
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;

fn activation(x: f32) -> f32 {
  return {{OP}};
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= P.count) { return; }
  ys[i] = activation(xs[i]);
}
