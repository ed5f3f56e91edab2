// Spread map (GPU adapters), step 4a of 5: the min and max of one chunk of RANGE_CHUNK positions of an
// image's resized map, one workgroup per (chunk, image), so that a 224x224 map fills a dozen
// workgroups per image instead of one. ranges: [batch, chunks, 2].

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let pixels = output_size();
  let n = wid.y;
  let start = wid.x * RANGE_CHUNK;
  let end = min(start + RANGE_CHUNK, pixels);
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var q = start + lane; q < end; q += WG) {
    lo = min(lo, raw[n * pixels + q]);
    hi = max(hi, raw[n * pixels + q]);
  }
  let range = workgroup_min_max(lane, lo, hi);
  if (lane == 0u) {
    let slot = 2u * (n * P.chunks + wid.x);
    ranges[slot] = range.x;
    ranges[slot + 1u] = range.y;
  }
}
