"""Image aspect ratios: parsing ``"16:9"``, the nearest supported one, the master's size,
and the words an image prompt uses for a shape.

Shared by the plan (which master images a run needs) and every image provider (the
size or ratio a model accepts, the composition it is asked for).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MASTER_LONG_SIDE = 1024


def parse_ratio(ratio: str) -> float:
    w, _, h = ratio.partition(":")
    return float(w) / float(h)


def nearest_aspect(aspect: float, families: Sequence[str]) -> str:
    """The family whose ratio is closest on a log scale (so 2:1 and 1:2 are equally far)."""
    return min(families, key=lambda r: abs(math.log(parse_ratio(r)) - math.log(aspect)))


def master_size(ratio: str) -> tuple[int, int]:
    r = parse_ratio(ratio)
    if r >= 1:
        return MASTER_LONG_SIDE, max(16, round(MASTER_LONG_SIDE / r / 16) * 16)
    return max(16, round(MASTER_LONG_SIDE * r / 16) * 16), MASTER_LONG_SIDE


def orientation(aspect: str) -> tuple[str, str]:
    """Words for the prompt: the composition, and where to keep space for copy."""
    ratio = parse_ratio(aspect)
    if ratio >= 2:
        return "wide panoramic", "the left or right third"
    if ratio > 1.1:
        return "landscape", "the left or right third"
    if ratio >= 0.9:
        return "square", "about a third of the frame"
    return "portrait", "the top or bottom third"
