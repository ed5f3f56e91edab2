// BatchNormalization folding at load time, on the ops fixture 'conv_bn' (Conv without bias -> BN, kept as
// two nodes by the exporter): the rewritten graph, its numerical equivalence with the float64 PyTorch
// reference, and the cases that must not fold.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../src/graph/ir.js';
import { optimizeGraph } from '../src/ops/optimize.js';
import { loadOnnxFile } from '../src/onnx/load.js';
import { Model } from '../src/runtime/model.js';
import { FIXTURES, readInputs, readReference, readTensor, relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';

const gpu = useGpu();
const dir = join(FIXTURES, 'ops', 'conv_bn');
const load = () => loadOnnxFile(join(dir, 'model.onnx'));
const opTypes = (g: Graph) => g.nodes.map((n) => n.opType);

describe('BatchNormalization folding', () => {
  it('rewrites Conv -> BN as one Conv with new weight and bias that produces the BN output', () => {
    const graph = load();
    const before = new Map([...graph.constants].map(([name, c]) => [name, { c, data: Float32Array.from(c.data as Float32Array) }]));
    const folded = optimizeGraph(graph);

    expect(opTypes(folded)).toEqual(['Conv']);
    const conv = folded.nodes[0];
    expect(conv.outputs).toEqual(graph.outputs);
    expect(conv.inputs).toHaveLength(3);
    const weight = folded.constants.get(conv.inputs[1])!;
    const bias = folded.constants.get(conv.inputs[2])!;
    expect(weight.shape).toEqual([5, 3, 3, 3]);
    expect(bias.shape).toEqual([5]);
    // The source graph and its constants are untouched; the folded ones are new objects.
    expect(opTypes(graph)).toEqual(['Conv', 'BatchNormalization']);
    for (const [name, { c, data }] of before) {
      expect(graph.constants.get(name)).toBe(c);
      expect(c.data).toEqual(data);
    }
    expect([...before.values()].some(({ c }) => c === weight || c === bias)).toBe(false);
    // The replaced weights and BN parameters are dropped from the folded graph.
    expect([...folded.constants.keys()].sort()).toEqual([conv.inputs[1], conv.inputs[2]].sort());
  });

  it('matches the float64 PyTorch Conv -> BN output and input gradient', async () => {
    const model = Model.fromFile(gpu(), join(dir, 'model.onnx'));
    try {
      expect(opTypes(model.graph)).toEqual(['Conv']);
      const inputs = readInputs(dir);
      const y = (await model.run(inputs)).get('y')!;
      const forwardError = relativeError(y.data, readReference(join(dir, 'y.npy')));
      const grads = await model.gradients(inputs, 'y', readTensor(join(dir, 'gy.npy')), ['x0']);
      const backwardError = relativeError(grads.get('x0')!.data, readReference(join(dir, 'gx0.npy')));
      expect(forwardError).toBeLessThan(1e-5);
      expect(backwardError).toBeLessThan(1e-4);
    } finally {
      model.dispose();
    }
  });

  it('keeps the BN when the conv output is also a graph output', () => {
    const graph = load();
    const withConvOutput: Graph = { ...graph, outputs: [...graph.outputs, graph.nodes[0].outputs[0]] };
    expect(opTypes(optimizeGraph(withConvOutput))).toEqual(['Conv', 'BatchNormalization']);
  });

  it('keeps the BN when the conv output has another consumer', () => {
    const graph = load();
    const [conv, bn] = graph.nodes;
    const second = { ...bn, name: 'second', outputs: ['y2'] };
    expect(opTypes(optimizeGraph({ ...graph, nodes: [conv, bn, second], outputs: ['y', 'y2'] }))).toEqual(['Conv', 'BatchNormalization', 'BatchNormalization']);
  });

  it('keeps the BN when its statistics are not constants', () => {
    const graph = load();
    const meanName = graph.nodes[1].inputs[3];
    const constants = new Map(graph.constants);
    constants.delete(meanName);
    const withMeanInput: Graph = { ...graph, constants, inputs: [...graph.inputs, { name: meanName, dims: [5] }] };
    expect(opTypes(optimizeGraph(withMeanInput))).toEqual(['Conv', 'BatchNormalization']);
  });

  it('keeps a training-mode BN for the op to reject', () => {
    const graph = load();
    const [conv, bn] = graph.nodes;
    const training = { ...bn, attributes: new Map([...bn.attributes, ['training_mode', 1]]) };
    expect(opTypes(optimizeGraph({ ...graph, nodes: [conv, training] }))).toEqual(['Conv', 'BatchNormalization']);
  });
});
