#!/usr/bin/python3
"""Export the full-size models of the architecture families issue 21 names, with seeded weights and a
float64 PyTorch output for one random input, for `npm run bench:families` (forward pass against float64):

    /usr/bin/python3 scripts/export_families.py [--out .cache/families] [NAME ...]

torchvision's ViT-B/16 (opset 13, and rewritten to opset 18 with ReduceMean's axes as an input), Swin-T
and ConvNeXt-T (opset 17, ConvNeXt-T also rewritten to 18), LR-ASPP MobileNetV3 (segmentation,
bilinear Resize), r3d_18 (3-D convolutions), a U-Net with ConvTranspose and a 1-D signal CNN. Weights are
drawn N(0, 0.02) (no pretrained weights are reachable), BatchNorm statistics randomized. About 3 GB and
a few minutes; the test suite does not need them (test/fixtures/models holds small members of each family).
"""
import argparse
import copy
import io
import os
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper

warnings.filterwarnings("ignore")
torch.manual_seed(0)


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        block = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())
        self.d1, self.d2, self.mid = block(3, 32), block(32, 64), block(64, 128)
        self.u2, self.c2 = nn.ConvTranspose2d(128, 64, 2, 2), block(128, 64)
        self.u1, self.c1 = nn.ConvTranspose2d(64, 32, 2, 2), block(64, 32)
        self.head = nn.Conv2d(32, 2, 1)

    def forward(self, x):
        a = self.d1(x)
        b = self.d2(F.max_pool2d(a, 2))
        m = self.mid(F.max_pool2d(b, 2))
        u = self.c2(torch.cat([self.u2(m), b], 1))
        return self.head(self.c1(torch.cat([self.u1(u), a], 1)))


class Signal1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(nn.Conv1d(12, 32, 7, padding=3), nn.BatchNorm1d(32), nn.ReLU(), nn.MaxPool1d(2),
                               nn.Conv1d(32, 64, 5, stride=2, padding=2), nn.BatchNorm1d(64), nn.ReLU(),
                               nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(64, 5))

    def forward(self, x):
        return self.f(x)


class Output(nn.Module):
    """The tensor output of a model (segmentation models return a dict)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        y = self.inner(x)
        return y["out"] if isinstance(y, dict) else y


MODELS = {
    "vit_b_16": (lambda: torchvision.models.vit_b_16(), (1, 3, 224, 224), 13, False),
    "vit_b_16_opset18": (lambda: torchvision.models.vit_b_16(), (1, 3, 224, 224), 13, True),
    "swin_t": (lambda: torchvision.models.swin_t(), (1, 3, 224, 224), 17, False),
    "convnext_tiny": (lambda: torchvision.models.convnext_tiny(), (1, 3, 224, 224), 17, False),
    "convnext_tiny_opset18": (lambda: torchvision.models.convnext_tiny(), (1, 3, 224, 224), 17, True),
    "lraspp_mobilenet_v3_large": (lambda: torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None),
                                  (1, 3, 224, 224), 13, False),
    "r3d_18": (lambda: torchvision.models.video.r3d_18(), (1, 3, 8, 112, 112), 13, False),
    "unet": (UNet, (1, 3, 128, 128), 13, False),
    "signal_cnn_1d": (Signal1d, (2, 12, 1000), 13, False),
}


def to_opset18(model):
    """Opset 18: Reduce* (ReduceSum had it at 13) take their axes as an input."""
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = 18
    for n in model.graph.node:
        if n.op_type.startswith("Reduce") and n.op_type != "ReduceSum":
            axes = [a for a in n.attribute if a.name == "axes"]
            if axes:
                name = n.output[0] + "_axes"
                model.graph.initializer.append(numpy_helper.from_array(np.array(list(axes[0].ints), np.int64), name))
                n.input.append(name)
                n.attribute.remove(axes[0])
    model.ir_version = 8
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", ".cache", "families"))
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.names or list(MODELS):
        make, shape, opset, opset18 = MODELS[name]
        torch.manual_seed(sum(map(ord, name)))
        net = Output(make()).eval()
        for p in net.parameters():
            if p.dim() > 1:
                p.data.normal_(0, 0.02)
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
        x = torch.randn(*shape)
        buf = io.BytesIO()
        torch.onnx.export(net, (x,), buf, opset_version=opset, input_names=["x"], output_names=["y"])
        model = onnx.load_from_string(buf.getvalue())
        if opset18:
            model = to_opset18(model)
        onnx.save(model, os.path.join(args.out, f"{name}.onnx"))
        with torch.no_grad():
            y = copy.deepcopy(net).double()(x.double())
        np.save(os.path.join(args.out, f"{name}.x.npy"), x.numpy())
        np.save(os.path.join(args.out, f"{name}.y.npy"), y.numpy())
        print(f"{name}: opset {18 if opset18 else opset}, input {list(shape)}, output {list(y.shape)}", flush=True)


if __name__ == "__main__":
    main()
