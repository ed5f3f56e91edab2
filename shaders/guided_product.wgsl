// Guided Grad-CAM: the guided gradient at the input [batch, channels, pixels] times the Grad-CAM map
// [batch, pixels] (after ReLU and resize), broadcast over the channels.

fn element(i: u32) {
  let n = i / (P.channels * P.pixels);
  product[i] = guided[i] * map[n * P.pixels + i % P.pixels];
}
