// BatchNormalization in inference mode over [batch, channels, inner]: per channel,
// y = (x - mean) * gain + bias with gain = scale / sqrt(var + epsilon).

fn channel_of(index: u32) -> u32 { return (index / P.inner) % P.channels; }

fn gain(c: u32) -> f32 { return scale[c] / sqrt(variance[c] + P.epsilon); }
