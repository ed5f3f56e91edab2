// Winograd F(2x2, 3x3), step 3 of 3: the output transform. One invocation per (output channel, tile):
// the 16 products m[xi][channel][tile] of step 2 become the tile's 2x2 outputs Y = A^T m A with
// A^T = [1 1 1 0; 0 1 -1 -1], plus the bias (and a fused activation); outputs past the edge (odd sizes) are not written.
fn element(index: u32) {
  let tile = tile_of(index);
  let stride = P.channels * P.tiles;
  // A^T m: rows of m combined, one column at a time.
  var s: array<vec2<f32>, 4>;
  for (var j = 0u; j < 4u; j++) {
    let m0 = m[j * stride + index];
    let m1 = m[(4u + j) * stride + index];
    let m2 = m[(8u + j) * stride + index];
    let m3 = m[(12u + j) * stride + index];
    s[j] = vec2<f32>(m0 + m1 + m2, m1 - m2 - m3);
  }
  let b = bias[tile.channel];
  let oh = 2u * tile.th;
  let ow = 2u * tile.tw;
  let base = (tile.image * P.channels + tile.channel) * P.out_h * P.out_w;
  for (var i = 0u; i < 2u; i++) {
    if (oh + i >= P.out_h) { break; }
    let row = base + (oh + i) * P.out_w + ow;
    store_y(row, activated(s[0][i] + s[1][i] + s[2][i] + b));
    if (ow + 1u < P.out_w) { store_y(row + 1u, activated(s[1][i] - s[2][i] - s[3][i] + b)); }
  }
}
