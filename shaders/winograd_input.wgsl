// Winograd F(2x2, 3x3), step 1 of 3: the input transform. One invocation per (channel, tile): the 4x4
// input patch d under the tile's 2x2 outputs (zeros in the padding) becomes V = B^T d B with
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], written as v[xi][channel][tile] for the 16 products
// of step 2 (one GEMM per xi = 4 * row + column of V).
fn tap(base: u32, ih: i32, iw: i32) -> f32 {
  if (ih < 0 || iw < 0 || ih >= i32(P.in_h) || iw >= i32(P.in_w)) { return 0.0; }
  return x[base + u32(ih) * P.in_w + u32(iw)];
}

fn element(index: u32) {
  let tile = tile_of(index);
  let ih = i32(2u * tile.th) - P.pad_t;
  let iw = i32(2u * tile.tw) - P.pad_l;
  let base = (tile.image * P.channels + tile.channel) * P.in_h * P.in_w;
  // B^T d: rows of the patch combined, one column at a time.
  var r: array<vec4<f32>, 4>;
  for (var j = 0; j < 4; j++) {
    let d0 = tap(base, ih, iw + j);
    let d1 = tap(base, ih + 1, iw + j);
    let d2 = tap(base, ih + 2, iw + j);
    let d3 = tap(base, ih + 3, iw + j);
    r[j] = vec4<f32>(d0 - d2, d1 + d2, d2 - d1, d1 - d3);
  }
  // (B^T d) B: the columns combined; r[j][i] is row i, column j.
  let stride = P.channels * P.tiles;
  for (var i = 0u; i < 4u; i++) {
    let at = 4u * i * stride + index;
    v[at] = r[0][i] - r[2][i];
    v[at + stride] = r[1][i] + r[2][i];
    v[at + 2u * stride] = r[2][i] - r[1][i];
    v[at + 3u * stride] = r[1][i] - r[3][i];
  }
}
