// MaxPool's decision margins, one workgroup per image: for every window that receives gradient, the gap
// between its largest and second-largest input, relative to the image's max |x| (the window's argmax
// flips when rounding closes that gap). Exact ties (gap 0) are left out as in decision_margin.wgsl:
// float32 breaks them the same way (first maximum). The smallest gap is written to, or with
// P.accumulate folded into, `margin` [batch]; 3.4e38 where no window has two taps. As in
// decision_margin.wgsl, no test depends on denormals: a window receives gradient above 2^-24 of the
// largest |dy| and the smallest normal float32, and a gap below the smallest normal is a tie.

const NONE: f32 = 3.4e38;
const SMALLEST_NORMAL: f32 = 1.17549435e-38;
const RECEIVES: f32 = 5.9604645e-8; // 2^-24

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let planes = P.planes / nwg.x;
  let in_plane = P.in_h * P.in_w;
  let x_base = wid.x * planes * in_plane;
  let windows = planes * P.out_h * P.out_w;
  var largest = 0.0;
  for (var i = lane; i < planes * in_plane; i += WG) { largest = max(largest, abs(x[x_base + i])); }
  var largest_dy = 0.0;
  for (var w = lane; w < windows; w += WG) { largest_dy = max(largest_dy, abs(dy[wid.x * windows + w])); }
  let scales = workgroup_min_max(lane, -largest_dy, largest);
  let scale = scales.y;
  let receives = max(-scales.x * RECEIVES, SMALLEST_NORMAL);
  workgroupBarrier();

  var closest = NONE;
  for (var w = lane; w < windows; w += WG) {
    if (abs(dy[wid.x * windows + w]) < receives) { continue; }
    let origin = window_origin((w / P.out_w) % P.out_h, w % P.out_w);
    let base = x_base + (w / (P.out_w * P.out_h)) * in_plane;
    var first = -NONE;
    var second = -NONE;
    var taps = 0u;
    for (var kh = 0u; kh < P.k_h; kh++) {
      let ih = origin.x + i32(kh * P.dil_h);
      if (ih < 0 || ih >= i32(P.in_h)) { continue; }
      for (var kw = 0u; kw < P.k_w; kw++) {
        let iw = origin.y + i32(kw * P.dil_w);
        if (iw < 0 || iw >= i32(P.in_w)) { continue; }
        let v = x[base + u32(ih) * P.in_w + u32(iw)];
        taps++;
        if (v > first) {
          second = first;
          first = v;
        } else if (v > second) {
          second = v;
        }
      }
    }
    let gap = first - second;
    if (taps > 1u && gap >= SMALLEST_NORMAL) { closest = min(closest, gap); }
  }
  let nearest = workgroup_min_max(lane, closest, 0.0).x;
  if (lane == 0u) {
    let relative = select(NONE, nearest / scale, nearest < NONE && scale > 0.0);
    store_margin(wid.x, relative);
  }
}
