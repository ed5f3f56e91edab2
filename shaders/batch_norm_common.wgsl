// BatchNormalization in inference mode over [batch, channels, inner]: per channel,
// y = (x - mean) * gain + bias with gain = scale / sqrt(var + epsilon).

fn gain(c: u32) -> f32 { return scale[c] / sqrt(variance[c] + P.epsilon); }
