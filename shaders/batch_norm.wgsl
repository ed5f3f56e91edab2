
fn element(index: u32) {
  let c = channel_of(index);
  y[index] = (x[index] - mean[c]) * gain(c) + bias[c];
}
