// out = a (op) b with numpy broadcasting; {{OP}} is the formula in a and b.
@group(0) @binding(1) var<storage, read> a_values: array<f32>;
@group(0) @binding(2) var<storage, read> b_values: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn combine(a: f32, b: f32) -> f32 {
  return {{OP}};
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= P.count) { return; }
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = P.rank; d > 0u; d--) {
    let extent = at(P.out_shape, d - 1u);
    let coord = rest % extent;
    rest /= extent;
    ia += coord * at(P.a_strides, d - 1u);
    ib += coord * at(P.b_strides, d - 1u);
  }
  out[i] = combine(a_values[ia], b_values[ib]);
}
