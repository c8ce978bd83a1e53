"""Safe zone: every text, logo and button box inside the placement's safe zone (the
bands the platform's own interface covers). One outside holds the ad back."""

from __future__ import annotations

from adloom.creative.layout import safe_zone
from adloom.creative.measures.kit import Check, Composed, Values, names
from adloom.creative.typeset import Box
from adloom.model import Badge, CheckValue, Finding


def _measure(composed: Composed) -> tuple[dict[str, CheckValue], tuple[str, ...]]:
    layout, placement = composed.layout, composed.placement
    zone = safe_zone(placement)
    boxes: list[tuple[str, Box]] = [(t.role, t.block.ink) for t in layout.texts]
    boxes += [("logo", layout.logo)] if layout.logo else []
    boxes += [("button", layout.button.box)] if layout.button else []
    outside = tuple(dict.fromkeys(name for name, box in boxes if not zone.contains(box)))
    issues = (
        f"{', '.join(outside)} outside {placement.id}'s safe zone "
        f"(x {zone.x0}-{zone.x1}, y {zone.y0}-{zone.y1}): the platform's interface"
        " or its crop covers it",
    )
    return {"outside_safe": outside}, issues if outside else ()


def _present(values: Values) -> Finding:
    outside = names(values, "outside_safe")
    title = "text, logo and button inside the placement's safe zone"
    if outside:
        listed = ", ".join(outside)
        badge = Badge(f"outside safe zone: {listed}", title, "bad")
        return Finding("safe_zone", {"safe_zone": f"outside: {listed}"}, badge, holds=True)
    return Finding("safe_zone", {"safe_zone": "ok"}, Badge("safe zone", title, "ok"))


CHECK = Check("safe_zone", _measure, _present)
