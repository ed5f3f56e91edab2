// DFF, step 1, one invocation per (image, channel): the channel's values less their minimum over the
// image's positions (pytorch-grad-cam subtracts each channel's minimum, so that a layer that is not a
// ReLU's output factorizes too; the concepts get it back), written [batch, channels, plane].

fn element(row: u32) {
  let n = row / P.channels;
  let k = row % P.channels;
  var lowest = 3.4e38;
  for (var p = 0u; p < P.plane; p++) { lowest = min(lowest, activations[layer_index(n, k, p)]); }
  offsets[row] = lowest;
  for (var p = 0u; p < P.plane; p++) { shifted[row * P.plane + p] = activations[layer_index(n, k, p)] - lowest; }
}
