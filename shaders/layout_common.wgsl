// The coordinate walk every layout kernel starts from: the coordinates of a row-major flat index in a
// shape of `rank` dims (rank <= MAX_RANK, the last dim varies fastest).
fn unravel(index: u32, rank: u32, shape: array<vec4<u32>, 2>) -> array<u32, MAX_RANK> {
  var coords: array<u32, MAX_RANK>;
  var rest = index;
  for (var i = 0u; i < rank; i++) {
    let d = rank - 1u - i;
    let extent = shape[d / 4u][d % 4u];
    coords[d] = rest % extent;
    rest /= extent;
  }
  return coords;
}
