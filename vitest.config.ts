import { defineConfig } from 'vitest/config';

// One test file at a time: every file opens the (possibly CPU-emulated) GPU, and lavapipe already uses
// every core. Kernels on lavapipe are slow, so per-test limits are generous.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/references.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
  },
});
