// The explain command's options for how a layer is read (--layout, --grid) and what is explained
// (--target with its --mask, --concept, --index, --box, --format, --compare, --alpha).
import { type Method } from '../explain/explainer.js';
import { checkLayout, type LayoutName } from '../explain/layout.js';
import { OWN_TARGET } from '../explain/methods.js';
import { checkTargetKind, DETECTOR_FORMATS, type DetectorFormat, type Target } from '../explain/targets.js';
import { UserError } from '../errors.js';
import { readImage } from '../io/decode.js';
import { readNpy } from '../io/npy.js';
import type { Tensor } from '../runtime/model.js';

/** --layout L [--grid HxW]. */
export function layoutOptions(values: Record<string, unknown>): { layout?: LayoutName; grid?: number[] } {
  const layout = values.layout === undefined ? undefined : checkLayout(values.layout as string);
  if (values.grid === undefined) return { layout };
  const grid = String(values.grid).split('x').map(Number);
  if (grid.length !== 2 || grid.some((v) => !Number.isInteger(v) || v <= 0)) throw new UserError(`--grid takes HxW, two positive integers, got "${values.grid}"`);
  if (layout !== 'tokens') throw new UserError('--grid goes with --layout tokens');
  return { layout, grid };
}

export const TARGET_FLAGS = ['target', 'mask', 'concept', 'index', 'box', 'format', 'compare', 'alpha'] as const;
const TARGET_OF_FLAG = { mask: 'segmentation', concept: 'similarity', index: 'raw', box: 'detection', format: 'detection', compare: 'finer', alpha: 'finer' } as const;

/** --target T with its --mask, --concept, --index, --box and --format, or --compare and --alpha (also for --method finercam). */
export function targetOptions(values: Record<string, unknown>, method: Method): Target | undefined {
  const given = (['mask', 'concept', 'index', 'box', 'format', 'compare', 'alpha'] as const).filter((k) => values[k] !== undefined);
  const implied = OWN_TARGET[method];
  if (values.target === undefined && !implied) {
    if (given.length) throw new UserError(`--${given[0]} goes with --target ${TARGET_OF_FLAG[given[0]]}`);
    return undefined;
  }
  const kind = values.target === undefined ? implied! : checkTargetKind(values.target as string);
  const number = (flag: 'compare' | 'alpha') => {
    if (values[flag] === undefined) return undefined;
    const v = Number(values[flag]);
    if (!Number.isFinite(v)) throw new UserError(`--${flag} takes a number, got "${values[flag]}"`);
    return v;
  };
  const index = values.index === undefined ? undefined : Number(values.index);
  if (index !== undefined && !(Number.isInteger(index) && index >= 0)) throw new UserError(`--index takes an integer >= 0, got "${values.index}"`);
  const format = values.format as string | undefined;
  if (format !== undefined && !(DETECTOR_FORMATS as readonly string[]).includes(format)) throw new UserError(`--format takes ${DETECTOR_FORMATS.join(' or ')}, got "${format}"`);
  let box: Tensor | undefined;
  if (values.box !== undefined) {
    const corners = String(values.box).split(',').map(Number);
    if (corners.length !== 4 || corners.some((v) => !Number.isFinite(v))) throw new UserError(`--box takes four numbers X1,Y1,X2,Y2, got "${values.box}"`);
    box = { shape: [4], data: Float32Array.from(corners) };
  }
  return {
    kind,
    mask: values.mask === undefined ? undefined : readMask(values.mask as string),
    concept: values.concept === undefined ? undefined : readFloatArray(values.concept as string, '--concept'),
    index,
    box,
    format: format as DetectorFormat | undefined,
    compare: number('compare'),
    alpha: number('alpha'),
  };
}

/** A mask: a float32 .npy, or an image whose non-zero pixels are 1. */
function readMask(path: string): Tensor {
  if (path.toLowerCase().endsWith('.npy')) return readFloatArray(path, '--mask');
  const image = readImage(path);
  const data = new Float32Array(image.width * image.height);
  for (let p = 0; p < data.length; p++) data[p] = image.data[3 * p] || image.data[3 * p + 1] || image.data[3 * p + 2] ? 1 : 0;
  return { shape: [image.height, image.width], data };
}

function readFloatArray(path: string, flag: string): Tensor {
  let array;
  try {
    array = readNpy(path);
  } catch (e) {
    throw new UserError(`${flag}: ${(e as Error).message}`);
  }
  if (array.dtype !== 'float32' && array.dtype !== 'float64') throw new UserError(`${flag}: ${path} must hold float32 or float64 values, not ${array.dtype}`);
  return { shape: array.shape, data: Float32Array.from(array.data as ArrayLike<number>) };
}
