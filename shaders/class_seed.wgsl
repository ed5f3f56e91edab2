// Picks the class of each image (the requested one, or the top-1 when the request is negative) and
// writes the gradient seed: d(score of that class)/d(scores) = one-hot. Runs on the GPU so that the
// forward pass, the backward pass and the map stay one submission. An image with a score that is NaN or
// infinite gets class -1: the top-1 choice and everything after it would depend on how the hardware
// compares NaN, so the host refuses the whole result (whatever the seed was). The scores are tested once
// per image, by the invocation that writes `picked`.

fn chosen_class(n: u32) -> u32 {
  if (requested[n] >= 0) { return u32(requested[n]); }
  var best = 0u;
  for (var c = 1u; c < P.classes; c++) {
    if (scores[n * P.classes + c] > scores[n * P.classes + best]) { best = c; }
  }
  return best;
}

fn finite_scores(n: u32) -> bool {
  for (var c = 0u; c < P.classes; c++) {
    if ((bitcast<u32>(scores[n * P.classes + c]) & 0x7f800000u) == 0x7f800000u) { return false; }
  }
  return true;
}

fn element(index: u32) {
  let n = index / P.classes;
  let c = chosen_class(n);
  seed[index] = select(0.0, 1.0, index % P.classes == c);
  if (index % P.classes == 0u) {
    picked[2u * n] = select(-1.0, f32(c), finite_scores(n));
    picked[2u * n + 1u] = scores[n * P.classes + c];
  }
}
