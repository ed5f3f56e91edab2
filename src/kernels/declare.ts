// One declaration per kernel: its named uniforms, its bindings, its grid and the constants it shares with
// TypeScript. From it come the WGSL header (the Params struct, the bindings, the constants, accessors for
// uniform arrays, a store helper per accumulating binding and, for one-invocation-per-element kernels,
// the entry point with the flat index and its bounds check) and the packing of the uniform buffer by
// field name. The body stays a readable .wgsl file in shaders/; composing checks it against the
// declaration, so a field the body reads but the declaration lacks fails at load time naming both.
import { type Defines, shaderFile, substituteDefines } from '../gpu/shaders.js';
import type { Binding, ElementType, Program, TensorRef } from './program.js';
import { gridFor, WORKGROUP_SIZE } from './program.js';

export type ScalarType = 'u32' | 'i32' | 'f32';
/** A uniform array of `length` integers (a multiple of 4), read in WGSL through `<name>_at(i)`. */
export interface ArrayType {
  array: 'u32' | 'i32';
  length: number;
}
export type FieldType = ScalarType | ArrayType;

export const array = (of: 'u32' | 'i32', length: number): ArrayType => ({ array: of, length });

/**
 * read: `var<storage, read>`; write: `read_write`; accumulate: written through `store_<name>(i, v)`,
 * which adds to what is there when the program is made with `accumulate` (gradients with several
 * contributions); accumulate-min takes the minimum instead (decision margins).
 */
export type Access = 'read' | 'write' | 'accumulate' | 'accumulate-min';
export type BindingType = Access | { access: Access; element: 'u32' | 'i32' };

/** One invocation per element of a 2-D grid of WORKGROUP_SIZE-wide workgroups, or the body's own entry point. */
export type Grid = 'elements' | { workgroupSize: [number, number, number] };

export interface KernelSpec<U extends Record<string, FieldType>, B extends Record<string, BindingType>> {
  name: string;
  /** Body files in shaders/ (without .wgsl), concatenated in this order after the generated header. */
  files: readonly string[];
  uniforms: U;
  /** Storage bindings 1, 2, ... in this order. */
  bindings: B;
  /**
   * 'elements': the uniform `count` is added, and the header's entry point calls the body's
   * `fn element(index: u32)` (any name) for every index below it. Otherwise the body has its own entry point
   * with `@workgroup_size(WG)` (1-D) or `@workgroup_size(WG_X, WG_Y)`.
   */
  grid: Grid;
  /** Constants shared with TypeScript; integers become u32, `{ f32: v }` an f32. */
  constants?: Record<string, number | { f32: number }>;
  /** The {{NAME}} text substitutions the body takes, each with an example value (used to compile-check). */
  defines?: Record<string, string>;
}

type UniformValues<U extends Record<string, FieldType>> = { [K in keyof U]: U[K] extends ArrayType ? number[] : number };

/** A tensor, or a byte range of one (for tensors larger than one binding allows). */
export type BoundTensor = TensorRef | { tensor: TensorRef; byteOffset?: number; byteLength?: number };

export interface ProgramArgs<U extends Record<string, FieldType>, B extends Record<string, BindingType>> {
  uniforms: UniformValues<U>;
  bindings: { [K in keyof B]: BoundTensor };
  /** 'elements' kernels: the number of invocations. */
  count?: number;
  /** Kernels with their own entry point: the grid. */
  workgroups?: [number, number, number];
  /** Accumulating bindings add to (or take the minimum with) what they hold. */
  accumulate?: boolean;
  defines?: Defines;
  /** Floating-point operations, for profiles (GEMM-like kernels). */
  flops?: number;
}

interface Field {
  name: string;
  type: FieldType;
  offset: number;
}

const declared: Kernel[] = [];

/** Every kernel declared so far (tests compile them all). */
export function declaredKernels(): readonly Kernel[] {
  return declared;
}

export function defineKernel<U extends Record<string, FieldType>, B extends Record<string, BindingType>>(spec: KernelSpec<U, B>): Kernel<U, B> {
  const kernel = new Kernel(spec);
  declared.push(kernel as unknown as Kernel);
  return kernel;
}

export class Kernel<U extends Record<string, FieldType> = Record<string, FieldType>, B extends Record<string, BindingType> = Record<string, BindingType>> {
  readonly name: string;
  private readonly fields: Field[] = [];
  private readonly uniformBytes: number;
  private readonly bindingNames: string[];
  private readonly accumulates: boolean;
  private readonly sources = new Map<string, string>();

  constructor(readonly spec: KernelSpec<U, B>) {
    this.name = spec.name;
    const fail = (message: string) => {
      throw new Error(`kernel "${spec.name}": ${message}`);
    };
    this.bindingNames = Object.keys(spec.bindings);
    const accumulating = this.bindingNames.filter((b) => access(spec.bindings[b]).startsWith('accumulate'));
    if (accumulating.length > 1) fail(`one accumulating binding at most, not ${accumulating.join(', ')}`);
    this.accumulates = accumulating.length === 1;
    const names: [string, FieldType][] = [
      ...(spec.grid === 'elements' ? [['count', 'u32'] as [string, FieldType]] : []),
      ...Object.entries(spec.uniforms),
      ...(this.accumulates ? [['accumulate', 'u32'] as [string, FieldType]] : []),
    ];
    const seen = new Set<string>();
    let offset = 0;
    for (const [name, type] of names) {
      if (seen.has(name)) fail(`uniform "${name}" is declared twice (count and accumulate are added by the grid and the bindings)`);
      seen.add(name);
      if (typeof type === 'object' && (type.length % 4 !== 0 || type.length === 0)) fail(`uniform array "${name}" needs a length that is a multiple of 4`);
      const align = typeof type === 'object' ? 16 : 4;
      offset = Math.ceil(offset / align) * align;
      this.fields.push({ name, type, offset });
      offset += typeof type === 'object' ? type.length * 4 : 4;
    }
    if (this.fields.length === 0) fail('a kernel needs at least one uniform');
    this.uniformBytes = Math.max(16, Math.ceil(offset / 16) * 16);
  }

  /** The program for one dispatch: uniforms packed by name, tensors in binding order. */
  program(args: ProgramArgs<U, B>): Program {
    const { spec } = this;
    const fail = (message: string) => {
      throw new Error(`kernel "${this.name}": ${message}`);
    };
    const values: Record<string, number | number[]> = { ...(args.uniforms as Record<string, number | number[]>) };
    let workgroups = args.workgroups;
    if (spec.grid === 'elements') {
      if (args.count === undefined) fail('an elements kernel needs a count');
      values.count = args.count!;
      workgroups ??= gridFor(args.count!);
    } else if (!workgroups) fail('needs its workgroups');
    if (this.accumulates) values.accumulate = args.accumulate ? 1 : 0;
    else if (args.accumulate) fail('has no accumulating binding');
    const expected = new Set(this.fields.map((f) => f.name));
    for (const name of Object.keys(values)) if (!expected.has(name)) fail(`uniform "${name}" is not declared`);

    const buffer = new ArrayBuffer(this.uniformBytes);
    const view = new DataView(buffer);
    for (const f of this.fields) {
      const value = values[f.name];
      if (value === undefined) fail(`uniform "${f.name}" has no value`);
      if (typeof f.type === 'object') {
        if (!Array.isArray(value) || value.length > f.type.length) fail(`uniform "${f.name}" takes at most ${f.type.length} values`);
        (value as number[]).forEach((v, i) => writeScalar(view, f.offset + 4 * i, (f.type as ArrayType).array, v, f.name, fail));
      } else {
        if (typeof value !== 'number') fail(`uniform "${f.name}" is a scalar`);
        writeScalar(view, f.offset, f.type, value as number, f.name, fail);
      }
    }

    const defines = args.defines ?? {};
    const wanted = Object.keys(spec.defines ?? {}).sort().join(',');
    if (Object.keys(defines).sort().join(',') !== wanted) fail(`takes the defines {${wanted}}, got {${Object.keys(defines).sort().join(',')}}`);

    const bindings: Binding[] = this.bindingNames.map((name) => {
      const bound = (args.bindings as Record<string, BoundTensor>)[name];
      if (!bound) fail(`binding "${name}" has no tensor`);
      const write = access(spec.bindings[name]) !== 'read';
      const tensor = 'tensor' in bound ? bound.tensor : bound;
      const declared = element(spec.bindings[name]);
      if ((tensor.dtype ?? 'f32') !== declared) fail(`binding "${name}" holds ${declared} but tensor "${tensor.label}" is ${tensor.dtype ?? 'f32'}`);
      return 'tensor' in bound ? { tensor: bound.tensor, write, byteOffset: bound.byteOffset, byteLength: bound.byteLength } : { tensor: bound, write };
    });
    return { kernel: this as unknown as Kernel, defines, uniforms: buffer, bindings, workgroups: workgroups!, flops: args.flops };
  }

  /** Pipeline cache key. */
  key(defines: Defines): string {
    const defs = Object.keys(defines)
      .sort()
      .map((k) => `${k}=${defines[k]}`)
      .join(',');
    return `${this.name}|${defs}`;
  }

  /** The WGSL module: generated header, the body files, the generated entry point; checked against the declaration. */
  source(defines: Defines): string {
    const key = this.key(defines);
    let text = this.sources.get(key);
    if (text === undefined) {
      const files = this.spec.files.map((f) => ({ file: f, text: substituteDefines(shaderFile(f), defines, `${this.name} (${f}.wgsl)`) }));
      this.check(files);
      text = [this.header(), ...files.map((f) => f.text), this.footer()].join('\n');
      this.sources.set(key, text);
    }
    return text;
  }

  private check(files: { file: string; text: string }[]): void {
    const fail = (message: string) => {
      throw new Error(`kernel "${this.name}" (declared in src/kernels/) and its body: ${message}`);
    };
    const declaredFields = new Set(this.fields.map((f) => f.name));
    for (const { file, text } of files) {
      const own = /var<uniform>|@binding\(|@group\(|struct Params\b/.exec(text);
      if (own) fail(`${file}.wgsl declares "${own[0]}"; uniforms and bindings come from the declaration`);
      for (const m of text.matchAll(/\bP\.(\w+)/g)) {
        if (!declaredFields.has(m[1])) fail(`${file}.wgsl reads P.${m[1]}, which the declaration does not have (it has ${[...declaredFields].join(', ')})`);
      }
    }
    const body = files.map((f) => f.text).join('\n');
    for (const name of this.bindingNames) {
      if (!new RegExp(`(\\b|\\bstore_)${name}\\b`).test(body)) fail(`binding "${name}" is not used by ${this.spec.files.map((f) => `${f}.wgsl`).join(', ')}`);
    }
    const hasEntry = /@compute/.test(body);
    if (this.spec.grid === 'elements') {
      if (hasEntry || !/fn element\(\w+: u32\)/.test(body)) fail('an elements kernel defines fn element(<index>: u32) and no entry point of its own');
    } else {
      const [, y, z] = this.spec.grid.workgroupSize;
      const expected = z > 1 ? '@workgroup_size(WG_X, WG_Y, WG_Z)' : y > 1 ? '@workgroup_size(WG_X, WG_Y)' : '@workgroup_size(WG)';
      if (!hasEntry || !body.includes(expected)) fail(`the entry point must be declared with ${expected}`);
    }
  }

  private header(): string {
    const { spec } = this;
    const lines = [`// kernel "${this.name}": header generated from its declaration in src/kernels/`];
    const size = spec.grid === 'elements' ? [WORKGROUP_SIZE, 1, 1] : spec.grid.workgroupSize;
    lines.push(`const WG: u32 = ${size[0] * size[1] * size[2]}u;`);
    if (size[1] > 1 || size[2] > 1) lines.push(`const WG_X: u32 = ${size[0]}u;`, `const WG_Y: u32 = ${size[1]}u;`, `const WG_Z: u32 = ${size[2]}u;`);
    for (const [name, value] of Object.entries(spec.constants ?? {})) {
      lines.push(typeof value === 'number' ? `const ${name}: u32 = ${value}u;` : `const ${name}: f32 = ${wgslFloat(value.f32)};`);
    }
    const wgslType = (t: FieldType) => (typeof t === 'object' ? `array<vec4<${t.array}>, ${t.length / 4}>` : t);
    lines.push('struct Params {', ...this.fields.map((f) => `  ${f.name}: ${wgslType(f.type)},`), '}');
    lines.push('@group(0) @binding(0) var<uniform> P: Params;');
    this.bindingNames.forEach((name, i) => {
      const b = spec.bindings[name];
      const element = typeof b === 'object' ? b.element : 'f32';
      const mode = access(b) === 'read' ? 'read' : 'read_write';
      lines.push(`@group(0) @binding(${i + 1}) var<storage, ${mode}> ${name}: array<${element}>;`);
    });
    for (const f of this.fields) {
      if (typeof f.type === 'object') lines.push(`fn ${f.name}_at(i: u32) -> ${f.type.array} { return P.${f.name}[i / 4u][i % 4u]; }`);
    }
    for (const name of this.bindingNames) {
      const mode = access(spec.bindings[name]);
      if (mode === 'accumulate') {
        lines.push(`fn store_${name}(i: u32, v: f32) { if (P.accumulate != 0u) { ${name}[i] += v; } else { ${name}[i] = v; } }`);
      } else if (mode === 'accumulate-min') {
        lines.push(`fn store_${name}(i: u32, v: f32) { if (P.accumulate != 0u) { ${name}[i] = min(${name}[i], v); } else { ${name}[i] = v; } }`);
      }
    }
    return lines.join('\n');
  }

  private footer(): string {
    if (this.spec.grid !== 'elements') return '';
    return [
      '@compute @workgroup_size(WG)',
      'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
      '  let index = gid.y * nwg.x * WG + gid.x;',
      '  if (index >= P.count) { return; }',
      '  element(index);',
      '}',
    ].join('\n');
  }
}

function access(b: BindingType): Access {
  return typeof b === 'object' ? b.access : b;
}

function element(b: BindingType): ElementType {
  return typeof b === 'object' ? b.element : 'f32';
}

function writeScalar(view: DataView, offset: number, type: ScalarType, v: number, name: string, fail: (m: string) => void): void {
  if (type === 'f32') return view.setFloat32(offset, v, true);
  const [lo, hi] = type === 'u32' ? [0, 0xffffffff] : [-0x80000000, 0x7fffffff];
  if (!Number.isInteger(v) || v < lo || v > hi) fail(`uniform "${name}" (${type}) cannot hold ${v}`);
  if (type === 'u32') view.setUint32(offset, v, true);
  else view.setInt32(offset, v, true);
}

function wgslFloat(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}
