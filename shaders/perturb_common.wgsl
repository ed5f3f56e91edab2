// The perturbed forward passes of Score-CAM and Ablation-CAM: every (image, channel) pair of the layer,
// flattened as t = n * channels + k, gets one copy of the batch; a run covers the copies
// first[0] .. first[0] + batch - 1. Copies past the last pair (the last run's tail) compute something
// harmless and are never read.

struct Target { n: u32, k: u32, valid: bool }

fn copy_target(copy: u32) -> Target {
  let t = u32(first[0]) + copy;
  let valid = t < P.images * P.channels;
  let clamped = min(t, P.images * P.channels - 1u);
  return Target(clamped / P.channels, clamped % P.channels, valid);
}
