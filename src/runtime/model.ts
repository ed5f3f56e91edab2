// A loaded model: the graph, its weights on the GPU, and one compiled plan per input shape.
import type { GpuContext } from '../gpu/context.js';
import { type Graph, type Shape, shapeString, UserError } from '../graph/ir.js';
import { inferShapes, type ShapedGraph } from '../graph/infer.js';
import { optimizeGraph } from '../graph/optimize.js';
import { loadOnnx, loadOnnxFile } from '../onnx/load.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable, WeightStore } from '../plan/executable.js';
import type { DeviceTraits } from '../ops/types.js';

export interface Tensor {
  shape: Shape;
  data: Float32Array;
}

export class Model {
  readonly weights: WeightStore;
  private readonly forwardPlans = new Map<string, Executable>();
  private readonly shapedCache = new Map<string, ShapedGraph>();

  private constructor(
    readonly gpu: GpuContext,
    readonly graph: Graph,
  ) {
    this.weights = new WeightStore(gpu);
  }

  static fromFile(gpu: GpuContext, path: string): Model {
    return new Model(gpu, optimizeGraph(loadOnnxFile(path)));
  }

  static fromBytes(gpu: GpuContext, bytes: Uint8Array, label?: string): Model {
    return new Model(gpu, optimizeGraph(loadOnnx(bytes, label)));
  }

  get inputName(): string {
    return this.graph.inputs[0].name;
  }

  get deviceTraits(): DeviceTraits {
    return {
      isCpu: this.gpu.adapter.isCpu,
      maxBindingBytes: this.gpu.limits.maxStorageBufferBindingSize,
      minOffsetAlignment: this.gpu.limits.minStorageBufferOffsetAlignment,
    };
  }

  /** Shapes of every tensor for this input shape (cached). */
  shaped(inputShape: Shape): ShapedGraph {
    if (this.graph.inputs.length !== 1) throw new UserError(`the model has ${this.graph.inputs.length} inputs; only single-input models are supported`);
    const key = inputShape.join('x');
    let shaped = this.shapedCache.get(key);
    if (!shaped) {
      shaped = inferShapes(this.graph, new Map([[this.inputName, inputShape]]));
      this.shapedCache.set(key, shaped);
    }
    return shaped;
  }

  /** Runs the forward pass and returns the requested tensors (default: the graph outputs). */
  async run(input: Tensor, outputNames: string[] = this.graph.outputs): Promise<Map<string, Tensor>> {
    const shaped = this.shaped(input.shape);
    const key = `${input.shape.join('x')}|${outputNames.join(',')}`;
    let exe = this.forwardPlans.get(key);
    if (!exe) {
      const builder = new PlanBuilder(shaped, this.deviceTraits);
      for (const name of outputNames) {
        if (!shaped.shapes.has(name)) throw new UserError(`tensor "${name}" is not in the graph`);
        builder.addOutput(name, builder.value(name));
      }
      exe = await Executable.create(this.gpu, builder.build(), this.weights);
      this.forwardPlans.set(key, exe);
    }
    checkInput(input);
    const result = await exe.run(new Map([[this.inputName, input.data]]));
    return new Map(outputNames.map((name) => [name, { shape: shaped.shapes.get(name)!, data: result.outputs.get(name)! }]));
  }

  dispose(): void {
    for (const exe of this.forwardPlans.values()) exe.destroy();
    this.forwardPlans.clear();
    this.weights.destroy();
  }
}

function checkInput(input: Tensor): void {
  const count = input.shape.reduce((a, b) => a * b, 1);
  if (count !== input.data.length) throw new UserError(`input data has ${input.data.length} values, but its shape ${shapeString(input.shape)} needs ${count}`);
}
