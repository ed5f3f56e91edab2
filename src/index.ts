// The programmatic API: open the GPU once, load a model once, explain many inputs.
export { createGpuContext, describeAdapter, type AdapterSummary, type GpuContext } from './gpu/context.js';
export { Model, type Tensor } from './runtime/model.js';
export type { HessianOptions, HessianResult } from './runtime/hessian.js';
export { Explainer, METHODS, type ExplainOptions, type Concepts, type Explanation, type Method } from './explain/explainer.js';
export type { LayerInfo } from './explain/layers.js';
export { LAYOUTS, type LayerLayout, type LayoutName } from './explain/layout.js';
export { TARGETS, type Target, type TargetKind } from './explain/targets.js';
export { Evaluator, METRICS, type EvaluateOptions, type Metric, type MethodScores } from './evaluate/evaluator.js';
export { cascadingRandomization, type SanityResult } from './evaluate/sanity.js';
export { verify, type VerifyResult } from './evaluate/verify.js';
export { UserError } from './errors.js';
export { decodeImage, loadImageCodecs, readImage } from './io/decode.js';
export { preprocess, resizeAndCrop, type PreprocessOptions, type RgbImage } from './io/image.js';
export { encodeNpy, readNpy, writeNpy } from './io/npy.js';
export { applyJet, overlay } from './io/colormap.js';
export { writePng } from './io/png.js';
