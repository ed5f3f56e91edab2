// The map of a channel-weighted method at one layer: channel weights, the ReLU of the weighted sum,
// the (bi/tri)linear resize to the input and the min-max normalized copy. On a CPU adapter one fused
// dispatch per batch (shaders/gradcam.wgsl), one workgroup per image, keeps the channel weights in
// workgroup memory. On a GPU, where one workgroup per image would fill one SM of a hundred, and where
// the weights do not fit the adapter's workgroup storage (WebGPU's default is 16 KiB: 3,584 channels
// beside the reductions), or when asked, the same arithmetic is spread over every (image, channel),
// every position and every output pixel, with the normalization's range taken over chunks of the map.
import { mapKernel, mapStepKernels, RANGE_CHUNK } from '../kernels/gradcam.js';
import { type DeviceTraits, type TensorRef, WORKGROUP_SIZE } from '../kernels/program.js';
import type { PlanBuilder } from '../plan/builder.js';
import { addCentredProjection } from './eigen.js';
import { grid3, type LayerLayout, layoutUniforms } from './layout.js';

export type MapUniforms = ReturnType<typeof mapUniforms>;

/** The map kernels' uniforms of a layer in `layout` mapped onto an input of spatial size `input`. */
export function mapUniforms(layout: LayerLayout, input: readonly number[], mode: number, head?: { classStride: number; channelStride: number }) {
  const [in_d, in_h, in_w] = grid3(layout.spatial);
  const [out_d, out_h, out_w] = grid3(input);
  return {
    batch: layout.batch, channels: layout.channels, ...layoutUniforms(layout), in_d, in_h, in_w, out_d, out_h, out_w, mode,
    weight_class_stride: head?.classStride ?? 0, weight_channel_stride: head?.channelStride ?? 0,
    chunks: Math.ceil((out_d * out_h * out_w) / RANGE_CHUNK),
  };
}

export interface MapSources {
  activations: TensorRef;
  /** The gradients, the classifier weights (CAM) or the channel scores (Score-CAM, Ablation-CAM). */
  weightSource: TensorRef;
  /** [batch, 2]: each image's class and score. */
  picked: TensorRef;
}

/** Channel weights are kept per multiple of this, so that few pipelines serve every layer. */
const ALPHA_STEP = 256;
/** The fused kernel's other workgroup arrays: workgroup_min_max's two of WORKGROUP_SIZE floats. */
const REDUCTION_BYTES = 2 * WORKGROUP_SIZE * 4;

const alphaLength = (channels: number) => Math.ceil(channels / ALPHA_STEP) * ALPHA_STEP;

/** Whether the fused kernel's workgroup memory for `channels` fits the adapter. */
export function fusedMapFits(device: DeviceTraits, channels: number): boolean {
  return 4 * alphaLength(channels) + REDUCTION_BYTES <= device.maxWorkgroupStorageBytes;
}

export interface MapChoice {
  /** The four steps instead of the fused kernel (tests, benchmarks). */
  unfused?: boolean;
  /** --smooth-eigen: the first principal component of the channels' terms instead of their sum. */
  smoothEigen?: boolean;
}

/** Emits the map: fused where it fits and neither the steps nor the projection are asked for. */
export function addMap(b: PlanBuilder, uniforms: MapUniforms, sources: MapSources, label: string, choice: MapChoice = {}): { map: TensorRef; normalized: TensorRef } {
  const { batch, channels, in_d, in_h, in_w } = uniforms;
  const positions = in_d * in_h * in_w;
  if (choice.unfused || choice.smoothEigen || !b.device.isCpu || !fusedMapFits(b.device, channels)) {
    const alpha = b.scratch([batch, channels], `${label}: channel weights`);
    const { activations, weightSource: weight_source, picked } = sources;
    b.dispatch(mapStepKernels.alpha.program({ uniforms, bindings: { activations, weight_source, picked, alpha }, count: batch * channels }), `${label}: channel weights`);
    if (choice.smoothEigen) {
      const centred = b.scratch([batch, channels, positions], `${label}: centred terms`);
      b.dispatch(mapStepKernels.terms.program({ uniforms, bindings: { activations, weight_source, alpha, centred }, count: batch * channels }), `${label}: centred terms`);
      return addResizeNormalize(b, uniforms, addCentredProjection(b, centred, label), label);
    }
    const coarse = b.scratch([batch, positions], `${label}: coarse map`);
    b.dispatch(mapStepKernels.sum.program({ uniforms, bindings: { activations, weight_source, alpha, coarse }, count: batch * positions }), `${label}: sum`);
    return addResizeNormalize(b, uniforms, coarse, label);
  }
  const coarse = b.scratch([batch, positions], `${label}: coarse map`);
  const map = b.scratch(mapShape(uniforms), `${label}: map`);
  const normalized = b.scratch(mapShape(uniforms), `${label}: normalized map`);
  b.dispatch(
    mapKernel.program({
      uniforms,
      bindings: { activations: sources.activations, weight_source: sources.weightSource, picked: sources.picked, coarse, raw: map, normalized },
      defines: { ALPHA: String(alphaLength(channels)) },
      workgroups: [batch, 1, 1],
    }),
    `${label}: map`,
  );
  return { map, normalized };
}

/** [batch, out_d * out_h * out_w]: the map's buffer (the explainer gives it the input's spatial shape). */
const mapShape = (u: MapUniforms) => [u.batch, u.out_d * u.out_h * u.out_w];

/** A coarse map [batch, positions] resized to the input and normalized: two dispatches. */
export function addResizeNormalize(b: PlanBuilder, uniforms: MapUniforms, coarse: TensorRef, label: string): { map: TensorRef; normalized: TensorRef } {
  const map = b.scratch(mapShape(uniforms), `${label}: map`);
  const normalized = b.scratch(mapShape(uniforms), `${label}: normalized map`);
  b.dispatch(mapStepKernels.resize.program({ uniforms, bindings: { coarse, raw: map }, count: map.shape[0] * map.shape[1] }), `${label}: resize`);
  addNormalize(b, map, normalized, label);
  return { map, normalized };
}

/**
 * Per image min-max normalization of maps [batch, positions]: one workgroup per image on a CPU adapter;
 * on a GPU the range over chunks of the map (batch x chunks workgroups), then every position at once.
 */
export function addNormalize(b: PlanBuilder, map: TensorRef, normalized: TensorRef, label: string): void {
  const [batch, positions] = map.shape;
  const chunks = Math.ceil(positions / RANGE_CHUNK);
  const uniforms = {
    batch, channels: 1, image_stride: positions, channel_stride: 1, position_stride: 1, layer_offset: 0,
    in_d: 1, in_h: 1, in_w: positions, out_d: 1, out_h: 1, out_w: positions, mode: 0, weight_class_stride: 0, weight_channel_stride: 0, chunks,
  };
  if (b.device.isCpu) {
    b.dispatch(mapStepKernels.normalize.program({ uniforms, bindings: { raw: map, normalized }, workgroups: [batch, 1, 1] }), `${label}: normalize`);
    return;
  }
  const ranges = b.scratch([batch, chunks, 2], `${label}: ranges`);
  b.dispatch(mapStepKernels.range.program({ uniforms, bindings: { raw: map, ranges }, workgroups: [chunks, batch, 1] }), `${label}: ranges`);
  b.dispatch(mapStepKernels.scale.program({ uniforms, bindings: { raw: map, ranges, normalized }, count: batch * positions }), `${label}: normalize`);
}
