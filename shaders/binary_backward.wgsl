// The gradient of one input of a broadcasting binary op, as a gather: each invocation owns one element
// of that input and sums dy * {{GRAD}} (the partial derivative, in a, b and g = dy) over the output
// positions that read it, so broadcast inputs are reduced without atomics.
@group(0) @binding(1) var<storage, read> a_values: array<f32>;
@group(0) @binding(2) var<storage, read> b_values: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

fn partial(a: f32, b: f32, g: f32) -> f32 {
  return {{GRAD}};
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  if (t >= P.count) { return; }
  // Offsets of the first output position reading element t: its coordinates on the dims the target spans.
  var io = 0u;
  var ia = 0u;
  var ib = 0u;
  for (var d = 0u; d < P.rank; d++) {
    let stride = at(P.target_strides, d);
    if (stride == 0u) { continue; }
    let coord = (t / stride) % at(P.out_shape, d);
    io += coord * at(P.out_strides, d);
    ia += coord * at(P.a_strides, d);
    ib += coord * at(P.b_strides, d);
  }
  var sum = 0.0;
  for (var r = 0u; r < P.reduce_count; r++) {
    // r enumerates the coordinates on the dims the target is broadcast along.
    var rest = r;
    var jo = io;
    var ja = ia;
    var jb = ib;
    for (var d = P.rank; d > 0u; d--) {
      if (at(P.target_strides, d - 1u) != 0u) { continue; }
      let extent = at(P.out_shape, d - 1u);
      let coord = rest % extent;
      rest /= extent;
      jo += coord * at(P.out_strides, d - 1u);
      ja += coord * at(P.a_strides, d - 1u);
      jb += coord * at(P.b_strides, d - 1u);
    }
    sum += partial(a_values[ja], b_values[jb], dy[jo]);
  }
  if (P.accumulate != 0u) { dx[t] += sum; } else { dx[t] = sum; }
}
