// Tiled GEMM body with workgroup shared memory, for GPUs: C[batch] = A[batch] (M x K) * B[batch] (K x N).
// The including program supplies the hooks (see gemm_registers.wgsl for the list), so one body serves
// conv forward, conv backward-data and dense layers.
// A WG_X x WG_Y (16 x 16) workgroup computes a TILE_M x TILE_N (64 x 64) tile of C, each invocation a
// 4x4 block; K advances TILE_K (32) at a time.
const BLOCK_K: u32 = 8u;

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

  for (var k0 = 0u; k0 < dims.z; k0 += TILE_K) {
    // TILE_K * TILE_M values of each tile, 8 per invocation; consecutive invocations walk k for A
    // (weight rows are contiguous in k) and the column for B.
    for (var i = 0u; i < TILE_K * TILE_M / WG; i++) {
      let e = thread + i * WG;
      let m = e / TILE_K;
      let ka = e % TILE_K;
      var a = 0.0;
      if (row0 + m < dims.x && k0 + ka < dims.z) { a = gemm_read_a(gemm_row_at(batch, row0 + m), gemm_k_at(k0 + ka)); }
      tile_a[ka * TILE_M + m] = a;
      let kb = e / TILE_N;
      let n = e % TILE_N;
      var b = 0.0;
      if (col0 + n < dims.y && k0 + kb < dims.z) { b = gemm_read_b(gemm_k_at(k0 + kb), gemm_col_at(batch, col0 + n)); }
      tile_b[kb * TILE_N + n] = b;
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
