// Turns a shaped graph into a list of programs: the forward pass for the tensors asked for, then
// (optionally) the backward pass from a score tensor down to chosen tensors, then whatever a method
// appends (the Grad-CAM kernel). Liveness and buffers are the executable's business.
//
// Activations run inside the write of the node that produces their input (a Conv, an unfolded
// BatchNormalization, a binary op: src/plan/fusion.ts) unless a tensor they skip must exist: one the
// caller keeps (`keep`) or the input of a node that a backward pass declared up front (`keepBackward`)
// will visit, which needs it for its derivative and its decision margin.
import { type Constant, elementCount, type Node, type Shape, upstreamTensors } from '../graph/ir.js';
import { UserError } from '../errors.js';
import type { ShapedGraph } from '../ops/infer.js';
import { opFor } from '../ops/registry.js';
import type { BackwardContext, GradientTarget, KernelContext, Operand } from '../ops/types.js';
import type { DeviceTraits, ElementType, Program, TensorRef } from '../kernels/program.js';
import { fusionEndingAt, type FusionScope } from './fusion.js';

export type Phase = 'forward' | 'backward' | 'cam';

export interface TensorInfo extends TensorRef {
  /** The tensor whose buffer this one shares (views); itself otherwise. */
  root: number;
  byteLength: number;
  /** external: another executable's buffer, bound when this plan is made runnable. */
  kind: 'input' | 'constant' | 'intermediate' | 'external';
  constant?: Constant;
}

export interface Dispatch {
  program: Program;
  phase: Phase;
  /** "<OpType> node \"<name>\"": every GPU error about this dispatch names it. */
  label: string;
  /** The ONNX node it computes (a part of), and that node's first output shape; none for a method's own kernels. */
  node?: { name: string; opType: string; shape: Shape };
}

export interface Plan {
  tensors: TensorInfo[];
  dispatches: Dispatch[];
  inputs: Map<string, TensorRef>;
  outputs: Map<string, TensorRef>;
  /** Tensors kept in buffers of their own for other plans to bind (not read back). */
  shared: Map<string, TensorRef>;
  /** Tensors that live in another plan's shared buffers. */
  externals: Map<string, TensorRef>;
}

export class PlanBuilder {
  readonly tensors: TensorInfo[] = [];
  readonly dispatches: Dispatch[] = [];
  readonly inputs = new Map<string, TensorRef>();
  readonly outputs = new Map<string, TensorRef>();
  readonly shared = new Map<string, TensorRef>();
  readonly externals = new Map<string, TensorRef>();
  private readonly values = new Map<string, TensorInfo>();
  private readonly constantRefs = new Map<Constant, TensorInfo>();
  private readonly savedByNode = new Map<Node, Record<string, TensorRef>>();
  private readonly producer = new Map<string, Node>();
  private readonly consumers = new Map<string, Node[]>();
  /** Graph tensors that a fused activation may not skip. */
  private readonly kept = new Set<string>();
  /** Tensors that were never computed, and the activation node whose output took them over. */
  private readonly fusedAway = new Map<string, Node>();
  private readonly declaredBackward = new Set<string>();
  private readonly fusionScope: FusionScope;
  private phase: Phase = 'forward';

  constructor(
    readonly shaped: ShapedGraph,
    readonly device: DeviceTraits,
  ) {
    for (const node of shaped.nodes) {
      for (const out of node.outputs) this.producer.set(out, node);
      for (const input of new Set(node.inputs)) this.consumers.set(input, [...(this.consumers.get(input) ?? []), node]);
    }
    for (const output of shaped.graph.outputs) this.kept.add(output);
    this.fusionScope = {
      shaped,
      device,
      producer: this.producer,
      consumers: this.consumers,
      skippable: (name) => !this.values.has(name) && !this.kept.has(name),
    };
    for (const input of shaped.graph.inputs) {
      const shape = shaped.shapes.get(input.name)!;
      const ref = this.newTensor(shape, input.name, 'input');
      this.values.set(input.name, ref);
      this.inputs.set(input.name, ref);
    }
  }

  /** Graph tensors that must exist as themselves (asked for later, shared): no activation is fused over them. */
  keep(names: Iterable<string>): void {
    for (const name of names) this.kept.add(name);
  }

  /** Announces addBackward(from, ..., to) before the forward pass is emitted: the nodes it visits keep their inputs. */
  keepBackward(from: string, to: string[]): void {
    this.declaredBackward.add(backwardKey(from, to));
    this.keep(to);
    for (const node of this.nodesBetween(to, from)) this.keep(node.inputs.filter((name) => name !== ''));
  }

  /** An extra input written at run time (e.g. the class indices of the explanation). */
  addInput(name: string, shape: Shape, dtype: ElementType = 'f32'): TensorRef {
    const ref = this.newTensor(shape, name, 'input', undefined, dtype);
    this.inputs.set(name, ref);
    return ref;
  }

  /** Marks a tensor to be read back after the run. */
  addOutput(name: string, ref: TensorRef): void {
    this.outputs.set(name, ref);
  }

  /** Keeps a tensor in a buffer of its own after the run, for other plans (see addExternal). */
  addShared(name: string, ref: TensorRef): void {
    this.shared.set(name, ref);
  }

  /** A tensor that another executable holds (its shared `name`), bound when this plan is made runnable. */
  addExternal(name: string, shape: Shape, dtype: ElementType = 'f32'): TensorRef {
    const ref = this.newTensor(shape, name, 'external', undefined, dtype);
    this.externals.set(name, ref);
    return ref;
  }

  /**
   * Makes `ref` the value of graph tensor `name`, so that the forward pass starts there: what only
   * that tensor's producers needed is never emitted (a graph input given this way is no longer
   * written at run time).
   */
  setValue(name: string, ref: TensorRef): void {
    const shape = this.shaped.shapes.get(name);
    if (!shape || shape.join('x') !== ref.shape.join('x')) throw new Error(`setValue: "${name}" is [${shape}], the value [${ref.shape}]`);
    if (this.inputs.get(name) === this.values.get(name)) this.inputs.delete(name);
    this.values.set(name, this.tensors[ref.id]);
  }

  scratch(shape: Shape, label: string, dtype: ElementType = 'f32'): TensorRef {
    return this.newTensor(shape, label, 'intermediate', undefined, dtype);
  }

  setPhase(phase: Phase): void {
    this.phase = phase;
  }

  dispatch(program: Program, label: string, node?: Dispatch['node']): void {
    for (const b of program.bindings) {
      if (b.tensor.id === UNBOUND) throw new UserError(`${label}: "${b.tensor.label}" is an integer tensor; those only feed shape computations`);
      const t = this.tensors[b.tensor.id];
      const length = b.byteLength ?? t.byteLength - (b.byteOffset ?? 0);
      if (length > this.device.maxBindingBytes) {
        throw new UserError(
          `${label}: tensor "${t.label}" needs a ${mib(length)} binding, more than this adapter allows (${mib(this.device.maxBindingBytes)})`,
        );
      }
    }
    this.dispatches.push({ program, phase: this.phase, label, node });
  }

  /** The plan tensor holding graph tensor `name`, emitting the forward nodes it depends on. */
  value(name: string): TensorRef {
    const known = this.values.get(name) ?? this.constantValue(name);
    if (known) return known;
    const fusedInto = this.fusedAway.get(name);
    if (fusedInto) throw new Error(`PlanBuilder: "${name}" was fused into ${fusedInto.opType} node "${fusedInto.name}"; keep() it before the forward pass`);
    const node = this.producer.get(name);
    if (!node) throw new UserError(`tensor "${name}" is not in the graph`);
    this.emitForward(node);
    const value = this.values.get(name);
    if (!value) throw new UserError(`${node.opType} node "${node.name}": its output "${name}" is not computed by the engine`);
    return value;
  }

  private constantValue(name: string): TensorInfo | undefined {
    const c = this.shaped.constants.get(name);
    return c ? this.constantTensor(c, name) : undefined;
  }

  constantTensor(c: Constant, label: string): TensorInfo {
    let ref = this.constantRefs.get(c);
    if (!ref) {
      if (c.dtype !== 'float32') throw new UserError(`${label}: integer tensors only feed shape computations`);
      ref = this.newTensor(c.shape, label, 'constant', c);
      this.constantRefs.set(c, ref);
    }
    return ref;
  }

  private emitForward(node: Node): void {
    if (this.emitFused(node)) return;
    const inputs = node.inputs.map((name) => (name === '' ? undefined : this.operand(name)));
    const op = opFor(node, this.shaped.graph.opset);
    // Outputs without a shape (optional ones the op does not compute, e.g. Dropout's mask) get no tensor.
    const produced = node.outputs.filter((name) => this.shaped.shapes.has(name));
    const view = this.isView(node);
    const outputs: Operand[] = produced.map((name, i) => {
      const shape = this.shaped.shapes.get(name)!;
      const ref = view && i === 0 ? this.newView(inputs[0]!.ref as TensorInfo, shape, name) : this.newTensor(shape, name, 'intermediate');
      this.values.set(name, ref);
      return { ref, shape };
    });
    // A view's output is its input's buffer: no kernel runs.
    if (!view) op.forward(this.kernelContext(node, inputs, outputs));
  }

  /** Whether `node`'s output 0 shares its input's buffer: a view op, or an op unchanged by its geometry (OpDef.viewWhen). */
  private isView(node: Node): boolean {
    const op = opFor(node, this.shaped.graph.opset);
    return op.view === true || (op.viewWhen?.(this.shaped.geometry.get(node)) ?? false);
  }

  /** Emits `node` as part of the producer of its input when they fuse (src/plan/fusion.ts). */
  private emitFused(node: Node): boolean {
    const fusion = fusionEndingAt(node, this.fusionScope);
    if (!fusion) return false;
    const { producer } = fusion;
    const inputs = producer.inputs.map((name) => (name === '' ? undefined : this.operand(name)));
    const name = node.outputs[0];
    const shape = this.shaped.shapes.get(name)!;
    const ref = this.newTensor(shape, name, 'intermediate');
    this.values.set(name, ref);
    for (const skipped of fusion.skipped) this.fusedAway.set(skipped, node);
    const op = opFor(producer, this.shaped.graph.opset);
    op.forward({ ...this.kernelContext(producer, inputs, [{ ref, shape }], fusion.nodes), outputActivation: fusion.activation });
    return true;
  }

  private operand(name: string): Operand {
    const constant = this.shaped.constants.get(name);
    // Integer constants (target shapes, axes, pads) are read at plan time; they have no GPU tensor.
    if (constant && constant.dtype !== 'float32') return { ref: { id: UNBOUND, shape: constant.shape, label: name }, shape: constant.shape, constant };
    const ref = this.value(name);
    return { ref, shape: ref.shape, constant };
  }

  /** `fused`: activation nodes computed in this node's dispatches, named in their labels. */
  private kernelContext(node: Node, inputs: (Operand | undefined)[], outputs: Operand[], fused: Node[] = []): KernelContext {
    let saved = this.savedByNode.get(node);
    if (!saved) {
      saved = {};
      this.savedByNode.set(node, saved);
    }
    const label = [node, ...fused].map((n) => `${n.opType} node "${n.name}"`).join(' with ');
    const about = { name: node.name, opType: node.opType, shape: outputs[0]?.shape ?? [] };
    return {
      node,
      geometry: this.shaped.geometry.get(node),
      opset: this.shaped.graph.opset,
      device: this.device,
      inputs,
      outputs,
      saved,
      dispatch: (program) => this.dispatch(program, label, about),
      scratch: (shape, what, dtype) => this.scratch(shape, `${node.name}:${what}`, dtype),
      constant: (value, what) => this.constantTensor(value, `${node.name}:${what}`),
    };
  }

  /**
   * Back-propagates from `scoreName` (whose gradient is `seed`) to each of `targets`, through the
   * nodes that lie on a path between them only. Returns the gradient tensor of every target.
   * `afterNode` sees each node once its backward programs are emitted, while its output gradient is
   * still alive (the explainer measures decision margins there); `guided` asks every ReLU for the
   * guided back-propagation rule; `keepGradients` receives the gradient of every node output the pass
   * reaches (what a Hessian-vector product's second pass reads, addTangentBackward).
   */
  addBackward(
    scoreName: string,
    seed: TensorRef,
    targets: string[],
    options: { afterNode?: (node: Node, ctx: BackwardContext) => void; guided?: boolean; keepGradients?: Map<string, TensorRef> } = {},
  ): Map<string, TensorRef> {
    if (!this.declaredBackward.has(backwardKey(scoreName, targets))) {
      throw new Error(`PlanBuilder: addBackward from "${scoreName}" was not announced with keepBackward() before the forward pass`);
    }
    const onPath = this.nodesBetween(targets, scoreName);
    const grads = new Map<string, { ref: TensorRef; written: boolean }>();
    grads.set(scoreName, { ref: seed, written: true });
    const needsGrad = this.descendantsOf(targets);

    for (const node of [...onPath].reverse()) {
      const op = opFor(node, this.shaped.graph.opset);
      const label = `${node.opType} node "${node.name}"`;
      if (!op.backward) {
        throw new UserError(`${label} lies between the layer and the score, and ${node.opType} has no backward pass`);
      }
      const inputs = node.inputs.map((name) => (name === '' ? undefined : this.operand(name)));
      const outputs = node.outputs.filter((name) => this.shaped.shapes.has(name)).map((name) => this.operand(name));
      const dataInputs = op.dataInputs ?? node.inputs.map((_, i) => i);
      const base = this.kernelContext(node, inputs, outputs);
      const ctx: BackwardContext = {
        ...base,
        guided: options.guided ?? false,
        gradOutput: (i) => {
          const g = grads.get(node.outputs[i]);
          return g?.written ? g.ref : undefined;
        },
        gradInput: (i): GradientTarget | undefined => {
          const name = node.inputs[i];
          if (!name || !dataInputs.includes(i) || !needsGrad.has(name)) return undefined;
          let g = grads.get(name);
          if (!g) {
            g = { ref: this.scratch(this.shaped.shapes.get(name)!, `grad:${name}`), written: false };
            grads.set(name, g);
          }
          const target = { ref: g.ref, accumulate: g.written };
          g.written = true;
          return target;
        },
      };
      if (node.outputs.some((_, i) => ctx.gradOutput(i))) {
        node.outputs.forEach((name, i) => {
          const g = ctx.gradOutput(i);
          if (g) options.keepGradients?.set(name, g);
        });
        op.backward(ctx);
        options.afterNode?.(node, ctx);
      }
    }

    const result = new Map<string, TensorRef>();
    for (const t of targets) {
      const g = grads.get(t);
      if (!g?.written) throw new UserError(`the score "${scoreName}" does not depend on tensor "${t}"`);
      result.set(t, g.ref);
    }
    return result;
  }

  /**
   * Forward mode from `from` along `direction` (a tensor of from's shape) to `to`: the tangent
   * d/de x(from + e direction) of every tensor between them, through the nodes' tangent rules
   * (OpDef.tangent; views share their input's tangent). Emitted after the forward pass, which it
   * reads; a node without a rule refuses with its name.
   */
  addTangent(from: string, direction: TensorRef, to: string): Map<string, TensorRef> {
    const tangents = new Map<string, TensorRef>([[from, direction]]);
    for (const node of this.nodesBetween([from], to)) {
      const op = opFor(node, this.shaped.graph.opset);
      const dataInputs = op.dataInputs ?? node.inputs.map((_, i) => i);
      const tangentInput = (i: number) => (dataInputs.includes(i) ? tangents.get(node.inputs[i]) : undefined);
      if (!node.inputs.some((_, i) => tangentInput(i))) continue;
      const produced = node.outputs.filter((name) => this.shaped.shapes.has(name));
      if (this.isView(node)) {
        const input = this.tensors[tangentInput(0)!.id];
        tangents.set(produced[0], this.newView(input, this.shaped.shapes.get(produced[0])!, `tangent:${produced[0]}`));
        continue;
      }
      if (!op.tangent) {
        throw new UserError(`${node.opType} node "${node.name}" lies between the layer and the score, and ${node.opType} has no forward-mode rule: Hessian-vector products through it are not implemented`);
      }
      const inputs = node.inputs.map((name) => (name === '' ? undefined : this.operand(name)));
      const outputs = produced.map((name) => this.operand(name));
      const out = produced.map((name) => this.scratch(this.shaped.shapes.get(name)!, `tangent:${name}`));
      op.tangent({ ...this.kernelContext(node, inputs, outputs), tangentInput, tangentOutput: (i) => out[i] });
      produced.forEach((name, i) => tangents.set(name, out[i]));
    }
    if (!tangents.has(to)) throw new UserError(`the score "${to}" does not depend on tensor "${from}"`);
    return tangents;
  }

  /**
   * The second backward pass of a Hessian-vector product at `layer`: back-propagates `seedTangent` (the
   * tangent of the score's seed along the direction whose `tangents` addTangent gave) with each node's
   * second-order term added (OpDef.secondOrder: f''(x) x' dy for an activation, the product rule's
   * cross terms for a product), which makes it the tangent of the first backward pass, whose output
   * gradients `first` holds (addBackward's keepGradients). Returns (d^2 y / dA^2) v.
   */
  addTangentBackward(score: string, layer: string, seedTangent: TensorRef, tangents: Map<string, TensorRef>, first: Map<string, TensorRef>): TensorRef {
    const secondOrder = (node: Node, ctx: BackwardContext) => opFor(node, this.shaped.graph.opset).secondOrder?.({
      ...ctx,
      firstGradOutput: (i) => first.get(node.outputs[i]),
      tangentInput: (i) => tangents.get(node.inputs[i]),
    });
    return this.addBackward(score, seedTangent, [layer], { afterNode: secondOrder }).get(layer)!;
  }

  /** Nodes, in graph order, that consume a descendant of `from` and are ancestors of `to`. */
  nodesBetween(from: string[], to: string): Node[] {
    const down = this.descendantsOf(from);
    const up = upstreamTensors(this.shaped.nodes, to);
    return this.shaped.nodes.filter((n) => n.inputs.some((i) => down.has(i)) && n.outputs.some((o) => up.has(o)));
  }

  private descendantsOf(names: string[]): Set<string> {
    const down = new Set<string>(names);
    for (const node of this.shaped.nodes) {
      if (node.inputs.some((i) => down.has(i))) for (const o of node.outputs) down.add(o);
    }
    return down;
  }

  build(): Plan {
    // An input that nothing reads (the model input of a plan that starts after it) is not asked for.
    const rootOf = (ref: TensorRef) => this.tensors[ref.id].root;
    const bound = new Set([
      ...this.dispatches.flatMap((d) => d.program.bindings.map((b) => rootOf(b.tensor))),
      ...[...this.outputs.values(), ...this.shared.values()].map(rootOf),
    ]);
    const inputs = new Map([...this.inputs].filter(([, ref]) => bound.has(ref.id)));
    return { tensors: this.tensors, dispatches: this.dispatches, inputs, outputs: this.outputs, shared: this.shared, externals: this.externals };
  }

  private newTensor(shape: Shape, label: string, kind: TensorInfo['kind'], constant?: Constant, dtype: ElementType = 'f32'): TensorInfo {
    const id = this.tensors.length;
    // Every element type is 4 bytes wide.
    const info: TensorInfo = { id, shape, label, root: id, byteLength: elementCount(shape) * 4, kind, constant, ...(dtype === 'f32' ? {} : { dtype }) };
    this.tensors.push(info);
    return info;
  }

  private newView(of: TensorInfo, shape: Shape, label: string): TensorInfo {
    const id = this.tensors.length;
    const info: TensorInfo = { id, shape, label, root: of.root, byteLength: of.byteLength, kind: 'intermediate', ...(of.dtype ? { dtype: of.dtype } : {}) };
    this.tensors.push(info);
    return info;
  }
}

const backwardKey = (from: string, to: string[]) => JSON.stringify([from, to]);

/** The id of an operand that is never bound: an integer constant. */
const UNBOUND = -1;

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
