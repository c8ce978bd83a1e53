"""What a creative check is: a name, a measure of the composed creative, and how its
values are shown (``Check``); and what it is handed (``Composed``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from adloom.creative.checks import Measured
from adloom.creative.layout import Layout
from adloom.model import CheckValue, Finding, Placement

Values = Mapping[str, CheckValue]


@dataclass(frozen=True)
class Composed:
    """A creative as composed, for the checks to measure: its layout (text, logo and
    button boxes), placement, each text element's legibility (``checks.legible``,
    repaired while composing), the part of the master used and where the brief's
    product stands."""

    layout: Layout
    placement: Placement
    measured: tuple[Measured, ...]
    crop: tuple[int, int, int, int] | None
    product: tuple[int, int, int, int] | None = None  # where the brand's packshot stands, px


@dataclass(frozen=True)
class Check:
    """One creative check. ``measure`` returns its values (journalled, names unique
    among all checks) and the issues that hold the ad back; ``present``
    turns the values into the check's ``Finding`` (workbook cells, badge, holds)."""

    name: str
    measure: Callable[[Composed], tuple[dict[str, CheckValue], tuple[str, ...]]]
    present: Callable[[Values], Finding]


def number(values: Values, name: str) -> float:
    value = values[name]
    if not isinstance(value, int | float):
        raise TypeError(f"{name}: {value!r} is not a number")
    return value


def whole(values: Values, name: str) -> int:
    return int(number(values, name))


def names(values: Values, name: str) -> tuple[str, ...]:
    value = values[name]
    if not isinstance(value, list | tuple):
        raise TypeError(f"{name}: {value!r} is not a list")
    return tuple(str(v) for v in value)


def box(values: Values, name: str) -> tuple[int, int, int, int] | None:
    value = values[name]
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise TypeError(f"{name}: {value!r} is not a box")
    x0, y0, x1, y1 = (int(v) for v in value)
    return x0, y0, x1, y1
