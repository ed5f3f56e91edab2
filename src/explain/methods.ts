// The explanation methods: their names and one-line descriptions, what each needs (a gradient at the
// layer, a guided pass to the input, none at all) and the map kernel's mode of the channel-weighted ones.
import { MAP_MODE } from '../kernels/gradcam.js';

/** The methods and their one-line descriptions (gradcam explain --help lists them). */
export const METHOD_HELP = {
  gradcam: 'alpha_k = spatial mean of dy/dA_k; ReLU(sum_k alpha_k A_k)',
  counterfactual: 'Grad-CAM of the negated gradient: what argues against the class',
  cam: 'alpha_k = classifier weights (global-average-pooling -> dense head only)',
  xgradcam: 'alpha_k = sum(dy/dA_k * A_k) / (sum(A_k) + 1e-7)',
  'gradcam++': 'alpha_k = sum(relu(g) * g^2 / (2 g^2 + sum(A_k) g^3 + 1e-6)), g = dy/dA_k',
  hirescam: 'ReLU(sum_k dy/dA_k * A_k), position by position',
  'gradcam-elementwise': 'sum_k ReLU(dy/dA_k * A_k)',
  layercam: 'sum_k ReLU(dy/dA_k) * A_k',
  eigencam: 'first principal component of the centred activations, sign-corrected (no gradient)',
  eigengradcam: 'first principal component of the centred dy/dA * A, sign-corrected',
  scorecam: 'alpha_k = softmax over k of the class score of the input masked by channel k (one pass per channel)',
  ablationcam: 'alpha_k = (y - y_k) / y, y_k the class score with channel k zeroed (one pass per channel)',
  'guided-backprop': 'guided back-propagation to the input (ReLUs pass positive gradients only); [N, C, H, W]',
  'guided-gradcam': 'guided back-propagation x the Grad-CAM map; [N, C, H, W]',
} as const;
export type Method = keyof typeof METHOD_HELP;
export const METHODS = Object.keys(METHOD_HELP) as Method[];

/** Methods whose result is an image-shaped gradient at the input, [N, C, H, W]. */
export const GUIDED: readonly Method[] = ['guided-backprop', 'guided-gradcam'];
/** Methods whose map does not depend on the layer. */
export const LAYER_FREE: readonly Method[] = ['guided-backprop'];
/** Methods that use no gradient at all (always stable; SmoothGrad does not apply). */
export const NO_GRADIENT: readonly Method[] = ['cam', 'eigencam', 'scorecam', 'ablationcam'];
/** Methods that need no gradient at the layer. */
export const NO_LAYER_GRADIENT: readonly Method[] = [...NO_GRADIENT, 'guided-backprop'];

/** The methods whose map kernel reads the layer's gradient (CAM: the classifier weight), and their modes. */
export const MODE: Partial<Record<Method, number>> = Object.fromEntries(
  (['gradcam', 'counterfactual', 'cam', 'xgradcam', 'gradcam++', 'hirescam', 'gradcam-elementwise', 'layercam'] as const).map((m) => [m, MAP_MODE[m]]),
);

/** Plan output names: per layer, but one for the methods that do not depend on it. */
export function outputName(method: Method, layer: number): string {
  return LAYER_FREE.includes(method) ? method : `${layer}:${method}`;
}
