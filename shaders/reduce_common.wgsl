// A reduction over any set of axes, described after merging neighbouring axes of the same kind into
// at most MAX_GROUPS groups (row-major, the last group varies fastest): each group's size, its stride in the
// input, its stride in the output (0 for reduced groups) and whether it is reduced.

fn is_reduced(g: u32) -> bool { return reduced_at(g) != 0u; }

// Input offset of the index-th element among the groups of one kind (kept when reduced == false).
fn input_offset(index: u32, reduced: bool) -> u32 {
  var rest = index;
  var offset = 0u;
  for (var g = i32(P.groups) - 1; g >= 0; g--) {
    let u = u32(g);
    if (is_reduced(u) != reduced) { continue; }
    offset += (rest % sizes_at(u)) * in_strides_at(u);
    rest /= sizes_at(u);
  }
  return offset;
}

// The output element that input element `index` is reduced into.
fn output_index(index: u32) -> u32 {
  var rest = index;
  var out = 0u;
  for (var g = i32(P.groups) - 1; g >= 0; g--) {
    let u = u32(g);
    out += (rest % sizes_at(u)) * out_strides_at(u);
    rest /= sizes_at(u);
  }
  return out;
}
