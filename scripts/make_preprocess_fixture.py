#!/usr/bin/python3
"""Writes the tiny images and the reference arrays that test/io checks src/io against.

Run with the system interpreter (it has torch, torchvision, Pillow and NumPy):
    /usr/bin/python3 scripts/make_preprocess_fixture.py
Everything lands in test/fixtures/images/ and is committed; rerunning rewrites it identically
(fixed seed), except that the JPEG encoder may differ between Pillow builds.

Images (37x53 unless noted): rgb.png, rgba.png (53x37), palette.png (4-bit with tRNS), grey.png, grey1.png (1-bit),
greya.png, trns.png (RGB colour key), rgb16.png (16-bit), photo.jpg / photo422.jpg / photo444.jpg (4:2:0, 4:2:2 and
4:4:4 chroma), grey.jpg, cmyk.jpg (Adobe CMYK).

References, all from independent implementations:
  <image>.rgb.npy    Pillow's decode, Image.open(p).convert("RGB"), uint8 HWC
  <image>.pre.npy    torchvision Resize(24) + CenterCrop((20, 16)) + ToTensor + Normalize(ImageNet), float32 CHW
  rgb.*.npy          other Resize/CenterCrop cases of rgb.png (see PREPROCESS_CASES)
  jet_lut.npy        OpenCV's COLORMAP_JET table, rebuilt in NumPy float32 the way colormap.cpp builds it
  overlay/*.npy      pytorch-grad-cam's show_cam_on_image(img, mask, use_rgb=True) re-implemented in NumPy
  npy/*.npy          files written by numpy itself, for the .npy reader (including broken ones)
"""
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "images"
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
DISC_RGB = (250, 30, 60)  # exact colour of the disc, used as the tRNS colour key in trns.png

rng = np.random.default_rng(1234)


def scene(width, height):
    """Gradients, a fine sine pattern (so resampling without antialiasing would show) and a hard-edged disc."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255 * x / (width - 1)
    g = 255 * y / (height - 1)
    b = 128 + 110 * np.sin(x * 1.9) * np.cos(y * 1.3)
    img = np.stack([r, g, b], -1) + rng.normal(0, 6, (height, width, 3))
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    disc = (x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (min(width, height) * 0.25) ** 2
    img[disc] = DISC_RGB
    return img


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png16_rgb(path, pixels):
    """Pillow cannot write 16-bit RGB, so write the PNG by hand: colour type 2, depth 16, filter 0."""
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].astype(">u2").tobytes() for row in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    path.write_bytes(data)


def png_header(path):
    """(bit depth, colour type) from IHDR, to assert that Pillow wrote the format each fixture is meant to cover."""
    data = path.read_bytes()
    return data[24], data[25]


def make_images():
    portrait = scene(37, 53)
    landscape = scene(53, 37)
    grey = Image.fromarray(portrait).convert("L")

    Image.fromarray(portrait).save(OUT / "rgb.png")
    alpha = np.tile(np.linspace(0, 255, 53).astype(np.uint8)[None, :], (37, 1))
    alpha[:, :5] = 0  # fully transparent columns keep their colour in Pillow's convert("RGB")
    Image.fromarray(np.dstack([landscape, alpha])).save(OUT / "rgba.png")
    palette = Image.fromarray(portrait).quantize(16)
    palette.save(OUT / "palette.png", transparency=3)
    grey.save(OUT / "grey.png")
    grey.point(lambda v: 255 if v > 110 else 0).convert("1").save(OUT / "grey1.png")
    grey_alpha = np.tile(np.linspace(255, 0, 53).astype(np.uint8)[:, None], (1, 37))
    Image.merge("LA", [grey, Image.fromarray(grey_alpha)]).save(OUT / "greya.png")
    Image.fromarray(portrait).save(OUT / "trns.png", transparency=DISC_RGB)
    deep = portrait.astype(np.uint16) * 257 + rng.integers(0, 257, portrait.shape, dtype=np.uint16)
    write_png16_rgb(OUT / "rgb16.png", deep)
    Image.fromarray(portrait).save(OUT / "photo.jpg", quality=90)  # Pillow's default 4:2:0 chroma subsampling
    Image.fromarray(portrait).save(OUT / "photo422.jpg", quality=90, subsampling=1)
    Image.fromarray(portrait).save(OUT / "photo444.jpg", quality=90, subsampling=0)
    grey.save(OUT / "grey.jpg", quality=90)
    Image.fromarray(portrait).convert("CMYK").save(OUT / "cmyk.jpg", quality=90)  # Adobe marker, inverted CMYK

    expected_formats = {
        "rgb.png": (8, 2), "rgba.png": (8, 6), "palette.png": (4, 3), "grey.png": (8, 0),
        "grey1.png": (1, 0), "greya.png": (8, 4), "trns.png": (8, 2), "rgb16.png": (16, 2),
    }
    for name, fmt in expected_formats.items():
        assert png_header(OUT / name) == fmt, (name, png_header(OUT / name))
    # Pillow keeps the high byte of 16-bit samples; the decoder under test should too.
    assert np.array_equal(np.asarray(Image.open(OUT / "rgb16.png").convert("RGB")), (deep >> 8).astype(np.uint8))
    return list(expected_formats) + ["photo.jpg", "photo422.jpg", "photo444.jpg", "grey.jpg", "cmyk.jpg"]


def torchvision_preprocess(image, resize, crop):
    pipeline = T.Compose([T.Resize(resize), T.CenterCrop(crop), T.ToTensor(), T.Normalize(MEAN, STD)])
    return pipeline(image).numpy()


# name: (Resize, CenterCrop) for rgb.png beyond the default case
PREPROCESS_CASES = {
    "rgb.pre_21x15.npy": (24, (21, 15)),  # (34-21)/2 = 6.5 and (24-15)/2 = 4.5: Python's round() goes to even
    "rgb.pre_pad.npy": (24, (30, 28)),  # crop wider than the image: torchvision pads with zeros
    "rgb.pre_up.npy": (64, 48),  # upscaling
}


def make_image_references(names):
    for name in names:
        image = Image.open(OUT / name).convert("RGB")
        np.save(OUT / f"{name}.rgb.npy", np.asarray(image))
        np.save(OUT / f"{name}.pre.npy", torchvision_preprocess(image, 24, (20, 16)))
    rgb = Image.open(OUT / "rgb.png").convert("RGB")
    for out_name, (resize, crop) in PREPROCESS_CASES.items():
        np.save(OUT / out_name, torchvision_preprocess(rgb, resize, crop))
    # The resized and cropped uint8 image, before ToTensor, so the resampler can be checked exactly.
    np.save(OUT / "rgb.crop.npy", np.asarray(T.CenterCrop((20, 16))(T.Resize(24)(rgb))))


def opencv_jet_lut():
    """COLORMAP_JET as opencv/modules/imgproc/src/colormap.cpp builds it: the GNU Octave jet(256) table held
    as float32, interp1 at linspace(0, 1, 256) in float32, then convertTo(CV_8U, 255.) (round half to even).
    Returns RGB rows (OpenCV itself stores BGR)."""
    f32 = np.float32
    x = np.arange(256) / 255.0
    octave = np.stack([
        np.select([(x >= 3 / 8) & (x < 5 / 8), (x >= 5 / 8) & (x < 7 / 8), x >= 7 / 8], [4 * x - 1.5, 1.0, -4 * x + 4.5], 0.0),
        np.select([(x >= 1 / 8) & (x < 3 / 8), (x >= 3 / 8) & (x < 5 / 8), (x >= 5 / 8) & (x < 7 / 8)], [4 * x - 0.5, 1.0, -4 * x + 3.5], 0.0),
        np.select([x < 1 / 8, (x >= 1 / 8) & (x < 3 / 8), (x >= 3 / 8) & (x < 5 / 8)], [4 * x + 0.5, 1.0, -4 * x + 2.5], 0.0),
    ], -1).astype(f32)
    step = f32(1) / f32(255)
    knots = np.array([f32(0) + f32(f32(i) * step) for i in range(256)], dtype=f32)
    lut = np.zeros((256, 3), dtype=np.uint8)
    for i in range(256):
        # interp1_'s binary search ends with knots[low] < xi <= knots[high]
        high = max(int(np.searchsorted(knots, knots[i], side="left")), 1)
        low = high - 1
        for c in range(3):
            y0, y1 = octave[low, c], octave[high, c]
            value = y0 + (knots[i] - knots[low]) * (y1 - y0) / (knots[high] - knots[low])
            lut[i, c] = np.clip(np.rint(f32(value) * f32(255)), 0, 255)
    return lut


def show_cam_on_image(img, mask, lut, image_weight):
    """pytorch-grad-cam's show_cam_on_image(img, mask, use_rgb=True), with the table lookup in place of cv2."""
    heatmap = np.float32(lut[np.uint8(255 * mask)]) / 255
    cam = (1 - image_weight) * heatmap + image_weight * img
    cam = cam / np.max(cam)
    return np.uint8(255 * cam)


def make_colour_references():
    lut = opencv_jet_lut()
    np.save(OUT / "jet_lut.npy", lut)
    folder = OUT / "overlay"
    folder.mkdir(exist_ok=True)
    # Like a real image, np.float32(rgb) / 255: quantized values make 255 * cam / max(cam) land near whole
    # numbers, where float32 and float64 arithmetic truncate differently.
    img = np.float32(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)) / 255
    mask = rng.random((24, 32), dtype=np.float32)
    mask[0, :3] = [0.0, 0.5, 1.0]
    np.save(folder / "img.npy", img)
    np.save(folder / "mask.npy", mask)
    for weight in (0.5, 0.3):
        np.save(folder / f"cam_w{weight}.npy", show_cam_on_image(img, mask, lut, weight))


def make_npy_files():
    folder = OUT / "npy"
    folder.mkdir(exist_ok=True)
    np.save(folder / "f32.npy", (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3))
    np.save(folder / "f64.npy", (np.arange(6, dtype=np.float64) * np.pi).reshape(3, 2))
    np.save(folder / "f32_1d.npy", np.arange(4, dtype=np.float32))
    np.save(folder / "u8.npy", np.array([0, 1, 127, 255], dtype=np.uint8))
    np.save(folder / "i32.npy", np.array([-2147483648, -1, 0, 2147483647], dtype=np.int32))
    np.save(folder / "i64.npy", np.array([-(2**62), -1, 0, 2**60 + 1], dtype=np.int64))
    np.save(folder / "scalar.npy", np.array(3.5, dtype=np.float32))
    np.save(folder / "empty.npy", np.zeros((0, 3), dtype=np.float32))
    for version in ((2, 0), (3, 0)):
        with open(folder / f"v{version[0]}.npy", "wb") as f:
            np.lib.format.write_array(f, np.arange(4, dtype=np.float32), version=version)
    np.save(folder / "big_endian.npy", np.arange(3, dtype=">f4"))
    np.save(folder / "fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    np.save(folder / "complex.npy", np.arange(3, dtype=np.complex64))
    buffer = io.BytesIO()
    np.save(buffer, np.arange(6, dtype=np.float32))
    (folder / "truncated.npy").write_bytes(buffer.getvalue()[:-4])
    (folder / "not_npy.npy").write_bytes(b"this is not an npy file\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    make_image_references(make_images())
    make_colour_references()
    make_npy_files()
    print(f"wrote fixtures to {OUT}")


if __name__ == "__main__":
    main()
