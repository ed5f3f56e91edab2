// The web page (web/index.html): the engine as the CLI runs it, on the user's GPU through navigator.gpu.
// The demo model and a sample image are preloaded; the user can bring their own image (PNG/JPEG, decoded
// by the browser's codecs) and ONNX model, pick the method, the layer's layout (a transformer's tokens, a
// Swin's channels-last stages), the layer, the target (class logit, softmax probability, a binary
// logit, a segmentation class over the positions where it wins, drawn beside the map) and the class,
// and download the overlay and the raw map. Nothing is uploaded. window.gradcamPage exposes the last
// result for the browser test.
import { UserError } from '../src/errors.js';
import { Explainer, METHOD_HELP, METHODS, type Explanation, type Method } from '../src/explain/explainer.js';
import { LAYOUT_HELP, LAYOUTS, type LayoutName } from '../src/explain/layout.js';
import { TARGET_HELP, type TargetKind } from '../src/explain/targets.js';
import { createGpuContext, describeAdapter, type GpuContext } from '../src/gpu/context.js';
import { applyJet, overlay, planarToRgb } from '../src/io/colormap.js';
import { decodeJpeg } from '../src/io/jpeg/decode.js';
import { decodeError, imageFormat, preprocess, resizeAndCrop, rgbToFloat01, type RgbImage } from '../src/io/image.js';
import { parseLabels } from '../src/io/labels.js';
import { encodeNpy } from '../src/io/npy.js';
import { Model } from '../src/runtime/model.js';
import type { DemoConfig } from '../src/io/demo-config.js';


interface PageState {
  /** Explanations finished so far (the test waits on it). */
  done: number;
  error?: string;
  adapter?: string;
  last?: {
    method: Method; layer: string; layout: LayoutName; target: TargetKind; classes: number[];
    inputShape: number[]; input: number[]; mapShape: number[]; map: number[];
    /** Segmentation: the positions where the class wins, as drawn. */
    mask?: number[];
  };
}

/** The targets the page offers: those that need no file besides the image. */
const PAGE_TARGETS: TargetKind[] = ['class', 'softmax', 'binary', 'segmentation'];

const state: PageState = { done: 0 };
(window as unknown as { gradcamPage: PageState }).gradcamPage = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const message = $<HTMLDivElement>('message');
const methodSelect = $<HTMLSelectElement>('method');
const layerSelect = $<HTMLSelectElement>('layer');
const layoutSelect = $<HTMLSelectElement>('layout');
const targetSelect = $<HTMLSelectElement>('target');
const classSelect = $<HTMLSelectElement>('class');
const classIndex = $<HTMLInputElement>('class-index');

let gpu: GpuContext;
let config: DemoConfig;
let model: Model;
let explainer: Explainer;
let labels: string[] | undefined;
let image: RgbImage;
let imageName = 'sample';
let last: { result: Explanation } | undefined;

function showError(e: unknown): void {
  const text = e instanceof Error ? e.message : String(e);
  // The same one line the CLI prints.
  message.textContent = `gradcam: ${text}`;
  state.error = text;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new UserError(`${url}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Image bytes to RGB pixels: JPEG with the engine's own decoder (the pixels Pillow and the Node CLI get, which
 * the browser's decoder does not promise), other formats with the browser's, without colour management.
 */
async function decode(bytes: Uint8Array, name: string): Promise<RgbImage> {
  const format = imageFormat(bytes, name);
  if (format === 'JPEG') {
    try {
      return decodeJpeg(bytes).image;
    } catch (e) {
      throw decodeError(name, format, e);
    }
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new UserError(`${name}: cannot decode ${format}`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { colorSpace: 'srgb' })!;
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const rgb = new Uint8Array(bitmap.width * bitmap.height * 3);
  for (let p = 0; p < bitmap.width * bitmap.height; p++) rgb.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
  return { width: bitmap.width, height: bitmap.height, data: rgb };
}

function draw(id: string, rgb: Uint8Array, width: number, height: number): void {
  const canvas = $<HTMLCanvasElement>(id);
  canvas.width = width;
  canvas.height = height;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
    rgba[p * 4 + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, width, height), 0, 0);
}

function inputSize(): [number, number] {
  const dims = model.graph.inputs[0].dims;
  return [dims[2] > 0 ? dims[2] : config.input_size[0], dims[3] > 0 ? dims[3] : config.input_size[1]];
}

function fillLayers(): void {
  const [height, width] = inputSize();
  layerSelect.replaceChildren();
  let found;
  try {
    found = explainer.layers([1, 3, height, width], undefined, { layout: layoutSelect.value as LayoutName });
  } catch (e) {
    showError(e);
    return;
  }
  const { layers, default: fallback } = found;
  const grid = (l: (typeof layers)[number]) => (l.layout.name === 'nchw' ? '' : ` grid ${l.layout.spatial.join('x')}`);
  layerSelect.replaceChildren(
    ...layers.map((l) => new Option(`${l.tensor} [${l.shape.slice(1)}]${grid(l)}${l.tensor === fallback.tensor ? ' (default)' : ''}`, l.tensor, false, l.tensor === fallback.tensor)),
  );
}

/** Segmentation's default mask, for drawing: where the class has the largest score, [K, h, w] output. */
function winningPositions(result: Explanation, classIndex: number, positions: number): Uint8Array {
  const scores = result.logits.data;
  const classes = scores.length / positions;
  const mask = new Uint8Array(positions);
  for (let p = 0; p < positions; p++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (scores[k * positions + p] > scores[best * positions + p]) best = k;
    mask[p] = best === classIndex ? 1 : 0;
  }
  return mask;
}

function fillClasses(result: Explanation): void {
  const logits = Array.from(result.logits.data);
  const top = Math.max(...logits);
  const exp = logits.map((v) => Math.exp(v - top));
  const total = exp.reduce((a, b) => a + b, 0);
  const order = logits.map((_, c) => c).sort((a, b) => logits[b] - logits[a]).slice(0, 5);
  const chosen = classSelect.value;
  classSelect.replaceChildren(
    new Option('top-1', ''),
    ...order.map((c) => new Option(`${c}${labels?.[c] ? ` ${labels[c]}` : ''} (${((100 * exp[c]) / total).toFixed(1)}%)`, String(c))),
  );
  classSelect.value = [...classSelect.options].some((o) => o.value === chosen) ? chosen : '';
}

async function explain(): Promise<void> {
  message.textContent = '';
  state.error = undefined;
  try {
    const [height, width] = inputSize();
    const options = { resize: Math.min(height, width), crop: [height, width] as [number, number], mean: config.mean, std: config.std };
    const cropped = resizeAndCrop(image, options);
    const input = { shape: [1, 3, height, width], data: preprocess(image, options) };
    const typed = classIndex.value.trim();
    const classes = typed !== '' ? [Number(typed)] : classSelect.value !== '' ? [Number(classSelect.value)] : undefined;
    if (classes && !Number.isInteger(classes[0])) throw new UserError(`class "${typed}" is not a whole number`);
    const method = methodSelect.value as Method;
    const layout = layoutSelect.value as LayoutName;
    const target = targetSelect.value as TargetKind;
    const result = await explainer.explain(input, { method, layer: layerSelect.value || undefined, layout, target: { kind: target }, classes });
    if (target === 'class' || target === 'softmax') fillClasses(result);
    let mask: Uint8Array | undefined;
    const maskFigure = $<HTMLElement>('mask-figure');
    maskFigure.hidden = target !== 'segmentation';
    if (target === 'segmentation') {
      const outputShape = model.shaped(new Map([[model.inputName, input.shape]])).shapes.get(model.graph.outputs[0])!;
      const [outH, outW] = outputShape.slice(-2);
      mask = winningPositions(result, result.classes[0], outH * outW);
      draw('mask-view', Uint8Array.from({ length: 3 * mask.length }, (_, i) => (mask![Math.floor(i / 3)] ? [255, 200, 0][i % 3] : 40)), outW, outH);
    }
    draw('input-view', cropped.data, width, height);
    const guided = result.map.shape.length === 4;
    const picture = guided ? planarToRgb(result.normalized.data, result.map.shape[1], width, height) : applyJet(result.normalized.data, width, height);
    const blended = guided ? picture : overlay(rgbToFloat01(cropped), result.normalized.data, width, height);
    draw('heatmap-view', picture, width, height);
    draw('overlay-view', blended, width, height);
    last = { result };
    const c = result.classes[0];
    const t = result.timings;
    const phases = [['forward', t.forwardMs], ['backward', t.backwardMs], ['map', t.camMs], ['perturbed passes', t.perturbationMs]]
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${(v as number).toFixed(1)} ms`);
    $<HTMLDivElement>('result').textContent =
      `${imageName}: class ${c}${labels?.[c] ? ` (${labels[c]})` : ''}, score ${result.scores[0].toFixed(3)} · ${method} at "${result.layer.tensor}" · GPU ${phases.join(', ') || 'times unavailable'} · ${state.adapter}`;
    $<HTMLButtonElement>('download-png').disabled = false;
    $<HTMLButtonElement>('download-npy').disabled = false;
    state.last = {
      method, layer: result.layer.tensor, layout, target, classes: result.classes, inputShape: input.shape, input: Array.from(input.data),
      mapShape: result.map.shape, map: Array.from(result.map.data), mask: mask && Array.from(mask),
    };
  } catch (e) {
    showError(e);
  } finally {
    state.done++;
  }
}

async function useModel(bytes: Uint8Array, name: string): Promise<void> {
  const next = Model.fromBytes(gpu, bytes, name);
  explainer?.dispose();
  model?.dispose();
  model = next;
  explainer = new Explainer(model);
  labels = name === config.model ? labels : undefined;
  $<HTMLSpanElement>('model-name').textContent = name;
  fillLayers();
}

async function openFile(file: File): Promise<void> {
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (file.name.toLowerCase().endsWith('.onnx')) {
      await useModel(bytes, file.name);
    } else {
      image = await decode(bytes, file.name);
      imageName = file.name;
    }
  } catch (e) {
    showError(e);
    state.done++;
    return;
  }
  await explain();
}

function download(name: string, blob: Blob): void {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function start(): Promise<void> {
  methodSelect.replaceChildren(...METHODS.map((m) => Object.assign(new Option(m, m), { title: METHOD_HELP[m] })));
  layoutSelect.replaceChildren(...LAYOUTS.map((l) => Object.assign(new Option(l, l), { title: LAYOUT_HELP[l] })));
  targetSelect.replaceChildren(...PAGE_TARGETS.map((t) => Object.assign(new Option(t, t), { title: TARGET_HELP[t] })));
  gpu = await createGpuContext();
  state.adapter = describeAdapter(gpu.adapter);
  config = JSON.parse(new TextDecoder().decode(await fetchBytes('weights/demo.json'))) as DemoConfig;
  labels = parseLabels(new TextDecoder().decode(await fetchBytes(`weights/${config.labels}`)), config.labels);
  await useModel(await fetchBytes(`weights/${config.model}`), config.model);
  image = await decode(await fetchBytes('weights/samples/circle.png'), 'circle.png');
  imageName = 'circle.png';

  for (const control of [methodSelect, layerSelect, classSelect, targetSelect]) control.addEventListener('change', () => void explain());
  layoutSelect.addEventListener('change', () => {
    fillLayers();
    void explain();
  });
  classIndex.addEventListener('change', () => void explain());
  for (const id of ['image-file', 'model-file']) {
    $<HTMLInputElement>(id).addEventListener('change', (event) => {
      const file = (event.target as HTMLInputElement).files?.[0];
      if (file) void openFile(file);
    });
  }
  const drop = $<HTMLDivElement>('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer?.files[0];
    if (file) void openFile(file);
  });
  $<HTMLButtonElement>('download-png').addEventListener('click', () => {
    const method = last?.result.method;
    if (method) $<HTMLCanvasElement>('overlay-view').toBlob((blob) => blob && download(`${imageName}.${method}.overlay.png`, blob), 'image/png');
  });
  $<HTMLButtonElement>('download-npy').addEventListener('click', () => {
    if (!last) return;
    download(`${imageName}.${last.result.method}.npy`, new Blob([encodeNpy(last.result.map.shape, last.result.map.data) as Uint8Array<ArrayBuffer>]));
  });
  await explain();
}

start().catch((e) => {
  showError(e);
  state.done++;
});
