// Activations whose formula or derivative is longer than one expression (src/ops/activations.ts).

// GELU: mode 0 is exact, x * Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2; mode 1 is the tanh
// approximation x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))).
fn gelu(x: f32, mode: f32) -> f32 {
  if (mode == 0.0) { return 0.5 * x * (1.0 + erf(x * 0.70710678)); }
  return 0.5 * x * (1.0 + tanh(clamp(0.79788456 * (x + 0.044715 * x * x * x), -10.0, 10.0)));
}

fn gelu_derivative(x: f32, mode: f32) -> f32 {
  if (mode == 0.0) {
    // Phi(x) + x * phi(x), phi the standard normal density.
    return 0.5 * (1.0 + erf(x * 0.70710678)) + x * 0.39894228 * exp(-0.5 * x * x);
  }
  let u = 0.79788456 * (x + 0.044715 * x * x * x);
  let t = tanh(clamp(u, -10.0, 10.0));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * 0.79788456 * (1.0 + 3.0 * 0.044715 * x * x);
}

// Mish = x tanh(softplus(x)): d/dx = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2). tanh of softplus is 1 in
// float32 from softplus 10 on; the clamp guards drivers whose tanh goes through exp(2x).
fn mish_derivative(x: f32) -> f32 {
  let sp = max(x, 0.0) + log(1.0 + exp(-abs(x)));
  let t = tanh(min(sp, 10.0));
  return t + x * (1.0 / (1.0 + exp(-x))) * (1.0 - t * t);
}
