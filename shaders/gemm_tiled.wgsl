// Tiled GEMM body with workgroup shared memory, for GPUs: C[batch] = A[batch] (M x K) * B[batch] (K x N).
// The including program supplies the hooks (see gemm_registers.wgsl for the list), so one body serves
// conv forward, conv backward-data and dense layers.
// A WG_X x WG_Y (16 x 16, or 16 x 4 for products of at most 16 rows) workgroup computes a TILE_M x
// TILE_N (64 x 64, or 16 x 64) tile of C, each invocation a 4x4 block; K advances TILE_K (32) at a time.
const BLOCK_K: u32 = 8u;

// Values of each tile one invocation stages per step of K, and the strides between its rows of A and
// its k of B.
const LOADS_A: u32 = TILE_K * TILE_M / WG;
const LOADS_B: u32 = TILE_K * TILE_N / WG;
const A_STEP: u32 = WG / TILE_K;
const B_STEP: u32 = WG / TILE_N;
const_assert WG % TILE_K == 0u && WG % TILE_N == 0u && TILE_M == 4u * WG_Y && TILE_N == 4u * WG_X;

var<workgroup> tile_a: array<f32, TILE_K * TILE_M>; // [TILE_K][TILE_M]
var<workgroup> tile_b: array<f32, TILE_K * TILE_N>; // [TILE_K][TILE_N]

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let dims = gemm_dims();
  let batch = wid.z;
  let tile = gemm_tile(dims, wid, nwg);
  let row0 = tile.x * TILE_M;
  let col0 = tile.y * TILE_N;
  let thread = lid.y * WG_X + lid.x;
  var acc: array<vec4<f32>, 4>;
  // Each invocation stages LOADS_A and LOADS_B values per step of K. Invocation t loads A at k = ka and
  // rows m0 + i * A_STEP, B at column n and k = kb0 + i * B_STEP (consecutive invocations walk k for A,
  // whose weight rows are contiguous in k, and the column for B). Its rows, its column and its first
  // k are resolved once (their hooks divide), and B's later k by stepping: per step of K, two divisions
  // instead of one per value loaded.
  let ka = thread % TILE_K;
  let m0 = thread / TILE_K;
  let n = thread % TILE_N;
  let kb0 = thread / TILE_N;
  var rows: array<GemmRow, LOADS_A>;
  for (var i = 0u; i < LOADS_A; i++) { rows[i] = gemm_row_at(batch, min(row0 + m0 + i * A_STEP, dims.x - 1u)); }
  let col = gemm_col_at(batch, min(col0 + n, dims.y - 1u));

  for (var k0 = 0u; k0 < dims.z; k0 += TILE_K) {
    let k_a = gemm_k_at(k0 + ka);
    var k_b = gemm_k_at(k0 + kb0);
    for (var i = 0u; i < LOADS_A; i++) {
      let m = m0 + i * A_STEP;
      var a = 0.0;
      if (row0 + m < dims.x && k0 + ka < dims.z) { a = gemm_read_a(rows[i], k_a); }
      tile_a[ka * TILE_M + m] = a;
    }
    for (var i = 0u; i < LOADS_B; i++) {
      let kb = kb0 + i * B_STEP;
      var b = 0.0;
      if (col0 + n < dims.y && k0 + kb < dims.z) { b = gemm_read_b(k_b, col); }
      tile_b[kb * TILE_N + n] = b;
      for (var s = 0u; s < B_STEP; s++) { k_b = gemm_k_next(k_b); }
    }
    workgroupBarrier();
    // Two-level accumulation, as in gemm_registers.wgsl: partial sums of BLOCK_K products.
    for (var kb = 0u; kb < TILE_K; kb += BLOCK_K) {
      var part = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
      for (var kk = kb; kk < kb + BLOCK_K; kk++) {
        let ra = kk * TILE_M + lid.y * 4u;
        let a = vec4<f32>(tile_a[ra], tile_a[ra + 1u], tile_a[ra + 2u], tile_a[ra + 3u]);
        let rb = kk * TILE_N + lid.x * 4u;
        let b = vec4<f32>(tile_b[rb], tile_b[rb + 1u], tile_b[rb + 2u], tile_b[rb + 3u]);
        part[0] += a.x * b;
        part[1] += a.y * b;
        part[2] += a.z * b;
        part[3] += a.w * b;
      }
      for (var i = 0u; i < 4u; i++) { acc[i] += part[i]; }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y * 4u + i;
    if (row >= dims.x) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x * 4u + j;
      if (col < dims.y) { gemm_write(batch, row, col, acc[i][j]); }
    }
  }
}
