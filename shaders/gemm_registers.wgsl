// Register-tiled GEMM body without shared memory or barriers, for CPU adapters.
//
// Hooks the including program defines (also used by gemm_tiled.wgsl):
//   fn gemm_dims() -> vec3<u32>                       M, N, K
//   struct GemmRow; fn gemm_row_at(batch, row) -> GemmRow       per row of A, computed once
//   struct GemmCol; fn gemm_col_at(batch, col) -> GemmCol       per column of B, computed once
//   struct GemmK;   fn gemm_k_at(k) -> GemmK                    position along K (may divide)
//                   fn gemm_k_next(s: GemmK) -> GemmK           the next k, without divisions
//   fn gemm_read_a(r: GemmRow, k: GemmK) -> f32
//   fn gemm_read_b(k: GemmK, c: GemmCol) -> f32
//   fn gemm_write(batch, row, col, value: f32)
// Precomputing rows, columns and k this way keeps integer division (scalar on CPUs) out of the loop.
// The grid: x column tiles by y row tiles, with the column tiles folded into y past the adapter's
// workgroups per dimension (gemm_tile in gemm_common.wgsl); z is the batch.
//
// llvmpipe runs 8 invocations side by side, one 8-wide register per scalar of theirs, and every load
// from memory is a per-lane loop costing about three multiply-adds (measured with bench:kernels), so
// the loop is bound by loads unless each loaded value feeds many multiply-adds. Every invocation of a
// workgroup computes the same TILE_M rows (their A values are the same for all lanes) times COLS of
// the TILE_N columns, interleaved (x, x + WG, ...) so that neighbouring lanes read neighbouring B
// elements: TILE_M + COLS loads feed TILE_M x COLS scalar accumulators per step of K.
const COLS: u32 = TILE_N / WG;
// Two-level accumulation: partial sums of BLOCK_K products are added into the total, so rounding error
// grows with BLOCK_K + K / BLOCK_K instead of K (a 3x3x512 conv sums 4608 products). Measured against
// the torchvision tests' limits: without it the largest map error rose from 0.06 to 0.49 of its limit
// (densenet121); with blocks of 16, mobilenet_v2's Grad-CAM++ and convnext_tiny's XGrad-CAM reached
// 0.66 and 0.70, with 8 they stay at 0.11 and 0.42 as with the previous kernel.
const BLOCK_K: u32 = 8u;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let dims = gemm_dims();
  let batch = wid.z;
  let tile = gemm_tile(dims, wid, nwg);
  let row0 = tile.x * TILE_M;
  let col0 = tile.y * TILE_N + lid.x;
  if (col0 >= dims.y) { return; }
  // Out-of-range rows and columns repeat the last valid one: read but never written. `part` is zeroed
  // explicitly: a `var` without initializer inside a loop was not re-zeroed on each iteration under
  // Dawn + lavapipe.
  var rows: array<GemmRow, TILE_M>;
  for (var i = 0u; i < TILE_M; i++) { rows[i] = gemm_row_at(batch, min(row0 + i, dims.x - 1u)); }
  var cols: array<GemmCol, COLS>;
  for (var j = 0u; j < COLS; j++) { cols[j] = gemm_col_at(batch, min(col0 + WG * j, dims.y - 1u)); }
  var acc: array<f32, TILE_M * COLS>;
  for (var i = 0u; i < TILE_M * COLS; i++) { acc[i] = 0.0; }
  var k = gemm_k_at(0u);
  for (var k0 = 0u; k0 < dims.z; k0 += BLOCK_K) {
    var part: array<f32, TILE_M * COLS>;
    for (var i = 0u; i < TILE_M * COLS; i++) { part[i] = 0.0; }
    for (var kk = k0; kk < min(k0 + BLOCK_K, dims.z); kk++) {
      var b: array<f32, COLS>;
      for (var j = 0u; j < COLS; j++) { b[j] = gemm_read_b(k, cols[j]); }
      for (var i = 0u; i < TILE_M; i++) {
        let a = gemm_read_a(rows[i], k);
        for (var j = 0u; j < COLS; j++) { part[i * COLS + j] = fma(a, b[j], part[i * COLS + j]); }
      }
      k = gemm_k_next(k);
    }
    for (var i = 0u; i < TILE_M * COLS; i++) { acc[i] += part[i]; }
  }
  for (var i = 0u; i < TILE_M; i++) {
    if (row0 + i >= dims.x) { break; }
    for (var j = 0u; j < COLS; j++) {
      let col = col0 + WG * j;
      if (col < dims.y) { gemm_write(batch, row0 + i, col, acc[i * COLS + j]); }
    }
  }
}
