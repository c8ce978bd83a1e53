"""Tables in the docs that copy code are checked against the code.

The placements table (docs/brief-format.md) row by row against data/placements.json,
the exit codes (docs/cli.md, README) against ``errors.ExitCode``, and the models docs
against data/models.json: a number changed in the data and not in the docs fails here.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from adloom.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _table(text: str, header: str) -> list[list[str]]:
    """The rows (cells stripped) of the markdown table whose header line starts so."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def _data(name: str) -> Any:
    return json.loads(files("adloom").joinpath(f"data/{name}").read_text(encoding="utf-8"))


def _placement_row(p: dict[str, Any]) -> list[str]:
    """A placement as docs/brief-format.md writes it."""
    size = f"{p['width']}×{p['height']}" if p.get("width") else "text only"
    if p.get("headline_count"):
        limits = (
            f"{p['headline_max']} / {p['body_max']} / – ({p['headline_count']} headlines,"
            f" {p['description_count']} descriptions, paths of {p['path_max']})"
        )
    else:
        limits = f"{p['headline_max']} / {p['body_max']} / {p['cta_max']}"
    kb = f"{p['max_kb']:,}" if p.get("max_kb") else "–"
    return [f"`{p['id']}`", p["platform"], size, limits, kb, p.get("width_rule", "chars")]


def test_the_placements_table_is_the_placement_data() -> None:
    text = (DOCS / "brief-format.md").read_text(encoding="utf-8")
    documented = _table(text, "| id | platform | size (px) |")
    shipped = [_placement_row(p) for p in _data("placements.json")["placements"]]
    assert documented == shipped


def test_the_exit_codes_documented_are_the_exit_codes() -> None:
    cli = (DOCS / "cli.md").read_text(encoding="utf-8")
    documented = {int(row[0]) for row in _table(cli, "| code |")}
    assert documented == {int(code) for code in ExitCode}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert re.search(rf"`{int(code)}`", readme), f"README does not mention exit {int(code)}"


def test_the_shipped_models_table_is_the_model_data() -> None:
    text = (DOCS / "models.md").read_text(encoding="utf-8")
    documented = _table(text, "| model | provider | kind |")
    shipped = [[f"`{m['id']}`", m["provider"], m["kind"]] for m in _data("models.json")["models"]]
    assert documented == shipped
