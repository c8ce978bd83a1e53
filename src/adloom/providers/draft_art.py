"""Procedural master images in the brand colours, for the offline ``draft`` provider.

A diagonal gradient of the primary colour, soft shapes (blobs, bands or rings) in the
secondary colour and tints, and a soft glow. No text: the copy is composed on top later.
No pixel noise either: it makes the PNG ten times bigger and slower to encode.
Everything comes from ``random.Random`` seeded with (seed, label), so the same request
gives the same bytes on every run.

The smooth layers are drawn at a small size and scaled up (soft shapes lose nothing),
which keeps a 1024x1024 master well under 100 ms.

``rough_cutout`` stands in offline for a remove-background model (a packshot on a busy
background): whatever is near one of the border's few main colours and connected to
the edge becomes transparent. Good enough to lay a draft out, and labelled a draft.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFilter

from adloom.model import BrandKit
from adloom.providers.pictures import edge_connected

RGB = tuple[int, int, int]

_WORK = 256  # px, long side of the canvas the smooth layers are painted on


def _rgb(value: str) -> RGB:
    r, g, b = ImageColor.getrgb(value)[:3]
    return (r, g, b)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    r0, g0, b0 = a
    r1, g1, b1 = b
    return (round(r0 + (r1 - r0) * t), round(g0 + (g1 - g0) * t), round(b0 + (b1 - b0) * t))


def _gradient(size: tuple[int, int], start: RGB, end: RGB, angle: float) -> Image.Image:
    # Rotate a square ramp and keep its centre, where rotation leaves no empty corners.
    ramp = Image.linear_gradient("L").resize((363, 363), Image.Resampling.BILINEAR)
    ramp = ramp.rotate(angle, Image.Resampling.BILINEAR).crop((53, 53, 309, 309))
    mask = ramp.resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


def _shapes(rng: random.Random, size: tuple[int, int], palette: list[RGB]) -> Image.Image:
    """A translucent RGBA layer of soft shapes, in one of three styles."""
    w, h = size
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    style = rng.choice(("blobs", "bands", "rings"))
    if style == "blobs":
        for _ in range(rng.randint(3, 6)):
            r = rng.uniform(0.15, 0.45) * max(w, h)
            cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
            draw.ellipse(
                (cx - r, cy - r, cx + r, cy + r), (*rng.choice(palette), rng.randint(70, 160))
            )
        blur = 0.05
    elif style == "bands":
        slope = rng.uniform(-1.2, 1.2) * h
        for _ in range(rng.randint(2, 4)):
            x = rng.uniform(-0.3, 1.0) * w
            band = rng.uniform(0.08, 0.25) * w
            polygon = [(x, 0), (x + band, 0), (x + band + slope, h), (x + slope, h)]
            draw.polygon(polygon, (*rng.choice(palette), rng.randint(90, 170)))
        blur = 0.015
    else:
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        for _ in range(rng.randint(3, 5)):
            r = rng.uniform(0.15, 0.7) * max(w, h)
            width = max(2, round(rng.uniform(0.02, 0.08) * max(w, h)))
            color = (*rng.choice(palette), rng.randint(120, 210))
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=color, width=width)
        blur = 0.01
    # Blur premultiplied ("RGBa"): straight alpha would smear the transparent black of the
    # empty layer into dark fringes around every shape.
    soft = layer.convert("RGBa").filter(ImageFilter.GaussianBlur(max(1.0, blur * max(w, h))))
    return soft.convert("RGBA")


def draft_master(brand: BrandKit, width: int, height: int, seed: int, label: str) -> bytes:
    """A PNG master image: same (brand, size, seed, label) -> same bytes."""
    # Strings seed Random through SHA-512, independent of PYTHONHASHSEED.
    rng = random.Random(f"{seed}:{label}")  # noqa: S311 - art, not secrets
    primary, secondary = _rgb(brand.primary_color), _rgb(brand.secondary_color)
    white, black = (255, 255, 255), (0, 0, 0)

    scale = _WORK / max(width, height)
    work = (max(8, round(width * scale)), max(8, round(height * scale)))
    shade = _mix(primary, rng.choice((white, black)), rng.uniform(0.25, 0.5))
    start, end = (primary, shade) if rng.random() < 0.5 else (shade, primary)
    art = _gradient(work, start, end, rng.uniform(0, 360))

    palette = [secondary, secondary, _mix(primary, white, 0.35), _mix(secondary, white, 0.4)]
    art = Image.alpha_composite(art.convert("RGBA"), _shapes(rng, work, palette)).convert("RGB")
    # A faint glow off-centre gives depth, like a studio backdrop.
    glow = Image.new("L", work, 0)
    gx, gy, gr = rng.uniform(0.2, 0.8) * work[0], rng.uniform(0.2, 0.8) * work[1], 0.5 * max(work)
    ImageDraw.Draw(glow).ellipse((gx - gr, gy - gr, gx + gr, gy + gr), 60)
    glow = glow.filter(ImageFilter.GaussianBlur(0.25 * max(work)))
    art.paste(white, (0, 0), glow)

    art = art.resize((width, height), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    # Level 2 encodes 2-3x faster than the default 6; the file is ~40% bigger, still small.
    art.save(buffer, "PNG", compress_level=2)
    return buffer.getvalue()


_ROUGH_COLOURS = 6  # main border colours the rough cut-out takes for background
_ROUGH_REACH = 48.0  # RGB distance from one of them still counted as background
_ROUGH_SIDE = 384  # the mask is found at this long side, then scaled up
_ROUGH_KEPT = 0.02  # a mask keeping less than this share keeps the whole picture


def rough_cutout(path: Path) -> bytes:
    """The packshot at ``path`` as a PNG whose background (what is near one of its
    border's main colours and connected to the edge) is transparent; its pixels are its
    own. Where that would leave almost nothing, the whole picture is kept opaque."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    small = rgb.copy()
    small.thumbnail((_ROUGH_SIDE, _ROUGH_SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(small).astype(np.float32)
    edge = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    distance = np.full(pixels.shape[:2], np.inf, dtype=np.float32)
    for colour in _palette(edge, _ROUGH_COLOURS):
        distance = np.minimum(distance, np.linalg.norm(pixels - colour, axis=2))
    background = edge_connected(distance <= _ROUGH_REACH)
    mask = Image.fromarray(np.where(background, 0, 255).astype(np.uint8), "L")
    mask = mask.resize(rgb.size, Image.Resampling.BILINEAR)
    if float(np.mean(np.asarray(mask) > 127)) < _ROUGH_KEPT:
        mask = Image.new("L", rgb.size, 255)
    rgb.putalpha(mask)
    buffer = io.BytesIO()
    rgb.save(buffer, "PNG")
    return buffer.getvalue()


def _palette(colours: np.ndarray, count: int) -> np.ndarray:
    """``count`` main colours of ``colours`` (k-means from evenly spaced starts)."""
    centres: np.ndarray = colours[np.linspace(0, len(colours) - 1, count).astype(int)].copy()
    for _ in range(8):
        nearest = np.argmin(
            np.linalg.norm(colours[:, None, :] - centres[None, :, :], axis=2), axis=1
        )
        for i in range(count):
            members = colours[nearest == i]
            if len(members):
                centres[i] = members.mean(axis=0)
    return centres


# The extended area's blur, as a share of the picture's short side: enough that the
# mirrored copies read as a backdrop, not as a second subject.
_EXTEND_BLUR = 0.04


def extended(picture: Image.Image, left: int, right: int, up: int, down: int) -> bytes:
    """``picture`` extended offline (the draft's outpaint): its mirror images tiled
    around it, blurred, with the picture itself unchanged in the middle; a PNG."""
    w, h = picture.size
    canvas = Image.new("RGB", (w + left + right, h + up + down))
    mirror = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    flips = {
        (0, 0): picture,
        (1, 0): mirror,
        (0, 1): picture.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
        (1, 1): mirror.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    }
    for ky in range(-(-up // h), 1 + -(-down // h)):
        for kx in range(-(-left // w), 1 + -(-right // w)):
            canvas.paste(flips[kx % 2, ky % 2], (left + kx * w, up + ky * h))
    blurred = canvas.filter(ImageFilter.GaussianBlur(max(1.0, _EXTEND_BLUR * min(w, h))))
    blurred.paste(picture, (left, up))
    buffer = io.BytesIO()
    blurred.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
