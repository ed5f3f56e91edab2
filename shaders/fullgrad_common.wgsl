// FullGrad (Srinivas & Fleuret 2019, as pytorch-grad-cam's fullgrad_cam.py computes it): the map is the sum
// of |x * dy/dx| at the input and |b_k * dy/dz_k| at every biased conv and BatchNormalization output z
// (b the bias: the conv's, or BatchNormalization's B - mean * scale / sqrt(var + eps)), each channel of
// each image scaled to [0, 1] at its own resolution as pytorch-grad-cam's scale_cam_image does,
// (v - min) / (1e-7 + max - min), then summed over channels and resized to the input. The resize is
// linear, so the channels are summed at the layer's resolution and resized once.
// A term's values are |gradient * factor|: factor is the bias per channel (per_channel = 1) or the input
// itself, element by element (per_channel = 0). Tensors are [batch, channels, plane].

// pytorch-grad-cam's scale_cam_image epsilon, so that our maps and its agree.
const FULLGRAD_EPS: f32 = 1e-7;

fn term(n: u32, k: u32, p: u32) -> f32 {
  let i = (n * P.channels + k) * P.plane + p;
  let f = select(factor[i], factor[k], P.per_channel == 1u);
  return abs(gradient[i] * f);
}
