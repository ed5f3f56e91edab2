// out = a (op) b with numpy broadcasting; {{OP}} is the formula in a and b. The result goes through
// activated(): a ReLU after a residual Add runs in this write (src/plan/fusion.ts).
fn combine(a: f32, b: f32) -> f32 {
  return {{OP}};
}

fn element(index: u32) {
  // Same-shape operands (merged to one dim) and scalars (no dim) need no coordinates: integer division
  // runs lane by lane on CPU adapters and costs more than the rest of the kernel.
  if (P.rank <= 1u) {
    out[index] = activated(combine(a_values[index * a_strides_at(0u)], b_values[index * b_strides_at(0u)]));
    return;
  }
  // Otherwise each invocation computes RUN neighbouring elements along the last (merged) dim: their
  // coordinates are found once per run (a per-channel gate over a plane: [C, H*W] times [C, 1]).
  let last = P.rank - 1u;
  let extent = out_shape_at(last);
  let runs = (extent + RUN - 1u) / RUN;
  let row = index / runs;
  let c0 = (index % runs) * RUN;
  var rest = row;
  var ia = c0 * a_strides_at(last);
  var ib = c0 * b_strides_at(last);
  for (var d = last - 1u; d > 0u; d--) {
    let size = out_shape_at(d);
    let coord = rest % size;
    rest /= size;
    ia += coord * a_strides_at(d);
    ib += coord * b_strides_at(d);
  }
  // What is left is the first dim's coordinate: no modulo.
  ia += rest * a_strides_at(0u);
  ib += rest * b_strides_at(0u);
  let sa = a_strides_at(last);
  let sb = b_strides_at(last);
  let o = row * extent + c0;
  for (var j = 0u; j < RUN; j++) {
    if (c0 + j < extent) { out[o + j] = activated(combine(a_values[ia + j * sa], b_values[ib + j * sb])); }
  }
}
