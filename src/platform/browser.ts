// The browser's side of the platform seam (./index.ts is Node's): WebGPU from navigator.gpu, the
// shaders bundled into the build as text (scripts/build-web.mjs), and no file system: pages hand the
// engine bytes (Model.fromBytes, decoded images).
import shaders from 'virtual:gradcam-shaders';
import { UserError } from '../errors.js';

export const HOST = 'browser';

/** The browser chooses the adapter; a name asked for in Node means nothing here. */
export function gpuEntry(_adapter?: string): GPU {
  const gpu = (globalThis as { navigator?: Partial<NavigatorGPU> }).navigator?.gpu;
  if (!gpu) {
    throw new UserError('this browser has no WebGPU (navigator.gpu is missing): use a current Chrome, Edge or Safari, or Firefox with dom.webgpu.enabled, on https:// or localhost');
  }
  return gpu;
}

/** A page sees the one adapter its browser chooses. */
export async function listAdapters(): Promise<{ backend: string; name: string }[]> {
  return [];
}

/** Browsers define the WebGPU classes and constants globally. */
export function installGpuGlobals(): void {}

export function osName(): string {
  return 'browser';
}

export const PACKAGE_ROOT = '.';

export function shaderSource(name: string): string {
  const text = shaders[name];
  if (text === undefined) throw new Error(`shader ${name}.wgsl is not in the bundle`);
  return text;
}

export function readFile(path: string): Uint8Array {
  throw new UserError(`${path}: a page reads no files by path; give the engine the file's bytes`);
}

export function writeFile(path: string): void {
  throw new UserError(`${path}: a page writes no files; offer the bytes as a download`);
}
