// Conv backward-data as an implicit GEMM: per group, dx (in channels x batch*input positions) =
// W^T (in channels x out_c/groups*k_h*k_w) * col(dy), where col(dy) gathers, for each input position
// and kernel tap, the output position that tap came from (zero when the stride skips it).
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

fn gemm_dims() -> vec3<u32> {
  return vec3<u32>(in_c_per_group(), P.batch * P.in_h * P.in_w, out_c_per_group() * P.k_h * P.k_w);
}

fn gemm_read_a(group: u32, row: u32, k: u32) -> f32 {
  let window = P.k_h * P.k_w;
  let oc = group * out_c_per_group() + k / window;
  return weight[(oc * in_c_per_group() + row) * window + k % window];
}

fn gemm_read_b(group: u32, k: u32, col: u32) -> f32 {
  let window = P.k_h * P.k_w;
  let oc = group * out_c_per_group() + k / window;
  let kh = (k % window) / P.k_w;
  let kw = k % P.k_w;
  let plane = P.in_h * P.in_w;
  let n = col / plane;
  let ih = (col % plane) / P.in_w;
  let iw = col % P.in_w;
  let th = i32(ih) + P.pad_t - i32(kh * P.dil_h);
  let tw = i32(iw) + P.pad_l - i32(kw * P.dil_w);
  if (th < 0 || tw < 0) { return 0.0; }
  let oh = u32(th) / P.stride_h;
  let ow = u32(tw) / P.stride_w;
  if (oh * P.stride_h != u32(th) || ow * P.stride_w != u32(tw) || oh >= P.out_h || ow >= P.out_w) { return 0.0; }
  return dy[((n * P.out_c + oc) * P.out_h + oh) * P.out_w + ow];
}

fn gemm_write(group: u32, row: u32, col: u32, value: f32) {
  let plane = P.in_h * P.in_w;
  let n = col / plane;
  let index = (n * P.in_c + group * in_c_per_group() + row) * plane + col % plane;
  if (P.accumulate != 0u) { dx[index] += value; } else { dx[index] = value; }
}
