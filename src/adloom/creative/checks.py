"""checks: a composed creative measured before it is delivered (docs/output.md).

- Legibility: every line of text against the pixels actually behind it, on the canvas
  as painted just before the text (panels, logo, button, any picture showing through),
  to the WCAG 2.x contrast ratio: 4.5:1, or 3:1 for large text. A line below is
  repaired — another colour of the brand kit (its text, secondary and primary colours,
  then black or white), else an opaque brand-colour backing behind it — and measured
  again. What is still below holds the ad back (``flagged``) with the measured ratio.

What each check reports on the composed creative (contrast, safe zone, text size,
text share, crop) is a module of ``creative/measures``; this module holds the
measuring and repair compose needs while it paints, and WCAG's sizes.

The DRAFT tag is not checked: it marks an offline draft, is no part of the ad, and is
white on a 60% black chip, at least 5.9:1 over any picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from PIL import Image

from adloom.creative import typeset
from adloom.creative.layout import (
    BLACK,
    RGB,
    WHITE,
    Layout,
    TextElement,
    luminance,
    parse_color,
    readable_color,
)
from adloom.creative.typeset import Box
from adloom.model import BrandKit, Creative, Placement, Status

NORMAL_RATIO = 4.5  # WCAG 2.x SC 1.4.3 (AA)
LARGE_RATIO = 3.0  # for large text: >= 18 pt, or >= 14 pt bold
LARGE_PT, LARGE_BOLD_PT = 18, 14
CSS_PX_PER_PT = 4 / 3  # CSS: 1 pt = 1/72 in, 1 px = 1/96 in
# WCAG sizes are for text as a viewer sees it. Display banners (IAB sizes, up to 970 px
# wide) are shown at their pixel size; larger social images are shown scaled down to a
# phone's feed, about 400 CSS px wide (the narrower end of phones and feeds: a smaller
# display width counts less text as large, so this errs on the strict side).
NATIVE_MAX_WIDTH = 1000
PHONE_CSS_WIDTH = 400
# The smallest text allowed: 9 px, about the least at which Latin and kana stay legible
# on a screen at 1:1, or 1.6% of the short side on larger images. These are the layouts'
# own floors (for small print), so the check guards against a font, placement or layout
# change shrinking text further; 17 px on a 1080 px image is ~6 CSS px on a phone.
MIN_TEXT_PX = 9
MIN_TEXT_SHORT_SIDE = 0.016
# Percentiles of the luminance behind a line that it must contrast with (see _behind).
_PERCENTILES = (0.1, 0.5, 0.9)


def _px_per_css(placement: Placement) -> float:
    """Image pixels per CSS pixel as the placement is typically shown."""
    if placement.width <= NATIVE_MAX_WIDTH:
        return 1.0
    return placement.width / PHONE_CSS_WIDTH


def large_px(placement: Placement, *, bold: bool) -> int:
    """The font size (px of this image) from which text counts as large for WCAG:
    24 CSS px (18 pt), or 18.7 CSS px (14 pt) bold — on 728x90, 24 and 19 px; on a
    1080 px Meta image, 65 and 51 px."""
    points = LARGE_BOLD_PT if bold else LARGE_PT
    return math.ceil(points * CSS_PX_PER_PT * _px_per_css(placement) - 1e-9)


def min_text_px(placement: Placement) -> int:
    short = min(placement.width, placement.height)
    return max(MIN_TEXT_PX, math.floor(MIN_TEXT_SHORT_SIDE * short))


@cache
def _bold(font: Path) -> bool:
    """Whether a font is bold (WCAG's 14 pt rule): weight 700 and up, by its style name."""
    style = typeset.font(font, 12).getname()[1] or ""
    return any(w in style.lower() for w in ("bold", "black", "heavy"))


# ---------------------------------------------------------------- measuring


def _linear(v: int) -> float:
    c = v / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


# One lookup table per channel: each maps 0-255 to its share of the relative luminance
# (0.2126 R + 0.7152 G + 0.0722 B, linearised) in 1/255 steps. Their sum is luminance to
# within 1.5/255 — under 1% of a ratio near the 3:1 and 4.5:1 thresholds.
_LUT = [round(255 * k * _linear(v)) for k in (0.2126, 0.7152, 0.0722) for v in range(256)]


def line_boxes(element: TextElement, bounds: Box) -> list[Box]:
    """The glyph box of each line of ``element``, clipped to ``bounds``."""
    block = element.block
    face = typeset.font(block.font, block.size)
    boxes = []
    for line in block.lines:
        x0, y0, x1, y1 = face.getbbox(line.text, anchor="ls")
        box = Box(
            max(bounds.x0, line.x + math.floor(x0)),
            max(bounds.y0, line.y + math.floor(y0)),
            min(bounds.x1, line.x + math.ceil(x1)),
            min(bounds.y1, line.y + math.ceil(y1)),
        )
        if box.width > 0 and box.height > 0:
            boxes.append(box)
    return boxes


def _behind(canvas: Image.Image, box: Box) -> tuple[float, ...]:
    """Relative luminances behind a line: its 10th, 50th and 90th percentiles.

    The text must contrast with each: a mean would average a bright half of the line
    with a dark half into a grey that hides both, and the extremes would fail a line
    over a few stray pixels (anti-aliased panel edges, photo noise). A patch covering a tenth of the
    line's box — enough to hide a word — moves the 10th or 90th percentile; the median
    catches text whose colour sits between the two.
    """
    r, g, b = canvas.crop(box.tuple()).point(_LUT).split()
    counts = Image.merge("RGB", (r, g, b)).convert("L", (1, 1, 1, 0)).histogram()
    total = sum(counts)
    out, seen, level = [], 0, 0
    for fraction in _PERCENTILES:
        while seen + counts[level] < fraction * total:
            seen += counts[level]
            level += 1
        out.append(level / 255)
    return tuple(out)


def _worst(color: RGB, behind: Sequence[tuple[float, ...]]) -> float:
    text = luminance(color)
    return min((max(text, lum) + 0.05) / (min(text, lum) + 0.05) for line in behind for lum in line)


# ---------------------------------------------------------------- legibility


@dataclass(frozen=True)
class Measured:
    """One text element's worst line, after any repair."""

    role: str
    ratio: float
    needed: float
    repair: str  # "" (reads as planned), "colour" (another one) or "backing"


def _repair(
    canvas: Image.Image, element: TextElement, brand: BrandKit, placement: Placement
) -> tuple[TextElement, Measured]:
    block = element.block
    large = block.size >= large_px(placement, bold=_bold(block.font))
    needed = LARGE_RATIO if large else NORMAL_RATIO
    bounds = Box(0, 0, canvas.width, canvas.height)
    boxes = line_boxes(element, bounds)
    behind = [_behind(canvas, box) for box in boxes]
    if not behind:
        return element, Measured(element.role, 21.0, needed, "")
    ratio = _worst(element.color, behind)
    if ratio >= needed:
        return element, Measured(element.role, ratio, needed, "")
    brand_text = parse_color(brand.text_color)
    primary = parse_color(brand.primary_color)
    colours = (brand_text, parse_color(brand.secondary_color), primary, BLACK, WHITE)
    for colour in dict.fromkeys(colours):
        ratio = _worst(colour, behind)
        if ratio >= needed:
            return replace(element, color=colour), Measured(element.role, ratio, needed, "colour")
    # No colour reads over this picture: an opaque brand-colour backing under the glyphs.
    pad = max(2, round(0.25 * block.size))
    for box in boxes:
        backing = Box(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad)
        canvas.paste(primary, _clip(backing, bounds).tuple())
    colour = readable_color(brand_text, primary)
    ratio = _worst(colour, [_behind(canvas, box) for box in boxes])
    return replace(element, color=colour), Measured(element.role, ratio, needed, "backing")


def _clip(box: Box, bounds: Box) -> Box:
    return Box(
        max(box.x0, bounds.x0),
        max(box.y0, bounds.y0),
        min(box.x1, bounds.x1),
        min(box.y1, bounds.y1),
    )


def legible(
    canvas: Image.Image, layout: Layout, brand: BrandKit, placement: Placement
) -> tuple[Layout, tuple[Measured, ...]]:
    """Measure every text element on ``canvas`` (painted up to the text) and repair it
    where needed: the layout to draw the text with, and what was measured. A backing is
    painted onto ``canvas`` in place."""
    texts, measured = [], []
    for element in layout.texts:
        fixed, result = _repair(canvas, element, brand, placement)
        texts.append(fixed)
        measured.append(result)
    return replace(layout, texts=tuple(texts)), tuple(measured)


def status_with(status: Status, creative: Creative | None) -> Status:
    """``flagged`` for an ``ok`` ad whose creative holds it back (text a viewer cannot
    read is never delivered as it is); any other status as it is."""
    if status == "ok" and creative and creative.checks and creative.checks.holds_back:
        return "flagged"
    return status
