// Every op against float64 PyTorch: the forward output, and for ops that lie on gradient paths the
// gradient of sum(gy * y) with respect to each input, checked against central finite differences
// computed in float64 by scripts/make_op_fixtures.py.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../src/runtime/model.js';
import { caseDirs, FIXTURES, readInputs, readMeta, readReference, readTensor, relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';

// float32 kernels against float64 references: rounding over the short reductions of these cases
// stays near 1e-6 relative; finite differences in float64 (h ~ 1e-6) add ~1e-8. 1e-4 leaves room
// for float32 on the backward chain while any indexing or formula error shows up at O(1).
const FORWARD_TOLERANCE = 1e-5;
const BACKWARD_TOLERANCE = 1e-4;

interface OpMeta {
  backward: boolean;
  tolerance?: number;
}

const gpu = useGpu();

// Kernels choose a variant by adapter (the shared-memory GEMM on GPUs, the barrier-free one on CPU
// adapters). The dense and convolution cases also run with the other variant, so both stay tested
// whichever adapter runs the suite.
const VARIANT_CASES = /^(conv|gemm|matmul)/;

for (const group of ['ops', 'legacy', 'models', 'other GEMM variant']) {
  const otherVariant = group === 'other GEMM variant';
  const dirs = otherVariant ? caseDirs(join(FIXTURES, 'ops')).filter((d) => VARIANT_CASES.test(basename(d))) : caseDirs(join(FIXTURES, group));
  describe(group, () => {
    for (const dir of dirs) {
      const meta = readMeta<OpMeta>(dir);
      it(basename(dir), async () => {
        const traits = otherVariant ? { isCpu: !gpu().adapter.isCpu } : {};
        const model = Model.fromFile(gpu(), join(dir, 'model.onnx'), { traits });
        try {
          const inputs = readInputs(dir);
          const output = model.graph.outputs[0];
          const expected = readReference(join(dir, 'y.npy'));
          const y = (await model.run(inputs)).get(output)!;
          expect(y.shape).toEqual(expected.shape);
          expect(relativeError(y.data, expected)).toBeLessThan(meta.tolerance ?? FORWARD_TOLERANCE);

          if (!meta.backward) return;
          const names = [...inputs.keys()].filter((name) => existsSync(join(dir, `g${name}.npy`)));
          const grads = await model.gradients(inputs, output, readTensor(join(dir, 'gy.npy')), names);
          for (const name of names) {
            const want = readReference(join(dir, `g${name}.npy`));
            expect(relativeError(grads.get(name)!.data, want), `gradient of ${name}`).toBeLessThan(BACKWARD_TOLERANCE);
          }
        } finally {
          model.dispose();
        }
      });
    }
  });
}
