// Where a layer's value A[n, k, p] lies (image n, channel k, position p in the map's grid), whatever the
// layer's layout (src/explain/layout.ts describes it once): [N, C, spatial...] has channel stride = the
// number of positions and position stride 1; channels-last [N, spatial..., C] and tokens [N, T, C] have
// channel stride 1 and position stride C, tokens skipping a leading class token with layer_offset = C.
// The gradient with respect to the layer has the same layout.

fn layer_index(n: u32, k: u32, p: u32) -> u32 {
  return n * P.image_stride + P.layer_offset + k * P.channel_stride + p * P.position_stride;
}
