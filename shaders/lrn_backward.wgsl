// LRN backward as a gather: x_k appears in its own numerator and in the denominators d_c of the
// channels c in k - hi .. k + lo, so
//   dx_k = dy_k d_k^-beta - 2 beta (alpha / size) x_k sum_c dy_c x_c d_c^(-beta - 1).
// The d_c are recomputed (size^2 reads) rather than saved by the forward pass.
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.count) { return; }
  let start = column_start(index);
  let k = channel_of(index);
  let first = u32(max(0, i32(k) - i32(P.hi)));
  let last = min(P.channels - 1u, k + P.lo);
  var neighbours = 0.0;
  for (var c = first; c <= last; c++) {
    let at = start + c * P.inner;
    neighbours += dy[at] * x[at] * pow(denominator(start, c), -P.beta - 1.0);
  }
  let g = dy[index] * pow(denominator(start, k), -P.beta) - 2.0 * P.beta * P.alpha_over_size * x[index] * neighbours;
  if (P.accumulate != 0u) { dx[index] += g; } else { dx[index] = g; }
}
