#!/usr/bin/python3
"""PyTorch's side of `npm run bench:compare`: exports the benchmark models and times them.

    /usr/bin/python3 bench/compare.py --out DIR --arch a,b,... [--runs N] [--threads T] [--device cpu|cuda]

Per arch, once: the torchvision architecture with seeded, calibrated weights (the reference
generator's build_model and calibrate), exported at 1x3x224x224 to DIR/<arch>-224.onnx (opset 13,
BatchNormalization kept for the engine to fold). Every run: median milliseconds of PyTorch CPU
float32 forward (no_grad), Grad-CAM with frozen parameters and the backward pass stopping at the layer
(a forward hook makes the layer's output the leaf that receives the gradient), and Grad-CAM the way
pytorch-grad-cam runs it (parameters and input requiring grad, the backward pass through the whole
network); the forward FLOPs (2 x multiply-adds of every Conv2d and Linear). With --device cuda the
timings are CUDA eager float32 (synchronized). JSON on stdout, progress on stderr.
"""
import argparse
import copy
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
import make_torchvision_refs as refs  # noqa: E402

SIZE = 224


def log(message):
    print(message, file=sys.stderr, flush=True)


def median_ms(fn, runs, sync=lambda: None):
    fn()
    sync()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t) * 1e3)
    return sorted(times)[len(times) // 2]


def build(torch, torchvision, arch, path):
    seed = refs.arch_seed(arch)
    model = refs.build_model(torch, torchvision, arch, seed)
    xcal = torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed + 3), dtype=torch.float64)
    refs.calibrate(torch, model, xcal, seed)
    model = copy.deepcopy(model).float().eval()
    if not os.path.exists(path):
        x = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed + 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, x, path + ".tmp", opset_version=13, input_names=["input"], output_names=["logits"],
                              do_constant_folding=True, training=torch.onnx.TrainingMode.PRESERVE)
        os.replace(path + ".tmp", path)
    return model


def forward_flops(torch, model, x):
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Conv2d):
            total[0] += 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, torch.nn.Linear):
            total[0] += 2 * out.numel() * m.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total[0]


def gradcam(torch, F, model, layer, x, frozen, relu_after):
    """One Grad-CAM map of the top-1 class at `layer` (or at the ReLU the model applies to its output),
    as the benchmark times it."""
    saved = {}

    def hook(m, inp, out):
        if relu_after:
            out = F.relu(out)  # the model's own ReLU after it then changes nothing
        if frozen:
            out = out.detach().requires_grad_(True)
        else:
            out.retain_grad()
        saved["a"] = out
        # A copy goes on, so that an in-place op after the layer (densenet's F.relu(inplace=True)) does
        # not write into the leaf.
        return out.clone()

    handle = layer.register_forward_hook(hook)
    try:
        inp = x if frozen else x.clone().requires_grad_(True)
        logits = model(inp)
        score = logits[0, int(logits[0].argmax())]
        model.zero_grad(set_to_none=True)
        score.backward()
        a = saved["a"]
        alpha = a.grad.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((alpha * a).sum(dim=1, keepdim=True))
        return F.interpolate(cam.detach(), size=x.shape[2:], mode="bilinear", align_corners=False)
    finally:
        handle.remove()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--arch", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()
    import torch
    import torch.nn.functional as F
    import torchvision
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    result = {"torch": torch.__version__, "threads": args.threads, "device": args.device, "models": {}}
    for arch in args.arch.split(","):
        path = os.path.join(args.out, "%s-%d.onnx" % (arch, SIZE))
        log("[pytorch] %s: %s" % (arch, "building" if not os.path.exists(path) else "timing"))
        model = build(torch, torchvision, arch, path).to(device)
        layer_name = refs.ARCHS[arch]["last"]
        relu_after = isinstance(layer_name, tuple)  # ("relu_after", module): densenet's F.relu(features)
        layer = dict(model.named_modules())[layer_name[1] if relu_after else layer_name]
        x = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1)).to(device)
        for p in model.parameters():
            p.requires_grad_(False)

        def forward():
            with torch.no_grad():
                model(x)

        entry = {"onnx": path, "layer": "relu(%s)" % layer_name[1] if relu_after else layer_name, "flops": forward_flops(torch, model, x)}
        entry["forward_ms"] = median_ms(forward, args.runs, sync)
        entry["gradcam_frozen_ms"] = median_ms(lambda: gradcam(torch, F, model, layer, x, True, relu_after), args.runs, sync)
        for p in model.parameters():
            p.requires_grad_(True)
        entry["gradcam_full_ms"] = median_ms(lambda: gradcam(torch, F, model, layer, x, False, relu_after), args.runs, sync)
        result["models"][arch] = entry
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
