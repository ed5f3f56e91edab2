// Uniforms of the activation kernels (unary.wgsl, unary_backward.wgsl).
struct Params {
  count: u32,
  // 1: add to the destination instead of overwriting it (gradients with several contributions).
  accumulate: u32,
  // The op's constants: LeakyRelu/HardSigmoid alpha (and beta), Clip's min and max.
  alpha: f32,
  beta: f32,
}
@group(0) @binding(0) var<uniform> P: Params;
