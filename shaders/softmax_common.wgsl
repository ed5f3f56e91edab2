// Softmax / LogSoftmax over the middle axis of an [outer, n, inner] view: one invocation per row of n.
struct Params {
  outer: u32, n: u32, inner: u32,
  log_softmax: u32,
  // Backward: 1 adds to dx instead of overwriting it (gradients with several contributions).
  accumulate: u32,
}
@group(0) @binding(0) var<uniform> P: Params;

// The offset of the row's first element; its elements lie `inner` apart.
fn row_start(row: u32) -> u32 {
  return (row / P.inner) * P.n * P.inner + row % P.inner;
}
