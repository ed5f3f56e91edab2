// The sanity checks' cascading randomization (Adebayo et al. 2018), one invocation per value of a range
// of one weight tensor: value first_index + i becomes scale * N(0, 1), draw first_index + i of the
// tensor's stream (shaders/random.wgsl), so a tensor split over several bindings draws the same numbers.

fn element(index: u32) {
  values[index] = P.scale * normal_draw(P.seed, P.stream, P.first_index + index);
}
