// Conv forward as an implicit GEMM: per group, C (out channels x batch*positions) = W (out channels x
// in_c/groups*k_h*k_w) * im2col(x), where im2col is read on the fly and never stored.

fn gemm_dims() -> vec3<u32> {
  return vec3<u32>(out_c_per_group(), P.batch * P.out_h * P.out_w, in_c_per_group() * P.k_h * P.k_w);
}

struct GemmRow { base: u32 }  // start of this output channel's weights
struct GemmCol { base: u32, ih0: i32, iw0: i32 }  // the column's image and group, window origin
struct GemmK { k: u32, ic: u32, kh: u32, kw: u32 }

fn gemm_row_at(group: u32, row: u32) -> GemmRow {
  return GemmRow((group * out_c_per_group() + row) * in_c_per_group() * P.k_h * P.k_w);
}

fn gemm_col_at(group: u32, col: u32) -> GemmCol {
  let plane = P.out_h * P.out_w;
  let n = col / plane;
  let oh = (col % plane) / P.out_w;
  let ow = col % P.out_w;
  let base = (n * P.in_c + group * in_c_per_group()) * P.in_h * P.in_w;
  return GemmCol(base, i32(oh * P.stride_h) - P.pad_t, i32(ow * P.stride_w) - P.pad_l);
}

fn gemm_k_at(k: u32) -> GemmK {
  let window = P.k_h * P.k_w;
  return GemmK(k, k / window, (k % window) / P.k_w, k % P.k_w);
}

fn gemm_k_next(s: GemmK) -> GemmK {
  var next = GemmK(s.k + 1u, s.ic, s.kh, s.kw + 1u);
  if (next.kw == P.k_w) { next.kw = 0u; next.kh += 1u; }
  if (next.kh == P.k_h) { next.kh = 0u; next.ic += 1u; }
  return next;
}

fn gemm_read_a(r: GemmRow, k: GemmK) -> f32 {
  return weight[r.base + k.k];
}

fn gemm_read_b(k: GemmK, c: GemmCol) -> f32 {
  let ih = c.ih0 + i32(k.kh * P.dil_h);
  let iw = c.iw0 + i32(k.kw * P.dil_w);
  if (ih < 0 || iw < 0 || ih >= i32(P.in_h) || iw >= i32(P.in_w)) { return 0.0; }
  return x[c.base + (k.ic * P.in_h + u32(ih)) * P.in_w + u32(iw)];
}

fn gemm_write(group: u32, row: u32, col: u32, value: f32) {
  let oc = group * out_c_per_group() + row;
  let plane = P.out_h * P.out_w;
  let n = col / plane;
  y[(n * P.out_c + oc) * plane + col % plane] = activated(value + bias[oc]);
}
