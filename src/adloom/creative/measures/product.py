"""Product: where the brief's packshot stands in the creative (px), its pixels only
scaled (``creative.product``); journalled and shown on the preview's card, so a reviewer
and the tests can find it. No workbook column: the picture itself shows it."""

from __future__ import annotations

from adloom.creative.measures.kit import Check, Composed, Values, box
from adloom.model import Badge, CheckValue, Finding


def _measure(composed: Composed) -> tuple[dict[str, CheckValue], tuple[str, ...]]:
    return {"product": composed.product}, ()


def _present(values: Values) -> Finding:
    # A journal written before this check has no "product": no packshot then.
    placed = box(values, "product") if "product" in values else None
    if placed is None:
        return Finding("product", {})
    shown = ",".join(map(str, placed))
    title = "where the brand's product image stands (x0, y0, x1, y1): its own pixels, scaled"
    return Finding("product", {}, Badge(f"product {shown}", title))


CHECK = Check("product", _measure, _present)
