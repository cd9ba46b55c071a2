#!/usr/bin/python3
"""Writes a procedural 256x256 RGB test picture (rings, a rotated square, a colour ramp and a
little noise) as PNG, with only NumPy and zlib, so the filter demo needs no image library.

    /usr/bin/python3 docs/make_demo_image.py docs/images/input.png
"""
import struct
import sys
import zlib

import numpy as np


def picture(size=256, seed=0):
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    r = np.hypot(x - 0.35, y - 0.4)
    rings = 0.5 + 0.5 * np.cos(40 * r) * np.exp(-3 * r)
    u, v = (x - 0.7) * np.cos(0.5) + (y - 0.7) * np.sin(0.5), -(x - 0.7) * np.sin(0.5) + (y - 0.7) * np.cos(0.5)
    square = (np.abs(u) < 0.15) & (np.abs(v) < 0.15)
    img = np.stack([rings, 0.6 * x + 0.2 * rings, 0.8 * (1 - y)], axis=-1)
    img[square] = [0.95, 0.85, 0.1]
    img += np.random.default_rng(seed).normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def write_png(path, rgb):
    h, w, c = rgb.shape
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(h))

    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2 if c == 3 else 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    write_png(sys.argv[1] if len(sys.argv) > 1 else "input.png", picture())
