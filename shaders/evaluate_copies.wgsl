// The perturbed copies, one invocation per value of [batch, channels, height, width]. `ranks` holds each
// pixel's place in its map's order (0: the most relevant); a pixel is perturbed in every channel.

fn element(index: u32) {
  let per_copy = P.channels * P.plane;
  let row = copy_row(index / per_copy);
  let p = index % P.plane;
  let source = row.n * per_copy + index % per_copy;
  let rank = u32(ranks[row.n * P.plane + p]);
  let top = rank < row.pixels;
  var v = images[source];
  if (is_road(row.kind)) {
    // The imputation's first guess for a removed pixel; the solver takes it from there.
    v = select(v, 0.0, road_removes(row, rank));
  } else if (row.kind == KIND_DELETE) {
    v = select(v, deletion_baseline[source], top);
  } else if (row.kind == KIND_INSERT) {
    v = select(insertion_baseline[source], v, top);
  } else {
    v *= maps[row.n * P.plane + p];
  }
  perturbed[index] = v;
}
