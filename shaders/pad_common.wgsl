// Pad's geometry, shared by its forward and backward kernels. Output coordinate o reads input
// coordinate o - pads_begin; outside the input, constant mode reads `value`, reflect mirrors about the
// edge (without repeating it) and edge repeats the border element.
struct Params {
  count: u32, rank: u32, mode: u32, accumulate: u32,
  value: f32,
  in_shape: array<vec4<u32>, 2>,
  out_shape: array<vec4<u32>, 2>,
  pads_begin: array<vec4<i32>, 2>,
}
@group(0) @binding(0) var<uniform> P: Params;

const MODE_CONSTANT: u32 = 0u;
const MODE_REFLECT: u32 = 1u;
const MODE_EDGE: u32 = 2u;

fn in_extent(d: u32) -> u32 { return P.in_shape[d / 4u][d % 4u]; }
fn out_extent(d: u32) -> u32 { return P.out_shape[d / 4u][d % 4u]; }
fn pad_begin(d: u32) -> i32 { return P.pads_begin[d / 4u][d % 4u]; }
