// The gradient of one input of a broadcasting binary op, as a gather: each invocation owns one element
// of that input and sums dy * {{GRAD}} (the partial derivative, in a, b and g = dy) over the output
// positions that read it, so broadcast inputs are reduced without atomics.
fn partial(a: f32, b: f32, g: f32) -> f32 {
  return {{GRAD}};
}

fn element(t: u32) {
  // Same-shape operands (one dim after merging) need no coordinates: integer division runs lane by lane
  // on CPU adapters (a residual Add's two gradients: 17 ms each way at 16x16x28x28 before).
  if (P.rank == 1u && P.reduce_count == 1u) {
    store_dx(t, partial(a_values[t * a_strides_at(0u)], b_values[t * b_strides_at(0u)], dy[t]));
    return;
  }
  // Offsets of the first output position reading element t: its coordinates on the dims the target spans.
  var io = 0u;
  var ia = 0u;
  var ib = 0u;
  for (var d = 0u; d < P.rank; d++) {
    let stride = target_strides_at(d);
    if (stride == 0u) { continue; }
    let coord = (t / stride) % out_shape_at(d);
    io += coord * out_strides_at(d);
    ia += coord * a_strides_at(d);
    ib += coord * b_strides_at(d);
  }
  var sum = 0.0;
  for (var r = 0u; r < P.reduce_count; r++) {
    // r enumerates the coordinates on the dims the target is broadcast along.
    var rest = r;
    var jo = io;
    var ja = ia;
    var jb = ib;
    for (var d = P.rank; d > 0u; d--) {
      if (target_strides_at(d - 1u) != 0u) { continue; }
      let extent = out_shape_at(d - 1u);
      let coord = rest % extent;
      rest /= extent;
      jo += coord * out_strides_at(d - 1u);
      ja += coord * a_strides_at(d - 1u);
      jb += coord * b_strides_at(d - 1u);
    }
    sum += partial(a_values[ja], b_values[jb], dy[jo]);
  }
  store_dx(t, sum);
}
