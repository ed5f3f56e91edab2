// The backward of Max, Min and Prod, one invocation per output element: statistics of its group first
// (how many elements equal y: ties share the gradient evenly, as PyTorch's amax/amin do; how many are
// zero and the product of the others: Prod's exact gradient at zeros), then each of its reduced
// elements v receives {{GRAD}}, in v, the output y, its gradient g and those statistics.

fn element(index: u32) {
  let base = input_offset(index, false);
  let y = y_values[index];
  let g = dy[index];
  var ties = 0.0;
  var zeros = 0.0;
  var others = 1.0;
  for (var r = 0u; r < P.reduce_count; r++) {
    let v = x[base + input_offset(r, true)];
    ties += select(0.0, 1.0, v == y);
    if (v == 0.0) { zeros += 1.0; } else { others *= v; }
  }
  for (var r = 0u; r < P.reduce_count; r++) {
    let i = base + input_offset(r, true);
    let v = x[i];
    store_dx(i, {{GRAD}});
  }
}
