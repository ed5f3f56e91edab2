// dst[dst_offset + sum(c * dst_strides)] = (or +=) src[src_offset + sum(c * src_strides)] for every
// coordinate c of `shape` (rank <= 8). Every layout op moves data with it: Transpose, Slice, Split and
// Concat forward and backward, and the view ops' gradients. Source strides are signed (Slice's
// negative steps); all-zero source strides over a one-element source fill with its value.
struct Params {
  count: u32, rank: u32, accumulate: u32, src_offset: u32,
  dst_offset: u32,
  shape: array<vec4<u32>, 2>,
  src_strides: array<vec4<i32>, 2>,
  dst_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.count) { return; }
  var rest = index;
  var read_at = i32(P.src_offset);
  var write_at = P.dst_offset;
  for (var i = 0u; i < P.rank; i++) {
    let d = P.rank - 1u - i;
    let extent = P.shape[d / 4u][d % 4u];
    let c = rest % extent;
    rest /= extent;
    read_at += i32(c) * P.src_strides[d / 4u][d % 4u];
    write_at += c * P.dst_strides[d / 4u][d % 4u];
  }
  let value = src[u32(read_at)];
  if (P.accumulate != 0u) { dst[write_at] += value; } else { dst[write_at] = value; }
}
