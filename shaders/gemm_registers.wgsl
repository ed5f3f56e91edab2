// Register-tiled GEMM body without shared memory or barriers, for CPU adapters (lavapipe runs workgroup
// barriers as coroutine switches, which costs more than re-reading operands from cache). Each
// invocation computes a 4x4 block of C; 8x8 invocations cover 32x32.
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
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let dims = gemm_dims();
  let batch = gid.z;
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= dims.x || col0 >= dims.y) { return; }
  // Out-of-range rows and columns repeat the last valid one: read but never written.
  let r0 = gemm_row_at(batch, row0);
  let r1 = gemm_row_at(batch, min(row0 + 1u, dims.x - 1u));
  let r2 = gemm_row_at(batch, min(row0 + 2u, dims.x - 1u));
  let r3 = gemm_row_at(batch, min(row0 + 3u, dims.x - 1u));
  let c0 = gemm_col_at(batch, col0);
  let c1 = gemm_col_at(batch, min(col0 + 1u, dims.y - 1u));
  let c2 = gemm_col_at(batch, min(col0 + 2u, dims.y - 1u));
  let c3 = gemm_col_at(batch, min(col0 + 3u, dims.y - 1u));
  var acc: array<vec4<f32>, 4>;
  var k = gemm_k_at(0u);
  for (var i = 0u; i < dims.z; i++) {
    let a = vec4<f32>(gemm_read_a(r0, k), gemm_read_a(r1, k), gemm_read_a(r2, k), gemm_read_a(r3, k));
    let b = vec4<f32>(gemm_read_b(k, c0), gemm_read_b(k, c1), gemm_read_b(k, c2), gemm_read_b(k, c3));
    acc[0] += a.x * b;
    acc[1] += a.y * b;
    acc[2] += a.z * b;
    acc[3] += a.w * b;
    k = gemm_k_next(k);
  }
  for (var i = 0u; i < 4u; i++) {
    if (row0 + i >= dims.x) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col0 + j < dims.y) { gemm_write(batch, row0 + i, col0 + j, acc[i][j]); }
    }
  }
}
