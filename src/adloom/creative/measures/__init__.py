"""The checks on a composed creative, one module each, in ``CHECKS``.

A check measures the creative as composed (``kit.Composed``: layout, placement, the
legibility compose measured and repaired, the crop) into named values, which the
journal keeps, and presents them as a ``model.Finding``: workbook cells by column
name, a badge for the preview's card, whether it holds the ad back. The workbook,
the preview and ``--json`` read findings by name, never by position.

Adding a check: a module here with its ``CHECK`` (and its test), and a line below.
Its cells become workbook columns after the known ones (docs/output.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adloom.creative.checks import Measured
from adloom.creative.layout import Layout
from adloom.creative.measures import contrast, crop, product, safe_zone, text_share, text_size
from adloom.creative.measures.kit import Check, Composed
from adloom.model import CheckValue, CreativeChecks, Placement

CHECKS: tuple[Check, ...] = (
    contrast.CHECK,
    safe_zone.CHECK,
    text_size.CHECK,
    text_share.CHECK,
    crop.CHECK,
    product.CHECK,
)


def report(
    layout: Layout,
    placement: Placement,
    measured: Sequence[Measured],
    crop_box: tuple[int, int, int, int] | None,
    product_box: tuple[int, int, int, int] | None = None,
) -> tuple[CreativeChecks, tuple[str, ...]]:
    """Every check of one creative, and the issues that hold it back."""
    composed = Composed(layout, placement, tuple(measured), crop_box, product_box)
    values: dict[str, CheckValue] = {}
    issues: list[str] = []
    for check in CHECKS:
        found, problems = check.measure(composed)
        values.update(found)
        issues += problems
    return present(values), tuple(issues)


def present(values: Mapping[str, CheckValue]) -> CreativeChecks:
    """The checks' findings from their values (as measured, or as journalled)."""
    return CreativeChecks(dict(values), tuple(check.present(values) for check in CHECKS))


def restore(values: Mapping[str, CheckValue]) -> CreativeChecks | None:
    """``present`` for values read back; None when a check's values are missing or
    malformed (a journal of another version: the creative is composed again)."""
    try:
        return present(values)
    except (KeyError, TypeError, ValueError):
        return None


__all__ = ["CHECKS", "Check", "Composed", "present", "report", "restore"]
