// `gradcam verify`: the committed float64 reference cases on this adapter (src/evaluate/verify.ts).
import { UserError } from '../errors.js';
import { LIMITS, verify as runVerify, VERIFY_NETS } from '../evaluate/verify.js';
import { describeAdapter } from '../gpu/context.js';
import { openGpu } from './session.js';
import { Progress } from '../io/progress.js';
import { parse } from './args.js';
import { textTable } from './table.js';

export const VERIFY_HELP = `gradcam verify [--case TEXT] [--all] [--json]
  Runs the bundled float64 reference cases on this machine's WebGPU adapter: every op's forward pass and
  gradient (float64 PyTorch, gradients by central differences) and three small nets (${VERIFY_NETS.join(', ')}:
  the output, the explained layer's activations and gradient, the Grad-CAM map), each against the test
  suite's limit (max |engine - float64| / max |float64|: forward ${LIMITS.forward}, gradients and maps
  ${LIMITS.backward}). Prints, per kernel, the worst error / limit of the cases it ran in, and every
  check that failed; exit status 1 when one did.
  --case TEXT          only the cases whose name contains TEXT
  --all                every check, not only the failures
  --json               the whole result as JSON

examples:
  gradcam verify
  gradcam verify --case conv --all`;

export async function verify(argv: string[]): Promise<void> {
  const { values } = parse(argv, { case: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' } });
  const gpu = await openGpu();
  try {
    const adapter = describeAdapter(gpu.adapter);
    let progress: Progress | undefined;
    const result = await runVerify(gpu, {
      filter: values.case as string | undefined,
      onCase: (done, total, name) => {
        progress ??= new Progress(total, { enabled: !values.json });
        progress.update(done, name);
      },
    });
    const failed = result.checks.filter((c) => !c.pass);
    if (values.json) console.log(JSON.stringify({ adapter, ...result }, null, 2));
    else {
      console.log(`adapter: ${adapter}`);
      const rows = result.kernels.map((k) => [k.kernel, `${k.cases}`, k.worstRatio.toExponential(2), k.pass ? 'pass' : 'FAIL', k.worstCase]);
      console.log(textTable(['kernel', 'cases', 'worst error / limit', 'result', 'worst check'], rows, (c) => c === 0 || c === 4));
      const shown = values.all ? result.checks : failed;
      if (shown.length > 0) {
        console.log('');
        console.log(textTable(['case', 'check', 'error', 'limit', 'result'], shown.map((c) => [c.case, c.what, c.error.toExponential(2), `${c.limit}`, c.pass ? 'pass' : 'FAIL']), (c) => c < 2 || c === 4));
      }
      const cases = new Set(result.checks.map((c) => c.case)).size;
      console.log(`\n${result.checks.length} checks in ${cases} cases, ${result.kernels.length} kernels: ${failed.length === 0 ? 'all within the limits' : `${failed.length} beyond their limits`}`);
    }
    if (failed.length > 0) throw new UserError(`verify: ${failed.length} of ${result.checks.length} checks exceed their limits on ${adapter}`);
  } finally {
    gpu.destroy();
  }
}
