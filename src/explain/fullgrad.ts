// FullGrad (Srinivas & Fleuret 2019) in a plan, as pytorch-grad-cam computes it: the input-gradient term
// |x * dy/dx| and one bias-gradient term |b * dy/dz| per biased conv and BatchNormalization output z,
// each channel scaled to [0, 1], summed over channels, resized to the input and added
// (shaders/fullgrad_*.wgsl). The layers are the ONNX graph's: a BatchNormalization that an exporter
// folded into its conv is that conv's bias, which for a bias-free conv (the usual case) is the same term.
import { type Constant, elementCount, type Shape, upstreamTensors } from '../graph/ir.js';
import type { ShapedGraph } from '../ops/infer.js';
import { fullGradKernels } from '../kernels/gradcam.js';
import type { TensorRef } from '../kernels/program.js';
import type { PlanBuilder } from '../plan/builder.js';
import { describeLayer } from './layout.js';
import { addNormalize, mapUniforms } from './map.js';

/** A layer whose bias FullGrad weighs: its output tensor and the bias per channel. */
export interface BiasLayer {
  tensor: string;
  bias: Float32Array;
}

const BATCH_NORM_EPSILON = 1e-5;

/**
 * The biased layers upstream of the score with the input's rank: every Conv with a constant bias and
 * every BatchNormalization (its bias B - mean * scale / sqrt(var + epsilon)), in graph order.
 */
export function biasLayers(shaped: ShapedGraph, score: string, rank: number): BiasLayer[] {
  const up = upstreamTensors(shaped.nodes, score);
  const constant = (name: string | undefined): Constant | undefined => (name ? shaped.constants.get(name) : undefined);
  const layers: BiasLayer[] = [];
  for (const node of shaped.nodes) {
    const tensor = node.outputs[0];
    if (!up.has(tensor) || shaped.shapes.get(tensor)?.length !== rank) continue;
    if (node.opType === 'Conv') {
      const b = constant(node.inputs[2]);
      if (b) layers.push({ tensor, bias: Float32Array.from(b.data as ArrayLike<number>) });
    } else if (node.opType === 'BatchNormalization') {
      const [scale, shift, mean, variance] = node.inputs.slice(1, 5).map((name) => constant(name)?.data as ArrayLike<number> | undefined);
      if (!scale || !shift || !mean || !variance) continue;
      const epsilon = (node.attributes.get('epsilon') as number | undefined) ?? BATCH_NORM_EPSILON;
      layers.push({ tensor, bias: Float32Array.from(shift, (b, k) => b - (mean[k] * scale[k]) / Math.sqrt(variance[k] + epsilon)) });
    }
  }
  return layers;
}

/** One term's tensor and its factor: the bias per channel, or the input element by element. */
interface Term {
  gradient: TensorRef;
  factor: TensorRef;
  perChannel: boolean;
}

/** The FullGrad map [batch, pixels] and its normalized copy, from the input's term and the layers'. */
export function addFullGrad(
  b: PlanBuilder,
  input: { value: TensorRef; gradient: TensorRef },
  layers: { layer: BiasLayer; gradient: TensorRef }[],
): { map: TensorRef; normalized: TensorRef } {
  const inputShape = input.value.shape;
  const [batch, , ...spatial] = inputShape;
  const pixels = elementCount(spatial);
  const map = b.scratch([batch, pixels], 'FullGrad: map');
  addTerm(b, { gradient: input.gradient, factor: input.value, perChannel: false }, map, 'FullGrad: input term');
  for (const { layer, gradient } of layers) {
    const label = `FullGrad: ${layer.tensor}`;
    const shape = gradient.shape;
    const coarse = b.scratch([batch, positions(shape)], `${label}: channel sum`);
    addTerm(b, { gradient, factor: b.constantTensor({ dtype: 'float32', shape: [layer.bias.length], data: layer.bias }, `${label}: bias`), perChannel: true }, coarse, label);
    const uniforms = mapUniforms(describeLayer(shape, 'nchw', spatial), spatial, 0);
    b.dispatch(fullGradKernels.resizeAdd.program({ uniforms, bindings: { coarse, raw: map }, count: batch * pixels }), `${label}: resize and add`);
  }
  const normalized = b.scratch([batch, pixels], 'FullGrad: normalized map');
  addNormalize(b, map, normalized, 'FullGrad');
  return { map, normalized };
}

const positions = (shape: Shape) => elementCount(shape.slice(2));

/** A term's scaled channel sum, written into `out` [batch, positions]. */
function addTerm(b: PlanBuilder, term: Term, out: TensorRef, label: string): void {
  const [batch, channels] = term.gradient.shape;
  const uniforms = { batch, channels, plane: positions(term.gradient.shape), per_channel: term.perChannel ? 1 : 0 };
  const ranges = b.scratch([batch, channels, 2], `${label}: channel ranges`);
  b.dispatch(fullGradKernels.range.program({ uniforms, bindings: { gradient: term.gradient, factor: term.factor, ranges }, count: batch * channels }), `${label}: channel ranges`);
  b.dispatch(fullGradKernels.sum.program({ uniforms, bindings: { gradient: term.gradient, factor: term.factor, ranges, coarse: out }, count: batch * uniforms.plane }), `${label}: channel sum`);
}
