// WebP (lossy, lossless, alpha; the first frame) through libwebp compiled to WebAssembly (@jsquash/webp, the
// Squoosh build): Pillow decodes WebP with libwebp too, and this build gives its pixels exactly. WebAssembly
// compiles asynchronously, so the codec is loaded once (loadImageCodecs) and then decodes synchronously.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DecodedPixels } from './pixels.js';

interface WebpModule {
  decode(data: Uint8Array): { data: Uint8ClampedArray; width: number; height: number } | null;
}

// The WebAssembly API, typed here: the project's libraries (ES2022, no DOM) do not declare it.
interface WasmInstance {
  exports: unknown;
}
const Wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => WasmInstance } }).WebAssembly;

let codec: WebpModule | undefined;

/** Compiles and instantiates the WebP decoder; later calls return at once. */
export async function loadWebpCodec(): Promise<void> {
  if (codec) return;
  const require = createRequire(import.meta.url);
  const wasm = new Wasm.Module(readFileSync(require.resolve('@jsquash/webp/codec/dec/webp_dec.wasm')));
  const factory = (await import('@jsquash/webp/codec/dec/webp_dec.js')).default as (options: object) => Promise<WebpModule>;
  codec = await factory({
    noInitialRun: true,
    instantiateWasm: (imports: object, receive: (instance: WasmInstance) => void) => {
      const instance = new Wasm.Instance(wasm, imports);
      receive(instance);
      return instance.exports;
    },
  });
}

export function decodeWebp(bytes: Uint8Array): DecodedPixels {
  if (!codec) throw new Error('the WebP codec is not loaded: await loadImageCodecs() before decoding WebP');
  const decoded = codec.decode(bytes);
  if (!decoded) throw new Error('libwebp could not decode the file');
  const { width, height, data: rgba } = decoded;
  const data = new Uint8Array(width * height * 3);
  const alpha = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    data[p * 3] = rgba[p * 4];
    data[p * 3 + 1] = rgba[p * 4 + 1];
    data[p * 3 + 2] = rgba[p * 4 + 2];
    alpha[p] = rgba[p * 4 + 3];
  }
  return { width, height, data, alpha };
}
