#!/usr/bin/python3
"""Writes image files of many kinds with the pixels Pillow decodes them to, for test/io/formats.test.ts.

    apt-get install libjpeg-turbo-progs libturbojpeg0 libtiff-tools   # cjpeg, jpegtran, TurboJPEG, tiffcp: what Pillow cannot write
    /usr/bin/python3 scripts/make_format_fixtures.py

Everything lands in test/fixtures/images/formats/ and is committed: <file> and <file>.rgb.npy, Pillow's
Image.open(file).convert("RGB") as uint8 HWC (Pillow 9.4 with Debian's libjpeg-turbo 2.1.5), and <file>.pre.npy,
torchvision's Resize(24), CenterCrop((20, 16)), ToTensor, Normalize(ImageNet) of it, float32 CHW. Files Pillow reads
but the engine refuses on purpose are listed in REFUSED with the reason the engine gives. Fixed seed.
"""
import ctypes
import io
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torchvision.transforms as T
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "images" / "formats"
rng = np.random.default_rng(2026)
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def photo(width, height):
    """Smooth shading, texture, noise and hard edges: every DCT frequency and chroma detail gets exercised."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 11.0)
    g = 255 * (x + y) / (width + height)
    b = 128 + 120 * np.sin((x - y) / 3.0)
    img = np.stack([r, g, b], -1) + rng.normal(0, 10, (height, width, 3))
    img[(x // 9 + y // 9) % 5 == 0] = [250, 20, 40]
    img[:, : width // 8] = 0
    img[: height // 10, :] = 255
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def ppm(pixels):
    h, w, _ = pixels.shape
    return f"P6 {w} {h} 255\n".encode() + pixels.tobytes()


def run(cmd, data):
    return subprocess.run(cmd, input=data, stdout=subprocess.PIPE, check=True).stdout


def cjpeg(pixels, *args):
    return run(["cjpeg", *args], ppm(pixels))


def jpegtran(data, *args):
    return run(["jpegtran", *args], data)


def pillow_jpeg(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def turbojpeg_ycck(cmyk):
    """A YCCK (Adobe transform 2) JPEG through TurboJPEG, which converts CMYK input to YCCK."""
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    handle = ctypes.c_void_p(tj.tjInitCompress())
    buf = ctypes.POINTER(ctypes.c_ubyte)()
    size = ctypes.c_ulong(0)
    h, w, _ = cmyk.shape
    src = np.ascontiguousarray(cmyk)
    TJPF_CMYK, TJSAMP_420 = 11, 2
    rc = tj.tjCompress2(handle, src.ctypes.data_as(ctypes.c_void_p), w, 0, h, TJPF_CMYK, ctypes.byref(buf), ctypes.byref(size), TJSAMP_420, 90, 0)
    assert rc == 0
    data = bytes(ctypes.string_at(buf, size.value))
    tj.tjFree(buf)
    tj.tjDestroy(handle)
    return data


def exif_with_orientation(value):
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def make_jpegs(base):
    im = Image.fromarray(base)
    odd = Image.fromarray(photo(61, 45))
    files = {
        "baseline420.jpg": pillow_jpeg(im, quality=75),
        "baseline422.jpg": pillow_jpeg(im, quality=85, subsampling=1),
        "baseline444.jpg": pillow_jpeg(im, quality=95, subsampling=0),
        "q100.jpg": pillow_jpeg(im, quality=100, subsampling=0),
        "q10.jpg": pillow_jpeg(im, quality=10),
        "optimized.jpg": pillow_jpeg(im, quality=80, optimize=True),
        "progressive420.jpg": pillow_jpeg(im, quality=80, progressive=True),
        "progressive444.jpg": pillow_jpeg(im, quality=90, progressive=True, subsampling=0),
        "odd61x45_420.jpg": pillow_jpeg(odd, quality=80),
        "odd61x45_progressive.jpg": pillow_jpeg(odd, quality=80, progressive=True),
        "tiny1x1.jpg": pillow_jpeg(Image.fromarray(photo(1, 1))),
        "tiny2x3_420.jpg": pillow_jpeg(Image.fromarray(photo(2, 3))),
        "narrow3x40_422.jpg": pillow_jpeg(Image.fromarray(photo(3, 40)), subsampling=1),
        "grey.jpg": pillow_jpeg(im.convert("L"), quality=85),
        "grey_progressive.jpg": pillow_jpeg(im.convert("L"), quality=85, progressive=True),
        "cmyk.jpg": pillow_jpeg(im.convert("CMYK"), quality=90),
        "ycck.jpg": turbojpeg_ycck(np.asarray(im.convert("CMYK"))),
        "exif_rotate6.jpg": pillow_jpeg(im, quality=85, exif=exif_with_orientation(6)),
        # What Pillow cannot write: cjpeg and jpegtran.
        "restart_rows.jpg": cjpeg(base, "-quality", "85", "-restart", "1"),
        "restart_blocks.jpg": cjpeg(base, "-quality", "85", "-restart", "3B", "-sample", "1x1"),
        "restart_progressive.jpg": jpegtran(cjpeg(base, "-quality", "85"), "-progressive", "-restart", "2B"),
        "sample440.jpg": cjpeg(base, "-quality", "85", "-sample", "1x2"),
        "sample411.jpg": cjpeg(base, "-quality", "85", "-sample", "4x1"),
        "sample410.jpg": cjpeg(base, "-quality", "85", "-sample", "4x2"),
        "adobe_rgb.jpg": cjpeg(base, "-quality", "85", "-rgb"),
        "dct_float_encoded.jpg": cjpeg(base, "-quality", "85", "-dct", "float"),
        "jpegtran_optimized.jpg": jpegtran(pillow_jpeg(im, quality=70), "-optimize"),
    }
    refused = {"arithmetic.jpg": jpegtran(pillow_jpeg(im, quality=85), "-arithmetic")}
    return files, refused


def save(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def make_others(base):
    im = Image.fromarray(base)
    alpha = Image.fromarray(np.tile(np.linspace(0, 255, base.shape[1]).astype(np.uint8), (base.shape[0], 1)))
    rgba = im.copy()
    rgba.putalpha(alpha)
    palette = im.quantize(64)
    grey16 = Image.fromarray((np.asarray(im.convert("L")).astype(np.int32) * 256 + rng.integers(0, 256, base.shape[:2])).astype(np.uint16)).convert("I;16")
    files = {
        "rgb.bmp": save(im, "BMP"),
        "palette.bmp": save(palette, "BMP"),
        "grey.bmp": save(im.convert("L"), "BMP"),
        "bilevel.bmp": save(im.convert("1"), "BMP"),
        "palette.gif": save(palette, "GIF"),
        "grey.gif": save(im.convert("L"), "GIF"),
        "transparent.gif": save(palette, "GIF", transparency=5),
        "animated.gif": save(palette, "GIF", save_all=True, append_images=[Image.fromarray(base[::-1].copy()).quantize(16)], duration=100, loop=0),
        "rgb.tif": save(im, "TIFF"),
        "rgb_lzw.tif": save(im, "TIFF", compression="tiff_lzw"),
        "rgb_deflate.tif": save(im, "TIFF", compression="tiff_adobe_deflate"),
        "rgb_packbits.tif": save(im, "TIFF", compression="packbits"),
        "grey_lzw.tif": save(im.convert("L"), "TIFF", compression="tiff_lzw"),
        "rgba.tif": save(rgba, "TIFF"),
        "palette.tif": save(palette, "TIFF"),
        "lossy.webp": save(im, "WEBP", quality=80),
        "lossy_q20.webp": save(im, "WEBP", quality=20),
        "lossless.webp": save(im, "WEBP", lossless=True),
        "alpha.webp": save(rgba, "WEBP", quality=80),
        "grey16.png": save(grey16, "PNG"),
        "rgba.png": save(rgba, "PNG"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.tif"
        src.write_bytes(files["rgb.tif"])
        for name, args in {"rgb_lzw_predictor.tif": ["-c", "lzw:2"], "rgb_deflate_predictor.tif": ["-c", "zip:2"], "rgb_strips.tif": ["-r", "7"]}.items():
            dst = Path(tmp) / name
            subprocess.run(["tiffcp", *args, str(src), str(dst)], check=True)
            files[name] = dst.read_bytes()
    return files


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    base = photo(83, 57)
    jpegs, refused = make_jpegs(base)
    files = {**jpegs, **make_others(base)}
    for name, data in {**files, **refused}.items():
        (OUT / name).write_bytes(data)
    pipeline = T.Compose([T.Resize(24), T.CenterCrop((20, 16)), T.ToTensor(), T.Normalize(MEAN, STD)])
    for name in files:
        with Image.open(OUT / name) as image:
            rgb = image.convert("RGB")
            np.save(OUT / f"{name}.rgb.npy", np.asarray(rgb))
            np.save(OUT / f"{name}.pre.npy", pipeline(rgb).numpy())
    # The two conventions where Pillow's choice is surprising, for the options that select them.
    with Image.open(OUT / "exif_rotate6.jpg") as image:
        from PIL import ImageOps
        np.save(OUT / "exif_rotate6.jpg.rotated.npy", np.asarray(ImageOps.exif_transpose(image).convert("RGB")))
    with Image.open(OUT / "rgba.png") as image:
        background = Image.new("RGBA", image.size, (30, 60, 90, 255))
        np.save(OUT / "rgba.png.background.npy", np.asarray(Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")))
    print(f"wrote {len(files) + len(refused)} files to {OUT}")


if __name__ == "__main__":
    main()
