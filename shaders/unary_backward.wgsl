// dx = dy * f'(.) elementwise; {{GRAD}} is the derivative in v, the forward value (x or y) it is exact from.
// {{PASS}} is true, or, for guided back-propagation's ReLU, dy[index] at least the smallest normal float32.
fn derivative(v: f32) -> f32 {
  return {{GRAD}};
}

fn element(index: u32) {
  store_dx(index, select(0.0, dy[index] * derivative(saved[index]), {{PASS}}));
}
