"""product: the brand's real product cut out of its packshot and set on a generated scene.

The product's pixels are never generated or changed beyond scaling: the cut-out keeps
every pixel of the packshot it keeps (only the alpha is decided here), and ``place``
scales it in one resample and pastes it where the layout reserved room, over a soft
shadow. Two kinds of packshot are cut out locally:

- a PNG/WebP with transparency: its own alpha channel;
- a photo on a plain background (the studio white or colour sweep of most packshots):
  the border's colour, flooded inwards from the edges within ``_TOLERANCE``, so a label
  of the same colour inside the product stays (it is not connected to the border).

Anything else (a product in a scene) is ``busy``: a segmentation model cuts it out
(Bedrock's remove-background model, planned as a ``CutoutJob``), whose transparent
answer is then cut out like any transparent packshot. Offline, the draft provider's
``draft_art.rough_cutout`` stands in for that model.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from adloom.brief.inputs import IMAGE_FORMATS
from adloom.creative.typeset import Box
from adloom.providers import pictures

_TOLERANCE = 24.0  # RGB distance from the border colour still counted as background
_SOFT = 16.0  # beyond the tolerance, alpha ramps up over this distance (anti-aliased rim)
_PLAIN_SHARE = 0.9  # share of border pixels that must be the border colour
_MIN_KEPT = 0.02  # a cut-out keeping less than this share of the picture is no product
_SHADOW_ALPHA = 110  # how dark the contact shadow is at its centre, of 255


def _transparent(image: Image.Image) -> bool:
    if "A" not in image.getbands():
        return False
    low, _ = image.getchannel("A").getextrema()
    return isinstance(low, int) and low < 255


def _border_colour(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The packshot's border colour (median of the edge pixels) and the share of the
    edge pixels within tolerance of it."""
    edge = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.float32)
    colour = np.median(edge, axis=0)
    share = float(np.mean(np.linalg.norm(edge - colour, axis=1) <= _TOLERANCE))
    return colour, share


def plain_share(path: Path) -> float:
    """The share of the packshot's edge that is its border colour (1.0: transparent)."""
    with Image.open(path, formats=IMAGE_FORMATS) as image:
        if _transparent(image):
            return 1.0
        return _border_colour(np.asarray(image.convert("RGB")))[1]


def busy(path: Path) -> bool:
    """Whether only a segmentation model can cut the packshot out: no transparency and
    no plain background."""
    return plain_share(path) < _PLAIN_SHARE


def busy_reason(path: Path) -> str:
    """Why a busy packshot cannot be cut out here, for a message."""
    return (
        f"has no transparency and its background is not plain ({plain_share(path):.0%} of"
        " its edge is one colour)"
    )


def problem(path: Path) -> str | None:
    """Why the packshot at ``path`` cannot be cut out here (None: it can)."""
    if busy(path):
        return (
            f"{busy_reason(path)} — supply a PNG with a transparent background, or a photo"
            " on a plain white or coloured background"
        )
    try:
        cutout(path)
    except ValueError as exc:
        return f"cannot be cut out: {exc} — supply a packshot that shows the product"
    return None


@lru_cache(maxsize=4)
def _cutout(path: Path, mtime_ns: int) -> Image.Image:
    with Image.open(path, formats=IMAGE_FORMATS) as image:
        if _transparent(image):
            rgba = image.convert("RGBA")
        else:
            rgb = np.asarray(image.convert("RGB"))
            colour, _ = _border_colour(rgb)
            distance = np.linalg.norm(rgb.astype(np.float32) - colour, axis=2)
            background = pictures.edge_connected(distance <= _TOLERANCE + _SOFT)
            # Opaque wherever the flood did not reach; a soft rim where it did but the
            # colour already differs from the background's (anti-aliased edges).
            ramp = np.clip((distance - _TOLERANCE) / _SOFT, 0.0, 1.0)
            alpha = np.where(background, np.round(ramp * 255), 255).astype(np.uint8)
            alpha[background & (distance <= _TOLERANCE)] = 0
            rgba = Image.fromarray(rgb, "RGB")
            rgba.putalpha(Image.fromarray(alpha, "L"))
    box = rgba.getchannel("A").getbbox()
    if box is None:
        raise ValueError(f"{path.name}: nothing is left of the packshot once cut out")
    kept = (box[2] - box[0]) * (box[3] - box[1]) / (rgba.width * rgba.height)
    if kept < _MIN_KEPT:
        raise ValueError(f"{path.name}: the cut-out keeps only {kept:.1%} of the packshot")
    return rgba.crop(box)


def cutout(path: Path) -> Image.Image:
    """The product as RGBA, cropped to what is left of it (decoded once per file version).

    Raises ValueError when nothing is left; ``problem`` says beforehand whether a
    packshot can be cut out at all."""
    return _cutout(path, path.stat().st_mtime_ns)


def fitted(product: Image.Image, room: Box) -> tuple[Box, Image.Image]:
    """The product scaled to fit ``room`` (aspect kept, centred, standing on its floor)
    in one Lanczos resample, and where it goes."""
    scale = min(room.width / product.width, room.height / product.height)
    width, height = max(1, round(product.width * scale)), max(1, round(product.height * scale))
    x0 = room.x0 + (room.width - width) // 2
    y0 = room.y1 - height
    return Box(x0, y0, x0 + width, y0 + height), product.resize(
        (width, height), Image.Resampling.LANCZOS
    )


def place(canvas: Image.Image, product: Image.Image, room: Box) -> Box:
    """Paint a soft contact shadow and the scaled product into ``room`` of ``canvas``
    (changed in place); the product's box."""
    box, scaled = fitted(product, room)
    _shadow(canvas, box)
    canvas.paste(scaled, (box.x0, box.y0), scaled)
    return box


def _shadow(canvas: Image.Image, box: Box) -> None:
    """A blurred dark ellipse under the product's base, so it stands on the scene."""
    reach = max(2, round(0.08 * box.height))
    area = Box(
        max(0, box.x0 - reach),
        max(0, box.y1 - 3 * reach),
        min(canvas.width, box.x1 + reach),
        min(canvas.height, box.y1 + reach),
    )
    if area.width <= 0 or area.height <= 0:
        return
    mask = Image.new("L", (area.width, area.height), 0)
    ImageDraw.Draw(mask).ellipse(
        (
            box.x0 - area.x0 + reach // 2,
            box.y1 - area.y0 - reach,
            box.x1 - area.x0 - reach // 2,
            box.y1 - area.y0 + reach // 2,
        ),
        fill=_SHADOW_ALPHA,
    )
    canvas.paste((0, 0, 0), area.tuple(), mask.filter(ImageFilter.GaussianBlur(reach / 2)))
