"""Creative checks as a list of measures: a check is one module registered in
``creative.measures.CHECKS``, and what it finds reaches the workbook (a column by
name), the preview's badges and ``--json`` by name, never by position."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from adloom.creative import measures
from adloom.creative.measures.kit import Check, Composed, Values, whole
from adloom.delivery.workbook import COLUMN_NAMES
from adloom.model import Badge, CheckValue, Finding
from briefs import write_brief
from test_cli import run_json


def _measure(composed: Composed) -> tuple[dict[str, CheckValue], tuple[str, ...]]:
    lines = sum(len(t.block.lines) for t in composed.layout.texts)
    return {"text_lines": lines}, ()


def _present(values: Values) -> Finding:
    lines = whole(values, "text_lines")
    return Finding("text_lines", {"text_lines": lines}, Badge(f"{lines} lines", "lines of text"))


# What a new check's module holds: its measure and its presentation, as CHECK.
TEXT_LINES = Check("text_lines", _measure, _present)


def test_a_new_check_reaches_the_workbook_the_preview_and_json_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(measures, "CHECKS", (*measures.CHECKS, TEXT_LINES))  # its one line
    campaign = {"name": "Checks", "brand": "Lumen", "provider": "draft",
                "placements": "meta_feed,google_rsa"}  # fmt: skip
    brief = write_brief(tmp_path / "brief.xlsx", campaign=campaign)
    out = tmp_path / "out"
    code, summary, text = run_json("run", brief, "--out", out, "--json")
    assert code == 0, text
    assert summary["checks"] == {
        "contrast": 0, "safe_zone": 0, "text_size": 0, "text_share": 0, "crop": 0,
        "product": 0,
        "text_lines": 0,
    }  # fmt: skip
    sheet = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    # The known columns keep their places; the new one follows them.
    assert header[: len(COLUMN_NAMES)] == list(COLUMN_NAMES)
    assert header[len(COLUMN_NAMES)] == "text_lines"
    at = header.index("text_lines")
    images = [r for r in rows[1:] if r[header.index("placement")] == "meta_feed"]
    search = [r for r in rows[1:] if r[header.index("placement")] == "google_rsa"]
    assert images
    assert all(isinstance(r[at], int) and r[at] >= 2 for r in images)
    assert all(r[at] is None for r in search)  # no creative, no check
    page = next((out / "preview").glob("brief-*.html")).read_text(encoding="utf-8")
    assert 'title="lines of text"' in page
    assert page.count('title="lines of text"') == len(images)


def test_the_shipped_checks_fill_the_workbooks_known_columns_in_their_order() -> None:
    """Each shipped check's cells have a fixed column, so variants.xlsx keeps its
    columns (contrast, legibility, safe_zone, text_px, text_share, crop) and order."""
    values: dict[str, CheckValue] = {
        "contrast": 4.52, "contrast_needed": 4.5, "repaired": 1, "outside_safe": ("logo",),
        "text_px": 12, "min_text_px": 17, "text_share": 0.1234, "crop": (0, 0, 10, 10),
    }  # fmt: skip
    checks = measures.present(values)
    assert list(checks.cells()) == [
        "contrast", "legibility", "safe_zone", "text_px", "text_share", "crop",
    ]  # fmt: skip
    assert all(name in COLUMN_NAMES for name in checks.cells())
    assert checks.cells()["legibility"] == "repaired (1)"
    assert checks.cells()["safe_zone"] == "outside: logo"
    assert [f.check for f in checks.findings if f.holds] == ["safe_zone", "text_size"]
    assert checks.holds_back
    assert measures.restore({"contrast": 3.0}) is None  # another version's record
