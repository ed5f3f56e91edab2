// A reduction over any set of axes, described after merging neighbouring axes of the same kind into
// at most 8 groups (row-major, the last group varies fastest): each group's size, its stride in the
// input, its stride in the output (0 for reduced groups) and whether it is reduced.
struct Params {
  groups: u32,
  out_count: u32,
  reduce_count: u32,
  // 1: add to the destination instead of overwriting it (gradients with several contributions).
  accumulate: u32,
  sizes: array<vec4<u32>, 2>,
  in_strides: array<vec4<u32>, 2>,
  out_strides: array<vec4<u32>, 2>,
  reduced: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> P: Params;

fn group_size(g: u32) -> u32 { return P.sizes[g / 4u][g % 4u]; }
fn is_reduced(g: u32) -> bool { return P.reduced[g / 4u][g % 4u] != 0u; }

// Input offset of the index-th element among the groups of one kind (kept when reduced == false).
fn input_offset(index: u32, reduced: bool) -> u32 {
  var rest = index;
  var offset = 0u;
  for (var g = i32(P.groups) - 1; g >= 0; g--) {
    let u = u32(g);
    if (is_reduced(u) != reduced) { continue; }
    offset += (rest % group_size(u)) * P.in_strides[u / 4u][u % 4u];
    rest /= group_size(u);
  }
  return offset;
}

// The output element that input element `index` is reduced into.
fn output_index(index: u32) -> u32 {
  var rest = index;
  var out = 0u;
  for (var g = i32(P.groups) - 1; g >= 0; g--) {
    let u = u32(g);
    out += (rest % group_size(u)) * P.out_strides[u / 4u][u % 4u];
    rest /= group_size(u);
  }
  return out;
}
