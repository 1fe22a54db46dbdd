#!/usr/bin/env python3
"""Writes the CSV, PNG and safetensors seeds of Corpus/ (the flow seeds are copies of the
repository's flows and of Tests/FlowSpecTests/BadFlows). Standard library only; run from Fuzz/."""
import json
import os
import struct
import zlib

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

# --- CSV -------------------------------------------------------------------------------------
csv = {
    "plain.csv": b"a,b,c\n1,2,3\n4.5,-6e2,x\n",
    "crlf.csv": b"id,label\r\n1,yes\r\n2,no\r\n",
    "bom.csv": b"\xef\xbb\xbfname,value\nalpha,1\nbeta,2\n",
    "quotes.csv": b'text,n\n"a, b",1\n"say ""hi""",2\n"",3\n',
    "embedded-newline.csv": b'note,k\n"line one\nline two",1\n"cr\r\nlf",2\n',
    "blank-lines-no-final-newline.csv": b"x,y\n\n1,2\n\r\n3,4",
    "missing-and-unicode.csv": "city,temp\nZürich,\nKöln,?\n東京,21.5\n".encode(),
    "numbers.csv": b"v\n0\n-0\n1e308\n1e-320\nnan\ninf\n0x10\n+5\n.5\n5.\n",
    "header-only.csv": b"only,a,header\n",
    "bad-unclosed-quote.csv": b'a,b\n"open,1\n',
    "bad-ragged.csv": b"a,b\n1\n1,2,3\n",
    "bad-duplicate-header.csv": b"a,a\n1,2\n",
}
for name, data in csv.items():
    write(f"Corpus/FuzzCSV/{name}", data)

# --- PNG -------------------------------------------------------------------------------------
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

def png(width, height, color_type, depth, rows, extra=(), interlace=0):
    """rows: raw scanlines (without filter bytes) for a non-interlaced image, or the full
    filtered stream when interlace=1."""
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace)
    raw = rows if interlace else b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + b"".join(chunk(k, v) for k, v in extra)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

# 8-bit gray 4×3 gradient
write("Corpus/FuzzPNG/gray8.png", png(4, 3, 0, 8, [bytes((x * 60 + y * 20) % 256 for x in range(4)) for y in range(3)]))
# 1-bit gray 9×2 (rows pad to bytes)
write("Corpus/FuzzPNG/gray1.png", png(9, 2, 0, 1, [b"\xaa\x80", b"\x55\x00"]))
# 16-bit gray with alpha 2×2
write("Corpus/FuzzPNG/graya16.png", png(2, 2, 4, 16, [struct.pack(">4H", 0, 65535, 40000, 30000)] * 2))
# 8-bit RGB 3×2 with a gAMA chunk
write("Corpus/FuzzPNG/rgb8-gama.png", png(3, 2, 2, 8, [bytes(range(9)), bytes(range(100, 109))],
                                          extra=[(b"gAMA", struct.pack(">I", 45455))]))
# 16-bit RGBA 2×1
write("Corpus/FuzzPNG/rgba16.png", png(2, 1, 6, 16, [struct.pack(">8H", 1, 2, 3, 65535, 60000, 0, 500, 0)]))
# 8-bit RGBA 2×2 with sRGB
write("Corpus/FuzzPNG/rgba8-srgb.png", png(2, 2, 6, 8, [bytes([255, 0, 0, 128, 0, 255, 0, 255])] * 2,
                                           extra=[(b"sRGB", b"\x00")]))
# 2-bit palette 5×2 with tRNS
write("Corpus/FuzzPNG/palette2-trns.png", png(5, 2, 3, 2, [b"\x1b\x40", b"\xe4\x00"],
                                              extra=[(b"PLTE", bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])),
                                                     (b"tRNS", b"\x00\x80")]))
# 8-bit gray, Adam7-interlaced 3×3: pass images of 1×1 (pass 1), 1×1 (pass 6: none… ) — built
# by pulling pixels into the seven passes.
def adam7(width, height, pixel):
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    out = b""
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if not xs or not ys:
            continue
        for y in ys:
            out += b"\x00" + bytes(pixel(x, y) for x in xs)
    return out
write("Corpus/FuzzPNG/gray8-interlaced.png", png(5, 5, 0, 8, adam7(5, 5, lambda x, y: x * 50 + y), interlace=1))
# A header claiming 16384×16384 RGB (at the pixel limit) with a tiny IDAT: decoding must fail
# on the data without the decoder taking too long.
write("Corpus/FuzzPNG/huge-header-truncated.png", png(16384, 16384, 2, 8, [b"\x00" * 3]))

# --- safetensors -----------------------------------------------------------------------------
def safetensors(tensors, metadata=None, pad=True):
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, shape, values in tensors:
        body = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(body)]}
        data += body
        offset += len(body)
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data

write("Corpus/FuzzSafetensors/two-tensors.safetensors",
      safetensors([("dense.weight", [2, 3], [0.5, -1, 2, 3.25, 1e-3, -7]), ("dense.bias", [3], [0, 1, -1])]))
write("Corpus/FuzzSafetensors/metadata-scalar-empty.safetensors",
      safetensors([("scalar", [], [3.5]), ("empty", [0, 4], [])], metadata={"format": "pt", "epoch": "3"}))
write("Corpus/FuzzSafetensors/escaped-names.safetensors",
      safetensors([("caf\u00e9 \"q\"\\n", [1], [1.0]), ("\U0001F600/\t", [2], [float("inf"), float("nan")])],
                  metadata={"k\u0001": "v\u2028"}))
write("Corpus/FuzzSafetensors/empty-header.safetensors", safetensors([], pad=False))
write("Corpus/FuzzSafetensors/bad-dtype.safetensors",
      struct.pack("<Q", 61) + b'{"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}      ' + b"\x00" * 4)
write("Corpus/FuzzSafetensors/bad-overlap.safetensors",
      (lambda h: struct.pack("<Q", len(h)) + h + b"\x00" * 8)(
          b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'))

# --- JPEG ------------------------------------------------------------------------------------
# Encoded by libjpeg-turbo's TurboJPEG (Debian's libturbojpeg, which `make deps` installs)
# through ctypes; the odd ones (Exif, CMYK, cut, huge header) also go to Regressions/FuzzJPEG,
# which `make test` replays.
import ctypes

turbo = ctypes.CDLL("libturbojpeg.so.0")
turbo.tjInitCompress.restype = ctypes.c_void_p
TJPF_RGB, TJPF_GRAY, TJPF_CMYK = 0, 6, 11
TJSAMP_444, TJSAMP_420, TJSAMP_GRAY = 0, 2, 3
TJFLAG_PROGRESSIVE = 16384

def jpeg(width, height, pixel_format, samples, subsampling, quality=90, flags=0):
    handle = ctypes.c_void_p(turbo.tjInitCompress())
    out, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    status = turbo.tjCompress2(handle, bytes(samples), width, 0, height, pixel_format, ctypes.byref(out),
                               ctypes.byref(size), subsampling, quality, flags)
    assert status == 0, "tjCompress2 failed"
    data = ctypes.string_at(out, size.value)
    turbo.tjFree(out)
    turbo.tjDestroy(handle)
    return data

def exif(orientation):
    tiff = b"MM" + struct.pack(">HIH", 42, 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + b"\0\0\0\0"
    payload = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload

rgb = [(x * 40 + y * 3 + c * 90) % 256 for y in range(12) for x in range(10) for c in range(3)]
gray = [(x * 25 + y * 9) % 256 for y in range(9) for x in range(11)]
baseline = jpeg(10, 12, TJPF_RGB, rgb, TJSAMP_420)
seeds = {
    "baseline-420.jpg": baseline,
    "progressive-444.jpg": jpeg(10, 12, TJPF_RGB, rgb, TJSAMP_444, flags=TJFLAG_PROGRESSIVE),
    "gray.jpg": jpeg(11, 9, TJPF_GRAY, gray, TJSAMP_GRAY),
}
odd = {
    "exif-rotated-6.jpg": baseline[:2] + exif(6) + baseline[2:],
    "exif-bad-offset.jpg": baseline[:2] + exif(6)[:20].replace(b"\x00\x00\x00\x08", b"\xff\xff\xff\xf0") + baseline[2:],
    "cmyk.jpg": jpeg(8, 8, TJPF_CMYK, [30, 200, 10, 0] * 64, TJSAMP_444),
    "cut-in-scan.jpg": baseline[: len(baseline) * 2 // 3],
    "huge-header-truncated.jpg": (lambda at: baseline[: at + 5] + b"\x3f\xff\x3f\xff" + baseline[at + 9 :])(baseline.index(b"\xff\xc0")),
}
for name, data in {**seeds, **odd}.items():
    write(f"Corpus/FuzzJPEG/{name}", data)
for name, data in odd.items():
    write(f"Regressions/FuzzJPEG/{name}", data)
