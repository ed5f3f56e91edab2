// Few-row GEMM body for GPUs: C[batch] = A[batch] (M x K) * B[batch] (K x N) where M is at most TILE_M
// (4): a dense layer at batch 1 to 4 (a matrix-vector product), a conv whose output has so few channels
// that a 64-row tile of gemm_tiled.wgsl would compute 16 to 64 times the work (the stem's backward-data
// into 3 input channels). The hooks are gemm_registers.wgsl's.
//
// A WG_X x WG_Y (64 x 4) workgroup computes TILE_M rows of WG_X columns: lid.x picks the column, so
// neighbouring invocations read neighbouring B elements (coalesced on a GPU), and lid.y picks one of
// WG_Y contiguous slices of K (split-K inside the workgroup: four times the invocations on long sums,
// whose partial sums meet in workgroup memory). B is read once; the A values are the same for a
// workgroup's columns and come from cache.
const BLOCK_K: u32 = 8u;

var<workgroup> partial: array<f32, TILE_M * WG>; // [TILE_M][WG_Y][WG_X]

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let dims = gemm_dims();
  let batch = wid.z;
  let tile = gemm_tile(dims, wid, nwg);
  let row0 = tile.x * TILE_M;
  let col = tile.y * TILE_N + lid.x;
  // Out-of-range columns repeat the last valid one: read but never written (no early return: every
  // invocation reaches the barrier).
  let c = gemm_col_at(batch, min(col, dims.y - 1u));
  // Only the rows that exist are multiplied (a batch-1 dense layer has one): the count is the same for
  // the whole workgroup.
  let row_count = min(TILE_M, dims.x - row0);
  var rows: array<GemmRow, TILE_M>;
  for (var i = 0u; i < TILE_M; i++) { rows[i] = gemm_row_at(batch, min(row0 + i, dims.x - 1u)); }
  let per_slice = (dims.z + WG_Y - 1u) / WG_Y;
  let k_begin = min(lid.y * per_slice, dims.z);
  let k_end = min(k_begin + per_slice, dims.z);
  var acc: array<f32, TILE_M>;
  for (var i = 0u; i < TILE_M; i++) { acc[i] = 0.0; }
  var k = gemm_k_at(k_begin);
  // Two-level accumulation, as in gemm_registers.wgsl: partial sums of BLOCK_K products.
  for (var k0 = k_begin; k0 < k_end; k0 += BLOCK_K) {
    var part: array<f32, TILE_M>;
    for (var i = 0u; i < TILE_M; i++) { part[i] = 0.0; }
    for (var kk = k0; kk < min(k0 + BLOCK_K, k_end); kk++) {
      let b = gemm_read_b(k, c);
      for (var i = 0u; i < row_count; i++) { part[i] = fma(gemm_read_a(rows[i], k), b, part[i]); }
      k = gemm_k_next(k);
    }
    for (var i = 0u; i < TILE_M; i++) { acc[i] += part[i]; }
  }
  for (var i = 0u; i < TILE_M; i++) { partial[(i * WG_Y + lid.y) * WG_X + lid.x] = acc[i]; }
  workgroupBarrier();
  if (lid.y == 0u && col < dims.y) {
    for (var i = 0u; i < TILE_M; i++) {
      if (row0 + i >= dims.x) { break; }
      var sum = 0.0;
      for (var s = 0u; s < WG_Y; s++) { sum += partial[(i * WG_Y + s) * WG_X + lid.x]; }
      gemm_write(batch, row0 + i, col, sum);
    }
  }
}
