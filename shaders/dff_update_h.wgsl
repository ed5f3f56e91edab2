// DFF, one invocation per (image, component k, position p): the multiplicative update of H,
// H <- H * (W^T X) / ((W^T W) H + eps), with W already updated (scikit-learn's order).

fn element(index: u32) {
  let n = index / (P.components * P.plane);
  let k = (index / P.plane) % P.components;
  let p = index % P.plane;
  var numerator = 0.0;
  for (var c = 0u; c < P.channels; c++) { numerator += w_at(n, c, k) * x_at(n, c, p); }
  var denominator = 0.0;
  for (var j = 0u; j < P.components; j++) { denominator += gram_at(n, k, j) * h_at(n, j, p); }
  updated[index] = h_at(n, k, p) * numerator / (denominator + EPSILON);
}
