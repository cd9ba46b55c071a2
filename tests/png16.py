"""16-bit PNG files for the `convnd filter` tests, written and read with zlib only (Pillow
reduces 16-bit colour PNGs to 8 bits, so it cannot check them).

    png16.py make OUT.png          a 16-bit RGB image whose samples 8 bits cannot hold
    png16.py check IN.png OUT.png  OUT must be a 16-bit PNG with IN's size and samples
"""
import struct
import sys
import zlib

COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type


def write(path, width, height, channels, samples):
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        row = samples[y * width * channels:(y + 1) * width * channels]
        rows += struct.pack(">%dH" % len(row), *row)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 16, COLOUR_TYPES[channels], 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows)))
                + chunk(b"IEND", b""))


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read(path):
    """(width, height, channels, bit depth, samples) of a non-interlaced greyscale/RGB(A) PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "%s: not a PNG" % path
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body), "%s: bad CRC in %s" % (path, kind)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    channels = {v: k for k, v in COLOUR_TYPES.items()}[colour]
    assert interlace == 0 and depth in (8, 16)
    bpp = channels * depth // 8
    stride = width * bpp
    raw = zlib.decompress(idat)
    prev, out = bytearray(stride), bytearray()
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]) & 0xFF
        out += line
        prev = line
    if depth == 16:
        samples = list(struct.unpack(">%dH" % (len(out) // 2), bytes(out)))
    else:
        samples = list(out)
    return width, height, channels, depth, samples


def main():
    if sys.argv[1] == "make":
        width, height, channels = 7, 5, 3
        # Values 8 bits cannot hold: odd low bytes, the extremes, a ramp over the whole range.
        samples = [(i * 4099 + 1) % 65536 for i in range(width * height * channels)]
        samples[0], samples[1], samples[2] = 0, 65535, 257
        write(sys.argv[2], width, height, channels, samples)
    else:
        a, b = read(sys.argv[2]), read(sys.argv[3])
        if b[3] != 16:
            sys.exit("%s: %d-bit, expected 16-bit" % (sys.argv[3], b[3]))
        if a[:3] != b[:3]:
            sys.exit("%s: size %s, expected %s" % (sys.argv[3], b[:3], a[:3]))
        bad = [i for i, (x, y) in enumerate(zip(a[4], b[4])) if x != y]
        if bad:
            sys.exit("%s: %d samples differ, first at %d: %d != %d"
                     % (sys.argv[3], len(bad), bad[0], b[4][bad[0]], a[4][bad[0]]))
        print("%s: 16-bit, %dx%dx%d, every sample equal" % (sys.argv[3], *b[:3]))


if __name__ == "__main__":
    main()
