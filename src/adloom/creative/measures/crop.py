"""Crop: the part of the master used (master px), chosen around its subject
(``creative.focal``); reported."""

from __future__ import annotations

from adloom.creative.measures.kit import Check, Composed, Values, box
from adloom.model import Badge, CheckValue, Finding


def _measure(composed: Composed) -> tuple[dict[str, CheckValue], tuple[str, ...]]:
    return {"crop": composed.crop}, ()


def _present(values: Values) -> Finding:
    crop = box(values, "crop")
    if crop is None:
        return Finding("crop", {"crop": ""})
    shown = ",".join(map(str, crop))
    title = "the part of the master used (x0, y0, x1, y1), chosen around its subject"
    return Finding("crop", {"crop": shown}, Badge(f"crop {shown}", title))


CHECK = Check("crop", _measure, _present)
