// Register-tiled GEMM body without shared memory or barriers, for CPU adapters (lavapipe runs workgroup
// barriers as coroutine switches, which costs more than re-reading operands from cache). Same hooks
// as gemm_tiled.wgsl. Each invocation computes a 4x4 block of C; 8x8 invocations cover 32x32.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let dims = gemm_dims();
  let batch = gid.z;
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= dims.x || col0 >= dims.y) { return; }
  // Clamp rather than branch inside the loop: out-of-range lanes read a valid element and are not written.
  let rows = vec4<u32>(min(row0, dims.x - 1u), min(row0 + 1u, dims.x - 1u), min(row0 + 2u, dims.x - 1u), min(row0 + 3u, dims.x - 1u));
  let cols = vec4<u32>(min(col0, dims.y - 1u), min(col0 + 1u, dims.y - 1u), min(col0 + 2u, dims.y - 1u), min(col0 + 3u, dims.y - 1u));
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < dims.z; k++) {
    let a = vec4<f32>(gemm_read_a(batch, rows.x, k), gemm_read_a(batch, rows.y, k), gemm_read_a(batch, rows.z, k), gemm_read_a(batch, rows.w, k));
    let b = vec4<f32>(gemm_read_b(batch, k, cols.x), gemm_read_b(batch, k, cols.y), gemm_read_b(batch, k, cols.z), gemm_read_b(batch, k, cols.w));
    acc[0] += a.x * b;
    acc[1] += a.y * b;
    acc[2] += a.z * b;
    acc[3] += a.w * b;
  }
  for (var i = 0u; i < 4u; i++) {
    if (row0 + i >= dims.x) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col0 + j < dims.y) { gemm_write(batch, row0 + i, col0 + j, acc[i][j]); }
    }
  }
}
