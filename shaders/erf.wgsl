// erf in float32 (WGSL has none), within 1e-7 of the exact value. Coefficients from scripts/fit_erf.py:
// weighted minimax fits against mpmath of erf(x)/x in x^2 on [0, 1] (relative error 4e-8) and of
// erfc(x) exp(x^2) in |x| - 2.5 on [1, 4] (absolute error of erf 1.3e-8); past 4, erf(x) rounds to
// +-1 in float32. Near 0 the odd polynomial keeps the relative accuracy that 1 - erfc would lose.
fn erf(x: f32) -> f32 {
  let t = abs(x);
  let s = x * x;
  if (t < 1.0) {
    var p = -0.00056314224;
    p = p * s + 0.0049175513;
    p = p * s - 0.026711311;
    p = p * s + 0.1128018;
    p = p * s - 0.37612325;
    p = p * s + 0.1283791;
    // x + x * (P - 1): the leading term stays exact.
    return x + x * p;
  }
  let u = min(t, 4.0) - 2.5;
  var r = -0.00038888492;
  r = r * u - 0.00080035086;
  r = r * u - 0.001962329;
  r = r * u + 0.0019660876;
  r = r * u - 0.007804341;
  r = r * u + 0.025157804;
  r = r * u - 0.07429971;
  r = r * u + 0.21080655;
  return sign(x) * (1.0 - exp(-s) * r);
}
