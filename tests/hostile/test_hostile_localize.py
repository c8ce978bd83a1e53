"""``adloom localize`` given what it cannot use: no such workbook, a language adloom does
not write, a workbook adloom did not make, nothing approved, a workbook bomb, and a
hidden ``generated`` cell tampered with. Each is refused with exit 2 and a message
naming the file or cell, before anything is written; a tampered cell is a warning."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from hostile_checks import refused
from test_hostile_limits import _HEADER_ROW, sheet, with_briefs_xml

from adloom.errors import ExitCode
from briefs import write_brief
from test_cli import run_cli, run_json

CAMPAIGN = {"name": "Haru", "brand": "Lumen", "provider": "draft", "variants": 1,
            "languages": "en", "placements": "meta_feed"}  # fmt: skip
BRIEF = {"id": "b1", "product": "Cold brew", "message": "Café-strength in 30 seconds",
         "message@ja": "注ぐだけでカフェの味", "product@ja": "コールドブリュー"}  # fmt: skip
AD = "haru_b1_general_en_meta_feed_v1"


@pytest.fixture
def run_out(tmp_path: Path) -> Path:
    """A draft run's folder, its one ad approved in the workbook."""
    brief = write_brief(tmp_path / "brief.xlsx", CAMPAIGN, [BRIEF])
    out = tmp_path / "out"
    code, _, err = run_cli("run", brief, "--out", out)
    assert code == ExitCode.OK, err
    book = openpyxl.load_workbook(out / "variants.xlsx")
    ws = book["Variants"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("approval") + 1).value = "Approved"
    book.save(out / "variants.xlsx")
    return out


def test_no_such_workbook_is_named(tmp_path: Path) -> None:
    stderr = refused(tmp_path, "localize", tmp_path / "gone.xlsx", "--languages", "ja")
    assert "gone.xlsx: no such file" in stderr


@pytest.mark.parametrize(
    ("languages", "said"),
    [
        ("ja,xx", '--languages: "xx" is not a language adloom writes ads in'),
        ("klingon", '"klingon" is not a language'),
        (
            "en,JP",
            '"JP" is not a language adloom writes ads in (a country code? the language is "ja")',
        ),
        (" , ", "name the languages to localize into"),
    ],
)
def test_a_language_adloom_does_not_write_is_named(
    run_out: Path, languages: str, said: str
) -> None:
    stderr = refused(
        run_out.parent, "localize", run_out / "variants.xlsx", "--languages", languages
    )
    assert said in stderr
    assert "ja, es, fr" in stderr or "name the languages" in stderr  # what it does write


def test_a_workbook_adloom_did_not_make_is_refused(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", CAMPAIGN, [BRIEF])
    stderr = refused(tmp_path, "localize", brief, "--languages", "ja")
    assert 'brief.xlsx: no "Variants" sheet' in stderr
    # A Variants sheet without adloom's columns.
    book = openpyxl.Workbook()
    book.active.title = "Variants"
    book.active.append(["name", "text"])
    book.active.append(["mine", "hello"])
    book.save(tmp_path / "other.xlsx")
    stderr = refused(tmp_path, "localize", tmp_path / "other.xlsx", "--languages", "ja")
    assert "other.xlsx" in stderr
    assert "ad_name" in stderr
    # Not a workbook at all, named .xlsx.
    (tmp_path / "fake.xlsx").write_text("ad_name,approval\nx,Approved\n")
    stderr = refused(tmp_path, "localize", tmp_path / "fake.xlsx", "--languages", "ja")
    assert "fake.xlsx" in stderr


def test_nothing_approved_is_refused_naming_the_sheet(run_out: Path) -> None:
    book = openpyxl.load_workbook(run_out / "variants.xlsx")
    ws = book["Variants"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("approval") + 1).value = "maybe"
    book.save(run_out / "variants.xlsx")
    stderr = refused(run_out.parent, "localize", run_out / "variants.xlsx", "--languages", "ja")
    assert "no ad is approved in column approval of sheet Variants" in stderr


def test_a_workbook_bomb_is_refused_unread(tmp_path: Path) -> None:
    empty = b"<row></row>" * 100_000
    path = with_briefs_xml(tmp_path, sheet(_HEADER_ROW, *[empty] * 200), level=1)
    stderr = refused(tmp_path, "localize", path, "--languages", "ja")
    assert "brief.xlsx: unzipped, the workbook holds" in stderr


@pytest.mark.parametrize(
    "tampered",
    [
        {"ad": "../../etc/passwd", "language": "en", "copy": [["headline", "x"]]},
        {"ad": AD, "language": "en", "copy": "not a list"},
        {"ad": AD, "language": "en", "copy": [["headline", 3]]},
        ["not", "an", "object"],
    ],
)
def test_a_tampered_adapted_from_cell_is_a_warning(run_out: Path, tampered: object) -> None:
    """A localize round's new ad whose hidden cell says nonsense: the next review names
    its cell and leaves it out; nothing is written outside the folder."""
    code, _, err = run_cli("localize", run_out / "variants.xlsx", "--languages", "ja")
    assert code == ExitCode.OK, err
    round2 = run_out / "variants-round-2.xlsx"
    book = openpyxl.load_workbook(round2)
    ws = book["Variants"]
    header = [c.value for c in ws[1]]
    column = header.index("generated") + 1
    for row in range(2, ws.max_row + 1):
        if "_ja_" in str(ws.cell(row=row, column=1).value):
            state = json.loads(ws.cell(row=row, column=column).value)
            state["adapted_from"] = tampered
            ws.cell(row=row, column=column).value = json.dumps(state)
    book.save(round2)
    before = sorted(p.name for p in run_out.parent.iterdir())
    code, summary, text = run_json("review", round2, "--json")
    assert code == ExitCode.OK, text
    assert "Traceback" not in text
    (warning,) = [w for w in summary["warnings"] if "haru_b1_general_ja_meta_feed_v1" in w]
    assert warning.startswith("Variants!A3: ad haru_b1_general_ja_meta_feed_v1 is not in")
    assert summary["variants"] == 1
    assert sorted(p.name for p in run_out.parent.iterdir()) == before
