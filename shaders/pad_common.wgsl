// Pad's geometry, shared by its forward and backward kernels. Output coordinate o reads input
// coordinate o - pads_begin; outside the input, constant mode reads `value`, reflect mirrors about the
// edge (without repeating it) and edge repeats the border element.
const MODE_CONSTANT: u32 = 0u;
const MODE_REFLECT: u32 = 1u;
const MODE_EDGE: u32 = 2u;
