// dst[dst_offset + sum(c * dst_strides)] = (or +=) src[src_offset + sum(c * src_strides)] for every
// coordinate c of `shape`. Every layout op moves data with it: Transpose, Slice, Split and Concat
// forward and backward, and the view ops' gradients. Source strides are signed (Slice's negative
// steps); all-zero source strides over a one-element source fill with its value.
fn element(index: u32) {
  // One dim (a contiguous slab after merging) needs no coordinates: integer division runs lane by
  // lane on CPU adapters.
  if (P.rank == 1u) {
    store_dst(P.dst_offset + index * dst_strides_at(0u), src[u32(i32(P.src_offset) + i32(index) * src_strides_at(0u))]);
    return;
  }
  let c = unravel(index, P.rank, P.shape);
  var read_at = i32(P.src_offset);
  var write_at = P.dst_offset;
  for (var d = 0u; d < P.rank; d++) {
    read_at += i32(c[d]) * src_strides_at(d);
    write_at += c[d] * dst_strides_at(d);
  }
  store_dst(write_at, src[u32(read_at)]);
}
