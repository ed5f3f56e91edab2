// What an op emits: a program description (its shader files, defines, uniform words, tensor bindings and
// grid). Shapes travel as uniforms, so one pipeline (keyed by files + defines) serves every shape.
import type { Shape } from '../graph/ir.js';
import type { Defines } from '../gpu/shaders.js';

/** A logical tensor in a plan; several may share one GPU buffer (views, or reuse by liveness). */
export interface TensorRef {
  readonly id: number;
  readonly shape: Shape;
  readonly label: string;
}

export interface Binding {
  tensor: TensorRef;
  write?: boolean;
  /** A byte range of the tensor, for tensors larger than one binding allows. */
  byteOffset?: number;
  byteLength?: number;
}

export interface Program {
  /** Shader files (without .wgsl) concatenated in this order after common.wgsl. */
  files: string[];
  defines?: Defines;
  entryPoint?: string;
  /** Uniform block (binding 0), 32-bit words. */
  params: Params;
  /** Storage buffers at bindings 1, 2, ... in this order. */
  bindings: Binding[];
  workgroups: [number, number, number];
}

/** Packs the uniform struct word by word; WGSL structs of 4-byte scalars (and vec4s) lay out the same way. */
export class Params {
  private readonly words: number[] = [];
  private readonly kinds: ('u' | 'i' | 'f')[] = [];

  u32(...values: number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`u32 uniform out of range: ${v}`);
      this.words.push(v);
      this.kinds.push('u');
    }
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new Error(`i32 uniform out of range: ${v}`);
      this.words.push(v);
      this.kinds.push('i');
    }
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) {
      this.words.push(v);
      this.kinds.push('f');
    }
    return this;
  }

  /** A u32 array padded to `length` (a multiple of 4), declared as array<vec4<u32>, length/4>. */
  u32Array(values: number[], length: number): this {
    if (values.length > length || length % 4 !== 0) throw new Error(`uniform array of ${values.length} does not fit ${length}`);
    return this.u32(...values, ...new Array<number>(length - values.length).fill(0));
  }

  /** Pads to a 16-byte boundary (needed before a vec4 array and at the end of a uniform block). */
  align16(): this {
    while (this.words.length % 4 !== 0) this.u32(0);
    return this;
  }

  toBuffer(): ArrayBuffer {
    const size = Math.max(16, Math.ceil(this.words.length / 4) * 16);
    const buffer = new ArrayBuffer(size);
    const view = new DataView(buffer);
    this.words.forEach((w, i) => {
      const kind = this.kinds[i];
      if (kind === 'f') view.setFloat32(i * 4, w, true);
      else if (kind === 'i') view.setInt32(i * 4, w, true);
      else view.setUint32(i * 4, w, true);
    });
    return buffer;
  }
}

const WORKGROUP_SIZE = 256;
const MAX_GROUPS_X = 65535;

/** A 2-D grid of 256-wide workgroups covering `count` invocations (see flat_index in common.wgsl). */
export function gridFor(count: number, perInvocation = 1): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / perInvocation / WORKGROUP_SIZE));
  if (groups <= MAX_GROUPS_X) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_GROUPS_X);
  return [Math.ceil(groups / y), y, 1];
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

export type { Shape };
