// Picks the class of each image (the requested one, or the top-1 when the request is negative) and
// writes the gradient seed: d(score of that class)/d(scores) = one-hot. Runs on the GPU so that the
// forward pass, the backward pass and the map stay one submission.

fn chosen_class(n: u32) -> u32 {
  if (requested[n] >= 0) { return u32(requested[n]); }
  var best = 0u;
  for (var c = 1u; c < P.classes; c++) {
    if (scores[n * P.classes + c] > scores[n * P.classes + best]) { best = c; }
  }
  return best;
}

fn element(index: u32) {
  let n = index / P.classes;
  let c = chosen_class(n);
  seed[index] = select(0.0, 1.0, index % P.classes == c);
  if (index % P.classes == 0u) {
    picked[2u * n] = f32(c);
    picked[2u * n + 1u] = scores[n * P.classes + c];
  }
}
