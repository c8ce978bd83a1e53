"""The built-in placement table (``data/placements.json``): sizes, copy limits, caps, sources."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from adloom.model import Placement


@cache
def builtin_placements() -> dict[str, Placement]:
    raw: dict[str, Any] = json.loads(
        files("adloom").joinpath("data/placements.json").read_text(encoding="utf-8")
    )
    return {row["id"]: Placement(**row) for row in raw["placements"]}
