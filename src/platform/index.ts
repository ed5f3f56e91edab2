// The one place the engine meets its host. This is Node.js: Dawn's bindings (the `webgpu` package) for
// WebGPU, shaders read from the package's shaders/ folder, files from the file system. The browser build
// (scripts/build-web.mjs) puts ./browser.ts in this module's place; nothing else differs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, globals } from 'webgpu';

export const HOST = 'node';

// One Dawn instance per adapter name asked for, never released: collecting an instance while any of
// its objects are still alive crashes dawn.node, and a live instance does not keep the process from
// exiting.
const entries = new Map<string, GPU>();

/** The WebGPU entry point (navigator.gpu in a browser); `adapter` restricts it to the adapters so named. */
export function gpuEntry(adapter = ''): GPU {
  // Mesa warns on every start when XDG_RUNTIME_DIR is unset.
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = tmpdir();
  let entry = entries.get(adapter);
  if (!entry) {
    // Dawn rounds timestamps to 100 us by default (a browser's defence against timing attacks); the
    // profiles here need the short kernels' times.
    entry = create(['disable-dawn-features=timestamp_quantization', ...(adapter ? [`adapter=${adapter}`] : [])]);
    entries.set(adapter, entry);
  }
  return entry;
}

/**
 * Every adapter Dawn sees (backend and name), in its order. Dawn's Node bindings have no call for it:
 * asking for an adapter no name matches answers with the list.
 */
export async function listAdapters(): Promise<{ backend: string; name: string }[]> {
  const none = '\u0000 no adapter has this name';
  let entry = entries.get(none);
  if (!entry) {
    entry = create([`adapter=${none}`]);
    entries.set(none, entry);
  }
  try {
    await entry.requestAdapter();
  } catch (e) {
    return [...(e as Error).message.matchAll(/\* backend: '([^']*)', name: '([^']*)'/g)].map((m) => ({ backend: m[1], name: m[2] }));
  }
  return [];
}

/**
 * Dawn's Node bindings export the WebGPU classes and constants (GPUBufferUsage, ...) instead of
 * defining them globally as browsers do.
 */
export function installGpuGlobals(): void {
  Object.assign(globalThis, globals);
}

/** The operating system, for naming Dawn's default backend when the adapter does not. */
export function osName(): string {
  return process.platform;
}

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'shaders'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the gradcam-webgpu package root');
}

/** The package's own folder, whether running from src/ (tests) or dist/src/ (the CLI). */
export const PACKAGE_ROOT = findPackageRoot();

/** The text of shaders/NAME.wgsl. */
export function shaderSource(name: string): string {
  return readFileSync(join(PACKAGE_ROOT, 'shaders', `${name}.wgsl`), 'utf8');
}

export function readFile(path: string): Uint8Array {
  return readFileSync(path);
}

export function writeFile(path: string, bytes: Uint8Array): void {
  writeFileSync(path, bytes);
}
