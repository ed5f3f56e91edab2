// The GEMM kernels: one body per kind of adapter (shaders/gemm_registers.wgsl for CPU adapters,
// shaders/gemm_tiled.wgsl with shared memory for GPUs), each joined to the hooks of a user (conv
// forward, conv backward-data, dense layers). A user declares its hooks' files, uniforms and bindings
// once and gets every variant; `pick` chooses one for the adapter and shape and sizes the grid from the tile.
import { FUSED_UNIFORMS } from './fused.js';
import { type BindingType, defineKernel, type FieldType, type Kernel, type KernelSpec } from './declare.js';
import { ceilDiv, type DeviceTraits } from './program.js';

interface Variant {
  file: string;
  /** Told apart from the other variants of the same body by this suffix of the kernel's name. */
  suffix: string;
  workgroupSize: [number, number, number];
  /** Rows (M) and columns (N) of C one workgroup computes. */
  tile: { m: number; n: number; k?: number };
}

const VARIANTS = {
  // 64 invocations sharing TILE_M rows, 4 interleaved columns each (shaders/gemm_registers.wgsl).
  registers: { file: 'gemm_registers', suffix: '', workgroupSize: [64, 1, 1], tile: { m: 8, n: 256 } },
  // The same body, 16 invocations of 4 columns: for products with few columns (a 7x7 map has 49
  // positions), which would fill a fifth of a 256-column tile.
  registersNarrow: { file: 'gemm_registers', suffix: '_narrow', workgroupSize: [16, 1, 1], tile: { m: 8, n: 64 } },
  // The same body for products of one or two rows (a dense layer at batch 1 or 2), which would leave
  // most of an 8-row tile idle.
  registersRow: { file: 'gemm_registers', suffix: '_row', workgroupSize: [64, 1, 1], tile: { m: 1, n: 256 } },
  // And of three or four rows (the stem's backward-data into 3 channels), which would leave half of an
  // 8-row tile idle or more.
  registersFew: { file: 'gemm_registers', suffix: '_few', workgroupSize: [64, 1, 1], tile: { m: 4, n: 256 } },
  // 16 x 16 invocations of 4 x 4 each, K staged TILE_K at a time through workgroup memory.
  tiled: { file: 'gemm_tiled', suffix: '', workgroupSize: [16, 16, 1], tile: { m: 64, n: 64, k: 32 } },
  // The same body on 16-row tiles (16 x 4 invocations), for products of 5 to 32 rows (a 3-D conv's
  // 16 channels, a small layer's filters), which would fill a quarter of a 64-row tile or less.
  tiledShort: { file: 'gemm_tiled', suffix: '_short', workgroupSize: [16, 4, 1], tile: { m: 16, n: 64, k: 32 } },
  // Up to 4 rows, 64 columns, K split four ways inside the workgroup (shaders/gemm_rows.wgsl): for
  // products whose few rows would use a sixteenth or less of a 64-row tile (batch-1 dense layers,
  // the stem's backward-data into 3 channels).
  tiledRows: { file: 'gemm_rows', suffix: '', workgroupSize: [64, 4, 1], tile: { m: 4, n: 64 } },
} satisfies Record<string, Variant>;

/** The share of a variant's tiles an M x N product fills. */
function tileOccupancy({ tile }: Variant, m: number, n: number): number {
  return (m / (ceilDiv(m, tile.m) * tile.m)) * (n / (ceilDiv(n, tile.n) * tile.n));
}

/** Rows up to which the one-row register variant feeds more multiply-adds per load than the 8-row one. */
const ROW_VARIANT_MAX_M = 2;
/** Rows up to which GPU adapters take the few-row variant (its tile's height). */
const FEW_ROWS_MAX_M = VARIANTS.tiledRows.tile.m;
/** Rows up to which GPU adapters take 16-row tiles: at most half of a 64-row tile would be used. */
const SHORT_MAX_M = 32;

export interface GemmKernels<U extends Record<string, FieldType>, B extends Record<string, BindingType>> {
  registers: Kernel<U, B>;
  registersNarrow: Kernel<U, B>;
  registersRow: Kernel<U, B>;
  registersFew: Kernel<U, B>;
  tiled: Kernel<U, B>;
  tiledShort: Kernel<U, B>;
  tiledRows: Kernel<U, B>;
  /** The variant for this adapter and the grid that covers an M x N product for each of `batch`. */
  pick(device: DeviceTraits, m: number, n: number, batch: number): { kernel: Kernel<U, B>; workgroups: [number, number, number] };
  /** The share of the variant's tiles an M x N product fills (the rest is computed and dropped). */
  occupancy(device: DeviceTraits, m: number, n: number): number;
}

/**
 * x column tiles by y row tiles by z batch; past `limit` workgroups in a dimension the column tiles fold
 * into y (shaders/gemm_common.wgsl). Row tiles and the batch never come near it (channels, groups).
 */
export function gemmGrid(rowTiles: number, colTiles: number, batch: number, limit: number): [number, number, number] {
  const folds = Math.ceil(colTiles / limit);
  const grid: [number, number, number] = [Math.ceil(colTiles / folds), rowTiles * folds, batch];
  if (grid[1] > limit || batch > limit) throw new Error(`a GEMM of ${rowTiles} row tiles, ${colTiles} column tiles and batch ${batch} does not fit ${limit} workgroups per dimension`);
  return grid;
}

export function defineGemm<U extends Record<string, FieldType>, B extends Record<string, BindingType>>(
  hooks: Omit<KernelSpec<U, B>, 'grid'>,
): GemmKernels<U, B> {
  const make = ({ file, suffix, workgroupSize, tile }: Variant) =>
    defineKernel({
      ...hooks,
      name: `${hooks.name}+${file}${suffix}`,
      files: [...hooks.files, 'gemm_common', file],
      grid: { workgroupSize },
      constants: { ...hooks.constants, TILE_M: tile.m, TILE_N: tile.n, ...(tile.k ? { TILE_K: tile.k } : {}) },
    });
  const registers = make(VARIANTS.registers);
  const registersNarrow = make(VARIANTS.registersNarrow);
  const registersRow = make(VARIANTS.registersRow);
  const registersFew = make(VARIANTS.registersFew);
  const tiled = make(VARIANTS.tiled);
  const tiledShort = make(VARIANTS.tiledShort);
  const tiledRows = make(VARIANTS.tiledRows);
  const choose = (device: DeviceTraits, m: number, n: number): [Kernel<U, B>, Variant] => {
    if (!device.isCpu) {
      if (m <= FEW_ROWS_MAX_M) return [tiledRows, VARIANTS.tiledRows];
      return m <= SHORT_MAX_M ? [tiledShort, VARIANTS.tiledShort] : [tiled, VARIANTS.tiled];
    }
    if (m <= ROW_VARIANT_MAX_M) return [registersRow, VARIANTS.registersRow];
    if (m <= VARIANTS.registersFew.tile.m) return [registersFew, VARIANTS.registersFew];
    // Both 8-row variants do the same work per invocation; the narrow one only where it wastes less.
    const wide = tileOccupancy(VARIANTS.registers, m, n);
    return tileOccupancy(VARIANTS.registersNarrow, m, n) > wide ? [registersNarrow, VARIANTS.registersNarrow] : [registers, VARIANTS.registers];
  };
  return {
    registers,
    registersNarrow,
    registersRow,
    registersFew,
    tiled,
    tiledShort,
    tiledRows,
    pick(device, m, n, batch) {
      const [kernel, { tile }] = choose(device, m, n);
      return { kernel, workgroups: gemmGrid(ceilDiv(m, tile.m), ceilDiv(n, tile.n), batch, device.maxWorkgroupsPerDimension) };
    },
    occupancy(device, m, n) {
      return tileOccupancy(choose(device, m, n)[1], m, n);
    },
  };
}

/** Dense layers (Gemm, MatMul, their gradients): every operand a strided view (offset, row, col, batch). */
export const matmulKernels = defineGemm({
  name: 'matmul',
  files: ['fused_activation', 'matmul'],
  uniforms: {
    m: 'u32', n: 'u32', k: 'u32',
    a_offset: 'u32', a_row: 'u32', a_col: 'u32', a_batch: 'u32',
    b_offset: 'u32', b_row: 'u32', b_col: 'u32', b_batch: 'u32',
    c_offset: 'u32', c_row: 'u32', c_col: 'u32', c_batch: 'u32',
    y_offset: 'u32', y_row: 'u32', y_col: 'u32', y_batch: 'u32',
    alpha: 'f32', beta: 'f32',
    ...FUSED_UNIFORMS,
  },
  bindings: { a: 'read', b: 'read', c: 'read', y: 'accumulate' },
});
