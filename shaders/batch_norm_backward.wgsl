// With constant statistics the layer is a per-channel affine map: dx = dy * gain.

fn element(index: u32) {
  let g = dy[index] * gain(channel_of(index));
  store_dx(index, g);
}
