// Opens the WebGPU adapter and device through Dawn's Node bindings, with the limits the engine needs
// raised to what the adapter allows, and turns GPU errors into thrown errors.
import './globals.js';
import { gpuEntry, osName } from '../platform/index.js';
import { UserError } from '../errors.js';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: string;
  /** A CPU implementation (lavapipe/llvmpipe/SwiftShader): kernels pick their CPU-friendly variants. */
  isCpu: boolean;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  limits: GPUSupportedLimits;
  hasTimestamps: boolean;
  /** Rejects with the first uncaptured GPU error since the last call, if any. */
  takeUncapturedError(): Error | undefined;
  destroy(): void;
}

/** Limits that large CNNs need; each is requested at the adapter's maximum. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export const INSTALL_HINT =
  'no WebGPU adapter found. On a machine without a GPU, install Mesa\'s lavapipe Vulkan driver from bookworm-backports: `sudo bash scripts/install-system-deps.sh`';

export async function createGpuContext(): Promise<GpuContext> {
  const adapter = await gpuEntry().requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new UserError(INSTALL_HINT);

  const requiredLimits: Record<string, number> = {};
  for (const key of RAISED_LIMITS) requiredLimits[key] = adapter.limits[key];
  const hasTimestamps = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({
    requiredLimits,
    requiredFeatures: hasTimestamps ? ['timestamp-query'] : [],
  });

  let uncaptured: Error | undefined;
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    uncaptured ??= new Error(`GPU error: ${error.message}`);
  });
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') uncaptured ??= new Error(`GPU device lost: ${info.message}`);
  });

  const info = adapter.info;
  const description = info.description || '';
  const summary: AdapterSummary = {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    device: info.device || '',
    description,
    backend: backendName(description),
    isCpu: info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${description} ${info.device}`),
  };

  return {
    device,
    adapter: summary,
    limits: device.limits,
    hasTimestamps,
    takeUncapturedError() {
      const e = uncaptured;
      uncaptured = undefined;
      return e;
    },
    destroy() {
      device.destroy();
    },
  };
}

function backendName(description: string): string {
  const named = /(Vulkan|Metal|D3D12|D3D11|OpenGL ES|OpenGL)/i.exec(description);
  if (named) return named[1];
  // Dawn's default backend per platform; the adapter description does not always name it.
  return { linux: 'Vulkan', darwin: 'Metal', win32: 'D3D12' }[osName()] ?? 'unknown';
}

/** A one-line description of the adapter for logs and benchmark headers. */
export function describeAdapter(a: AdapterSummary): string {
  const name = a.description || `${a.vendor} ${a.architecture}`;
  return `${name} [${a.vendor}/${a.architecture}, ${a.backend}${a.isCpu ? ', CPU' : ''}]`;
}
