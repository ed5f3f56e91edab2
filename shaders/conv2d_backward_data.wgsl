// Conv backward-data as an implicit GEMM: per group, dx (in channels x batch*input positions) =
// W^T (in channels x out_c/groups*k_h*k_w) * col(dy), where col(dy) gathers, for each input position
// and kernel tap, the output position that tap came from (zero when the stride skips it).

fn gemm_dims() -> vec3<u32> {
  return vec3<u32>(in_c_per_group(), P.batch * P.in_h * P.in_w, out_c_per_group() * P.k_h * P.k_w);
}

struct GemmRow { base: u32 }  // weight offset of (first out channel of the group, this in channel)
struct GemmCol { base: u32, th0: i32, tw0: i32 }  // dy plane of (image, group); padded input position
struct GemmK { oc: u32, kh: u32, kw: u32 }

fn gemm_row_at(group: u32, row: u32) -> GemmRow {
  return GemmRow((group * out_c_per_group() * in_c_per_group() + row) * P.k_h * P.k_w);
}

fn gemm_col_at(group: u32, col: u32) -> GemmCol {
  let plane = P.in_h * P.in_w;
  let n = col / plane;
  let ih = (col % plane) / P.in_w;
  let iw = col % P.in_w;
  let base = (n * P.out_c + group * out_c_per_group()) * P.out_h * P.out_w;
  return GemmCol(base, i32(ih) + P.pad_t, i32(iw) + P.pad_l);
}

fn gemm_k_at(k: u32) -> GemmK {
  let window = P.k_h * P.k_w;
  return GemmK(k / window, (k % window) / P.k_w, k % P.k_w);
}

fn gemm_k_next(s: GemmK) -> GemmK {
  var next = GemmK(s.oc, s.kh, s.kw + 1u);
  if (next.kw == P.k_w) { next.kw = 0u; next.kh += 1u; }
  if (next.kh == P.k_h) { next.kh = 0u; next.oc += 1u; }
  return next;
}

fn gemm_read_a(r: GemmRow, k: GemmK) -> f32 {
  return weight[r.base + (k.oc * in_c_per_group() * P.k_h + k.kh) * P.k_w + k.kw];
}

// The output index along one axis that kernel tap t reached from padded input position p, or -1.
fn source_index(p: i32, tap: u32, dilation: u32, stride: u32, size: u32) -> i32 {
  let t = p - i32(tap * dilation);
  if (t < 0) { return -1; }
  // Stride 1 is the common case; skip the division there.
  var o = u32(t);
  if (stride != 1u) {
    o = u32(t) / stride;
    if (o * stride != u32(t)) { return -1; }
  }
  return select(-1, i32(o), o < size);
}

fn gemm_read_b(k: GemmK, c: GemmCol) -> f32 {
  let oh = source_index(c.th0, k.kh, P.dil_h, P.stride_h, P.out_h);
  let ow = source_index(c.tw0, k.kw, P.dil_w, P.stride_w, P.out_w);
  if (oh < 0 || ow < 0) { return 0.0; }
  return dy[c.base + (k.oc * P.out_h + u32(oh)) * P.out_w + u32(ow)];
}

fn gemm_write(group: u32, row: u32, col: u32, value: f32) {
  let plane = P.in_h * P.in_w;
  let n = col / plane;
  let index = (n * P.in_c + group * in_c_per_group() + row) * plane + col % plane;
  store_dx(index, value);
}
