// BatchNormalization in inference mode over [batch, channels, inner]: per channel,
// y = (x - mean) * gain + bias with gain = scale / sqrt(var + epsilon).

fn gain(c: u32) -> f32 { return scale[c] / sqrt(variance[c] + P.epsilon); }

// The run an invocation covers: its channel plane (image x channel) and the run's first element in it.
fn run_of(index: u32) -> vec2<u32> {
  let runs = (P.inner + RUN - 1u) / RUN;
  return vec2<u32>(index / runs, (index % runs) * RUN);
}
