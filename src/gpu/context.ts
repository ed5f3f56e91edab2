// Opens the WebGPU adapter and device through Dawn's Node bindings, with the limits the engine needs
// raised to what the adapter allows, and turns GPU errors into thrown errors.
import './globals.js';
import { gpuEntry, osName } from '../platform/index.js';
import { UserError } from '../errors.js';
import { SerialQueue } from './serial.js';

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
  /**
   * Runs one call of the engine (a model run, an explanation, an evaluation) once the calls made
   * before it have settled: a call's submissions share the plans' buffers, so calls never interleave.
   * Fails at once, naming the reason, once the device is lost or disposed.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Returns the first uncaptured GPU error since the last call, if any. */
  takeUncapturedError(): Error | undefined;
  /** Releases the device (unless it was given in), after which every call fails with a clear error. */
  dispose(): void;
  /** The same as dispose(). */
  destroy(): void;
  [DISPOSE](): void;
}

export interface GpuContextOptions {
  /** An adapter already requested; default: the one `powerPreference` selects. */
  adapter?: GPUAdapter;
  /** Which adapter to ask for when none is given; default 'high-performance'. */
  powerPreference?: GPUPowerPreference;
  /** Node: only the adapters whose name contains this (`gradcam adapters` lists them). */
  adapterName?: string;
  /**
   * A device the caller made and owns (with `adapter`, or the adapter's information is read from the
   * device where the host has it): the engine uses it as it is, with its limits, and never destroys it.
   */
  device?: GPUDevice;
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

/** `using` support where the host has Symbol.dispose; the registered symbol TypeScript falls back to elsewhere. */
export const DISPOSE: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

export const INSTALL_HINT =
  'no WebGPU adapter found. On a machine without a GPU, install Mesa\'s lavapipe Vulkan driver from bookworm-backports: `sudo bash scripts/install-system-deps.sh`';

export async function createGpuContext(options: GpuContextOptions = {}): Promise<GpuContext> {
  const given = options.device;
  let adapter = options.adapter;
  if (!adapter && !given) {
    try {
      adapter = (await gpuEntry(options.adapterName).requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' })) ?? undefined;
    } catch (e) {
      // Dawn answers a name that matches no adapter with its list of adapters.
      if (!options.adapterName) throw e;
      throw new UserError(`no adapter is named like "${options.adapterName}" (${(e as Error).message.replace(/\s*\n\s*/g, ' ').replace(/^no suitable backends found /, '')})`);
    }
    if (!adapter) throw new UserError(INSTALL_HINT);
  }

  let device: GPUDevice;
  let hasTimestamps: boolean;
  if (given) {
    device = given;
    hasTimestamps = given.features.has('timestamp-query');
  } else {
    const requiredLimits: Record<string, number> = {};
    for (const key of RAISED_LIMITS) requiredLimits[key] = adapter!.limits[key];
    hasTimestamps = adapter!.features.has('timestamp-query');
    device = await adapter!.requestDevice({
      requiredLimits,
      requiredFeatures: hasTimestamps ? ['timestamp-query'] : [],
    });
  }

  let uncaptured: Error | undefined;
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    uncaptured ??= new Error(`GPU error: ${error.message}`);
  });
  // Once the device is gone every later call fails with this, and a new context can be created.
  let closed: Error | undefined;
  void device.lost.then((info) => {
    closed ??= info.reason === 'destroyed'
      ? new UserError('the GPU context was disposed; create a new one with createGpuContext()')
      : new UserError(`the GPU device was lost (${info.message || 'no reason given'}); create a new context with createGpuContext()`);
  });
  const queue = new SerialQueue();

  const info = adapter?.info ?? (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo ?? ({} as GPUAdapterInfo);
  const description = info.description || '';
  const summary: AdapterSummary = {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    device: info.device || '',
    description,
    backend: backendName(description),
    isCpu: info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${description} ${info.device}`),
  };

  const dispose = () => {
    closed ??= new UserError('the GPU context was disposed; create a new one with createGpuContext()');
    if (!given) device.destroy();
  };
  return {
    device,
    adapter: summary,
    limits: device.limits,
    hasTimestamps,
    exclusive(work) {
      return queue.run(async () => {
        if (closed) throw closed;
        return work();
      });
    },
    takeUncapturedError() {
      const e = uncaptured;
      uncaptured = undefined;
      return e;
    },
    dispose,
    destroy: dispose,
    [DISPOSE]: dispose,
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
