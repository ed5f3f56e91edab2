// MaxPool backward as a gather (no atomics): one invocation per input element sums dy over the
// outputs whose saved argmax is this element.
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.planes * P.in_h * P.in_w) { return; }
  let iw = index % P.in_w;
  let ih = (index / P.in_w) % P.in_h;
  let plane = index / (P.in_w * P.in_h);
  let at = ih * P.in_w + iw;
  let rows = covering_outputs(ih, P.pad_t, P.k_h, P.stride_h, P.dil_h, P.out_h);
  let cols = covering_outputs(iw, P.pad_l, P.k_w, P.stride_w, P.dil_w, P.out_w);
  var sum = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let o = (plane * P.out_h + u32(oh)) * P.out_w + u32(ow);
      if (argmax[o] == at) { sum += dy[o]; }
    }
  }
  if (P.accumulate != 0u) { dx[index] += sum; } else { dx[index] = sum; }
}
