"""Text size: no text smaller than the placement's minimum (``checks.min_text_px``);
smaller holds the ad back."""

from __future__ import annotations

from adloom.creative.checks import min_text_px
from adloom.creative.measures.kit import Check, Composed, Values, whole
from adloom.model import Badge, CheckValue, Finding


def _measure(composed: Composed) -> tuple[dict[str, CheckValue], tuple[str, ...]]:
    placement = composed.placement
    smallest = min((t.block.size for t in composed.layout.texts), default=0)
    floor = min_text_px(placement)
    issues = (f"text set at {smallest} px, under {placement.id}'s minimum of {floor} px",)
    return {"text_px": smallest, "min_text_px": floor}, issues if 0 < smallest < floor else ()


def _present(values: Values) -> Finding:
    size, floor = whole(values, "text_px"), whole(values, "min_text_px")
    small = 0 < size < floor
    title = f"smallest text; this placement's minimum is {floor} px"
    badge = Badge(f"text {size} px", title, "bad" if small else "ok") if size else None
    return Finding("text_size", {"text_px": size}, badge, small)


CHECK = Check("text_size", _measure, _present)
