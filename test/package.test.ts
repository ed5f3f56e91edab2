// The package as a user installs it: `npm pack`, then `npm install ./gradcam-webgpu-*.tgz` into an empty
// folder (dependencies from the registry or npm's cache), and the installed copy's CLI runs the demo and
// its typed ESM API type-checks and loads. The tarball holds what the engine needs and no tests,
// fixtures or scripts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe.skipIf(process.env.GRADCAM_SKIP_PACKAGE)('npm package', () => {
  it('packs, installs into an empty folder, and runs from there', () => {
    const work = mkdtempSync(join(tmpdir(), 'gradcam-package-'));
    npm(['pack', '--pack-destination', work], REPO);
    const tarball = readdirSync(work).find((f) => /^gradcam-webgpu-.*\.tgz$/.test(f));
    expect(tarball).toBeDefined();

    const listing = execFileSync('tar', ['tzf', join(work, tarball!)], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const files = listing.map((f) => f.replace(/^package\//, ''));
    for (const needed of ['bin/gradcam.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'shaders/gradcam.wgsl', 'weights/demo.onnx', 'package.json']) {
      expect(files, needed).toContain(needed);
    }
    // Of the tests, only `gradcam verify`'s float64 cases travel (the op cases and three nets).
    const verifyCase = (f: string) => /^test\/fixtures\/(ops|nets\/(alexnet|resnet|mobilenetv3)_like_opset13)\//.test(f);
    expect(files.filter((f) => (/^(test|scripts|bench|dist\/bench|src)\//.test(f) && !verifyCase(f)) || f.endsWith('.pt'))).toEqual([]);
    expect(files).toContain('test/fixtures/ops/conv_bn/gx0.npy');

    const app = join(work, 'app');
    execFileSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    npm(['install', '--prefer-offline', join(work, tarball!)], app);

    const bin = join(app, 'node_modules', '.bin', 'gradcam');
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(`gradcam-webgpu ${version}`);
    const out = join(app, 'demo');
    const demo = spawnSync(bin, ['demo', '--out', out], { encoding: 'utf8' });
    expect(demo.status).toBe(0);
    expect(demo.stdout).toMatch(/contact sheet/);
    // On stderr only the demo's own progress: the launcher drops Dawn's two lavapipe warnings.
    expect(demo.stderr.split('\n').filter((l) => l && !/^\[[=> ]+\] \d+\/\d+ /.test(l))).toEqual([]);
    const usage = spawnSync(bin, ['explain', '--bogus'], { encoding: 'utf8' });
    expect([usage.status, usage.stderr.trim()]).toEqual([2, expect.stringMatching(/^gradcam: Unknown option '--bogus'/)]);
    expect(existsSync(join(out, 'contact-sheet.png'))).toBe(true);
    // The bundled reference cases travel with the package: verify runs them from the installed copy.
    const verified = spawnSync(bin, ['verify'], { encoding: 'utf8' });
    expect(verified.status, verified.stderr).toBe(0);
    // Every bundled case: the op fixtures and the three nets the package lists.
    const bundled = readdirSync(join(import.meta.dirname, 'fixtures', 'ops')).filter((d) => existsSync(join(import.meta.dirname, 'fixtures', 'ops', d, 'meta.json'))).length + 3;
    expect(verified.stdout).toMatch(new RegExp(`^\\d+ checks in ${bundled} cases, \\d+ kernels: all within the limits$`, 'm'));

    // The typed API: a TypeScript user's import type-checks against the installed declarations, and loads.
    writeFileSync(
      join(app, 'use.ts'),
      [
        "import { createGpuContext, Evaluator, Explainer, METHODS, Model, type Explanation, type MethodScores } from 'gradcam-webgpu';",
        'const methods: readonly string[] = METHODS;',
        'export async function faithfulness(model: Model, data: Float32Array): Promise<MethodScores[]> {',
        "  return new Evaluator(model).evaluate({ shape: [1, 3, 128, 128], data }, { methods: ['gradcam'], metrics: ['deletion'] });",
        '}',
        'export async function explain(path: string, data: Float32Array): Promise<Explanation> {',
        '  const model = Model.fromFile(await createGpuContext(), path);',
        "  return new Explainer(model).explain({ shape: [1, 3, 128, 128], data }, { method: 'gradcam' });",
        '}',
        'console.log(methods.length);',
      ].join('\n'),
    );
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'use.ts'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: join(REPO, 'node_modules') },
    });
    const loaded = execFileSync(process.execPath, ['--input-type=module', '-e', "import('gradcam-webgpu').then((m) => console.log(typeof m.Explainer, m.METHODS.length))"], { cwd: app, encoding: 'utf8' });
    expect(loaded.trim()).toMatch(/^function \d+$/);
  }, 240_000);
});
