// out = a (op) b with numpy broadcasting; {{OP}} is the formula in a and b.
fn combine(a: f32, b: f32) -> f32 {
  return {{OP}};
}

fn element(index: u32) {
  let c = unravel(index, P.rank, P.out_shape);
  var ia = 0u;
  var ib = 0u;
  for (var d = 0u; d < P.rank; d++) {
    ia += c[d] * a_strides_at(d);
    ib += c[d] * b_strides_at(d);
  }
  out[index] = combine(a_values[ia], b_values[ib]);
}
