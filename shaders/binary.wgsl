// out = a (op) b with numpy broadcasting; {{OP}} is the formula in a and b.
fn combine(a: f32, b: f32) -> f32 {
  return {{OP}};
}

fn element(index: u32) {
  // Same-shape operands (merged to one dim) and scalars (no dim) need no coordinates: integer division
  // runs lane by lane on CPU adapters and costs more than the rest of the kernel.
  if (P.rank <= 1u) {
    out[index] = combine(a_values[index * a_strides_at(0u)], b_values[index * b_strides_at(0u)]);
    return;
  }
  var rest = index;
  var ia = 0u;
  var ib = 0u;
  for (var d = P.rank - 1u; d > 0u; d--) {
    let extent = out_shape_at(d);
    let coord = rest % extent;
    rest /= extent;
    ia += coord * a_strides_at(d);
    ib += coord * b_strides_at(d);
  }
  // What is left is the first dim's coordinate (index < count): no modulo.
  ia += rest * a_strides_at(0u);
  ib += rest * b_strides_at(0u);
  out[index] = combine(a_values[ia], b_values[ib]);
}
