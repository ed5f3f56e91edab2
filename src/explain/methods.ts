// The explanation methods, one record each: the one-line description (gradcam explain --help lists
// them), what the method needs from the plan's passes, and how its map is made. Every list the
// explainer, the planner and the CLI use is derived from these records.
import { type EigenValues, MAP_MODE } from '../kernels/gradcam.js';

interface MethodRecord {
  /** The name the demo's contact sheet prints. */
  title: string;
  help: string;
  /**
   * The gradient it reads: at the layer (from the backward pass), at the input through the guided rule,
   * both (Guided Grad-CAM: the guided image times the Grad-CAM map), at the input and every biased
   * layer (FullGrad), or none.
   */
  gradient: 'layer' | 'guided' | 'guided and layer' | 'biases' | 'none';
  /**
   * How the map is made: the map kernel in this mode (MAP_MODE, the kernel declaration's numbering),
   * EigenCAM's projection, the method's own perturbed forward passes, a guided image at the input, or
   * DFF's factorization.
   */
  map: number | 'eigen' | 'kernel eigen' | 'perturbation' | 'guided image' | 'layer product' | 'bias terms' | 'factorization';
  /** EigenCAM's projection: of what values. */
  eigen?: EigenValues;
  /** The map is one for all the call's layers (guided back-propagation, RefineCAM, FullGrad). */
  layerFree?: boolean;
  /** Its channel weights read dy/dA - (d^2 y / dA^2) A / 2 (ShapleyCAM): a Hessian-vector product per layer. */
  hessian?: boolean;
  /** The target the method explains, whatever the call's (FinerCAM's comparison with similar classes). */
  target?: 'finer';
}

const RECORDS = {
  gradcam: { title: 'Grad-CAM', help: 'alpha_k = spatial mean of dy/dA_k; ReLU(sum_k alpha_k A_k)', gradient: 'layer', map: MAP_MODE.gradcam },
  counterfactual: { title: 'counterfactual', help: 'Grad-CAM of the negated gradient: what argues against the class', gradient: 'layer', map: MAP_MODE.counterfactual },
  cam: { title: 'CAM', help: 'alpha_k = classifier weights (global-average-pooling -> dense head only)', gradient: 'none', map: MAP_MODE.cam },
  xgradcam: { title: 'XGrad-CAM', help: 'alpha_k = sum(dy/dA_k * A_k) / (sum(A_k) + 1e-7)', gradient: 'layer', map: MAP_MODE.xgradcam },
  'gradcam++': { title: 'Grad-CAM++', help: 'alpha_k = sum(relu(g) * g^2 / (2 g^2 + sum(A_k) g^3 + 1e-6)), g = dy/dA_k', gradient: 'layer', map: MAP_MODE['gradcam++'] },
  hirescam: { title: 'HiResCAM', help: 'ReLU(sum_k dy/dA_k * A_k), position by position', gradient: 'layer', map: MAP_MODE.hirescam },
  'gradcam-elementwise': { title: 'elementwise', help: 'sum_k ReLU(dy/dA_k * A_k)', gradient: 'layer', map: MAP_MODE['gradcam-elementwise'] },
  layercam: { title: 'LayerCAM', help: 'sum_k ReLU(dy/dA_k) * A_k', gradient: 'layer', map: MAP_MODE.layercam },
  eigencam: { title: 'EigenCAM', help: 'first principal component of the centred activations, sign-corrected (no gradient)', gradient: 'none', map: 'eigen', eigen: 'activations' },
  eigengradcam: { title: 'EigenGrad-CAM', help: 'first principal component of the centred dy/dA * A, sign-corrected', gradient: 'layer', map: 'eigen', eigen: 'gradient x activations' },
  segeigencam: { title: 'Seg-Eigen-CAM', help: 'Seg-Eigen-CAM: first principal component of the centred |dy/dA| * A, sign-corrected', gradient: 'layer', map: 'eigen', eigen: '|gradient| x activations' },
  kpcacam: { title: 'KPCA-CAM', help: 'KPCA-CAM: EigenCAM in the feature space of the sigmoid kernel tanh(<x, y> / channels + 1) (no gradient)', gradient: 'none', map: 'kernel eigen' },
  finercam: { title: 'FinerCAM', help: 'Grad-CAM of the class against its most similar classes (target finer: --compare K, --alpha A)', gradient: 'layer', map: MAP_MODE.gradcam, target: 'finer' },
  refinecam: { title: 'RefineCAM', help: "RefineCAM: the product of the layers' normalized Grad-CAM++ maps (give several --layer)", gradient: 'layer', map: 'layer product', layerFree: true },
  shapleycam: { title: 'ShapleyCAM', help: 'ShapleyCAM: Grad-CAM of dy/dA - H A / 2, H the exact Hessian of y in A (use --target rest, its target)', gradient: 'layer', map: MAP_MODE.gradcam, hessian: true },
  fullgrad: { title: 'FullGrad', help: "FullGrad: |x dy/dx| + sum over biased conv/BatchNorm outputs z of |b dy/dz|, each channel scaled to [0, 1] (any --layer is ignored)", gradient: 'biases', map: 'bias terms', layerFree: true },
  dff: { title: 'DFF', help: "Deep Feature Factorization: NMF of the layer into --concepts K concepts (default 5), each scored by the GAP -> dense head; the map of the class's best concept (no gradient)", gradient: 'none', map: 'factorization' },
  fem: { title: 'FEM', help: 'FEM: alpha_k = share of positions where A_k > mean + 2 std of A_k (no gradient)', gradient: 'none', map: MAP_MODE.fem },
  scorecam: { title: 'Score-CAM', help: 'alpha_k = softmax over k of the class score of the input masked by channel k (one pass per channel)', gradient: 'none', map: 'perturbation' },
  ablationcam: { title: 'Ablation-CAM', help: 'alpha_k = (y - y_k) / y, y_k the class score with channel k zeroed (one pass per channel)', gradient: 'none', map: 'perturbation' },
  'guided-backprop': { title: 'guided backprop', help: 'guided back-propagation to the input (ReLUs pass positive gradients only); the input\'s shape', gradient: 'guided', map: 'guided image', layerFree: true },
  'guided-gradcam': { title: 'Guided Grad-CAM', help: 'guided back-propagation x the Grad-CAM map; the input\'s shape', gradient: 'guided and layer', map: 'guided image' },
} as const satisfies Record<string, MethodRecord>;

export type Method = keyof typeof RECORDS;
export const METHODS = Object.keys(RECORDS) as Method[];
const record = (m: Method): MethodRecord => RECORDS[m];
const where = (test: (r: MethodRecord) => boolean): readonly Method[] => METHODS.filter((m) => test(record(m)));

/** The methods' titles (the demo's contact sheet). */
export const METHOD_TITLES = Object.fromEntries(METHODS.map((m) => [m, record(m).title])) as Record<Method, string>;
/** The methods and their one-line descriptions. */
export const METHOD_HELP = Object.fromEntries(METHODS.map((m) => [m, record(m).help])) as Record<Method, string>;
/** Methods whose result is a gradient image at the input, of the input's shape. */
export const GUIDED = where((r) => r.map === 'guided image');
/** Methods whose map does not depend on the layer. */
export const LAYER_FREE = where((r) => r.layerFree === true);
/** Methods that use no gradient at all (always stable; SmoothGrad does not apply). */
export const NO_GRADIENT = where((r) => r.gradient === 'none');
/** Methods that need no gradient at the layer. */
export const NO_LAYER_GRADIENT = where((r) => r.gradient === 'none' || r.gradient === 'guided' || r.gradient === 'biases');
/** Methods made from their own perturbed forward passes (Score-CAM, Ablation-CAM: src/explain/perturb.ts). */
export const PERTURBATION_METHODS = where((r) => r.map === 'perturbation');
/** Methods whose map is EigenCAM's projection, and of what. */
export const EIGEN_VALUES_OF: Partial<Record<Method, EigenValues>> = Object.fromEntries(
  METHODS.filter((m) => record(m).eigen).map((m) => [m, record(m).eigen!]),
);
/** The methods made by the map kernel (reading the layer's gradient, CAM's classifier weight or, without a gradient, nothing but A), and their modes. */
export const MODE: Partial<Record<Method, number>> = Object.fromEntries(
  METHODS.filter((m) => typeof record(m).map === 'number').map((m) => [m, record(m).map as number]),
);

/** RefineCAM's base method, whose normalized maps at every layer it multiplies (pytorch-grad-cam's default). */
export const REFINE_BASE: Method = 'gradcam++';

/** Methods that read a Hessian-vector product at the layer. */
export const HESSIAN_METHODS = where((r) => r.hessian === true);

/** Methods that explain a target of their own. */
export const OWN_TARGET: Partial<Record<Method, 'finer'>> = Object.fromEntries(METHODS.filter((m) => record(m).target).map((m) => [m, record(m).target!]));

/** Plan output names: per layer, but one for the methods that do not depend on it. */
export function outputName(method: Method, layer: number): string {
  return LAYER_FREE.includes(method) ? method : `${layer}:${method}`;
}
