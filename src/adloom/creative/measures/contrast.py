"""Legibility: the worst text line's WCAG contrast against the pixels behind it, after
compose's repair (``checks.legible``). Below what WCAG asks holds the ad back."""

from __future__ import annotations

import math

from adloom.creative.checks import NORMAL_RATIO
from adloom.creative.measures.kit import Check, Composed, Values, number, whole
from adloom.model import Badge, CheckValue, Finding


def _measure(composed: Composed) -> tuple[dict[str, CheckValue], tuple[str, ...]]:
    measured = composed.measured
    worst = min(measured, key=lambda m: m.ratio / m.needed, default=None)
    issues = [
        f"{m.role} text is unreadable: contrast {m.ratio:.2f}:1 against the picture "
        f"behind it, under WCAG's {m.needed:g}:1 even after repair"
        for m in measured
        if m.ratio < m.needed
    ]
    values: dict[str, CheckValue] = {
        # Rounded down: a ratio shown as 4.50 has reached 4.5.
        "contrast": math.floor(worst.ratio * 100) / 100 if worst else 21.0,
        "contrast_needed": worst.needed if worst else NORMAL_RATIO,
        "repaired": sum(1 for m in measured if m.repair),
    }
    return values, tuple(issues)


def _present(values: Values) -> Finding:
    ratio, needed = number(values, "contrast"), number(values, "contrast_needed")
    repaired = whole(values, "repaired")
    faint = ratio < needed
    if faint:
        legibility = f"unreadable (needs {needed:g}:1)"
    elif repaired:
        legibility = f"repaired ({repaired})"
    else:
        legibility = "ok"
    note = f"; {repaired} repaired" if repaired else ""
    badge = Badge(
        f"contrast {ratio:.1f}:1{' unreadable' if faint else ' repaired' if repaired else ''}",
        f"worst text line against the pixels behind it; WCAG needs {needed}:1{note}",
        "bad" if faint else "fixed" if repaired else "ok",
    )
    return Finding("contrast", {"contrast": ratio, "legibility": legibility}, badge, faint)


CHECK = Check("contrast", _measure, _present)
