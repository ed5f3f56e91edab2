// A loaded model: the graph, its weights on the GPU, and one compiled plan per input shape.
import type { GpuContext } from '../gpu/context.js';
import { type Graph, type Shape, shapeString } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { inferShapes, type ShapedGraph } from '../ops/infer.js';
import { optimizeGraph } from '../ops/optimize.js';
import { loadOnnx, loadOnnxFile } from '../onnx/load.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable, WeightStore } from '../plan/executable.js';
import { PlanCache } from '../plan/cache.js';
import { DISPOSE } from '../gpu/context.js';
import type { DeviceTraits } from '../kernels/program.js';
import { checkFinite, checkFiniteWeights, firstNonFinite, nonFiniteOutputError } from './finite.js';
import { hessianVectorProduct, type HessianOptions, type HessianResult } from './hessian.js';

export interface Tensor {
  shape: Shape;
  data: Float32Array;
}

export interface ModelOptions {
  /**
   * What kernels choose their variants by; default: the adapter's. Tests override it to run the other
   * GEMM variant or to force weights into several bindings.
   */
  traits?: Partial<DeviceTraits>;
  /**
   * GPU bytes of compiled plans (activation and gradient buffers, weights not counted) kept for reuse
   * by this model and the explainers and evaluators on it; beyond it the least recently used plans are
   * freed after each call. Default 1 GiB. A plan larger than the budget is still made, and kept alone.
   */
  maxPlanBytes?: number;
}

/** What kernels choose their variants by, from the adapter, with `overrides` on top. */
export function deviceTraits(gpu: GpuContext, overrides: Partial<DeviceTraits> = {}): DeviceTraits {
  return {
    isCpu: gpu.adapter.isCpu,
    maxBindingBytes: gpu.limits.maxStorageBufferBindingSize,
    maxWorkgroupsPerDimension: gpu.limits.maxComputeWorkgroupsPerDimension,
    maxWorkgroupStorageBytes: gpu.limits.maxComputeWorkgroupStorageSize,
    minOffsetAlignment: gpu.limits.minStorageBufferOffsetAlignment,
    winograd: true,
    ...overrides,
  };
}

export class Model {
  readonly weights: WeightStore;
  readonly deviceTraits: DeviceTraits;
  /** The compiled plans of this model and of the explainers and evaluators on it. */
  readonly plans: PlanCache;
  private readonly shapedCache = new Map<string, ShapedGraph>();

  private constructor(
    readonly gpu: GpuContext,
    readonly graph: Graph,
    private readonly options: ModelOptions,
  ) {
    checkFiniteWeights(graph);
    this.weights = new WeightStore(gpu);
    this.deviceTraits = deviceTraits(gpu, options.traits);
    this.plans = new PlanCache(options.maxPlanBytes);
  }

  /**
   * Runs one call of the engine on this model's device: after every call queued before it, with the
   * plans that no longer fit the budget freed once it settles. Calls inside `work` use the *Held forms.
   */
  call<T>(work: () => Promise<T>): Promise<T> {
    return this.gpu.exclusive(async () => {
      try {
        return await work();
      } finally {
        this.plans.trim();
      }
    });
  }

  /**
   * The same graph with weights of its own on the GPU (what is written into them leaves this model
   * alone), with `traits` on top of this model's.
   */
  copy(traits: Partial<DeviceTraits> = {}): Model {
    return new Model(this.gpu, this.graph, { ...this.options, traits: { ...this.options.traits, ...traits } });
  }

  /**
   * The model planned with the GPU kernel variants: itself on a GPU adapter, a copy (to dispose) on a
   * CPU adapter, where a roofline estimate needs the dispatches a GPU would run.
   */
  withGpuVariants(): Model {
    return this.deviceTraits.isCpu ? this.copy({ isCpu: false }) : this;
  }

  static fromFile(gpu: GpuContext, path: string, options: ModelOptions = {}): Model {
    return new Model(gpu, optimizeGraph(loadOnnxFile(path)), options);
  }

  static fromBytes(gpu: GpuContext, bytes: Uint8Array, label?: string, options: ModelOptions = {}): Model {
    return new Model(gpu, optimizeGraph(loadOnnx(bytes, label)), options);
  }

  get inputName(): string {
    return this.graph.inputs[0].name;
  }

  /** Shapes of every tensor for these input shapes (cached). */
  shaped(inputShapes: Map<string, Shape>): ShapedGraph {
    const key = shapeKey(inputShapes);
    let shaped = this.shapedCache.get(key);
    if (shaped) this.shapedCache.delete(key);
    else shaped = inferShapes(this.graph, inputShapes);
    // Most recently used last; the shape analyses of shapes long unused go, as their plans do.
    this.shapedCache.set(key, shaped);
    if (this.shapedCache.size > SHAPES_KEPT) this.shapedCache.delete(this.shapedCache.keys().next().value!);
    return shaped;
  }

  /** Names a lone tensor after the graph's only input. */
  inputsOf(input: Tensor | Map<string, Tensor>): Map<string, Tensor> {
    if (input instanceof Map) return input;
    if (this.graph.inputs.length !== 1) {
      throw new UserError(`the model has ${this.graph.inputs.length} inputs (${this.graph.inputs.map((i) => i.name).join(', ')}); give each by name`);
    }
    return new Map([[this.inputName, input]]);
  }

  /**
   * Runs the forward pass and returns the requested tensors (default: the graph outputs). An input
   * with NaN or infinity is refused; an output that is not finite is an error naming the first node
   * whose output is not.
   */
  run(input: Tensor | Map<string, Tensor>, outputNames: string[] = this.graph.outputs): Promise<Map<string, Tensor>> {
    return this.call(() => this.runHeld(input, outputNames));
  }

  /** run() inside a call that already holds the device (see call()). */
  async runHeld(input: Tensor | Map<string, Tensor>, outputNames: string[] = this.graph.outputs): Promise<Map<string, Tensor>> {
    const inputs = this.inputsOf(input);
    const data = dataOf(inputs);
    const shaped = this.shaped(shapesOf(inputs));
    const key = `run|${shapeKey(shapesOf(inputs))}|${outputNames.join(',')}`;
    const exe = await this.plans.get(key, () => {
      const builder = new PlanBuilder(shaped, this.deviceTraits);
      builder.keep(outputNames);
      for (const name of outputNames) builder.addOutput(name, builder.value(name));
      return Executable.create(this.gpu, builder.build(), this.weights);
    });
    const result = await exe.run(data);
    for (const name of outputNames) {
      if (firstNonFinite(result.outputs.get(name)!) >= 0) throw await nonFiniteOutputError(this, shaped, data, name);
    }
    return new Map(outputNames.map((name) => [name, { shape: shaped.shapes.get(name)!, data: result.outputs.get(name)! }]));
  }

  /**
   * Back-propagates `seed` (the gradient of some scalar with respect to tensor `from`) to the tensors
   * in `to`; returns those gradients and the value of `from`. The general form of what Grad-CAM does.
   */
  gradients(input: Tensor | Map<string, Tensor>, from: string, seed: Tensor, to: string[]): Promise<Map<string, Tensor>> {
    return this.call(() => this.gradientsHeld(input, from, seed, to));
  }

  /** gradients() inside a call that already holds the device (see call()). */
  async gradientsHeld(input: Tensor | Map<string, Tensor>, from: string, seed: Tensor, to: string[]): Promise<Map<string, Tensor>> {
    const inputs = this.inputsOf(input);
    const data = dataOf(inputs);
    checkFinite(seed.data, 'the gradient seed', seed.shape);
    const shaped = this.shaped(shapesOf(inputs));
    const key = `grad|${shapeKey(shapesOf(inputs))}|${from}|${to.join(',')}`;
    const exe = await this.plans.get(key, () => {
      const builder = new PlanBuilder(shaped, this.deviceTraits);
      builder.keepBackward(from, to);
      builder.addOutput(from, builder.value(from));
      builder.setPhase('backward');
      const seedRef = builder.addInput(GRADIENT_SEED, shaped.shapes.get(from)!);
      for (const [name, ref] of builder.addBackward(from, seedRef, to)) builder.addOutput(`grad:${name}`, ref);
      return Executable.create(this.gpu, builder.build(), this.weights);
    });
    const result = await exe.run(new Map([...data, [GRADIENT_SEED, seed.data]]));
    if (firstNonFinite(result.outputs.get(from)!) >= 0) throw await nonFiniteOutputError(this, shaped, data, from);
    const out = new Map<string, Tensor>([[from, { shape: shaped.shapes.get(from)!, data: result.outputs.get(from)! }]]);
    for (const name of to) {
      const gradient = result.outputs.get(`grad:${name}`)!;
      if (firstNonFinite(gradient) >= 0) throw new UserError(`the gradient at "${name}" is not finite (it overflowed float32 on the way down from "${from}")`);
      out.set(name, { shape: shaped.shapes.get(name)!, data: gradient });
    }
    return out;
  }

  /**
   * The exact Hessian-vector product (d^2 y / dA^2) v at a layer A, for a class target y (logit,
   * softmax or ReST), with dy/dA: forward mode along v, then one backward pass (src/runtime/hessian.ts).
   */
  hessianVectorProduct(input: Tensor, options: HessianOptions): Promise<HessianResult> {
    return this.call(() => {
      dataOf(new Map([[this.inputName, input]]));
      return hessianVectorProduct(this, input, options);
    });
  }

  /** The kernels that this model's plans dispatch (what `gradcam verify` reports on). */
  kernelNames(): string[] {
    const executables = this.plans.values().filter((p): p is Executable => p instanceof Executable);
    return [...new Set(executables.flatMap((exe) => exe.dispatches.map((d) => d.program.kernel.name)))];
  }

  /** Frees every plan and the weights on the GPU (the explainers' and evaluators' plans on it too). */
  dispose(): void {
    this.plans.clear();
    this.weights.destroy();
  }

  [DISPOSE](): void {
    this.dispose();
  }
}

const GRADIENT_SEED = '<gradient seed>';
/** Shape analyses kept per model (each is small: shapes and geometry, no data). */
const SHAPES_KEPT = 64;

export function shapesOf(inputs: Map<string, Tensor>): Map<string, Shape> {
  return new Map([...inputs].map(([name, t]) => [name, t.shape]));
}

function shapeKey(shapes: Map<string, Shape>): string {
  return [...shapes].map(([name, s]) => `${name}:${s.join('x')}`).join(';');
}

/** The inputs' data, checked: as many values as the shape needs, all finite. */
export function dataOf(inputs: Map<string, Tensor>): Map<string, ArrayBufferView> {
  for (const [name, t] of inputs) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new UserError(`input "${name}" has ${t.data.length} values, but its shape ${shapeString(t.shape)} needs ${count}`);
    checkFinite(t.data, `input "${name}"`, t.shape);
  }
  return new Map([...inputs].map(([name, t]) => [name, t.data]));
}
