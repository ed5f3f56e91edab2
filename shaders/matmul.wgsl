// Dense layers (Gemm, MatMul and their gradients) as hooks for the shared GEMM body:
//   y = alpha * a . b + beta * c   (or += when accumulating)
// Every operand is a strided view (element offset, row, column and batch strides), so transposes,
// broadcasts, gradient layouts and chunks of a weight bound by byte range are all the same pipeline.

fn gemm_dims() -> vec3<u32> {
  return vec3<u32>(P.m, P.n, P.k);
}

// Rows of a and columns of b resolve to a base offset once; k advances both by their k strides.
struct GemmRow { base: u32 }
struct GemmCol { base: u32 }
struct GemmK { a: u32, b: u32 }

fn gemm_row_at(batch: u32, row: u32) -> GemmRow {
  return GemmRow(P.a_offset + batch * P.a_batch + row * P.a_row);
}

fn gemm_col_at(batch: u32, col: u32) -> GemmCol {
  return GemmCol(P.b_offset + batch * P.b_batch + col * P.b_col);
}

fn gemm_k_at(k: u32) -> GemmK {
  return GemmK(k * P.a_col, k * P.b_row);
}

fn gemm_k_next(s: GemmK) -> GemmK {
  return GemmK(s.a + P.a_col, s.b + P.b_row);
}

fn gemm_read_a(r: GemmRow, k: GemmK) -> f32 {
  return a[r.base + k.a];
}

fn gemm_read_b(k: GemmK, c: GemmCol) -> f32 {
  return b[c.base + k.b];
}

fn gemm_write(batch: u32, row: u32, col: u32, value: f32) {
  var v = P.alpha * value;
  if (P.beta != 0.0) { v += P.beta * c[P.c_offset + batch * P.c_batch + row * P.c_row + col * P.c_col]; }
  v = activated(v);
  let index = P.y_offset + batch * P.y_batch + row * P.y_row + col * P.y_col;
  store_y(index, v);
}
