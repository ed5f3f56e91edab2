// WebGPU's classes and constants (GPUBufferUsage, ...) as globals, as browsers define them; Dawn's Node
// bindings export them instead (src/platform). Modules that use them import this first.
import { installGpuGlobals } from '../platform/index.js';

installGpuGlobals();
