// LRN forward: one invocation per element.

fn element(index: u32) {
  y[index] = x[index] * pow(denominator(column_start(index), channel_of(index)), -P.beta);
}
