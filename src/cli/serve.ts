// `gradcam serve`: the web page (web/index.html and the browser build, dist/web/app.js) and the demo
// model's files, on 127.0.0.1 only. Everything else is a 404: the page reads the user's files itself.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { UserError } from '../errors.js';
import { PACKAGE_ROOT, WEIGHTS_DIR } from '../io/paths.js';
import { parse, positiveInt } from './args.js';

export const SERVE_HELP = `gradcam serve [--port P]
  Serves the web page on http://127.0.0.1:P/ (default port 8080): the demo model and a sample are
  preloaded, and it explains your own images and ONNX models on your GPU through WebGPU; nothing is
  uploaded. Ctrl-C stops it.

examples:
  gradcam serve
  gradcam serve --port 9000`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
};

const PAGE = join(PACKAGE_ROOT, 'web', 'index.html');
const BUNDLE = join(PACKAGE_ROOT, 'dist', 'web', 'app.js');

/** The file behind a URL path, or undefined (outside what the page may read). */
function fileFor(path: string): string | undefined {
  if (path === '/' || path === '/index.html') return PAGE;
  if (path === '/app.js' || path === '/app.js.map') return join(PACKAGE_ROOT, 'dist', 'web', path.slice(1));
  if (path.startsWith('/weights/')) {
    const file = normalize(join(WEIGHTS_DIR, decodeURIComponent(path.slice('/weights/'.length))));
    if (file.startsWith(WEIGHTS_DIR) && extname(file) !== '.pt') return file;
  }
  return undefined;
}

export async function startServer(port: number): Promise<{ url: string; server: Server }> {
  if (!existsSync(BUNDLE)) throw new UserError(`the page's bundle ${BUNDLE} is missing: run \`npm run build:web\``);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const file = fileFor(path);
    if (request.method !== 'GET' || !file || !existsSync(file)) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError(`port ${port} is in use; pick another with --port`) : e),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return { url: `http://127.0.0.1:${bound}/`, server };
}

export async function serve(argv: string[]): Promise<void> {
  const { values } = parse(argv, { port: { type: 'string' } });
  const port = positiveInt(values.port as string | undefined, '--port') ?? 8080;
  if (port > 65535) throw new UserError(`--port takes a port number up to 65535, got ${port}`);
  const { url, server } = await startServer(port);
  console.log(`gradcam-webgpu page at ${url} (127.0.0.1 only; Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => server.close(() => resolve()));
    server.once('close', resolve);
  });
}
