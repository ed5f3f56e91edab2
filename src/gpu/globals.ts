// Dawn's Node bindings export the WebGPU classes and constants (GPUBufferUsage, ...) instead of
// defining them globally as browsers do; modules that use them import this first.
import { globals } from 'webgpu';

Object.assign(globalThis, globals);
