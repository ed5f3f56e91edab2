// Spread map (GPU adapters), step 4b of 5: one invocation per position, the image's range from its
// chunks' (a min and a max are exact in any order: the same values as one workgroup's reduction).

fn element(index: u32) {
  let pixels = output_size();
  let n = index / pixels;
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var c = 0u; c < P.chunks; c++) {
    lo = min(lo, ranges[2u * (n * P.chunks + c)]);
    hi = max(hi, ranges[2u * (n * P.chunks + c) + 1u]);
  }
  normalized[index] = normalize_unit(raw[index], lo, hi);
}
