// Hessian-vector products' second-order term of an element-wise activation y = f(x), one invocation per
// element: the tangent of its backward pass dx = f'(x) dy is f'(x) dy' (the ordinary backward pass of the
// tangent dy') plus this, f''(x) x' dy: {{SECOND}} is f'' in v, the forward value (x or y) the
// derivative is written in; x' the input's tangent, dy the first backward pass's gradient.
fn second_derivative(v: f32) -> f32 {
  return {{SECOND}};
}

fn element(index: u32) {
  store_dx(index, second_derivative(saved[index]) * tangent[index] * dy[index]);
}
