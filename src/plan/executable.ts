// A plan made runnable: pipelines compiled, buffers assigned by liveness (a buffer is reused once the
// tensors in it are dead), bind groups built once. A run writes the inputs, records every dispatch in
// one command buffer (one compute pass per phase), submits once and reads back only the outputs.
import type { Constant } from '../graph/ir.js';
import { UserError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import '../gpu/globals.js';
import type { Defines } from '../gpu/shaders.js';
import type { Kernel } from '../kernels/declare.js';
import type { Dispatch, Phase, Plan, TensorInfo } from './builder.js';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Weights uploaded once per model and shared by every plan (input shape) built from it. */
export class WeightStore {
  private readonly buffers = new Map<Constant, GPUBuffer>();
  constructor(private readonly gpu: GpuContext) {}

  bufferFor(c: Constant, label: string): GPUBuffer {
    let buffer = this.buffers.get(c);
    if (!buffer) {
      const data = c.data as Float32Array;
      const size = Math.max(16, align(data.byteLength, 4));
      if (size > this.gpu.limits.maxBufferSize) {
        throw new UserError(`weight "${label}" (${data.byteLength} bytes) exceeds this adapter's maximum buffer size`);
      }
      buffer = this.gpu.device.createBuffer({ label, size, usage: STORAGE, mappedAtCreation: true });
      new Float32Array(buffer.getMappedRange()).set(data);
      buffer.unmap();
      this.buffers.set(c, buffer);
    }
    return buffer;
  }

  /** Whether `buffer` is one of these weights. */
  holds(buffer: GPUBuffer): boolean {
    for (const b of this.buffers.values()) if (b === buffer) return true;
    return false;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}

const pipelineCaches = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

async function pipelineFor(device: GPUDevice, kernel: Kernel, defines: Defines, label: string) {
  let cache = pipelineCaches.get(device);
  if (!cache) {
    cache = new Map();
    pipelineCaches.set(device, cache);
  }
  const key = kernel.key(defines);
  let pipeline = cache.get(key);
  if (!pipeline) {
    pipeline = compile(device, kernel, defines, key);
    cache.set(key, pipeline);
  }
  try {
    return await pipeline;
  } catch (e) {
    cache.delete(key);
    throw new Error(`${label}: ${(e as Error).message}`);
  }
}

/** Compiles one kernel; a body that does not match its declaration fails here, before the GPU sees it. */
export async function compile(device: GPUDevice, kernel: Kernel, defines: Defines, key = kernel.key(defines)): Promise<GPUComputePipeline> {
  const code = kernel.source(defines);
  const module = device.createShaderModule({ label: key, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const first = errors[0];
    throw new Error(`shader ${key} does not compile: ${first.message} (line ${first.lineNum}: ${code.split('\n')[first.lineNum - 1]?.trim()})`);
  }
  return device.createComputePipelineAsync({ label: key, layout: 'auto', compute: { module, entryPoint: 'main' } });
}

export interface RunResult {
  outputs: Map<string, Float32Array>;
  /** GPU time per phase from timestamp queries, where the adapter has them. */
  gpuMs: Partial<Record<Phase, number>>;
  /** Profiling plans: the GPU time of every dispatch, in plan order. */
  dispatchMs?: number[];
  wallMs: number;
}

export interface ExecutableOptions {
  /**
   * Time every dispatch (each in its own compute pass with its own timestamps) rather than each
   * phase; the passes cost a little, so plans for measurement only.
   */
  profile?: boolean;
  /** The buffers of the plan's externals, by name: another executable's `sharedBuffer`s. */
  externals?: Map<string, GPUBuffer>;
}

/** Queries per query set (Dawn's limit) and the alignment of a resolve's destination. */
const QUERIES_PER_SET = 4096;

/** Timestamp slots: one pair per phase, or per dispatch when profiling. */
interface Timing {
  sets: GPUQuerySet[];
  resolve: GPUBuffer;
  read: GPUBuffer;
  pairs: number;
}

interface Encoded {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
  phase: Phase;
}

export class Executable {
  private constructor(
    private readonly gpu: GpuContext,
    private readonly plan: Plan,
    private readonly encoded: Encoded[],
    private readonly buffers: GPUBuffer[],
    private readonly ownedBuffers: GPUBuffer[],
    private readonly staging: Map<string, GPUBuffer>,
    private readonly phases: Phase[],
    private readonly profile: boolean,
    private readonly timing?: Timing,
  ) {
    this.bytes = sizeOf(ownedBuffers);
  }

  /** Bytes of the GPU buffers this executable owns (weights and other plans' buffers not counted). */
  readonly bytes: number;

  static async create(gpu: GpuContext, plan: Plan, weights: WeightStore, options: ExecutableOptions = {}): Promise<Executable> {
    const { device } = gpu;
    const limit = gpu.limits.maxComputeWorkgroupsPerDimension;
    for (const d of plan.dispatches) {
      if (d.program.workgroups.some((g) => g > limit)) {
        throw new Error(`${d.label}: a grid of [${d.program.workgroups}] workgroups exceeds this adapter's ${limit} per dimension`);
      }
    }
    const owned: GPUBuffer[] = [];
    const querySets: GPUQuerySet[] = [];
    // Everything made here is freed again if any step fails, and the errors of buffer creation are
    // caught by scopes pushed and popped without an await between them, so that they belong to this call.
    try {
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      let made: ReturnType<typeof makeBuffers>;
      try {
        made = makeBuffers(gpu, plan, weights, owned, querySets, options);
      } finally {
        const invalid = device.popErrorScope();
        const oom = device.popErrorScope();
        const [i, o] = await Promise.all([invalid, oom]);
        if (o) throw new UserError(`the GPU ran out of memory for a plan of ${(sizeOf(owned) / 2 ** 20).toFixed(1)} MB of buffers (${o.message}); use a smaller batch or input, or a lower maxPlanBytes so that fewer plans stay on the GPU`);
        if (i) throw new Error(`making the plan's buffers failed: ${i.message}`);
      }
      const { buffers, uniforms, uniformOffsets, uniformData, staging, phases, timing } = made!;

      const pipelines = await Promise.all(
        plan.dispatches.map((d) => pipelineFor(device, d.program.kernel, d.program.defines, d.label)),
      );
      device.pushErrorScope('validation');
      const encoded: Encoded[] = plan.dispatches.map((d, i) => {
        const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms, offset: uniformOffsets[i], size: uniformData[i].byteLength } }];
        d.program.bindings.forEach((b, j) => {
          const t = plan.tensors[b.tensor.id];
          const offset = b.byteOffset ?? 0;
          entries.push({ binding: j + 1, resource: { buffer: buffers[t.root], offset, size: b.byteLength ?? t.byteLength - offset } });
        });
        const bindGroup = device.createBindGroup({ label: d.label, layout: pipelines[i].getBindGroupLayout(0), entries });
        return { pipeline: pipelines[i], bindGroup, workgroups: d.program.workgroups, phase: d.phase };
      });
      const error = await device.popErrorScope();
      if (error) throw new Error(`building the plan failed: ${error.message}`);

      return new Executable(gpu, plan, encoded, buffers, owned, staging, phases, options.profile ?? false, timing);
    } catch (e) {
      for (const b of owned) b.destroy();
      for (const q of querySets) q.destroy();
      throw e;
    }
  }


  async run(inputs: Map<string, ArrayBufferView>): Promise<RunResult> {
    const { device } = this.gpu;
    const start = performance.now();
    for (const [name, ref] of this.plan.inputs) {
      const data = inputs.get(name);
      const want = this.plan.tensors[ref.id].byteLength;
      if (!data) throw new UserError(`no value given for input "${name}"`);
      if (data.byteLength !== want) throw new UserError(`input "${name}" has ${data.byteLength} bytes; the plan expects ${want}`);
      device.queue.writeBuffer(this.buffers[ref.id], 0, data.buffer, data.byteOffset, data.byteLength);
    }

    // Out-of-memory cannot arise here (every buffer exists); a validation error can, and the scope is
    // popped before the first await so that no other caller's scope is taken for it.
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const timestamps = (pair: number): GPUComputePassTimestampWrites | undefined => {
      if (!this.timing) return undefined;
      const slot = 2 * pair;
      const querySet = this.timing.sets[Math.floor(slot / QUERIES_PER_SET)];
      return { querySet, beginningOfPassWriteIndex: slot % QUERIES_PER_SET, endOfPassWriteIndex: (slot % QUERIES_PER_SET) + 1 };
    };
    const record = (pass: GPUComputePassEncoder, e: Encoded) => {
      pass.setPipeline(e.pipeline);
      pass.setBindGroup(0, e.bindGroup);
      pass.dispatchWorkgroups(...e.workgroups);
    };
    if (this.profile) {
      this.encoded.forEach((e, i) => {
        const pass = encoder.beginComputePass({ label: this.plan.dispatches[i].label, timestampWrites: timestamps(i) });
        record(pass, e);
        pass.end();
      });
    } else {
      this.phases.forEach((phase, p) => {
        const pass = encoder.beginComputePass({ label: phase, timestampWrites: timestamps(p) });
        for (const e of this.encoded) if (e.phase === phase) record(pass, e);
        pass.end();
      });
    }
    for (const [name, ref] of this.plan.outputs) {
      const t = this.plan.tensors[ref.id];
      encoder.copyBufferToBuffer(this.buffers[t.root], 0, this.staging.get(name)!, 0, align(t.byteLength, 4));
    }
    if (this.timing) {
      const count = this.timing.pairs * 2;
      this.timing.sets.forEach((set, i) => {
        encoder.resolveQuerySet(set, 0, Math.min(QUERIES_PER_SET, count - i * QUERIES_PER_SET), this.timing!.resolve, i * QUERIES_PER_SET * 8);
      });
      encoder.copyBufferToBuffer(this.timing.resolve, 0, this.timing.read, 0, count * 8);
    }
    device.queue.submit([encoder.finish()]);
    const invalid = await device.popErrorScope();
    const gpuError = invalid ?? this.gpu.takeUncapturedError();
    if (gpuError) throw new Error(`GPU error while running the plan: ${gpuError.message}`);

    const outputs = new Map<string, Float32Array>();
    const reads = await Promise.allSettled(
      [...this.staging].map(async ([name, buffer]) => {
        await buffer.mapAsync(GPUMapMode.READ);
        try {
          const ref = this.plan.outputs.get(name)!;
          const count = this.plan.tensors[ref.id].byteLength / 4;
          outputs.set(name, new Float32Array(buffer.getMappedRange(), 0, count).slice());
        } finally {
          buffer.unmap();
        }
      }),
    );
    const failed = reads.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new Error(`reading the plan's results back failed: ${(failed.reason as Error).message || String(failed.reason)}`);
    const gpuMs: Partial<Record<Phase, number>> = {};
    let dispatchMs: number[] | undefined;
    if (this.timing) {
      await this.timing.read.mapAsync(GPUMapMode.READ);
      let stamps: BigInt64Array;
      try {
        stamps = new BigInt64Array(this.timing.read.getMappedRange().slice(0));
      } finally {
        this.timing.read.unmap();
      }
      const span = (pair: number) => Number(stamps[2 * pair + 1] - stamps[2 * pair]) / 1e6;
      if (this.profile) {
        dispatchMs = this.plan.dispatches.map((_, i) => span(i));
        this.plan.dispatches.forEach((d, i) => (gpuMs[d.phase] = (gpuMs[d.phase] ?? 0) + dispatchMs![i]));
      } else {
        this.phases.forEach((phase, p) => (gpuMs[phase] = span(p)));
      }
    }
    const late = this.gpu.takeUncapturedError();
    if (late) throw late;
    return { outputs, gpuMs, dispatchMs, wallMs: performance.now() - start };
  }

  destroy(): void {
    for (const b of this.ownedBuffers) b.destroy();
    for (const set of this.timing?.sets ?? []) set.destroy();
  }

  /** The buffer that holds shared tensor `name` between runs, for other plans to bind. */
  sharedBuffer(name: string): GPUBuffer {
    const ref = this.plan.shared.get(name);
    if (!ref) throw new Error(`the plan shares no tensor "${name}"`);
    return this.buffers[ref.id];
  }

  /** What each dispatch is, in plan order (for profiles). */
  get dispatches(): readonly Dispatch[] {
    return this.plan.dispatches;
  }
}

/** The buffers of an executable: the tensors', the uniforms, the readback and timestamp buffers. */
function makeBuffers(gpu: GpuContext, plan: Plan, weights: WeightStore, owned: GPUBuffer[], querySets: GPUQuerySet[], options: ExecutableOptions) {
  const { device } = gpu;
  const buffers = assignBuffers(gpu, plan, weights, owned, options.externals ?? new Map());

  const uniformAlign = gpu.limits.minUniformBufferOffsetAlignment;
  const uniformOffsets: number[] = [];
  let uniformSize = 0;
  const uniformData = plan.dispatches.map((d) => d.program.uniforms);
  for (const data of uniformData) {
    uniformOffsets.push(uniformSize);
    uniformSize = align(uniformSize + data.byteLength, uniformAlign);
  }
  const uniforms = device.createBuffer({ label: 'uniforms', size: Math.max(uniformSize, 16), usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
  owned.push(uniforms);
  const uniformBytes = new Uint8Array(uniforms.getMappedRange());
  uniformData.forEach((data, i) => uniformBytes.set(new Uint8Array(data), uniformOffsets[i]));
  uniforms.unmap();

  const staging = new Map<string, GPUBuffer>();
  for (const [name, ref] of plan.outputs) {
    const size = align(plan.tensors[ref.id].byteLength, 4);
    const buffer = device.createBuffer({ label: `read ${name}`, size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    staging.set(name, buffer);
    owned.push(buffer);
  }

  const phases = [...new Set(plan.dispatches.map((d) => d.phase))];
  const profile = options.profile ?? false;
  if (profile && !gpu.hasTimestamps) throw new UserError('profiling needs timestamp queries, which this adapter does not offer');
  let timing: Timing | undefined;
  const pairs = profile ? plan.dispatches.length : phases.length;
  if (gpu.hasTimestamps && pairs > 0) {
    const count = pairs * 2;
    const sets = Array.from({ length: Math.ceil(count / QUERIES_PER_SET) }, (_, i) =>
      device.createQuerySet({ type: 'timestamp', count: Math.min(QUERIES_PER_SET, count - i * QUERIES_PER_SET) }),
    );
    querySets.push(...sets);
    const resolve = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    owned.push(resolve);
    const read = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    owned.push(read);
    timing = { sets, resolve, read, pairs };
  }
  return { buffers, uniforms, uniformOffsets, uniformData, staging, phases, timing };
}

function sizeOf(buffers: GPUBuffer[]): number {
  return buffers.reduce((total, b) => total + b.size, 0);
}

/**
 * Gives every root tensor a buffer: inputs and outputs their own, constants the model's weight
 * buffers, intermediates a buffer from a pool that takes back whatever is dead after each dispatch.
 */
function assignBuffers(gpu: GpuContext, plan: Plan, weights: WeightStore, owned: GPUBuffer[], externals: Map<string, GPUBuffer>): GPUBuffer[] {
  const { device } = gpu;
  const buffers: GPUBuffer[] = [];
  const rootOf = (id: number) => plan.tensors[id].root;
  const pinned = new Set<number>([...plan.outputs.values(), ...plan.shared.values()].map((r) => rootOf(r.id)));
  for (const [name, ref] of plan.externals) {
    const buffer = externals.get(name);
    if (!buffer) throw new Error(`no buffer given for the plan's external "${name}"`);
    if (buffer.size < plan.tensors[ref.id].byteLength) throw new Error(`external "${name}" has ${buffer.size} bytes; the plan needs ${plan.tensors[ref.id].byteLength}`);
    buffers[ref.id] = buffer;
  }
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  plan.dispatches.forEach((d, i) => {
    for (const b of d.program.bindings) {
      const root = rootOf(b.tensor.id);
      if (!first.has(root)) first.set(root, i);
      last.set(root, i);
    }
  });

  const create = (t: TensorInfo) => {
    const buffer = device.createBuffer({ label: t.label, size: Math.max(16, align(t.byteLength, 4)), usage: STORAGE });
    owned.push(buffer);
    return buffer;
  };
  for (const t of plan.tensors) {
    if (t.root !== t.id || t.kind === 'external') continue;
    if (t.kind === 'constant') buffers[t.id] = weights.bufferFor(t.constant!, t.label);
    else if (t.kind === 'input' || pinned.has(t.id) || !first.has(t.id)) buffers[t.id] = create(t);
  }

  const free: GPUBuffer[] = [];
  const startsAt = new Map<number, TensorInfo[]>();
  const endsAt = new Map<number, number[]>();
  for (const [root, i] of first) {
    if (buffers[root]) continue;
    startsAt.set(i, [...(startsAt.get(i) ?? []), plan.tensors[root]]);
    const end = last.get(root)!;
    endsAt.set(end, [...(endsAt.get(end) ?? []), root]);
  }
  plan.dispatches.forEach((_, i) => {
    for (const t of startsAt.get(i) ?? []) {
      const need = Math.max(16, align(t.byteLength, 4));
      let best = -1;
      free.forEach((b, k) => {
        if (b.size >= need && b.size <= 2 * need && (best < 0 || b.size < free[best].size)) best = k;
      });
      buffers[t.id] = best >= 0 ? free.splice(best, 1)[0] : create(t);
    }
    for (const root of endsAt.get(i) ?? []) free.push(buffers[root]);
  });
  return plan.tensors.map((t) => buffers[t.root]);
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
