// Shapes of a 2-D convolution, shared by its forward, backward-data and depthwise programs.

fn in_c_per_group() -> u32 { return P.in_c / P.groups; }
fn out_c_per_group() -> u32 { return P.out_c / P.groups; }
