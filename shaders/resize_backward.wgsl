// Resize's backward along one axis, gathered per input element: the input at position p receives, over
// the entries e of its row of the transposed tap table (entries from offsets[p] to offsets[p + 1]), the
// output gradient at position entry_output[e] times entry_weight[e].
fn element(i: u32) {
  let j = i % P.inner;
  let p = (i / P.inner) % P.in_len;
  let outer = i / (P.inner * P.in_len);
  var sum = 0.0;
  for (var e = u32(offsets[p]); e < u32(offsets[p + 1u]); e++) {
    sum += entry_weight[e] * dy[(outer * P.out_len + u32(entry_output[e])) * P.inner + j];
  }
  store_dx(i, sum);
}
