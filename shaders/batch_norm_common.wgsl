// BatchNormalization in inference mode over [batch, channels, inner]: per channel,
// y = (x - mean) * gain + bias with gain = scale / sqrt(var + epsilon).
struct Params {
  count: u32, channels: u32, inner: u32,
  epsilon: f32,
  // Backward: 1 adds to dx instead of overwriting it (gradients with several contributions).
  accumulate: u32,
}
@group(0) @binding(0) var<uniform> P: Params;

fn channel_of(index: u32) -> u32 { return (index / P.inner) % P.channels; }

fn gain(c: u32) -> f32 { return scale[c] / sqrt(variance[c] + P.epsilon); }
