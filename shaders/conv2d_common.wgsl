// Shapes of a 2-D convolution, shared by its forward, backward-data and depthwise programs.
struct Params {
  batch: u32, in_c: u32, in_h: u32, in_w: u32,
  out_c: u32, out_h: u32, out_w: u32, groups: u32,
  k_h: u32, k_w: u32, stride_h: u32, stride_w: u32,
  pad_t: i32, pad_l: i32, dil_h: u32, dil_w: u32,
  // 1: add to the destination instead of overwriting it (gradients with several contributions).
  accumulate: u32,
}
@group(0) @binding(0) var<uniform> P: Params;

fn in_c_per_group() -> u32 { return P.in_c / P.groups; }
fn out_c_per_group() -> u32 { return P.out_c / P.groups; }
