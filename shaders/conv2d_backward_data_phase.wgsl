// Strided conv backward-data, one output phase at a time: the input positions (ph + s_h i, pw + s_w j)
// of one phase are reached only by the taps kh = tap0_h + s_h a, kw = tap0_w + s_w b, each from output
// position (i + shift_h - a, j + shift_w - b). Per group, dx of the phase (in channels x batch*rows_h*rows_w)
// = W^T restricted to those taps * col(dy): no tap the stride skips, and no division in the loop (the
// plain backward-data hooks divide twice per read to find which taps hit).

fn gemm_dims() -> vec3<u32> {
  return vec3<u32>(in_c_per_group(), P.batch * P.rows_h * P.rows_w, out_c_per_group() * P.taps_h * P.taps_w);
}

struct GemmRow { base: u32 }  // weight offset of (first out channel of the group, this in channel)
struct GemmCol { base: u32, oh0: i32, ow0: i32 }  // dy plane of (image, group); output position of tap (0, 0)
struct GemmK { oc: u32, a: u32, b: u32 }

fn gemm_row_at(group: u32, row: u32) -> GemmRow {
  return GemmRow((group * out_c_per_group() * in_c_per_group() + row) * P.k_h * P.k_w);
}

fn gemm_col_at(group: u32, col: u32) -> GemmCol {
  let plane = P.rows_h * P.rows_w;
  let n = col / plane;
  let i = (col % plane) / P.rows_w;
  let j = col % P.rows_w;
  let base = (n * P.out_c + group * out_c_per_group()) * P.out_h * P.out_w;
  return GemmCol(base, i32(i) + P.shift_h, i32(j) + P.shift_w);
}

fn gemm_k_at(k: u32) -> GemmK {
  let window = P.taps_h * P.taps_w;
  return GemmK(k / window, (k % window) / P.taps_w, k % P.taps_w);
}

fn gemm_k_next(s: GemmK) -> GemmK {
  var next = GemmK(s.oc, s.a, s.b + 1u);
  if (next.b == P.taps_w) { next.b = 0u; next.a += 1u; }
  if (next.a == P.taps_h) { next.a = 0u; next.oc += 1u; }
  return next;
}

fn gemm_read_a(r: GemmRow, k: GemmK) -> f32 {
  let kh = P.tap0_h + P.stride_h * k.a;
  let kw = P.tap0_w + P.stride_w * k.b;
  return weight[r.base + (k.oc * in_c_per_group() * P.k_h + kh) * P.k_w + kw];
}

fn gemm_read_b(k: GemmK, c: GemmCol) -> f32 {
  let oh = c.oh0 - i32(k.a);
  let ow = c.ow0 - i32(k.b);
  if (oh < 0 || ow < 0 || oh >= i32(P.out_h) || ow >= i32(P.out_w)) { return 0.0; }
  return dy[c.base + (k.oc * P.out_h + u32(oh)) * P.out_w + u32(ow)];
}

fn gemm_write(group: u32, row: u32, col: u32, value: f32) {
  let plane = P.rows_h * P.rows_w;
  let n = col / plane;
  let ih = P.phase_h + P.stride_h * ((col % plane) / P.rows_w);
  let iw = P.phase_w + P.stride_w * (col % P.rows_w);
  store_dx((n * P.in_c + group * in_c_per_group() + row) * P.in_h * P.in_w + ih * P.in_w + iw, value);
}
