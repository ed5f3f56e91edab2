// Conv forward as an implicit GEMM: per group, C (out channels x batch*positions) = W (out channels x
// in_c/groups*k_h*k_w) * im2col(x), where im2col is read on the fly and never stored.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

fn gemm_dims() -> vec3<u32> {
  return vec3<u32>(out_c_per_group(), P.batch * P.out_h * P.out_w, in_c_per_group() * P.k_h * P.k_w);
}

fn gemm_read_a(group: u32, row: u32, k: u32) -> f32 {
  let kernel = in_c_per_group() * P.k_h * P.k_w;
  return weight[(group * out_c_per_group() + row) * kernel + k];
}

fn gemm_read_b(group: u32, k: u32, col: u32) -> f32 {
  let window = P.k_h * P.k_w;
  let ic = k / window;
  let kh = (k % window) / P.k_w;
  let kw = k % P.k_w;
  let plane = P.out_h * P.out_w;
  let n = col / plane;
  let oh = (col % plane) / P.out_w;
  let ow = col % P.out_w;
  let ih = i32(oh * P.stride_h + kh * P.dil_h) - P.pad_t;
  let iw = i32(ow * P.stride_w + kw * P.dil_w) - P.pad_l;
  if (ih < 0 || iw < 0 || ih >= i32(P.in_h) || iw >= i32(P.in_w)) { return 0.0; }
  let channel = n * P.in_c + group * in_c_per_group() + ic;
  return x[(channel * P.in_h + u32(ih)) * P.in_w + u32(iw)];
}

fn gemm_write(group: u32, row: u32, col: u32, value: f32) {
  let oc = group * out_c_per_group() + row;
  let plane = P.out_h * P.out_w;
  let n = col / plane;
  y[(n * P.out_c + oc) * plane + col % plane] = value + bias[oc];
}
