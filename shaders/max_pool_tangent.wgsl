// MaxPool's forward-mode rule (Hessian-vector products), one invocation per output: the input's tangent
// at the position the forward pass chose (its saved argmax), which is d/de max(x + e x') away from ties.

fn element(index: u32) {
  let plane = index / (P.out_h * P.out_w);
  tangent_out[index] = tangent_in[plane * P.in_h * P.in_w + argmax[index]];
}
