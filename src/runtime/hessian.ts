// Exact Hessian-vector products at a layer, H v = d/de grad_A y(A + e v), for researchers and for
// ShapleyCAM: forward mode from the layer along v to the scores (each op's tangent rule), the target's
// second derivative there (shaders/hessian_seed.wgsl), the ordinary backward pass of the seed, then the
// backward pass of the seed's tangent with each op's second-order term (PlanBuilder.addTangentBackward).
// A path through an op without those rules is refused with its name.
import { type Shape } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { HESSIAN_TARGET, type HessianTarget, hessianSeedKernel } from '../kernels/hessian.js';
import type { TensorRef } from '../kernels/program.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable } from '../plan/executable.js';
import { checkFinite, firstNonFinite } from './finite.js';
import type { Model, Tensor } from './model.js';

export interface HessianOptions {
  /** The tensor whose Hessian is taken (a layer's activations A). */
  layer: string;
  /** The scores [N, classes] the target reads; default the model's first output. */
  score?: string;
  /** One class per image, or one for every image. */
  classes: number[];
  /** y: the class's logit (default), its softmax probability, or ReST: the logit minus the cross-entropy. */
  target?: HessianTarget;
  /** v, of the layer's shape; default the layer's activations A (ShapleyCAM's direction). */
  direction?: Tensor;
}

export interface HessianResult {
  /** dy/dA, summed over the batch's images' targets (each image's own). */
  gradient: Tensor;
  /** H v = (d^2 y / dA^2) v. */
  hvp: Tensor;
  /** The scores. */
  scores: Tensor;
}

const DIRECTION = '<hvp: direction>';
const PICKED = '<hvp: classes>';

export async function hessianVectorProduct(model: Model, input: Tensor, options: HessianOptions): Promise<HessianResult> {
  const shaped = model.shaped(new Map([[model.inputName, input.shape]]));
  const score = options.score ?? model.graph.outputs[0];
  const { layer } = options;
  const target = options.target ?? 'logit';
  if (!(target in HESSIAN_TARGET)) throw new UserError(`unknown target "${target}"; Hessian-vector products take ${Object.keys(HESSIAN_TARGET).join(', ')}`);
  const scoreShape = shaped.shapes.get(score);
  const layerShape = shaped.shapes.get(layer);
  if (!scoreShape) throw new UserError(`score "${score}" is not a tensor of the model`);
  if (!layerShape) throw new UserError(`layer "${layer}" is not a tensor of the model`);
  if (scoreShape.length !== 2) throw new UserError(`the target reads [N, classes] scores; "${score}" is [${scoreShape}]`);
  const [batch, values] = scoreShape;
  const classes = options.classes.length === 1 ? new Array<number>(batch).fill(options.classes[0]) : options.classes;
  if (classes.length !== batch) throw new UserError(`give one class, or one per image: ${batch} images, ${options.classes.length} classes`);
  for (const c of classes) if (!Number.isInteger(c) || c < 0 || c >= values) throw new UserError(`class ${c} is out of range: "${score}" has ${values} classes`);
  if (options.direction) {
    if (options.direction.shape.join('x') !== layerShape.join('x')) throw new UserError(`the direction is [${options.direction.shape}]; the layer is [${layerShape}]`);
    checkFinite(options.direction.data, 'the direction', options.direction.shape);
  }

  const key = `hvp|${input.shape.join('x')}|${score}|${layer}|${target}|${options.direction ? 'direction' : 'activations'}`;
  const exe = await model.plans.get(key, () => {
    const b = new PlanBuilder(shaped, model.deviceTraits);
    b.keepBackward(score, [layer]);
    const scores = b.value(score);
    b.addOutput('scores', scores);
    b.setPhase('backward');
    const direction = options.direction ? b.addInput(DIRECTION, layerShape) : b.value(layer);
    const tangents = b.addTangent(layer, direction, score);
    const picked = b.addInput(PICKED, [batch, 2]);
    const seed = b.scratch(scoreShape, 'seed');
    const seedTangent = b.scratch(scoreShape, 'seed tangent');
    b.dispatch(
      hessianSeedKernel.program({ uniforms: { batch, values, mode: HESSIAN_TARGET[target] }, bindings: { scores, tangent: tangents.get(score)!, picked, seed, seed_tangent: seedTangent }, count: batch * values }),
      'target seed and its tangent',
    );
    const first = new Map<string, TensorRef>();
    b.addOutput('gradient', b.addBackward(score, seed, [layer], { keepGradients: first }).get(layer)!);
    b.addOutput('hvp', b.addTangentBackward(score, layer, seedTangent, tangents, first));
    return Executable.create(model.gpu, b.build(), model.weights);
  });
  const feeds = new Map<string, ArrayBufferView>([
    [model.inputName, input.data],
    [PICKED, Float32Array.from(classes.flatMap((c) => [c, 0]))],
  ]);
  if (options.direction) feeds.set(DIRECTION, options.direction.data);
  const result = await exe.run(feeds);
  const out = (name: string, shape: Shape): Tensor => {
    const data = result.outputs.get(name)!;
    if (firstNonFinite(data) >= 0) throw new UserError(`the ${name === 'scores' ? 'scores' : name === 'hvp' ? 'Hessian-vector product' : 'gradient'} at "${name === 'scores' ? score : layer}" is not finite (it overflowed float32)`);
    return { shape, data };
  };
  return { gradient: out('gradient', layerShape), hvp: out('hvp', layerShape), scores: out('scores', scoreShape) };
}
