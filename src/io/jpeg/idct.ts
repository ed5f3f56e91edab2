// The "accurate integer" inverse DCT (JDCT_ISLOW), the method libjpeg-turbo uses unless told otherwise and so
// the one behind Pillow's pixels: Loeffler, Ligtenberg and Moschytz's 12-multiply factorization in 13-bit
// fixed point, columns first with 2 extra bits kept between the passes, each pass rounding by adding half
// before an arithmetic right shift. Any other IDCT (jpeg-js's, a float one) lands samples ±1 away.

const CONST_BITS = 13;
const PASS1_BITS = 2;
const fix = (x: number) => Math.round(x * (1 << CONST_BITS));
const F_0_298 = fix(0.298631336);
const F_0_390 = fix(0.390180644);
const F_0_541 = fix(0.5411961);
const F_0_765 = fix(0.765366865);
const F_0_899 = fix(0.899976223);
const F_1_175 = fix(1.175875602);
const F_1_501 = fix(1.50132111);
const F_1_847 = fix(1.847759065);
const F_1_961 = fix(1.96157056);
const F_2_053 = fix(2.053119869);
const F_2_562 = fix(2.562915447);
const F_3_072 = fix(3.072711026);

/**
 * The post-IDCT range limit: a sample is taken modulo 1024 (as libjpeg masks its table index), read as a
 * signed 10-bit value, shifted by 128 and clamped to 0..255.
 */
function rangeLimit(v: number): number {
  let m = v & 1023;
  if (m >= 512) m -= 1024;
  m += 128;
  return m < 0 ? 0 : m > 255 ? 255 : m;
}

/**
 * One pass of the 1-D IDCT over 8 values `x[i * step]` (i = 0..7), written to `out[i * step]` after
 * rounding away `shift` bits. The even part rotates (x2, x6) and combines (x0, x4); the odd part is
 * Loeffler's four-rotation butterfly.
 */
function idct1d(x: Int32Array, xo: number, step: number, out: Int32Array, oo: number, shift: number): void {
  const round = 1 << (shift - 1);
  // Even part
  let z2 = x[xo + 2 * step];
  let z3 = x[xo + 6 * step];
  let z1 = (z2 + z3) * F_0_541;
  const t2 = z1 - z3 * F_1_847;
  const t3 = z1 + z2 * F_0_765;
  z2 = x[xo];
  z3 = x[xo + 4 * step];
  const t0 = (z2 + z3) * (1 << CONST_BITS);
  const t1 = (z2 - z3) * (1 << CONST_BITS);
  const t10 = t0 + t3;
  const t13 = t0 - t3;
  const t11 = t1 + t2;
  const t12 = t1 - t2;
  // Odd part
  let o0 = x[xo + 7 * step];
  let o1 = x[xo + 5 * step];
  let o2 = x[xo + 3 * step];
  let o3 = x[xo + step];
  z1 = o0 + o3;
  z2 = o1 + o2;
  z3 = o0 + o2;
  let z4 = o1 + o3;
  const z5 = (z3 + z4) * F_1_175;
  o0 *= F_0_298;
  o1 *= F_2_053;
  o2 *= F_3_072;
  o3 *= F_1_501;
  z1 *= -F_0_899;
  z2 *= -F_2_562;
  z3 = z3 * -F_1_961 + z5;
  z4 = z4 * -F_0_390 + z5;
  o0 += z1 + z3;
  o1 += z2 + z4;
  o2 += z2 + z3;
  o3 += z1 + z4;
  // Products stay well inside 2^53, so floor division is libjpeg's 64-bit arithmetic shift.
  const descale = (v: number) => Math.floor((v + round) / (1 << shift));
  out[oo] = descale(t10 + o3);
  out[oo + 7 * step] = descale(t10 - o3);
  out[oo + step] = descale(t11 + o2);
  out[oo + 6 * step] = descale(t11 - o2);
  out[oo + 2 * step] = descale(t12 + o1);
  out[oo + 5 * step] = descale(t12 - o1);
  out[oo + 3 * step] = descale(t13 + o0);
  out[oo + 4 * step] = descale(t13 - o0);
}

/** Scratch for one block: dequantized input, then the column pass's output, then the row pass's. */
export class IdctWorkspace {
  readonly input = new Int32Array(64);
  readonly columns = new Int32Array(64);
  readonly rows = new Int32Array(64);
}

/**
 * Dequantizes the block at `coefficients[offset]` (natural order) with `quant` and writes its 8x8 samples
 * to `out` at `outOffset`, rows `stride` apart.
 */
export function idctBlock(coefficients: Int16Array, offset: number, quant: Uint16Array, out: Uint8Array, outOffset: number, stride: number, ws: IdctWorkspace): void {
  const { input, columns, rows } = ws;
  for (let i = 0; i < 64; i++) input[i] = coefficients[offset + i] * quant[i];
  for (let col = 0; col < 8; col++) idct1d(input, col, 8, columns, col, CONST_BITS - PASS1_BITS);
  // The row pass also removes the 2 extra bits and the DCT's factor of 8.
  for (let row = 0; row < 8; row++) idct1d(columns, row * 8, 1, rows, row * 8, CONST_BITS + PASS1_BITS + 3);
  for (let row = 0; row < 8; row++) {
    for (let col = 0; col < 8; col++) out[outOffset + row * stride + col] = rangeLimit(rows[row * 8 + col]);
  }
}
