// A loaded model: the graph, its weights on the GPU, and one compiled plan per input shape.
import type { GpuContext } from '../gpu/context.js';
import { type Graph, type Shape, shapeString } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { inferShapes, type ShapedGraph } from '../ops/infer.js';
import { optimizeGraph } from '../ops/optimize.js';
import { loadOnnx, loadOnnxFile } from '../onnx/load.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable, WeightStore } from '../plan/executable.js';
import type { DeviceTraits } from '../kernels/program.js';

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
}

/** What kernels choose their variants by, from the adapter, with `overrides` on top. */
export function deviceTraits(gpu: GpuContext, overrides: Partial<DeviceTraits> = {}): DeviceTraits {
  return {
    isCpu: gpu.adapter.isCpu,
    maxBindingBytes: gpu.limits.maxStorageBufferBindingSize,
    minOffsetAlignment: gpu.limits.minStorageBufferOffsetAlignment,
    winograd: true,
    ...overrides,
  };
}

export class Model {
  readonly weights: WeightStore;
  readonly deviceTraits: DeviceTraits;
  private readonly plans = new Map<string, Executable>();
  private readonly shapedCache = new Map<string, ShapedGraph>();

  private constructor(
    readonly gpu: GpuContext,
    readonly graph: Graph,
    private readonly options: ModelOptions,
  ) {
    this.weights = new WeightStore(gpu);
    this.deviceTraits = deviceTraits(gpu, options.traits);
  }

  /**
   * The same graph with weights of its own on the GPU (what is written into them leaves this model
   * alone), with `traits` on top of this model's.
   */
  copy(traits: Partial<DeviceTraits> = {}): Model {
    return new Model(this.gpu, this.graph, { ...this.options, traits: { ...this.options.traits, ...traits } });
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
    if (!shaped) {
      shaped = inferShapes(this.graph, inputShapes);
      this.shapedCache.set(key, shaped);
    }
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

  /** Runs the forward pass and returns the requested tensors (default: the graph outputs). */
  async run(input: Tensor | Map<string, Tensor>, outputNames: string[] = this.graph.outputs): Promise<Map<string, Tensor>> {
    const inputs = this.inputsOf(input);
    const shaped = this.shaped(shapesOf(inputs));
    const key = `${shapeKey(shapesOf(inputs))}|${outputNames.join(',')}`;
    let exe = this.plans.get(key);
    if (!exe) {
      const builder = new PlanBuilder(shaped, this.deviceTraits);
      builder.keep(outputNames);
      for (const name of outputNames) builder.addOutput(name, builder.value(name));
      exe = await Executable.create(this.gpu, builder.build(), this.weights);
      this.plans.set(key, exe);
    }
    const result = await exe.run(dataOf(inputs));
    return new Map(outputNames.map((name) => [name, { shape: shaped.shapes.get(name)!, data: result.outputs.get(name)! }]));
  }

  /**
   * Back-propagates `seed` (the gradient of some scalar with respect to tensor `from`) to the tensors
   * in `to`; returns those gradients and the value of `from`. The general form of what Grad-CAM does.
   */
  async gradients(input: Tensor | Map<string, Tensor>, from: string, seed: Tensor, to: string[]): Promise<Map<string, Tensor>> {
    const inputs = this.inputsOf(input);
    const shaped = this.shaped(shapesOf(inputs));
    const key = `grad|${shapeKey(shapesOf(inputs))}|${from}|${to.join(',')}`;
    let exe = this.plans.get(key);
    if (!exe) {
      const builder = new PlanBuilder(shaped, this.deviceTraits);
      builder.keepBackward(from, to);
      builder.addOutput(from, builder.value(from));
      builder.setPhase('backward');
      const seedRef = builder.addInput(GRADIENT_SEED, shaped.shapes.get(from)!);
      for (const [name, ref] of builder.addBackward(from, seedRef, to)) builder.addOutput(`grad:${name}`, ref);
      exe = await Executable.create(this.gpu, builder.build(), this.weights);
      this.plans.set(key, exe);
    }
    const data = dataOf(inputs);
    data.set(GRADIENT_SEED, seed.data);
    const result = await exe.run(data);
    const out = new Map<string, Tensor>([[from, { shape: shaped.shapes.get(from)!, data: result.outputs.get(from)! }]]);
    for (const name of to) out.set(name, { shape: shaped.shapes.get(name)!, data: result.outputs.get(`grad:${name}`)! });
    return out;
  }

  /** The kernels that this model's plans dispatch (what `gradcam verify` reports on). */
  kernelNames(): string[] {
    return [...new Set([...this.plans.values()].flatMap((exe) => exe.dispatches.map((d) => d.program.kernel.name)))];
  }

  dispose(): void {
    for (const exe of this.plans.values()) exe.destroy();
    this.plans.clear();
    this.weights.destroy();
  }
}

const GRADIENT_SEED = '<gradient seed>';

function shapesOf(inputs: Map<string, Tensor>): Map<string, Shape> {
  return new Map([...inputs].map(([name, t]) => [name, t.shape]));
}

function shapeKey(shapes: Map<string, Shape>): string {
  return [...shapes].map(([name, s]) => `${name}:${s.join('x')}`).join(';');
}

function dataOf(inputs: Map<string, Tensor>): Map<string, ArrayBufferView> {
  for (const [name, t] of inputs) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new UserError(`input "${name}" has ${t.data.length} values, but its shape ${shapeString(t.shape)} needs ${count}`);
  }
  return new Map([...inputs].map(([name, t]) => [name, t.data]));
}
