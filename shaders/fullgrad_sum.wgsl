// FullGrad, step 2, one invocation per (image, position): the sum over channels of the scaled terms,
// [batch, plane] (the input's term is the map's first value, at the input's size).

fn element(index: u32) {
  let n = index / P.plane;
  let p = index % P.plane;
  var sum = 0.0;
  for (var k = 0u; k < P.channels; k++) {
    let row = n * P.channels + k;
    sum += (term(n, k, p) - ranges[2u * row]) / (FULLGRAD_EPS + ranges[2u * row + 1u]);
  }
  coarse[index] = sum;
}
