// The browser build (npm run build:web, and part of `npm install`'s prepare): web/app.ts and the engine
// bundled by esbuild into dist/web/app.js. The platform seam is the only difference from Node:
// src/platform/index.ts is replaced by src/platform/browser.ts, and `virtual:gradcam-shaders` is
// generated here from shaders/*.wgsl, every shader as text.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHADERS = join(ROOT, 'shaders');

const platformSeam = {
  name: 'gradcam-platform',
  setup(b) {
    b.onResolve({ filter: /^virtual:gradcam-shaders$/ }, () => ({ path: 'shaders', namespace: 'gradcam-shaders' }));
    b.onLoad({ filter: /.*/, namespace: 'gradcam-shaders' }, () => {
      const texts = {};
      for (const file of readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl')).sort()) {
        texts[file.slice(0, -'.wgsl'.length)] = readFileSync(join(SHADERS, file), 'utf8');
      }
      return { contents: `export default ${JSON.stringify(texts)};`, loader: 'js', watchFiles: readdirSync(SHADERS).map((f) => join(SHADERS, f)) };
    });
    b.onResolve({ filter: /platform\/index\.js$/ }, () => ({ path: join(ROOT, 'src', 'platform', 'browser.ts') }));
  },
};

await build({
  entryPoints: [join(ROOT, 'web', 'app.ts')],
  outfile: join(ROOT, 'dist', 'web', 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  plugins: [platformSeam],
  logLevel: 'warning',
});
