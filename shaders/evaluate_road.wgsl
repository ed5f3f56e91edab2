// ROAD's copies (shaders/evaluate_copies.wgsl, evaluate_impute.wgsl): which pixels a row removes.
fn is_road(kind: u32) -> bool {
  return kind == KIND_ROAD_MORF || kind == KIND_ROAD_LERF;
}

// Whether ROAD removes a pixel of the row's image, given its rank in the map's order.
fn road_removes(row: Copy, rank: u32) -> bool {
  return select(rank >= P.plane - row.pixels, rank < row.pixels, row.kind == KIND_ROAD_MORF);
}
