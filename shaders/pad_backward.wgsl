// Pad backward as a gather: one invocation per input element sums the gradients of every output
// position that read it. Along each axis those positions form up to three ranges: the one that copied
// it, and (reflect, edge) the ones in the leading and trailing padding that mirror or repeat it; the
// invocation walks their product over all axes.

// [lo, hi) ranges of output coordinates along axis d that read input coordinate x; empty when hi <= lo.
fn sources(d: u32, x: i32) -> array<vec2<i32>, 3> {
  let n = i32(in_shape_at(d));
  let pb = pads_begin_at(d);
  var r: array<vec2<i32>, 3>;
  r[0] = vec2<i32>(x + pb, x + pb + 1);
  if (P.mode == MODE_EDGE) {
    if (x == 0) { r[1] = vec2<i32>(0, pb); }
    if (x == n - 1) { r[2] = vec2<i32>(n + pb, i32(out_shape_at(d))); }
  } else if (P.mode == MODE_REFLECT) {
    if (x >= 1) { r[1] = vec2<i32>(pb - x, pb - x + 1); }
    if (x <= n - 2) { r[2] = vec2<i32>(2 * (n - 1) - x + pb, 2 * (n - 1) - x + pb + 1); }
  }
  // Only positions inside the output and (for the mirrored ones) inside the padding read x this way.
  r[0] = vec2<i32>(max(r[0].x, 0), min(r[0].y, i32(out_shape_at(d))));
  r[1] = vec2<i32>(max(r[1].x, 0), min(r[1].y, pb));
  r[2] = vec2<i32>(max(r[2].x, n + pb), min(r[2].y, i32(out_shape_at(d))));
  return r;
}

fn range_length(r: vec2<i32>) -> u32 { return u32(max(r.y - r.x, 0)); }

fn element(index: u32) {
  var ranges: array<array<vec2<i32>, 3>, MAX_RANK>;
  var counts: array<u32, MAX_RANK>;
  var total = 1u;
  let c = unravel(index, P.rank, P.in_shape);
  for (var d = 0u; d < P.rank; d++) {
    ranges[d] = sources(d, i32(c[d]));
    counts[d] = range_length(ranges[d][0]) + range_length(ranges[d][1]) + range_length(ranges[d][2]);
    total *= counts[d];
  }
  var sum = 0.0;
  for (var t = 0u; t < total; t++) {
    var pick_rest = t;
    var at = 0u;
    var stride = 1u;
    for (var i = 0u; i < P.rank; i++) {
      let d = P.rank - 1u - i;
      var pick = pick_rest % counts[d];
      pick_rest /= counts[d];
      var o = 0;
      for (var j = 0u; j < 3u; j++) {
        let length = range_length(ranges[d][j]);
        if (pick < length) { o = ranges[d][j].x + i32(pick); break; }
        pick -= length;
      }
      at += u32(o) * stride;
      stride *= out_shape_at(d);
    }
    sum += dy[at];
  }
  store_dx(index, sum);
}
