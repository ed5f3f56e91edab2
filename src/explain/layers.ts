// Which tensors can be explained: the score tensor (the logits before any final softmax), the layers
// upstream of it that the chosen layout can read, the default layer, and the global-average-pooling
// head that CAM needs.
import { type Constant, type Node, type Shape, upstreamTensors } from '../graph/ir.js';
import { UserError } from '../errors.js';
import type { ShapedGraph } from '../ops/infer.js';
import { describeLayer, type LayerLayout, type LayoutName } from './layout.js';

export interface LayerInfo {
  tensor: string;
  node: string;
  opType: string;
  shape: Shape;
  /** How the layer is read: its channels, its grid of positions, its strides. */
  layout: LayerLayout;
}

/** Which layers a call reads, and how: the layout, and the token grid where one is given. */
export interface LayoutChoice {
  layout?: LayoutName;
  grid?: number[];
}

/** The class scores: `output` (default the first graph output), or the input of a final (Log)Softmax. */
export function scoreTensor(shaped: ShapedGraph, output?: string): string {
  const name = output ?? shaped.graph.outputs[0];
  if (!shaped.shapes.has(name)) throw new UserError(`output "${name}" is not a tensor of the model`);
  const producer = shaped.nodes.find((n) => n.outputs.includes(name));
  if (producer && (producer.opType === 'Softmax' || producer.opType === 'LogSoftmax')) return producer.inputs[0];
  return name;
}

/**
 * Every activation upstream of the scores that the layout reads, in graph order, for an input of
 * spatial size `input`: nchw and channels-last layers have the input's number of spatial axes (a 2-D
 * input's [N, C, H, W] or [N, H, W, C]); tokens layers are [N, T, C] with T tokens on a grid.
 */
export function candidateLayers(shaped: ShapedGraph, score: string, input: readonly number[], choice: LayoutChoice = {}): LayerInfo[] {
  const name = choice.layout ?? 'nchw';
  const rank = name === 'tokens' ? 3 : input.length + 2;
  const up = upstreamTensors(shaped.nodes, score);
  const layers: LayerInfo[] = [];
  for (const node of shaped.nodes) {
    for (const out of node.outputs) {
      const shape = shaped.shapes.get(out);
      // A composite op's inner tensors (named "output::Op/...") are the engine's, not the model's.
      if (!up.has(out) || out === score || shape?.length !== rank || out.includes('::')) continue;
      let layout: LayerLayout;
      try {
        layout = describeLayer(shape, name, input, choice.grid);
      } catch (e) {
        if (e instanceof UserError) continue; // not a grid of this input: not a candidate
        throw e;
      }
      const source = node.origin ?? node;
      layers.push({ tensor: out, node: source.name, opType: source.opType, shape, layout });
    }
  }
  return layers;
}

/**
 * The default layer: the last one before the scores whose grid has more than one position on every axis
 * (the input of the final pooling or flatten). For tokens, the last LayerNormalization before the last
 * attention (a product of two computed tensors): the last block's norm1, as pytorch-grad-cam's ViT
 * recipe takes. After the last attention a class-token head reads no other token, and their gradient
 * is zero. For channels-last, the last LayerNormalization (over the channels, as Swin's are: an
 * [N, C, H, W] tensor that a head permutes back is 4-D too, but not channels-last). For a detector
 * (`beforeHead`), the input of the last convolution: the neck, not the head's raw predictions.
 */
export function defaultLayer(shaped: ShapedGraph, layers: LayerInfo[], layout: LayoutName = 'nchw', beforeHead = false): LayerInfo {
  const spatial = layers.filter((l) => l.layout.spatial.every((s) => s > 1));
  let layer = spatial.at(-1) ?? layers.at(-1);
  if (beforeHead) {
    const head = shaped.nodes.filter((n) => n.opType === 'Conv' && spatial.some((l) => l.tensor === n.outputs[0])).at(-1);
    layer = spatial.find((l) => l.tensor === head?.inputs[0]) ?? layer;
  }
  if (layout === 'tokens') {
    const computed = (t: string) => !shaped.constants.has(t);
    const attention = shaped.nodes.filter((n) => n.opType === 'MatMul' && n.inputs.every(computed)).at(-1);
    const before = attention && upstreamTensors(shaped.nodes, attention.outputs[0]);
    layer = spatial.filter((l) => l.opType === 'LayerNormalization' && before?.has(l.tensor)).at(-1) ?? layer;
  }
  if (layout === 'channels-last') layer = spatial.filter((l) => l.opType === 'LayerNormalization').at(-1) ?? layer;
  if (!layer) {
    const what = layout === 'tokens' ? 'token layer [N, T, C] on a grid' : `${layout} feature map`;
    throw new UserError(`the model has no ${what} upstream of its scores to explain`);
  }
  return layer;
}

/** A layer by tensor name or node name; a clear error listing the candidates otherwise. */
export function findLayer(shaped: ShapedGraph, layers: LayerInfo[], name: string, layout: LayoutName = 'nchw'): LayerInfo {
  const byTensor = layers.find((l) => l.tensor === name) ?? layers.find((l) => l.node === name);
  if (byTensor) return byTensor;
  const exists = shaped.shapes.has(name) || shaped.nodes.some((n) => n.name === name);
  const list = layers.map((l) => l.tensor).join(', ');
  if (exists) throw new UserError(`layer "${name}" is not a layer the ${layout} layout reads upstream of the scores; candidates: ${list}`);
  throw new UserError(`unknown layer "${name}"; candidates: ${list}`);
}

export interface CamHead {
  /** The classifier weight and how to index it: weight[class * classStride + channel * channelStride]. */
  weight: Constant;
  classStride: number;
  channelStride: number;
  /**
   * The dense layer's bias per class (Gemm's C, or the constant a following Add adds): zeros where it
   * has none, undefined where it is not a constant of one or `classes` values.
   */
  bias?: Float32Array;
}

const PASS_THROUGH = new Set(['Flatten', 'Reshape', 'Squeeze', 'Identity', 'Dropout']);

/**
 * CAM applies when the layer feeds global average pooling, an optional flatten, and one dense layer
 * that produces the scores (plus an optional bias Add). Returns that dense layer's weight.
 */
export function camHead(shaped: ShapedGraph, layer: LayerInfo, score: string, method = 'cam'): CamHead {
  const consumers = (tensor: string) => shaped.nodes.filter((n) => n.inputs.includes(tensor));
  const fail = (why: string): never => {
    throw new UserError(`${method} needs the layer to feed global average pooling -> (flatten) -> one dense layer; ${why}`);
  };
  const only = (tensor: string): Node => {
    const users = consumers(tensor);
    if (users.length !== 1) fail(`"${tensor}" feeds ${users.length} nodes`);
    return users[0];
  };
  if (layer.layout.name !== 'nchw') fail(`layer "${layer.tensor}" is read as ${layer.layout.name}; CAM reads nchw layers`);
  let node = only(layer.tensor);
  const spatialAxes = layer.layout.spatial.map((_, i) => i + 2);
  const isGap =
    node.opType === 'GlobalAveragePool' ||
    (node.opType === 'ReduceMean' && sameAxes(node, spatialAxes, layer.shape.length));
  if (!isGap) fail(`layer "${layer.tensor}" feeds ${node.opType} node "${node.name}"`);
  node = only(node.outputs[0]);
  while (PASS_THROUGH.has(node.opType)) node = only(node.outputs[0]);
  if (node.opType !== 'Gemm' && node.opType !== 'MatMul') fail(`after the pooling comes ${node.opType} node "${node.name}"`);
  const weight = shaped.constants.get(node.inputs[1]);
  if (!weight || weight.shape.length !== 2) fail(`${node.opType} node "${node.name}" has no constant 2-D weight`);
  const [rows, cols] = weight!.shape;
  const transB = node.opType === 'Gemm' && node.attributes.get('transB') === 1;
  const alpha = node.opType === 'Gemm' ? (node.attributes.get('alpha') ?? 1) : 1;
  if (alpha !== 1 || (node.opType === 'Gemm' && node.attributes.get('transA') === 1)) fail(`Gemm node "${node.name}" scales or transposes its input`);
  let out = node.outputs[0];
  let biasName = node.opType === 'Gemm' ? node.inputs[2] : undefined;
  if (out !== score) {
    const add = only(out);
    if (add.opType !== 'Add' || add.outputs[0] !== score) fail(`the dense layer "${node.name}" does not produce the scores`);
    biasName = add.inputs.find((name) => name !== out);
    out = add.outputs[0];
  }
  const channels = layer.layout.channels;
  if ((transB ? cols : rows) !== channels) fail(`the dense layer's weight [${weight!.shape}] does not match ${channels} channels`);
  const classes = transB ? rows : cols;
  const biasConstant = biasName ? shaped.constants.get(biasName) : undefined;
  const biasValues = biasConstant && Array.from(biasConstant.data as ArrayLike<number>);
  const bias = !biasName ? new Float32Array(classes)
    : biasValues?.length === classes ? Float32Array.from(biasValues)
    : biasValues?.length === 1 ? new Float32Array(classes).fill(biasValues[0])
    : undefined;
  return transB ? { weight: weight!, classStride: cols, channelStride: 1, bias } : { weight: weight!, classStride: 1, channelStride: cols, bias };
}

function sameAxes(node: Node, axes: number[], rank: number): boolean {
  const given = node.attributes.get('axes');
  if (!Array.isArray(given)) return false;
  const norm = (given as number[]).map((a) => (a < 0 ? a + rank : a)).sort();
  return norm.length === axes.length && norm.every((a, i) => a === axes[i]);
}
