// Register-tiled GEMM body without shared memory or barriers, for CPU adapters (lavapipe runs workgroup
// barriers as coroutine switches, which costs more than re-reading operands from cache).
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
//
// A WG_X x WG_Y (8 x 8) workgroup covers TILE_M (32) rows x TILE_N (64) columns. Each invocation
// computes 4 rows x 8 columns, the columns interleaved with its 7 neighbours' (x, x+8, ..., x+56), so
// that the 8 SIMD lanes llvmpipe runs side by side read neighbouring B elements.
const BLOCK_K: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let dims = gemm_dims();
  let batch = wid.z;
  let row0 = wid.y * TILE_M + lid.y * 4u;
  let col0 = wid.x * TILE_N + lid.x;
  if (row0 >= dims.x || col0 >= dims.y) { return; }
  // Out-of-range rows and columns repeat the last valid one: read but never written.
  let last_row = dims.x - 1u;
  let last_col = dims.y - 1u;
  let r0 = gemm_row_at(batch, row0);
  let r1 = gemm_row_at(batch, min(row0 + 1u, last_row));
  let r2 = gemm_row_at(batch, min(row0 + 2u, last_row));
  let r3 = gemm_row_at(batch, min(row0 + 3u, last_row));
  var cols: array<GemmCol, 8>;
  for (var j = 0u; j < 8u; j++) { cols[j] = gemm_col_at(batch, min(col0 + WG_X * j, last_col)); }
  // Two-level accumulation: partial sums of BLOCK_K products are added into the total, so rounding
  // error grows with BLOCK_K + K / BLOCK_K instead of K (a 3x3x512 conv sums 4608 products). With
  // 8, resnet50's logits went from 1.2e-5 to 8.5e-6 of float64 PyTorch, googlenet's from 1.6e-5 to 6.5e-6.
  // `part` is zeroed explicitly: a `var` without initializer inside a loop was not re-zeroed on each
  // iteration under Dawn + lavapipe.
  var acc: array<vec4<f32>, 8>;  // acc[j][i]: column j, row i
  var k = gemm_k_at(0u);
  for (var k0 = 0u; k0 < dims.z; k0 += BLOCK_K) {
    var part = array<vec4<f32>, 8>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var i = k0; i < min(k0 + BLOCK_K, dims.z); i++) {
      let a = vec4<f32>(gemm_read_a(r0, k), gemm_read_a(r1, k), gemm_read_a(r2, k), gemm_read_a(r3, k));
      for (var j = 0u; j < 8u; j++) { part[j] += a * gemm_read_b(k, cols[j]); }
      k = gemm_k_next(k);
    }
    for (var j = 0u; j < 8u; j++) { acc[j] += part[j]; }
  }
  for (var j = 0u; j < 8u; j++) {
    let col = col0 + WG_X * j;
    if (col >= dims.y) { break; }
    for (var i = 0u; i < 4u; i++) {
      if (row0 + i < dims.x) { gemm_write(batch, row0 + i, col, acc[j][i]); }
    }
  }
}
