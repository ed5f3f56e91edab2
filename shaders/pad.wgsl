// Pad forward: one invocation per output element.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.count) { return; }
  var rest = index;
  var read_at = 0u;
  var stride = 1u;
  var inside = true;
  for (var i = 0u; i < P.rank; i++) {
    let d = P.rank - 1u - i;
    let o = i32(rest % out_extent(d));
    rest /= out_extent(d);
    let n = i32(in_extent(d));
    var at = o - pad_begin(d);
    if (at < 0 || at >= n) {
      if (P.mode == MODE_REFLECT) {
        at = select(2 * (n - 1) - at, -at, at < 0);
      } else if (P.mode == MODE_EDGE) {
        at = clamp(at, 0, n - 1);
      } else {
        inside = false;
        break;
      }
    }
    read_at += u32(at) * stride;
    stride *= u32(n);
  }
  var v = P.value;
  if (inside) { v = x[read_at]; }
  y[index] = v;
}
