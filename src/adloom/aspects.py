"""Image aspect ratios: parsing ``"16:9"``, the nearest supported one, the master's size,
and the words an image prompt uses for a shape.

Shared by the plan (which master images a run needs) and every image provider (the
size or ratio a model accepts, the composition it is asked for).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import combinations

MASTER_LONG_SIDE = 1024
# The crop bound for sharing a master: a placement composed from a family keeps at least
# this share of what the nearest supported ratio would keep of its master (a cover crop
# keeps min(a/b, b/a) of a master of ratio a for a placement of ratio b). Fewer families
# are fewer masters: fewer image calls and less to draw, store and decode.
CROP_BOUND = 0.8


def parse_ratio(ratio: str) -> float:
    w, _, h = ratio.partition(":")
    return float(w) / float(h)


def nearest_aspect(aspect: float, families: Sequence[str]) -> str:
    """The family whose ratio is closest on a log scale (so 2:1 and 1:2 are equally far)."""
    return min(families, key=lambda r: abs(math.log(parse_ratio(r)) - math.log(aspect)))


def kept(master: float, placement: float) -> float:
    """The share of a master of aspect ``master`` a cover crop to ``placement`` keeps."""
    return min(master / placement, placement / master)


def choose_families(aspects: Iterable[float], supported: Sequence[str]) -> tuple[str, ...]:
    """The fewest of the ``supported`` ratios that keep every placement aspect within
    ``CROP_BOUND`` (among equally few, the set keeping the most); each placement then
    takes the nearest chosen family (``nearest_aspect``)."""
    return _choose(tuple(sorted(set(aspects))), tuple(supported))


@cache
def _choose(aspects: tuple[float, ...], supported: tuple[str, ...]) -> tuple[str, ...]:
    ratios = {r: parse_ratio(r) for r in supported}
    best = {a: max(kept(ratios[r], a) for r in supported) for a in aspects}

    def keeps(chosen: tuple[str, ...]) -> float | None:
        total = 0.0
        for a in aspects:
            share = kept(ratios[nearest_aspect(a, chosen)], a)
            if share < CROP_BOUND * best[a] - 1e-9:
                return None
            total += share
        return total

    for size in range(1, len(supported) + 1):
        fits = [(k, c) for c in combinations(supported, size) if (k := keeps(c)) is not None]
        if fits:
            return max(fits, key=lambda fit: fit[0])[1]
    return tuple(supported)  # unreachable: all of them keep every aspect at its best


def draft_size(ratio: str, placements: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """A draft master's size: what its placements need (each covered at its own size),
    never more than ``master_size``. Drawn, not bought: a smaller one costs less to
    draw, keep and compose from."""
    r = parse_ratio(ratio)
    width = 16
    for pw, ph in placements:
        width = max(width, pw if pw / ph >= r else math.ceil(ph * r))
    full_w, full_h = master_size(ratio)
    if width >= full_w:
        return full_w, full_h
    return width, max(16, math.ceil(width / r))


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


Extension = tuple[int, int, int, int]  # left, right, up, down, in pixels


def extension(width: int, height: int, aspects: Iterable[float]) -> Extension:
    """The fewest pixels, split evenly between opposite sides, that make a ``width`` x
    ``height`` picture cover every one of ``aspects`` without cutting it: wider shapes
    extend it sideways, taller ones up and down (and a mix, both)."""
    shapes = list(aspects)
    wide = max([width / height, *shapes])
    tall = min([width / height, *shapes])
    grow_x = max(0, math.ceil(height * wide) - width)
    grow_y = max(0, math.ceil(width / tall) - height)
    return grow_x // 2, grow_x - grow_x // 2, grow_y // 2, grow_y - grow_y // 2


def scaled_extension(
    width: int, height: int, aspects: Iterable[float], most: int, least_side: int
) -> tuple[int, int, Extension]:
    """``extension`` for a service that extends each side by at most ``most`` pixels and
    takes pictures with sides of at least ``least_side``: the size to send the picture
    at (scaled down only when needed) and the pixels to add to that size."""
    shapes = tuple(aspects)
    found = extension(width, height, shapes)
    scale = 1.0
    w, h = width, height
    # Rounding can leave a pixel too many: shrink a little more until every side fits.
    while max(found) > most and min(w, h) > least_side:
        scale *= min(0.99, most / max(found))
        w = max(least_side, math.floor(width * scale))
        h = max(least_side, math.floor(height * scale))
        found = extension(w, h, shapes)
    return w, h, found
