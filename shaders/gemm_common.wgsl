// Which tile of C a workgroup computes: (row tile, column tile). The grid is x column tiles by
// y = row tiles x folds: a product with more column tiles than the adapter allows workgroups in one
// dimension (a 5x5 conv over a 2100x2100 image has 68,900 of 64 columns) folds them into y, fold f
// taking the column tiles f * nwg.x to (f + 1) * nwg.x - 1. Tiles past the last column compute nothing
// that is written.
fn gemm_tile(dims: vec3<u32>, wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  let row_tiles = (dims.x + TILE_M - 1u) / TILE_M;
  return vec2<u32>(wid.y % row_tiles, (wid.y / row_tiles) * nwg.x + wid.x);
}
