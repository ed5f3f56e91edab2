// How close the backward path came to a kink. A ReLU, Clip, HardSigmoid, HardSwish or max-pool between
// the layer and the score whose forward input sits within float32 rounding of a point where its
// derivative jumps may take the other branch in float32 than in exact arithmetic; the gradient through
// that unit then changes by O(1) and the map with it, whatever the summation order. The explainer measures, per
// image, the smallest such distance (relative to the tensor's max |x|, over units that receive
// gradient) on the GPU, next to the backward pass (each op's decisionMargin), and calls the map
// unstable below STABLE_MARGIN.
import type { Node } from '../graph/ir.js';
import type { PlanBuilder } from '../plan/builder.js';
import type { TensorRef } from '../kernels/program.js';
import { opFor } from '../ops/registry.js';
import type { BackwardContext } from '../ops/types.js';

/**
 * Below this relative margin a decision counts as within float32's reach: the forward error the tests
 * hold the engine's logits to (1e-5 of their max, test/torchvision.test.ts), which no tensor on the way
 * there exceeds by much.
 */
export const STABLE_MARGIN = 1e-5;

/**
 * Per image: the smallest decision margin met on the backward path, or null where there was none; the
 * top-1 choice's margin, or null where the class was given; stable when both are clear of rounding.
 */
export interface Stability {
  smallestMargin: (number | null)[];
  /**
   * The gap between the two largest scores relative to the largest |score| of the image: below
   * STABLE_MARGIN another float32 arithmetic may pick the other class, and explain that one instead.
   */
  classMargin: (number | null)[];
  stable: boolean[];
}

const NO_DECISION = 3.4e38;

/** Collects the margins of the decision nodes that addBackward visits into one [batch] tensor. */
export class MarginProbe {
  readonly margins: TensorRef;
  private measured = false;

  /** `only`: the nodes whose decisions count (those between one layer and the score); default every one. */
  constructor(b: PlanBuilder, batch: number, only?: readonly Node[]) {
    this.margins = b.scratch([batch], 'decision margins');
    this.only = only && new Set(only);
  }

  private readonly only?: Set<Node>;

  /** addBackward's afterNode hook. */
  readonly visit = (node: Node, ctx: BackwardContext): void => {
    if (this.only && !this.only.has(node)) return;
    const op = opFor(node, ctx.opset);
    if (op.decisionMargin?.(ctx, { ref: this.margins, accumulate: this.measured })) this.measured = true;
  };

  /** Whether any decision was measured (else the margins tensor is never written). */
  get any(): boolean {
    return this.measured;
  }
}

export function stabilityOf(margins: Float32Array | undefined, batch: number, classMargin: (number | null)[] = new Array<null>(batch).fill(null)): Stability {
  const smallestMargin = Array.from({ length: batch }, (_, n) => (margins && margins[n] < NO_DECISION ? margins[n] : null));
  const clear = (m: number | null) => m === null || m >= STABLE_MARGIN;
  return { smallestMargin, classMargin, stable: smallestMargin.map((m, n) => clear(m) && clear(classMargin[n])) };
}

/**
 * Per image of `logits` [batch, classes], the top-1 choice's margin where it was made (requested < 0):
 * (largest - second largest) / largest |score|; null where the class was requested or there is one class.
 */
export function classMargins(logits: Float32Array, batch: number, requested: Int32Array): (number | null)[] {
  const classes = logits.length / batch;
  return Array.from({ length: batch }, (_, n) => {
    if (requested[n] >= 0 || classes < 2) return null;
    let [first, second, scale] = [-Infinity, -Infinity, 0];
    for (const v of logits.subarray(n * classes, (n + 1) * classes)) {
      if (v > first) [first, second] = [v, first];
      else if (v > second) second = v;
      scale = Math.max(scale, Math.abs(v));
    }
    return scale > 0 ? (first - second) / scale : 0;
  });
}
