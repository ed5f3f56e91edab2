#!/usr/bin/python3
"""Float64 PyTorch reference data for full torchvision architectures.

Run with the system interpreter (torch 1.13 / torchvision 0.14 / onnx 1.12):

    /usr/bin/python3 scripts/make_torchvision_refs.py [--out DIR] [--arch a,b,...]
                                                      [--opsets 9,11,13] [--force]

DIR defaults to <repo>/.cache/references/torchvision. No pretrained weights are
used (no network): every model is built with seeded random weights, then
"calibrated" (see calibrate()) so that activations stay O(1) through the whole
depth and BatchNorm folding is really exercised.

Output, per arch and opset (one "case" = one folder <DIR>/<arch>-op<opset>/ and
its model <DIR>/<arch>-op<opset>.onnx beside it):
    <arch>-op<opset>.onnx  torch.onnx.export of the float32 model (input 'input',
                 output 'logits', static shapes, do_constant_folding=True,
                 TrainingMode.PRESERVE: BatchNormalization nodes stay in the
                 graph, unfolded, for the engine to fold in float64), its
                 initializers of 1 KiB and more in ONNX external data:
    <arch>.weights  one file per arch that its opsets' models share (the
                 weights are the same bytes at every opset; a third of the
                 disk: 1.7 GB instead of 5.2 GB for the fourteen archs)
    input.npy    float32 [2,3,H,W]  (seeded N(0,1))
    logits.npy   float64 [2,1000]   (float64 copy of the model on the input)
    meta.json    written LAST (atomically); its presence marks the case done:
                 {"arch","opset","input_shape","output_shape","seed",
                  "f32_vs_f64_logits_rel","gradcam_tags","onnx_op_types",
                  "onnx_node_count","logits_std","notes"}
Grad-CAM references (opset 13 only) in <DIR>/<arch>-op13/gradcam/<tag>/ with
tag in {mid,last}:
    activation.npy float64 [2,K,h,w]  output of the target layer
    grad.npy       float64 [2,K,h,w]  d(sum_i logits[i,c_i]) / d activation
    gradcam_raw.npy, gradcam_norm.npy                 float64 [2,H,W]
    counterfactual_raw.npy, counterfactual_norm.npy   float64 [2,H,W]
    cam_raw.npy, cam_norm.npy  (only when meta "cam" is true)
    meta.json  {"arch","opset","tag","module","layer_tensor","layer_node",
                "layer_op_type","layer_shape","classes","class_selection","scores",
                "input_shape","cam","cam_linear","counterfactual_identically_zero",
                "f32_vs_f64_gradcam_rel","f32_vs_f64_gradcam_rel_l2",
                "f32_vs_f64_activation_rel","f32_vs_f64_grad_rel",
                "f32_vs_f64_grad_rel_l2"}
Classes: one per image, seeded, chosen so the maps are not degenerate (see
select_classes()). raw = relu(sum_k alpha_k A_k) resized with
F.interpolate(mode='bilinear', align_corners=False) to H x W;
norm = per image (raw - min) / (max - min), zeros where max == min (no epsilon:
the normalized map does not depend on the map's magnitude).
Every layer also has FEM (fem_raw/norm). On FAMILY_ARCHS: finercam, fullgrad and dff (last
layer), gradcam_smoothaug (--smooth-aug: raw, and the mean of the copies' normalized maps),
gradcam_smootheigen and layercam_smootheigen (--smooth-eigen), and in gradcam/refinecam/ RefineCAM
over both layers (refinecam_raw/norm, meta.json with its layers and limits' figures).
"""
import argparse
import copy
import hashlib
import json
import os
import shutil
import sys
import time
import warnings
import zlib

import numpy as np

import float32_error_model as f32model
from float32_error_model import rel
from make_op_fixtures import dff_reference, fem_threshold, fem_weights, finer_scores, fullgrad

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, ".cache", "references", "torchvision")
DEFAULT_ARCHS = ("resnet18,resnet50,vgg11_bn,vgg16,alexnet,squeezenet1_1,mobilenet_v2,"
                 "mobilenet_v3_small,efficientnet_b0,densenet121,googlenet,"
                 "shufflenet_v2_x0_5,regnet_x_400mf,convnext_tiny").split(",")

# Per-arch configuration.
#   hw:   input H, W. Deliberately varied (W>H and H>W, some sizes that are not
#         multiples of 32) so that transposed-dimension and padding bugs show.
#   mid / last: Grad-CAM target. A qualified module name whose forward output is
#         hooked, or ("relu_after", name): the functional F.relu applied to that
#         module's output in the model's forward (densenet: F.relu(features)).
#   cam:  qualified name of the single Linear after GAP(+flatten) that makes
#         CAM possible for the "last" target, or None when the head is not
#         GAP -> (flatten) -> one Linear.
ARCHS = {
    "resnet18": dict(hw=(160, 192), mid="layer2", last="layer4", cam="fc"),
    "resnet50": dict(hw=(176, 144), mid="layer2", last="layer4", cam="fc"),
    # VGG/AlexNet: AdaptiveAvgPool2d((7,7)) / ((6,6)) is exported by torch.onnx
    # only when the feature map is a multiple of the output size, i.e. the
    # plain-AveragePool case. 224x448 gives a 7x14 feature map for VGG;
    # 224x416 gives 6x12 for AlexNet (smallest non-square size that works).
    "vgg11_bn": dict(hw=(224, 448), mid="features.20", last="features", cam=None,
                     note="224x448: VGG AdaptiveAvgPool2d((7,7)) only exports for feature "
                          "maps that are multiples of 7 (7x14 here -> AveragePool k=(1,2))."),
    "vgg16": dict(hw=(224, 448), mid="features.22", last="features", cam=None,
                  note="224x448: VGG AdaptiveAvgPool2d((7,7)) only exports for feature "
                       "maps that are multiples of 7 (7x14 here -> AveragePool k=(1,2))."),
    "alexnet": dict(hw=(224, 416), mid="features.7", last="features", cam=None,
                    note="224x416: AlexNet AdaptiveAvgPool2d((6,6)) only exports for feature "
                         "maps that are multiples of 6 (6x12 here -> AveragePool k=(1,2))."),
    "squeezenet1_1": dict(hw=(161, 193), mid="features.7", last="classifier.2", cam=None,
                          # d logit_c / dA = 1/(h*w) on channel c only, A >= 0: the
                          # counterfactual map of 'last' is identically zero.
                          cf_trivial=("last",),
                          note="161x193: odd sizes exercise ceil_mode MaxPool. 'last' is the "
                               "ReLU after the final 1x1 classifier conv (input of the final "
                               "pooling); no CAM (no Linear head); the counterfactual map of "
                               "'last' is identically zero by construction."),
    "mobilenet_v2": dict(hw=(192, 160), mid="features.6", last="features", cam="classifier.1"),
    "mobilenet_v3_small": dict(hw=(160, 192), mid="features.6", last="features", cam=None,
                               note="no CAM: head has a hidden Linear+Hardswish."),
    "efficientnet_b0": dict(hw=(192, 160), mid="features.4", last="features", cam="classifier.1"),
    "densenet121": dict(hw=(160, 192), mid="features.denseblock2",
                        last=("relu_after", "features"), cam="classifier",
                        note="'last' is the functional F.relu(features) in DenseNet.forward "
                             "(ONNX node '/Relu' fed by norm5); the reference forward is "
                             "re-implemented to hook it (checked equal to model(x))."),
    "googlenet": dict(hw=(192, 160), mid="inception4c", last="inception5b", cam="fc",
                      note="built with aux_logits=False, init_weights=True."),
    "shufflenet_v2_x0_5": dict(hw=(150, 200), mid="stage3", last="conv5", cam="fc",
                               note="head is x.mean([2,3]) (ReduceMean in ONNX) -> fc, i.e. GAP, "
                                    "so CAM applies."),
    "regnet_x_400mf": dict(hw=(160, 192), mid="trunk_output.block2", last="trunk_output",
                           cam="fc"),
    "convnext_tiny": dict(hw=(160, 192), mid="features.3", last="features", cam=None,
                          note="no CAM: head is LayerNorm2d -> Flatten -> Linear. "
                               "layer_scale (init 1e-6 in torchvision) re-drawn U(0.1,0.4) so "
                               "the blocks actually contribute."),
}

# Guided back-propagation runs the backward pass through the whole net, in the references and in the
# engine's test: every architecture but VGG-16, the large ones (VGG-11, AlexNet, ResNet-50, DenseNet-121,
# ConvNeXt) included. VGG-16's would add 2.5 minutes of float64 backward passes at 224x448 to the suite;
# VGG-11 has the same kinds of layers.
GUIDED_ARCHS = tuple(a for a in ARCHS if a != "vgg16")
# Ablation-CAM's passes after the last layer go through the classifier once per channel: for the VGGs
# and AlexNet that is 512 (256) copies through their 25088 (9216) x 4096 dense layers per image, about
# 100 GFLOP a case, which the suite's time cannot afford on a CPU adapter; ResNet-50's 2048 channels
# cost a minute of the rounding model's runs, and ResNet-18 has the same head.
NO_ABLATION_ARCHS = ("vgg11_bn", "vgg16", "alexnet", "resnet50")
# Exact Hessian-vector products (Model.hessianVectorProduct, ShapleyCAM) of the ReST target at a layer
# with no ReLU, ReLU6 or max-pool decision within float32's reach between it and the score (the decision
# analysis): a flipped decision moves dy/dA and H A locally by O(1), as it moves the gradient, and no
# limit of a tensor can allow for that. efficientnet_b0's middle layer (SiLU and squeeze-excitation: the
# second-order terms), the heads of VGG-11 (dense layers with ReLU), ResNet-18, RegNet and DenseNet (the
# functional F.relu). At the middle layers of ResNet-18, MobileNet-V2, DenseNet, GoogLeNet, ShuffleNet and
# VGG-11 such decisions lie within 1e-7 to 6e-7 of their kinks, and PyTorch's float32 itself lands up to
# 7e-2 away there.
HVP_TAGS = {"resnet18": "last", "vgg11_bn": "last", "efficientnet_b0": "mid", "regnet_x_400mf": "last", "densenet121": "last"}
HVP_STEPS = (1e-6, 1e-7)
# The methods that cost the suite passes of their own (FinerCAM's target, FullGrad's backward through the
# whole network, --smooth-aug's six copies, --smooth-eigen's second call) or a factorization (DFF), and
# RefineCAM over both layers, on three architectures that cover the kinds of layer between them:
# ResNet-18 (ReLU, max-pool, BatchNorm, residual adds), MobileNet-V2 (depthwise convs, ReLU6) and
# EfficientNet-B0 (SiLU, squeeze-excitation's sigmoid gates and biased 1x1 convs), each with the
# GAP -> Linear head that DFF scores its concepts with. FEM costs nothing more and runs everywhere.
FAMILY_ARCHS = ("resnet18", "mobilenet_v2", "efficientnet_b0")
# Where float32 itself moves RefineCAM's product by this share of its max, no limit could hold it.
REFINE_UNPINNED = 0.1
# --smooth-aug's copies (pytorch-grad-cam's aug_smooth: ttach's HorizontalFlip x Multiply [0.9, 1, 1.1]).
AUGMENTATIONS = tuple((flip, factor) for flip in (False, True) for factor in (0.9, 1.0, 1.1))
HVP_DIFFERENCE_LIMIT = 1e-6
OPSETS_DEFAULT = (9, 11, 13)
# Bumped whenever the references change meaning; cached cases of another version are regenerated.
GENERATOR_VERSION = 12
GRADCAM_OPSET = 13
BATCH = 2


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Fail(Exception):
    pass


def arch_seed(arch):
    """Fixed per-arch seed (crc32 of the name: stable across runs/orders)."""
    return zlib.crc32(arch.encode()) % 100000


# ----------------------------------------------------------------------------
# Model construction and randomisation
# ----------------------------------------------------------------------------

def build_model(torch, torchvision, arch, seed):
    """The architecture with torchvision's seeded initialisation, drawn in float64: torch's float32
    normal_ takes a vectorised path on AVX2 builds and a scalar one elsewhere, so float32 draws differ
    between machines in the last bits; float64 draws are the same everywhere."""
    torch.manual_seed(seed)
    kw = dict(aux_logits=False, init_weights=True) if arch == "googlenet" else {}
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = getattr(torchvision.models, arch)(weights=None, **kw)
    finally:
        torch.set_default_dtype(default)
    model.eval()
    # In-place activations would overwrite hooked outputs (and break
    # retain_grad); the exported graph is identical either way.
    for m in model.modules():
        if hasattr(m, "inplace") and isinstance(getattr(m, "inplace"), bool):
            m.inplace = False
    return model


def calibrate(torch, model, xcal, seed):
    """Seeded randomisation of all BN / LN / bias / layer-scale parameters and a
    data-dependent rescaling so the random net is numerically healthy.

    Why: torchvision's random init (kaiming fan_out, BN running stats 0/1,
    residual sums) makes the eval-mode activations of deep nets grow by orders
    of magnitude (resnet50, densenet) or vanish (vgg/squeezenet final layers,
    convnext layer_scale=1e-6 makes every block a near-identity). So ONE
    float64 forward pass (float64 so that the result is the same on every
    machine: float32 kernels round differently per instruction set) over a separate seeded calibration batch is run with
    hooks, in execution order:
      * every Conv2d / Linear: output rescaled to unit std (weight /= s) and its
        bias (if it has one) re-drawn ~ N(0, 0.1) (LSUV-style init);
      * every BatchNorm2d: running stats set from the batch statistics of its
        actual input and then perturbed:
          running_mean = mean + N(0, 0.1) * std,  running_var = var * U(0.5, 2),
        weight ~ U(0.5, 1.5), bias ~ N(0, 0.1).
        (i.e. the brief's N(0,0.1)/U(0.5,2) perturbation, but relative to the
        true statistics so depth does not blow up; the stats are far from 0/1,
        so folding BN into Conv is really exercised);
      * every LayerNorm / LayerNorm2d: weight ~ U(0.5, 1.5), bias ~ N(0, 0.1);
      * convnext layer_scale ~ U(0.1, 0.4) per channel.
    Each hook returns the already-rescaled output, so downstream layers see
    exactly what the final model computes.
    """
    nn = torch.nn
    g = torch.Generator().manual_seed(seed + 7)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=torch.float64)

    hooks = []
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                m.weight.copy_(0.5 + rand(*m.weight.shape))
                m.bias.copy_(0.1 * randn(*m.bias.shape))
            if hasattr(m, "layer_scale") and isinstance(m.layer_scale, nn.Parameter):
                m.layer_scale.copy_(0.1 + 0.3 * rand(*m.layer_scale.shape))

    def lin_hook(m, inp, out):
        with torch.no_grad():
            if m.bias is not None:
                shape = [1, -1] + [1] * (out.dim() - 2) if isinstance(m, nn.Conv2d) else [-1]
                z = out - m.bias.view(*shape)
            else:
                z = out
            s = float(z.std())
            if not np.isfinite(s) or s <= 0:
                raise Fail("calibration: degenerate output std %r" % s)
            m.weight.div_(s)
            z = z / s
            if m.bias is not None:
                m.bias.copy_(0.1 * randn(*m.bias.shape))
                z = z + m.bias.view(*shape)
        return z

    def bn_pre_hook(m, inp):
        x = inp[0]
        with torch.no_grad():
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False)
            c = mean.numel()
            m.running_mean.copy_(mean + 0.1 * randn(c) * torch.sqrt(var + m.eps))
            m.running_var.copy_(var * (0.5 + 1.5 * rand(c)))
            m.weight.copy_(0.5 + rand(c))
            m.bias.copy_(0.1 * randn(c))

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, nn.BatchNorm2d):
            hooks.append(m.register_forward_pre_hook(bn_pre_hook))
    try:
        with torch.no_grad():
            model(xcal)
    finally:
        for h in hooks:
            h.remove()


# ----------------------------------------------------------------------------
# ONNX helpers
# ----------------------------------------------------------------------------

def scope_prefix(qualname):
    comps = []
    for part in qualname.split("."):
        if part.isdigit() and comps:
            comps.append(comps[-1] + "." + part)
        else:
            comps.append(part)
    return "/" + "/".join(comps) + "/"


def find_layer_tensor(onnx, graph, inferred_shapes, target, want_shape):
    """Return (tensor, node_name, op_type) of the ONNX value that equals the
    target's output, verified by (a) it being the ONLY value produced inside
    the module scope that is consumed outside it, (b) it being produced by the
    last node of the scope in graph order, (c) inferred shape == want_shape."""
    if isinstance(target, tuple):
        kind, qual = target
    else:
        kind, qual = "module", target
    prefix = scope_prefix(qual)
    nodes = list(graph.node)
    in_scope = [i for i, n in enumerate(nodes) if n.name.startswith(prefix)]
    if not in_scope:
        raise Fail("no ONNX node in scope %s" % prefix)
    produced = {}
    for i in in_scope:
        for o in nodes[i].output:
            produced[o] = i
    graph_outputs = {o.name for o in graph.output}
    escaping = set()
    for j, n in enumerate(nodes):
        if n.name.startswith(prefix):
            continue
        for t in n.input:
            if t in produced:
                escaping.add(t)
    escaping |= (set(produced) & graph_outputs)
    last = nodes[in_scope[-1]]
    if len(escaping) != 1 or next(iter(escaping)) != last.output[0]:
        raise Fail("scope %s: escaping values %s, last node %s -> ambiguous"
                   % (prefix, sorted(escaping), last.name))
    tensor, node = last.output[0], last
    if kind == "relu_after":
        consumers = [n for n in nodes if tensor in n.input]
        if len(consumers) != 1 or consumers[0].op_type != "Relu":
            raise Fail("relu_after %s: consumers %s" % (qual, [c.op_type for c in consumers]))
        node = consumers[0]
        tensor = node.output[0]
    shape = inferred_shapes.get(tensor)
    if shape != list(want_shape):
        raise Fail("layer tensor %s: inferred shape %s != activation shape %s"
                   % (tensor, shape, list(want_shape)))
    return tensor, node.name, node.op_type


def inferred_value_shapes(onnx, model_proto):
    inf = onnx.shape_inference.infer_shapes(model_proto)
    shapes = {}
    for vi in list(inf.graph.value_info) + list(inf.graph.output) + list(inf.graph.input):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None
                               for d in t.shape.dim]
    return shapes


# ----------------------------------------------------------------------------
# Forward with hooks / Grad-CAM
# ----------------------------------------------------------------------------

def forward_capture(torch, model, arch, x, targets, recorder=None, replace=None):
    """Run model(x) (params must not require grad) capturing the output of each
    target (dict tag -> target). The FIRST target reached in execution order is
    replaced by a detached copy that requires grad (same values), so autograd
    only records the part of the net after it (no backward through the early
    layers); later targets are ordinary graph nodes. Returns
    (logits, {tag: tensor}). With a DecisionRecorder, its `marks` get, per
    tag, the number of decisions recorded before the tag's capture. `replace` (the central
    differences of the Hessian's references) maps the first target's output before its capture."""
    F = torch.nn.functional
    caps = {}
    versions = {}
    hooks = []

    def capture(tag, out):
        if tag in caps:
            raise Fail("module for target %s called more than once" % tag)
        if not isinstance(out, torch.Tensor) or out.dim() != 4:
            raise Fail("target %s output is not a 4D tensor" % tag)
        if not out.requires_grad:
            out = (out if replace is None else replace(out)).detach().requires_grad_(True)
        caps[tag] = out
        versions[tag] = out._version
        if recorder is not None:
            recorder.marks[tag] = len(recorder.records)
        return out

    for tag, target in targets.items():
        if isinstance(target, tuple):
            continue
        mod = model.get_submodule(target)
        hooks.append(mod.register_forward_hook(lambda m, i, o, tag=tag: capture(tag, o)))
    functional = {tag: t for tag, t in targets.items() if isinstance(t, tuple)}
    try:
        if functional:
            if arch != "densenet121" or any(t != ("relu_after", "features")
                                            for t in functional.values()):
                raise Fail("unsupported functional target %s" % functional)
            # Re-implementation of torchvision DenseNet.forward exposing
            # the F.relu output (checked equal to model(x) by the caller).
            feats = model.features(x)
            out = F.relu(feats)
            for tag in functional:
                out = capture(tag, out)
            out = F.adaptive_avg_pool2d(out, (1, 1))
            out = torch.flatten(out, 1)
            logits = model.classifier(out)
        else:
            logits = model(x)
    finally:
        for h in hooks:
            h.remove()
    for tag in targets:
        if tag not in caps:
            raise Fail("target %s was not captured" % tag)
        if caps[tag]._version != versions[tag]:
            raise Fail("target %s output was modified in place after capture" % tag)
    return logits, caps


def rest_score(torch, logits, classes):
    """ClassifierOutputReST summed over the images: the class logit minus the cross-entropy."""
    rows, c = torch.arange(len(classes)), torch.tensor(classes)
    return (logits[rows, c] + logits.log_softmax(-1)[rows, c]).sum()


def hvp_reference(torch, model, arch, x, target, classes):
    """dy/dA and (d^2 y / dA^2) A at `target` (ShapleyCAM's direction, y the ReST target) by double
    back-propagation, and the largest difference, relative to max |H A|, from central differences of the
    gradient in float64 along A, per step tried (HVP_STEPS times A, until one agrees)."""
    for p in model.parameters():
        p.requires_grad_(False)

    def gradient(scale, create_graph=False):
        logits, caps = forward_capture(torch, model, arch, x, {"t": target}, replace=lambda a: a * scale)
        (g,) = torch.autograd.grad(rest_score(torch, logits, classes), caps["t"], create_graph=create_graph)
        return caps["t"], g

    a, g = gradient(1.0, create_graph=True)
    (hv,) = torch.autograd.grad(g, a, grad_outputs=a.detach())
    agreement = {}
    for step in HVP_STEPS:
        difference = (gradient(1 + step)[1] - gradient(1 - step)[1]) / (2 * step)
        agreement[step] = float((difference - hv).abs().max()) / float(hv.abs().max())
        if agreement[step] <= HVP_DIFFERENCE_LIMIT:
            break
    return a.detach(), g.detach(), hv.detach(), agreement


def maps_from(torch, A, weights, H, W, rounding=None):
    """weights: [2,K]. relu(sum_k w_k A_k) -> bilinear resize -> (raw, norm)."""
    return resized_maps(torch, weights[:, :, None, None] * A, H, W, rounding)


def resized_maps(torch, terms, H, W, rounding=None):
    """terms: [2,K,h,w], summed over the channels per position; relu -> bilinear resize -> (raw,
    norm). rounding(terms), in the float32 rounding model's runs, is the map kernel's own summation
    error (float32_error_model.sum_rounding)."""
    F = torch.nn.functional
    summed = terms.sum(dim=1)
    if rounding is not None:
        summed = summed + rounding(terms)
    m = torch.relu(summed)
    return with_normalized(torch, F.interpolate(m[:, None], size=(H, W), mode="bilinear", align_corners=False)[:, 0])


def with_normalized(torch, raw):
    """(raw, its normalized map): the pair every method's reference is."""
    return raw, normalized(torch, raw)


def normalized(torch, raw):
    """Per image (raw - min) / (max - min), zeros where max == min."""
    mn = raw.amin(dim=(1, 2), keepdim=True)
    mx = raw.amax(dim=(1, 2), keepdim=True)
    span = mx - mn
    return torch.where(span > 0, (raw - mn) / torch.where(span > 0, span, torch.ones_like(span)),
                       torch.zeros_like(raw))


def eigen_projection(torch, v):
    """pytorch-grad-cam's 2-D projection, [N, h, w]: per image the positions x channels matrix with each
    channel centred, projected on its first right singular vector, the sign flipped where |min| > |max|
    (an SVD's sign is arbitrary)."""
    out = []
    for a in v:
        X = a.reshape(a.shape[0], -1).T
        X = X - X.mean(0, keepdim=True)
        _, _, VT = torch.linalg.svd(X, full_matrices=False)
        p = X @ VT[0]
        out.append((-p if -p.min() > p.max() else p).reshape(a.shape[1:]))
    return torch.stack(out)


def kpca_projection(torch, v):
    """KPCA-CAM's projection, [N, h, w] (pytorch-grad-cam with scikit-learn's KernelPCA: one component, the
    sigmoid kernel tanh(<x, y> / channels + 1)): per image the positions x channels matrix with each channel
    centred, its kernel matrix centred in feature space, the top eigenvector scaled by sqrt(lambda_1), its
    largest |entry| made positive (scikit-learn's sign)."""
    out = []
    for a in v:
        X = a.reshape(a.shape[0], -1).T
        X = X - X.mean(0, keepdim=True)
        K = torch.tanh(X @ X.T / X.shape[1] + 1)
        K = K - K.mean(0, keepdim=True) - K.mean(1, keepdim=True) + K.mean()
        values, vectors = torch.linalg.eigh(K)
        u = vectors[:, -1]
        u = -u if u[u.abs().argmax()] < 0 else u
        out.append((u * values[-1].clamp(min=0).sqrt()).reshape(a.shape[1:]))
    return torch.stack(out)


def method_maps(torch, A, dA, cam_weights, H, W, rounding=None, family=False):
    """{method: (raw, norm)} of every method that applies to the layer (A, dA): the gradient methods
    by their definitions, with pytorch-grad-cam's epsilons, FEM, where the layer feeds a GAP ->
    Linear head, CAM, and with `family` --smooth-eigen of Grad-CAM and LayerCAM (the first principal
    component of the channels' terms instead of their sum)."""
    A, dA = A.detach(), dA.detach()
    alpha = dA.mean(dim=(2, 3))
    sum_a = A.sum(dim=(2, 3))
    g2 = dA * dA
    aij = g2 / (2 * g2 + sum_a[:, :, None, None] * (g2 * dA) + 1e-6)
    aij = torch.where(dA != 0, aij, torch.zeros_like(aij))
    r = rounding
    maps = {"gradcam": maps_from(torch, A, alpha, H, W, r),
            "counterfactual": maps_from(torch, A, -alpha, H, W, r),
            "xgradcam": maps_from(torch, A, (dA * A).sum(dim=(2, 3)) / (sum_a + 1e-7), H, W, r),
            "gradcam++": maps_from(torch, A, (torch.relu(dA) * aij).sum(dim=(2, 3)), H, W, r),
            "hirescam": resized_maps(torch, dA * A, H, W, r),
            "gradcam-elementwise": resized_maps(torch, torch.relu(dA * A), H, W, r),
            "layercam": resized_maps(torch, torch.relu(dA) * A, H, W, r),
            # one term per position: the projection itself goes through the ReLU and the resize
            "eigencam": resized_maps(torch, eigen_projection(torch, A)[:, None], H, W, r),
            "eigengradcam": resized_maps(torch, eigen_projection(torch, dA * A)[:, None], H, W, r),
            "segeigencam": resized_maps(torch, eigen_projection(torch, dA.abs() * A)[:, None], H, W, r),
            "kpcacam": resized_maps(torch, kpca_projection(torch, A)[:, None], H, W, r),
            "fem": maps_from(torch, A, fem_weights(A)[0].to(A.dtype), H, W, r)}
    if family:
        maps["gradcam_smootheigen"] = resized_maps(torch, eigen_projection(torch, alpha[:, :, None, None] * A)[:, None], H, W, r)
        maps["layercam_smootheigen"] = resized_maps(torch, eigen_projection(torch, torch.relu(dA) * A)[:, None], H, W, r)
    if cam_weights is not None:
        maps["cam"] = maps_from(torch, A, cam_weights, H, W, r)
    return maps


def ablation_weights(torch, model, cfg, x, logits, classes, K):
    """Ablation-CAM's channel weights at the 'last' target, [2, K]: (y - y_k) / y, y_k the class score with
    channel k of the layer set to zero (Desai & Ramaswamy). Per image one forward pass whose target
    output is replaced by K copies, copy k with channel k zeroed: the part after every last target is
    pooling and a classifier, which takes any batch. DenseNet's last target is the F.relu after
    `features`; zeroing `features`' channel before it is the same (ReLU is per element, ReLU(0) = 0)."""
    target = cfg["last"]
    module = model.get_submodule(target if isinstance(target, str) else target[1])

    def ablate(m, i, out):
        if out.shape[0] != 1:
            raise Fail("ablation expects one image per pass")
        out = out.repeat(K, 1, 1, 1)
        out[torch.arange(K), torch.arange(K)] = 0
        return out

    rows = []
    for n, c in enumerate(classes):
        hook = module.register_forward_hook(ablate)
        try:
            with torch.no_grad():
                yk = model(x[n:n + 1])[:, c]
        finally:
            hook.remove()
        y = logits[n, c].detach()
        rows.append((y - yk) / y)
    return torch.stack(rows)


def guided_backprop(torch, model, x, classes):
    """d(sum_i logits[i, c_i]) / d x with every ReLU passing gradient only where its input and the
    incoming gradient are both positive (Springenberg et al.); every other op, ReLU6 and Hardswish
    included, keeps its ordinary gradient. x's dtype sets the precision."""
    F = torch.nn.functional

    class GuidedRelu(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t.clamp(min=0)

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * ((t > 0) & (g > 0)).to(g.dtype)

    relu = F.relu
    F.relu = lambda t, inplace=False: GuidedRelu.apply(t)
    try:
        for p in model.parameters():
            p.requires_grad_(False)
        x = x.detach().requires_grad_(True)
        logits = model(x)
        (g,) = torch.autograd.grad(sum(logits[i, c] for i, c in enumerate(classes)), x)
    finally:
        F.relu = relu
    return g.detach()


def guided_picture(torch, g):
    """The papers' picture of a gradient image, per image: standardized, x0.1, +0.5, clipped to
    [0, 1]; computed on g / max|g| so that it does not depend on the gradient's scale (0.5 where
    the image is constant)."""
    m = g.abs().flatten(1).amax(1).view(-1, 1, 1, 1)
    s = g / torch.where(m > 0, m, torch.ones_like(m))
    mean = s.mean(dim=(1, 2, 3), keepdim=True)
    std = s.std(dim=(1, 2, 3), unbiased=False, keepdim=True)
    safe = torch.where(std > 0, std, torch.ones_like(std))
    return torch.where(std > 0, ((s - mean) / safe * 0.1 + 0.5).clamp(0, 1), torch.full_like(s, 0.5))


def guided_maps(torch, g, gradcam_raw):
    """{method: (raw, picture)} of guided back-propagation and Guided Grad-CAM (the guided gradient
    times the Grad-CAM map after ReLU and resize, broadcast over the channels)."""
    product = g * gradcam_raw.to(g.dtype)[:, None]
    return {"guided-backprop": (g, guided_picture(torch, g)),
            "guided-gradcam": (product, guided_picture(torch, product))}


def fem_kink_effect(torch, A, raw, reach):
    """FEM's kink effect at a layer: every activation whose distance to its channel's threshold (mean + 2
    population std; constant channels excepted, they equal it in any precision) is within `reach` of the
    layer's largest |A| may count the other way, moving its channel's weight by 1 / positions and the
    map, per image, by at most the sum over those activations of their channel's max |A| / positions
    (the ReLU and the bilinear resize do not enlarge a change). Returns ({"raw", "norm"}, how many)."""
    positions = A[0, 0].numel()
    threshold, varying = fem_threshold(A)
    close = ((A - threshold).abs() < reach * float(A.abs().max())) & varying
    moved = (close.sum((2, 3)) * A.abs().amax((2, 3)) / positions).sum(1)
    span = raw.flatten(1).amax(1) - raw.flatten(1).amin(1)
    norm = torch.where(span > 2 * moved, 2 * moved / (span - 2 * moved), torch.ones_like(span))
    return {"raw": float(moved.max()) / float(raw.abs().max()), "norm": float(norm.max())}, int(close.sum())


def fullgrad_references(torch, model32, model64, x32, x64, classes, seed):
    """FullGrad (make_op_fixtures.fullgrad: pytorch-grad-cam's definition) in float64, in PyTorch's float32
    and under the rounding model. Its backward pass crosses the whole network, like guided
    back-propagation's: the decision analysis (layer to score) does not cover it."""
    ref = with_normalized(torch, fullgrad(model64, x64, classes)[0])
    runs = f32model.float32_model_runs(torch, model64, lambda m: {"map": fullgrad(m, x64, classes)[0]}, seed + 80)["map"]
    f32 = fullgrad(model32, x32, classes)[0].double()
    return {"ref": ref, "float32": errors_of([with_normalized(torch, f32)], ref),
            "model": errors_of([with_normalized(torch, r) for r in runs], ref)}


def errors_of(pairs, ref):
    """The largest relative error of the raw maps and absolute error of the normalized maps, of (raw, norm)
    pairs against the (raw, norm) ref: the figures the test's limits are made of."""
    return {"raw": max(rel(p[0], ref[0]) for p in pairs), "norm": max(f32model.max_abs(p[1], ref[1]) for p in pairs)}


def dff_references(torch, model64, cfg, r64, r32, classes, H, W):
    """DFF at the last layer (make_op_fixtures.dff_reference: the engine's start and steps in float64), its
    chosen concept's map. Its float32 figure is the same steps in float32 from PyTorch's float32 layer,
    which stands for the rounding model (NMF's 200 steps are not run under it). None where the concept's
    choice lies within float32's reach: its lead over the runner-up's score within REACH_FACTOR times the
    float32 steps' deviation of the scores."""
    head = model64.get_submodule(cfg["cam"])
    ref, ref32 = dff_reference(r64["last"][0], head, classes), dff_reference(r32["last"][0], head, classes, np.float32)
    deviation = max(rel(q["scores"], r["scores"]) for r, q in zip(ref, ref32))
    if [r["chosen"] for r in ref] != [r["chosen"] for r in ref32] or min(r["lead"] for r in ref) <= f32model.REACH_FACTOR * deviation:
        log("DFF left out: the concept's choice lies within float32's reach")
        return None
    chosen = lambda rs: resized_maps(torch, torch.stack([r["H"][r["chosen"]] for r in rs])[:, None], H, W)
    maps = chosen(ref)
    errors = errors_of([chosen(ref32)], maps)
    return {"ref": maps, "float32": errors, "model": errors}


def smooth_aug_references(torch, model32, model64, arch, x32, x64, targets, classes, H, W, seed):
    """{tag: --smooth-aug of Grad-CAM}: the maps of the six augmented copies (AUGMENTATIONS), mirrored back
    where the copy was mirrored, averaged: the raw maps, and the normalized maps (the mean of the copies'
    normalized maps, as pytorch-grad-cam averages them). Each copy has its own rounding-model runs and
    decision analysis; the kink effect of the mean is the mean of the copies' (in absolute terms)."""
    per_tag = {t: {"ref": [], "float32": [], "runs": [[] for _ in range(f32model.MODEL_RUNS)], "kink_raw": 0.0,
                   "kink_norm": 0.0, "within": 0} for t in targets}
    for i, (flip, factor) in enumerate(AUGMENTATIONS):
        back = (lambda m: m.flip(-1)) if flip else (lambda m: m)

        def copy_maps(model, x, rounding=None, recorder=None):
            augmented = (x.flip(-1) if flip else x) * factor
            _, res, _, _ = gradcam_run(torch, model, arch, augmented, targets, classes=classes, recorder=recorder)
            return {t: maps_from(torch, res[t][0], res[t][1].mean(dim=(2, 3)), H, W, rounding) for t in targets}
        with f32model.DecisionRecorder(torch) as rec:
            base = copy_maps(model64, x64, recorder=rec)
        noise = torch.Generator().manual_seed(seed + 90 + i)
        noisy = f32model.float32_model_runs(torch, model64, lambda m: copy_maps(m, x64, f32model.sum_rounding(torch, noise)),
                                            seed + 90 + i)
        analysis = decision_analyses(torch, rec, targets, noisy["decisions"],
                                     lambda tag, A, dA: {"gradcam": maps_from(torch, A, dA.mean(dim=(2, 3)), H, W)})
        f32 = copy_maps(model32, x32)
        for t, acc in per_tag.items():
            acc["ref"].append([back(m) for m in base[t]])
            acc["float32"].append([back(m.double()) for m in f32[t]])
            for r, run in enumerate(noisy[t]):
                acc["runs"][r].append([back(m) for m in run])
            effect = analysis[t]["kink_effect"]["gradcam"]
            acc["kink_raw"] += effect["raw"] * float(base[t][0].abs().max())
            acc["kink_norm"] += effect["norm"]
            acc["within"] += analysis[t]["decisions_within_reach"]
    mean = lambda copies: tuple(torch.stack([c[k] for c in copies]).mean(0) for k in (0, 1))
    out = {}
    for t, acc in per_tag.items():
        maps = mean(acc["ref"])
        out[t] = {"ref": maps, "float32": errors_of([mean(acc["float32"])], maps),
                  "model": errors_of([mean(run) for run in acc["runs"]], maps),
                  "kink": {"raw": acc["kink_raw"] / (len(AUGMENTATIONS) * float(maps[0].abs().max())),
                           "norm": acc["kink_norm"] / len(AUGMENTATIONS)},
                  "within": acc["within"]}
    return out


def refine_references(torch, maps64, maps32, noisy, decisions):
    """RefineCAM over the two layers: the product of their normalized Grad-CAM++ maps (each in [0, 1]),
    normalized again. A change d1, d2 of the factors moves the product by at most d1 + d2, and its
    normalization by twice that over the product's range: the kink effect from the layers'. None where
    float32 cannot pin the product (the rounding model's spread or the kink effect reaching
    REFINE_UNPINNED of its max: a middle layer whose Grad-CAM++ is itself float32-unstable, as on
    MobileNet-V2, where the limit would exceed the map)."""
    product = lambda norms: norms[0] * norms[1]
    ref = product([maps64[t]["gradcam++"][1] for t in ("mid", "last")])
    f32 = product([maps32[t]["gradcam++"][1].double() for t in ("mid", "last")])
    runs = [product([noisy[t][r]["gradcam++"][1] for t in ("mid", "last")]) for r in range(f32model.MODEL_RUNS)]
    moved = sum(decisions[t]["kink_effect"]["gradcam++"]["norm"] for t in ("mid", "last"))
    span = float((ref.flatten(1).amax(1) - ref.flatten(1).amin(1)).min())
    maps = with_normalized(torch, ref)
    model, kink = errors_of([with_normalized(torch, r) for r in runs], maps), moved / float(ref.abs().max())
    if max(model["raw"], kink) >= REFINE_UNPINNED:
        log("RefineCAM left out: float32 moves the product by %.2g (rounding) or %.2g (decisions) of its max"
            % (model["raw"], kink))
        return None
    return {"ref": maps, "float32": errors_of([with_normalized(torch, f32)], maps), "model": model,
            "kink": {"raw": kink, "norm": 2 * moved / span},
            "within": sum(decisions[t]["decisions_within_reach"] for t in ("mid", "last"))}


def cam_head_weights(torch, model64, cfg, classes, A, lg64):
    """The classifier rows of the picked classes, [2, K], checked against the logits; None where
    the head is not GAP -> (flatten) -> one Linear."""
    if cfg["cam"] is None:
        return None
    lin = model64.get_submodule(cfg["cam"])
    Wc = lin.weight.detach()[classes]
    if Wc.shape[1] != A.shape[1]:
        raise Fail("CAM weight K %d != activation K %d" % (Wc.shape[1], A.shape[1]))
    # sanity: GAP -> Linear head means mean_hw(sum_k W A) + b == logit
    pre = (Wc[:, :, None, None] * A).sum(1).mean(dim=(1, 2)) + lin.bias.detach()[classes]
    tgt = torch.stack([lg64[i, c] for i, c in enumerate(classes)])
    if float((pre - tgt).abs().max()) > 1e-9 * max(1.0, float(tgt.abs().max())):
        raise Fail("CAM head check failed: %s vs %s" % (pre.tolist(), tgt.tolist()))
    return Wc


def decision_analyses(torch, rec, targets, noisy_inputs, maps_of, score=None):
    """{tag: float32_error_model.decision_analysis(...)} of the float64 forward that `rec` recorded
    (gradcam_run with a recorder keeps its score and captured layers there), for the maps
    maps_of(tag, A, dA) and the recorded class score or another `score` of the same forward."""
    y, caps = rec.score if score is None else score, rec.caps
    reach = f32model.decision_reach(torch, rec.records, noisy_inputs)
    out = {}
    for tag in targets:
        A = caps[tag]
        maps = lambda dA, A=A, tag=tag: maps_of(tag, A.detach(), dA)
        out[tag] = f32model.decision_analysis(torch, rec.records, reach, y, A, rec.marks[tag], maps)
    return out


def tensor_digest(tensors):
    """Float64 count, sum, sum of |.| and sum of squares: equal on every machine when the generator
    is deterministic, and compared with test/torchvision-digests.json by the test."""
    a = np.concatenate([t.detach().double().numpy().ravel() for t in tensors])
    return {"count": int(a.size), "sum": float(a.sum()), "abs_sum": float(np.abs(a).sum()),
            "sq_sum": float((a * a).sum())}


def class_maps_positive_fraction(torch, A, dA, i):
    """Fraction of the h x w positions where the (pre-resize) Grad-CAM and the
    counterfactual map of image i are > 0."""
    s = (dA[i].mean(dim=(1, 2))[:, None, None] * A[i]).sum(0)
    return float((s > 0).double().mean()), float((s < 0).double().mean())


def select_classes(torch, logits, caps, seed, cf_trivial, n_cand=32, thr=0.1):
    """Seeded class choice, one per image, avoiding degenerate maps.

    With random weights the sign of sum_k alpha_k A_k is often the same over the
    whole map (all-zero Grad-CAM or all-zero counterfactual), which would make a
    weak reference. Candidates are drawn from seeded permutations of
    range(1000) (generator seed+2, one permutation per image); for each image
    the first candidate whose Grad-CAM and counterfactual maps are both > 0 on
    at least `thr` of the positions, at every target (except tags listed in
    cf_trivial, whose counterfactual is identically zero by construction), is
    taken; if none of the first n_cand qualifies, the one maximizing that
    minimum fraction. The two classes are always different."""
    g = torch.Generator().manual_seed(seed + 2)
    perms = [torch.randperm(1000, generator=g)[:n_cand].tolist() for _ in range(logits.shape[0])]
    tags = list(caps)
    best = [(-1.0, None, None) for _ in perms]  # (score, class, trial)
    for j in range(n_cand):
        cls = [p[j] for p in perms]
        if all(b[0] >= thr for b in best):
            break
        y = sum(logits[i, c] for i, c in enumerate(cls))
        grads = torch.autograd.grad(y, [caps[t] for t in tags], retain_graph=True)
        for i, c in enumerate(cls):
            if best[i][0] >= thr or (i > 0 and c == best[0][1]):
                continue
            fr = []
            for t, dA in zip(tags, grads):
                gp, cp = class_maps_positive_fraction(torch, caps[t].detach(), dA, i)
                fr.append(gp)
                if t not in cf_trivial:
                    fr.append(cp)
            if min(fr) > best[i][0]:
                best[i] = (min(fr), c, j)
    if best[1][1] == best[0][1] or any(b[1] is None for b in best):
        raise Fail("class selection failed")
    return [b[1] for b in best], [b[2] for b in best], [b[0] for b in best]


def gradcam_run(torch, model, arch, x, targets, classes=None, seed=None, cf_trivial=(), recorder=None,
                finer=None):
    """Returns logits, {tag: (A, dA)}, classes, selection-info with
    y = sum_i logits[i, c_i] (classes chosen by select_classes if None). With a
    DecisionRecorder, the graph is kept and y and the captured layers are left in
    recorder.score and recorder.caps. With a dict `finer`, the same forward's FinerCAM target
    (make_op_fixtures.finer_scores) also goes back: finer gets its score, {tag: its dA} under
    "grads" and its choice's margin."""
    for p in model.parameters():
        p.requires_grad_(False)
    logits, caps = forward_capture(torch, model, arch, x, targets, recorder=recorder)
    info = None
    if classes is None:
        classes, trials, fracs = select_classes(torch, logits, caps, seed, cf_trivial)
        info = {"trials": trials, "min_positive_fraction": fracs}
    y = sum(logits[i, c] for i, c in enumerate(classes))
    tags = list(caps)
    if finer is not None:
        scores, margin = finer_scores(logits, classes)
        score = scores.sum()
        grads = torch.autograd.grad(score, [caps[t] for t in tags], retain_graph=True)
        finer.update(score=score, margin=margin, grads={t: g.detach() for t, g in zip(tags, grads)})
    grads = torch.autograd.grad(y, [caps[t] for t in tags], retain_graph=recorder is not None)
    res = {t: (caps[t].detach(), g.detach()) for t, g in zip(tags, grads)}
    if recorder is not None:
        recorder.score, recorder.caps = y, caps
    return logits.detach(), res, classes, info


# ----------------------------------------------------------------------------
# IO
# ----------------------------------------------------------------------------

def save_npy(path, arr):
    arr = np.ascontiguousarray(arr)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    tmp = path + ".tmp.npy"
    np.save(tmp, arr)
    os.replace(tmp, path)


def write_json_atomic(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class SharedWeights:
    """One arch's weights file, shared by the models of its opsets through ONNX external data.

    Each initializer of EXTERNAL_MIN_BYTES or more is written once (the same bytes at another opset
    point at the same offset); smaller ones (shapes, axes) stay in the model. Offsets are 64-byte
    aligned so that a reader may map float tensors in place."""
    EXTERNAL_MIN_BYTES = 1024

    def __init__(self, path):
        self.path = path
        self.file = open(path, "wb")
        self.at = {}

    def externalize(self, onnx, proto):
        location = os.path.basename(self.path)
        for t in proto.graph.initializer:
            data = t.raw_data
            if len(data) < self.EXTERNAL_MIN_BYTES:
                continue
            key = (t.data_type, hashlib.sha256(data).digest())
            if key not in self.at:
                self.file.write(b"\0" * (-self.file.tell() % 64))
                self.at[key] = self.file.tell()
                self.file.write(data)
            offset = self.at[key]
            t.ClearField("raw_data")
            t.data_location = onnx.TensorProto.EXTERNAL
            del t.external_data[:]
            for k, v in (("location", location), ("offset", str(offset)), ("length", str(len(data)))):
                entry = t.external_data.add()
                entry.key, entry.value = k, v
        # On disk before any case whose model reads it is marked complete.
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self):
        self.file.close()


def complete(case_dir):
    p = os.path.join(case_dir, "meta.json")
    if not os.path.isfile(p):
        return False
    try:
        with open(p) as f:
            return json.load(f).get("generator_version") == GENERATOR_VERSION
    except Exception:
        return False


def rel_l2(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = float(np.linalg.norm((a - b).ravel()))
    m = float(np.linalg.norm(b.ravel()))
    return d / m if m > 0 else (0.0 if d == 0 else float("inf"))


# ----------------------------------------------------------------------------
# Per-arch driver
# ----------------------------------------------------------------------------

def run_arch(torch, torchvision, onnx, arch, out_dir, opsets, force):
    cfg = ARCHS[arch]
    cases = {op: os.path.join(out_dir, "%s-op%d" % (arch, op)) for op in opsets}
    if not force and all(complete(cases[op]) for op in opsets):
        for op in opsets:
            log("[%s op%d] skipped (complete)" % (arch, op))
        return
    # The arch's weights file is rewritten, so every case of the arch is made again (the exports are
    # seconds beside the references), and a case of an opset not asked for now, whose model would
    # read the old file, is removed.
    for op in OPSETS_DEFAULT:
        for path in ("%s-op%d" % (arch, op), "%s-op%d.onnx" % (arch, op)):
            path = os.path.join(out_dir, path)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
    t0 = time.time()
    seed = arch_seed(arch)
    H, W = cfg["hw"]
    model = build_model(torch, torchvision, arch, seed)
    gin = torch.Generator().manual_seed(seed + 1)
    x32 = torch.randn(BATCH, 3, H, W, generator=gin, dtype=torch.float64).float()
    xcal = torch.randn(BATCH, 3, H, W, generator=torch.Generator().manual_seed(seed + 3),
                       dtype=torch.float64)
    calibrate(torch, model, xcal, seed)
    # Rounded to float32 once, at the end; the float64 reference computes with exactly those weights.
    model = copy.deepcopy(model).float().eval()
    model64 = copy.deepcopy(model).double().eval()
    digest = {"weights": tensor_digest(t for _, t in sorted(model.state_dict().items())
                                       if t.is_floating_point()),
              "input": tensor_digest([x32])}
    targets = {"mid": cfg["mid"], "last": cfg["last"]}
    x64 = x32.double()
    log("[%s] built and calibrated %.1fs" % (arch, time.time() - t0))
    # One recorded float64 forward serves the references, the class choice and the decision analysis.
    family = arch in FAMILY_ARCHS
    finer64, finer32 = ({}, {}) if family else (None, None)
    with f32model.DecisionRecorder(torch) as rec:
        lg64, r64, classes, sel = gradcam_run(torch, model64, arch, x64, targets, seed=seed,
                                              cf_trivial=cfg.get("cf_trivial", ()), recorder=rec, finer=finer64)
    log("[%s] classes chosen %.1fs" % (arch, time.time() - t0))
    l64 = lg64
    if any(isinstance(t, tuple) for t in targets.values()):
        with torch.no_grad():
            if float((lg64 - model64(x64)).abs().max()) != 0.0:
                raise Fail("hooked forward differs from model(x)")
    with torch.no_grad():
        l32 = model(x32)
    l32n, l64n = l32.numpy(), l64.numpy()
    if not np.all(np.isfinite(l64n)):
        raise Fail("non-finite logits")
    lstd = float(l64n.std())
    if not (1e-3 < lstd < 1e3) or float(np.abs(l64n).max()) > 1e4:
        raise Fail("degenerate logits (std %g, max %g)" % (lstd, np.abs(l64n).max()))
    if float(np.ptp(l64n, axis=1).min()) < 1e-6:
        raise Fail("logits (nearly) constant over classes")
    logits_rel = rel(l32n, l64n)
    _, r32, _, _ = gradcam_run(torch, copy.deepcopy(model), arch, x32, targets, classes=classes, finer=finer32)
    cam_weights = cam_head_weights(torch, model64, cfg, classes, r64["last"][0], lg64)

    def maps_of(tag, A, dA, rounding=None, finer_dA=None):
        maps = method_maps(torch, A, dA, cam_weights if tag == "last" else None, H, W, rounding, family)
        if finer_dA is not None:
            maps["finercam"] = maps_from(torch, A, finer_dA.mean(dim=(2, 3)), H, W, rounding)
        return maps
    finer_of = lambda finer, t: finer["grads"][t] if finer is not None else None
    maps64 = {t: maps_of(t, *r64[t], finer_dA=finer_of(finer64, t)) for t in targets}
    maps32 = {t: maps_of(t, *r32[t], finer_dA=finer_of(finer32, t)) for t in targets}
    # Ablation-CAM at the last layer: one cheap pass per channel through pooling and classifier. (At the
    # middle layer, and Score-CAM anywhere, each channel costs a whole forward pass: thousands per case.)
    K = r64["last"][0].shape[1]
    ablation = arch not in NO_ABLATION_ARCHS
    if ablation:
        maps64["last"]["ablationcam"] = maps_from(
            torch, r64["last"][0], ablation_weights(torch, model64, cfg, x64, lg64, classes, K), H, W)
        maps32["last"]["ablationcam"] = maps_from(
            torch, r32["last"][0], ablation_weights(torch, copy.deepcopy(model), cfg, x32, l32, classes, K), H, W)
        log("[%s] Ablation-CAM %.1fs" % (arch, time.time() - t0))

    map_noise = torch.Generator().manual_seed(seed + 60)

    def noisy_run(m):
        finer = {} if family else None
        lg, res, _, _ = gradcam_run(torch, m, arch, x64, targets, classes=classes, finer=finer)
        out = {"logits": lg.numpy(), "activations": {t: res[t][0] for t in targets}}
        for t in targets:
            out[t] = maps_of(t, *res[t], f32model.sum_rounding(torch, map_noise), finer_of(finer, t))
        if ablation:
            out["last"]["ablationcam"] = maps_from(
                torch, res["last"][0], ablation_weights(torch, m, cfg, x64, lg, classes, K), H, W,
                f32model.sum_rounding(torch, map_noise))
        return out
    noisy = f32model.float32_model_runs(torch, model64, noisy_run, seed)
    model_logits_rel = max(rel(lg, l64n) for lg in noisy["logits"])
    model_maps = {t: {m: errors_of([run[m] for run in noisy[t]], ref) for m, ref in maps64[t].items()} for t in targets}
    log("[%s] references and float32 rounding model %.1fs" % (arch, time.time() - t0))
    decisions = decision_analyses(torch, rec, targets, noisy["decisions"], lambda tag, A, dA: maps_of(tag, A, dA))
    if family:
        # FinerCAM's score goes back through the same forward, so the same decisions, with its own
        # gradient: its own kink effect.
        finer_decisions = decision_analyses(torch, rec, targets, noisy["decisions"], score=finer64["score"],
                                            maps_of=lambda tag, A, dA: {"finercam": maps_from(torch, A, dA.mean(dim=(2, 3)), H, W)})
        for t in targets:
            decisions[t]["kink_effect"]["finercam"] = finer_decisions[t]["kink_effect"]["finercam"]
            decisions[t]["method_decisions_within_reach"] = {"finercam": finer_decisions[t]["decisions_within_reach"]}
    log("[%s] decision analysis %.1fs" % (arch, time.time() - t0))
    # FEM and FinerCAM make decisions of their own: which positions pass a channel's threshold, which
    # classes are nearest the class's logit, within float32's reach where the margin is below
    # REACH_FACTOR times the rounding model's deviation of the activation (of the logits). FEM's count
    # can move by the activations within reach, each moving its channel's weight by 1 / positions: a
    # kink effect (fem_kink_effect). FinerCAM's choice of classes is left out where it is within reach.
    margins = {}
    for t in targets:
        reach = f32model.REACH_FACTOR * max(rel(run[t], r64[t][0]) for run in noisy["activations"])
        effect, within = fem_kink_effect(torch, r64[t][0], maps64[t]["fem"][0], reach)
        decisions[t]["kink_effect"]["fem"] = effect
        decisions[t].setdefault("method_decisions_within_reach", {})["fem"] = within
        margins[t] = {"fem_threshold_margin": fem_weights(r64[t][0])[1], "fem_reach": reach}
    if family:
        for t in targets:
            margins[t].update(finer_selection_margin=finer64["margin"], finer_reach=f32model.REACH_FACTOR * model_logits_rel)
            if finer64["margin"] <= margins[t]["finer_reach"]:
                log("[%s] FinerCAM left out at %s: its choice of classes is within float32's reach" % (arch, t))
                for table in (maps64, maps32, model_maps):
                    del table[t]["finercam"]
    pytorch32 = {t: {m: errors_of([maps32[t][m]], ref) for m, ref in maps64[t].items()} for t in targets}
    if arch in GUIDED_ARCHS:
        g64 = guided_backprop(torch, model64, x64, classes)
        g32 = guided_backprop(torch, copy.deepcopy(model), x32, classes)
        g_noisy = f32model.float32_model_runs(
            torch, model64, lambda m: {"g": guided_backprop(torch, m, x64, classes)}, seed + 50)["g"]
        for t in targets:
            ref = guided_maps(torch, g64, maps64[t]["gradcam"][0])
            maps64[t].update(ref)
            for m, pair in guided_maps(torch, g32, maps32[t]["gradcam"][0]).items():
                pytorch32[t][m] = errors_of([pair], ref[m])
            runs = [guided_maps(torch, g, run["gradcam"][0]) for g, run in zip(g_noisy, noisy[t])]
            for m in ref:
                model_maps[t][m] = errors_of([r[m] for r in runs], ref[m])
        log("[%s] guided back-propagation %.1fs" % (arch, time.time() - t0))
    refine = None
    if family:
        extra = [("fullgrad", "last", fullgrad_references(torch, copy.deepcopy(model), model64, x32, x64, classes, seed)),
                 ("dff", "last", dff_references(torch, model64, cfg, r64, r32, classes, H, W))]
        extra += [("gradcam_smoothaug", t, aug) for t, aug in smooth_aug_references(
            torch, copy.deepcopy(model), model64, arch, x32, x64, targets, classes, H, W, seed).items()]
        for method, t, found in extra:
            if found is None:
                continue
            maps64[t][method], pytorch32[t][method], model_maps[t][method] = found["ref"], found["float32"], found["model"]
            if "kink" in found:
                decisions[t]["kink_effect"][method] = found["kink"]
                decisions[t]["method_decisions_within_reach"][method] = found["within"]
        refine = refine_references(torch, maps64, maps32, noisy, decisions)
        log("[%s] FullGrad, DFF, --smooth-aug and RefineCAM %.1fs" % (arch, time.time() - t0))
    hvp = None
    if arch in HVP_TAGS:
        hvp_tag = HVP_TAGS[arch]
        if decisions[hvp_tag]["decisions_within_reach"] > 0:
            raise Fail("Hessian-vector product at %s: decisions within float32's reach" % hvp_tag)
        a64, g64, hv64, cd = hvp_reference(torch, model64, arch, x64, targets[hvp_tag], classes)
        a32, g32, hv32, _ = hvp_reference(torch, copy.deepcopy(model), arch, x32, targets[hvp_tag], classes)
        if min(cd.values()) > HVP_DIFFERENCE_LIMIT:
            raise Fail("Hessian-vector product: central differences disagree by %s" % cd)
        # ShapleyCAM of the ReST target: Grad-CAM's map with dy/dA - (H A) / 2 for the gradient.
        shapley64 = maps_from(torch, a64, (g64 - hv64 / 2).mean(dim=(2, 3)), H, W)[0]
        shapley32 = maps_from(torch, a32.double(), (g32 - hv32 / 2).double().mean(dim=(2, 3)), H, W)[0]
        hvp = {"tag": hvp_tag, "target": "rest", "central_difference_vs_autograd": {"%g" % k: v for k, v in cd.items()},
               "pytorch_float32": rel(hv32.numpy(), hv64.numpy()),
               "shapleycam_pytorch_float32": rel(shapley32.numpy(), shapley64.numpy()),
               "arrays": (g64, hv64, shapley64)}
        log("[%s] Hessian-vector product (central differences %s, float32 %.1e) %.1fs"
            % (arch, hvp["central_difference_vs_autograd"], hvp["pytorch_float32"], time.time() - t0))
    prep_s = time.time() - t0

    notes = ("seeded random weights (torch.manual_seed(seed) then calibrate(): LSUV-style "
             "unit-std conv/linear outputs with biases ~N(0,0.1); BN stats = calibration-batch "
             "stats perturbed (mean + N(0,0.1)*std, var * U(0.5,2)), BN/LN weight ~U(0.5,1.5), "
             "bias ~N(0,0.1)); drawn and calibrated in float64, rounded to float32 once. Input seeded "
             "N(0,1) drawn in float64 and rounded to float32 (generator seed+1).")
    if cfg.get("note"):
        notes += " " + cfg["note"]

    weights = SharedWeights(os.path.join(out_dir, "%s.weights" % arch))
    for op in opsets:
        t1 = time.time()
        cdir = cases[op]
        os.makedirs(cdir)
        onnx_path = cdir + ".onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, x32, onnx_path + ".tmp", opset_version=op,
                              input_names=["input"], output_names=["logits"],
                              do_constant_folding=True,
                              training=torch.onnx.TrainingMode.PRESERVE)
        proto = onnx.load(onnx_path + ".tmp")
        onnx.checker.check_model(proto)
        os.remove(onnx_path + ".tmp")
        weights.externalize(onnx, proto)
        onnx.save(proto, onnx_path)
        oshape = [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim]
        if oshape != list(l64n.shape):
            raise Fail("ONNX output shape %s != %s" % (oshape, list(l64n.shape)))
        op_types = sorted(set(n.op_type for n in proto.graph.node))
        n_nodes = len(proto.graph.node)
        save_npy(os.path.join(cdir, "input.npy"), x32.numpy())
        save_npy(os.path.join(cdir, "logits.npy"), l64n.astype(np.float64))

        tags, layer_tensors = [], {}
        if op == GRADCAM_OPSET:
            shapes = inferred_value_shapes(onnx, proto)
            for tag in ("mid", "last"):
                A, dA = r64[tag]
                A32, dA32 = r32[tag]
                if A.dim() != 4:
                    raise Fail("target %s is not 4D: %s" % (tag, list(A.shape)))
                tensor, node, node_op = find_layer_tensor(onnx, proto.graph, shapes,
                                                          targets[tag], A.shape)
                tdir = os.path.join(cdir, "gradcam", tag)
                os.makedirs(tdir, exist_ok=True)
                save_npy(os.path.join(tdir, "activation.npy"), A.numpy())
                save_npy(os.path.join(tdir, "grad.npy"), dA.numpy())
                for method, (mraw, mnorm) in maps64[tag].items():
                    save_npy(os.path.join(tdir, "%s_raw.npy" % method), mraw.numpy())
                    save_npy(os.path.join(tdir, "%s_norm.npy" % method), mnorm.numpy())
                cam = "cam" in maps64[tag]
                raw, raw32 = maps64[tag]["gradcam"][0], maps32[tag]["gradcam"][0]
                tgt = targets[tag]
                write_json_atomic(os.path.join(tdir, "meta.json"), {
                    "arch": arch, "opset": op, "tag": tag,
                    "module": tgt if isinstance(tgt, str) else "F.relu(%s)" % tgt[1],
                    "layer_tensor": tensor, "layer_node": node, "layer_op_type": node_op,
                    "layer_shape": list(A.shape), "classes": classes,
                    "class_selection": dict(sel, rule="select_classes(): seeded candidates "
                                            "(torch.randperm(1000), generator seed+2, one per "
                                            "image), first with Grad-CAM and counterfactual maps "
                                            ">0 on >=10% of positions at every tag"),
                    "scores": [float(lg64[i, c]) for i, c in enumerate(classes)],
                    "input_shape": list(x32.shape), "cam": bool(cam),
                    "cam_linear": cfg["cam"] if cam else None,
                    "counterfactual_identically_zero": tag in cfg.get("cf_trivial", ()),
                    "f32_vs_f64_gradcam_rel": rel(raw32.numpy(), raw.numpy()),
                    # The float32 error model (scripts/float32_error_model.py): the spread of
                    # float64 runs with float32-sized rounding noise, and the decision analysis.
                    "float32_model": model_maps[tag],
                    "pytorch_float32": pytorch32[tag],
                    **decisions[tag],
                    **margins[tag],
                    # extra precision figures (see README: a single ReLU/MaxPool
                    # decision flipping between f32 and f64 downstream of the
                    # layer changes grad locally by O(1); the L2 figures show
                    # how localized such flips are)
                    "f32_vs_f64_gradcam_rel_l2": rel_l2(raw32.numpy(), raw.numpy()),
                    "f32_vs_f64_activation_rel": rel(A32.numpy(), A.numpy()),
                    "f32_vs_f64_grad_rel": rel(dA32.numpy(), dA.numpy()),
                    "f32_vs_f64_grad_rel_l2": rel_l2(dA32.numpy(), dA.numpy()),
                })
                if hvp and hvp["tag"] == tag:
                    g64, hv64, shapley64 = hvp["arrays"]
                    save_npy(os.path.join(tdir, "hvp_grad_rest.npy"), g64.numpy())
                    save_npy(os.path.join(tdir, "hvp_rest.npy"), hv64.numpy())
                    save_npy(os.path.join(tdir, "shapleycam_rest_raw.npy"), shapley64.numpy())
                    meta_path = os.path.join(tdir, "meta.json")
                    with open(meta_path) as f:
                        layer_meta = json.load(f)
                    layer_meta["hvp"] = {k: v for k, v in hvp.items() if k != "arrays"}
                    write_json_atomic(meta_path, layer_meta)
                tags.append(tag)
                layer_tensors[tag] = tensor
            if refine is not None:
                rdir = os.path.join(cdir, "gradcam", "refinecam")
                os.makedirs(rdir)
                save_npy(os.path.join(rdir, "refinecam_raw.npy"), refine["ref"][0].numpy())
                save_npy(os.path.join(rdir, "refinecam_norm.npy"), refine["ref"][1].numpy())
                write_json_atomic(os.path.join(rdir, "meta.json"), {
                    "layers": [layer_tensors[t] for t in ("mid", "last")], "classes": classes,
                    "float32_model": {"refinecam": refine["model"]},
                    "pytorch_float32": {"refinecam": refine["float32"]},
                    "kink_effect": {"refinecam": refine["kink"]},
                    "decisions_within_reach": refine["within"]})
        del proto
        write_json_atomic(os.path.join(cdir, "meta.json"), {
            "arch": arch, "opset": op, "input_shape": list(x32.shape),
            "output_shape": list(l64n.shape), "seed": seed,
            "f32_vs_f64_logits_rel": logits_rel, "gradcam_tags": tags,
            "float32_model_logits_rel": model_logits_rel, "digest": digest,
            "generator_version": GENERATOR_VERSION,
            "onnx_op_types": op_types, "onnx_node_count": n_nodes,
            "logits_std": lstd, "notes": notes,
        })
        extra = " (+%.1fs build/calibrate/f64)" % prep_s if op == opsets[0] else ""
        log("[%s op%d] %s -> %s  %.1fs%s" % (arch, op, list(x32.shape), list(l64n.shape),
                                           time.time() - t1, extra))
    weights.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None,
                    help="output folder (default: <repo>/.cache/references/torchvision)")
    ap.add_argument("--arch", default=",".join(DEFAULT_ARCHS))
    ap.add_argument("--opsets", default=",".join(str(o) for o in OPSETS_DEFAULT))
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--traceback", action="store_true", help="print full traceback on failure")
    ap.add_argument("--print-digests", action="store_true",
                    help="print the weight and input digests of the generated cases, as "
                         "test/torchvision-digests.json holds them, and exit")
    args = ap.parse_args()
    out_dir = DEFAULT_OUT if args.out is None else os.path.abspath(args.out)
    if args.print_digests:
        digests = {}
        for name in sorted(os.listdir(out_dir)):
            if complete(os.path.join(out_dir, name)):
                with open(os.path.join(out_dir, name, "meta.json")) as f:
                    meta = json.load(f)
                digests[meta["arch"]] = meta["digest"]
        print(json.dumps(digests, indent=1))
        return
    archs = [a.strip() for a in args.arch.split(",") if a.strip()]
    cur = None
    try:
        opsets = sorted({int(o) for o in args.opsets.split(",") if o.strip()})
        for a in archs:
            if a not in ARCHS:
                raise Fail("unknown arch %r (known: %s)" % (a, ",".join(ARCHS)))
        for o in opsets:
            if o not in (9, 11, 13):
                raise Fail("unsupported opset %d (use 9, 11, 13)" % o)
        import torch
        import torchvision
        import onnx
        torch.set_num_threads(2)
        os.makedirs(out_dir, exist_ok=True)
        for a in archs:
            cur = a
            run_arch(torch, torchvision, onnx, a, out_dir, opsets, args.force)
    except Exception as e:  # noqa: BLE001
        if args.traceback:
            import traceback
            traceback.print_exc()
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        where = " (arch %s)" % cur if cur else ""
        print("make_torchvision_refs: error%s: %s: %s" % (where, type(e).__name__, msg),
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
