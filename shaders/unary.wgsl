// y = f(x) elementwise; {{OP}} is the formula in x, with the op's constants P.alpha and P.beta.
fn activation(x: f32) -> f32 {
  return {{OP}};
}

fn element(index: u32) {
  ys[index] = activation(xs[index]);
}
