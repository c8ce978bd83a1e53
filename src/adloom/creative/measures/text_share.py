"""Text share: the glyph boxes' share of the image, reported (Meta and Google advise
little text on images; neither rejects an ad for it any more)."""

from __future__ import annotations

from adloom.creative.checks import line_boxes
from adloom.creative.measures.kit import Check, Composed, Values, number
from adloom.creative.typeset import Box
from adloom.model import Badge, CheckValue, Finding


def _measure(composed: Composed) -> tuple[dict[str, CheckValue], tuple[str, ...]]:
    layout = composed.layout
    bounds = Box(0, 0, layout.width, layout.height)
    area = sum(b.width * b.height for t in layout.texts for b in line_boxes(t, bounds))
    return {"text_share": round(area / (layout.width * layout.height), 4)}, ()


def _present(values: Values) -> Finding:
    share = number(values, "text_share")
    badge = Badge(f"text {share * 100:.0f}% of image", "share of the image covered by text")
    return Finding("text_share", {"text_share": share}, badge)


CHECK = Check("text_share", _measure, _present)
