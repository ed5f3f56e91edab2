// How close the backward path came to a kink. A ReLU, Clip, HardSigmoid or HardSwish between the layer
// and the score whose forward input sits within float32 rounding of a point where its derivative jumps
// may take the other branch in float32 than in exact arithmetic; the gradient through that unit then
// changes by O(1) and the map with it, whatever the summation order. The explainer measures, per
// image, the smallest such distance (relative to the tensor's max |x|, over units that receive
// gradient) on the GPU, next to the backward pass, and calls the map unstable below STABLE_MARGIN.
import type { Node } from '../graph/ir.js';
import type { PlanBuilder } from '../plan/builder.js';
import { Params, type TensorRef } from '../plan/program.js';
import { opFor } from '../ops/registry.js';
import type { BackwardContext } from '../ops/types.js';

/**
 * Below this relative margin a decision counts as within float32's reach: the forward error the tests
 * hold the engine's logits to (1e-5 of their max, test/torchvision.test.ts), which no tensor on the way
 * there exceeds by much. Max-pool windows are not measured yet.
 */
export const STABLE_MARGIN = 1e-5;

/** Per image: the smallest decision margin met on the backward path, or null where there was none. */
export interface Stability {
  smallestMargin: (number | null)[];
  stable: boolean[];
}

const NO_DECISION = 3.4e38;

/** Collects the margins of the decision nodes that addBackward visits into one [batch] tensor. */
export class MarginProbe {
  readonly margins: TensorRef;
  private measured = 0;

  constructor(
    private readonly b: PlanBuilder,
    private readonly batch: number,
  ) {
    this.margins = b.scratch([batch], 'decision margins');
  }

  /** addBackward's afterNode hook. */
  readonly visit = (node: Node, ctx: BackwardContext): void => {
    const kinks = opFor(node, ctx.opset).kinks?.(node, ctx.opset, (i) => ctx.inputs[i]?.constant);
    const dy = ctx.gradOutput(0);
    const x = ctx.inputs[0];
    if (!kinks?.length || !dy || !x) return;
    if (kinks.length > 2) throw new Error(`${node.opType} node "${node.name}": decision_margin.wgsl takes at most two kinks`);
    const perImage = dy.shape.reduce((a, d) => a * d, 1) / this.batch;
    this.b.dispatch(
      {
        files: ['workgroup_min_max', 'decision_margin'],
        params: new Params().u32(perImage, kinks.length, this.measured === 0 ? 1 : 0, 0).f32(kinks[0], kinks[1] ?? 0),
        bindings: [{ tensor: x.ref }, { tensor: dy }, { tensor: this.margins, write: true }],
        workgroups: [this.batch, 1, 1],
      },
      `${node.opType} node "${node.name}": decision margin`,
    );
    this.measured++;
  };

  /** Whether any decision was measured (else the margins tensor is never written). */
  get any(): boolean {
    return this.measured > 0;
  }
}

export function stabilityOf(margins: Float32Array | undefined, batch: number): Stability {
  const smallestMargin = Array.from({ length: batch }, (_, n) => (margins && margins[n] < NO_DECISION ? margins[n] : null));
  return { smallestMargin, stable: smallestMargin.map((m) => m === null || m >= STABLE_MARGIN) };
}
