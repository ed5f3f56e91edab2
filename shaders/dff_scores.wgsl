// DFF, one invocation per (image, component k, class): the classifier head on concept k, the column
// W[:, k] plus the channels' minima that step 1 removed (pytorch-grad-cam's concepts), as the head reads
// the pooled layer: sum_c weight[class, c] * concept[c] + bias[class].

fn element(index: u32) {
  let n = index / (P.components * P.classes);
  let k = (index / P.classes) % P.components;
  let target_class = index % P.classes;
  var sum = 0.0;
  for (var c = 0u; c < P.channels; c++) {
    sum += weight[target_class * P.weight_class_stride + c * P.weight_channel_stride] * (w[(n * P.channels + c) * P.components + k] + offsets[n * P.channels + c]);
  }
  scores[index] = sum + bias[target_class];
}
