// One invocation per copy: the softmax probability of its row's class among the copy's scores.

fn element(copy: u32) {
  let row = copy_row(copy);
  let base = copy * P.classes;
  var top = scores[base];
  for (var c = 1u; c < P.classes; c++) { top = max(top, scores[base + c]); }
  var sum = 0.0;
  for (var c = 0u; c < P.classes; c++) { sum += exp(scores[base + c] - top); }
  probabilities[copy] = exp(scores[base + row.class_index] - top) / sum;
}
