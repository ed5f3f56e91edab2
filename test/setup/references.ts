// Vitest global setup: generates the torchvision references (ONNX exports with seeded random weights
// and float64 PyTorch outputs) into the ignored cache, once; later runs reuse them.
// GRADCAM_ARCHS=resnet18,vgg16 limits the architectures; GRADCAM_SKIP_TORCHVISION=1 skips them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const REFERENCE_DIR = join(import.meta.dirname, '..', '..', '.cache', 'references', 'torchvision');
/** torchvision's vit_b_16, swin_t and r3d_18 for test/beyond.test.ts (scripts/make_beyond_refs.py --torchvision). */
export const BEYOND_REFERENCE_DIR = join(import.meta.dirname, '..', '..', '.cache', 'references', 'beyond');

export default function setup(): void {
  if (process.env.GRADCAM_SKIP_TORCHVISION) return;
  const args = [join(import.meta.dirname, '..', '..', 'scripts', 'make_torchvision_refs.py'), '--out', REFERENCE_DIR];
  if (process.env.GRADCAM_ARCHS) args.push('--arch', process.env.GRADCAM_ARCHS);
  console.error('[references] generating missing torchvision references (cached in .cache/references)');
  for (const command of [args, [join(import.meta.dirname, '..', '..', 'scripts', 'make_beyond_refs.py'), '--torchvision', BEYOND_REFERENCE_DIR]]) {
    const result = spawnSync('/usr/bin/python3', command, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.error || result.status !== 0) {
      throw new Error(`reference generation failed (${result.error?.message ?? `exit ${result.status}`}); run scripts/install-system-deps.sh first`);
    }
  }
}
