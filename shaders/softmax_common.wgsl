// Softmax / LogSoftmax over the middle axis of an [outer, n, inner] view: one invocation per row of n.

// The offset of the row's first element; its elements lie `inner` apart.
fn row_start(row: u32) -> u32 {
  return (row / P.inner) * P.n * P.inner + row % P.inner;
}
