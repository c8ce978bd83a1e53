"""The variants workbook codec (adloom.delivery.workbook): written by export, read back by review
and lint through the same module, on real .xlsx files."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from adloom.cli import main
from adloom.console import Env
from adloom.copy import rsa
from adloom.delivery.export import export_workbook
from adloom.delivery.workbook import (
    SEARCH_SLOTS,
    brief_path,
    find_brief,
    generated_state,
    open_variants,
    read_variants,
)
from adloom.errors import ExitCode, InputError
from adloom.run.lintcmd import lint_file
from adloom.run.review import read_reviewed
from briefs import write_brief
from conftest import user_environ
from factories import Run, sample_run


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return sample_run(tmp_path)


def test_a_written_workbook_reads_back_as_its_ads(run: Run) -> None:
    path = export_workbook(run.ads, run.summary, run.campaign, run.out)
    workbook = read_variants(path)
    rows = {row.name: row for row in workbook.rows()}
    assert list(rows) == [ad.spec.name for ad in run.ads]
    for ad in run.ads:
        row = rows[ad.spec.name]
        spec = ad.spec
        assert {
            k: row.cells[k]
            for k in ("brief_id", "audience", "language", "placement", "variant", "status")
        } == {
            "brief_id": spec.brief.id,
            "audience": spec.audience,
            "language": spec.language,
            "placement": spec.placement.id,
            "variant": str(spec.variant),
            "status": ad.status,
        }
        assert (row.cells["headline"], row.cells["body"], row.cells["cta"]) == (
            ad.copy.headline,
            ad.copy.body,
            ad.copy.cta,
        )
        assert row.cells["owner"] == spec.brief.extra["Owner"]  # a brief's own column
        assert row.status == ad.status
        assert row.round == 1
        # JSON both ways: the pins' tuples come back as lists.
        assert row.state == json.loads(json.dumps(generated_state(ad)))
        if ad.copy.search is not None:
            written = rsa.fields(ad.copy.search)
            assert row.slots == {slot: written.get(slot, "") for slot in SEARCH_SLOTS}
        else:
            assert row.slots is None
    assert workbook.round == 1
    assert workbook.said("Brief path") == brief_path(run.campaign, run.out)
    assert workbook.said("brief file") == run.campaign.source.name


def test_a_file_that_is_not_a_variants_workbook(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", {"name": "A", "brand": "B"}, [{"id": "x"}])
    assert open_variants(brief) is None  # lint reads it as a brief instead
    with pytest.raises(InputError, match='no "Variants" sheet'):
        read_variants(brief)
    with pytest.raises(InputError, match="no such file"):
        read_variants(tmp_path / "missing.xlsx")


# ---------------------------------------------------------------- the brief a workbook came from


def test_the_recorded_brief_path_is_followed(run: Run, tmp_path: Path) -> None:
    """A brief kept in campaigns/ beside output/<campaign>/: found by its recorded path
    (lint used to look only for its name, next to the workbook and above it)."""
    brief = tmp_path / "project" / "campaigns" / "spring.xlsx"
    brief.parent.mkdir(parents=True)
    brief.write_bytes(b"")
    out = tmp_path / "project" / "output" / "spring"
    campaign = type(run.campaign)(**{**vars(run.campaign), "source": brief})
    path = export_workbook(run.ads, run.summary, campaign, out)
    assert read_variants(path).said("Brief path") == "../../campaigns/spring.xlsx"
    assert find_brief(read_variants(path)) == out / "../../campaigns/spring.xlsx"
    # A file of the same name next to the workbook does not beat the recorded path.
    (out / "spring.xlsx").write_bytes(b"")
    assert find_brief(read_variants(path)).resolve() == brief.resolve()  # type: ignore[union-attr]


def test_without_its_recorded_path_a_brief_is_found_by_name(run: Run, tmp_path: Path) -> None:
    """Next to the workbook, then in the two folders above it, then in the current folder."""
    path = export_workbook(run.ads, run.summary, run.campaign, run.out)
    moved = tmp_path / "far" / "a" / "b" / "variants.xlsx"
    moved.parent.mkdir(parents=True)
    shutil.copy(path, moved)
    name = run.campaign.source.name
    assert find_brief(read_variants(moved)) is None
    (tmp_path / "far" / name).write_bytes(b"")  # two folders above
    assert find_brief(read_variants(moved)) == tmp_path / "far" / name
    (moved.parent / name).write_bytes(b"")  # next to it: nearer, so first
    assert find_brief(read_variants(moved)) == moved.parent / name


CAMPAIGN = {"name": "Lint", "brand": "Lumen", "provider": "draft", "languages": "en"}
CAMPAIGN |= {"variants": 1, "placements": "meta_feed"}
BRIEF = {"id": "cold-brew", "product": "Cold Brew Kit", "message": "Smooth coffee"}


def _draft_run(brief: Path, out: Path) -> Path:
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ=user_environ())
    assert main(["run", str(brief), "--out", str(out)], env=env) == ExitCode.OK
    return out / "variants.xlsx"


def test_lint_and_review_find_the_same_brief(tmp_path: Path) -> None:
    """The bug: review followed the recorded path, lint only looked for the name."""
    (tmp_path / "campaigns").mkdir()
    brief = write_brief(tmp_path / "campaigns" / "brief.xlsx", CAMPAIGN, [BRIEF])
    path = _draft_run(brief, tmp_path / "output" / "lint")
    report = lint_file(path)
    assert report.brief is not None
    assert report.brief.resolve() == brief.resolve()
    assert not report.notes
    reviewed = read_reviewed(path)
    assert find_brief(reviewed.workbook) == report.brief


# ---------------------------------------------------------------- sheets by name


def test_renamed_sheets_and_a_repeated_header_read_alike(tmp_path: Path) -> None:
    """A workbook saved with its sheets renamed (lower case, as some tools do) and a
    column a reviewer added under a header of ours: review and lint read the same
    sheets, name cells as the file titles its sheets, and read adloom's own column."""
    brief = write_brief(tmp_path / "brief.xlsx", CAMPAIGN, [BRIEF])
    path = _draft_run(brief, tmp_path / "out")
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        lower = sheet.title.lower()
        sheet.title = "renaming"  # openpyxl would take "variants" for a clash with "Variants"
        sheet.title = lower
    variants = book["variants"]
    header = [c.value for c in variants[1]]
    approval = header.index("approval") + 1
    variants.cell(row=2, column=approval).value = "maybe"
    extra = variants.max_column + 1
    variants.cell(row=1, column=extra).value = "Approval"  # the reviewer's own
    variants.cell(row=2, column=extra).value = "Approved"
    headline = header.index("headline") + 1
    variants.cell(
        row=2, column=headline
    ).value = "Smooth cold brew coffee, zero effort today"  # 42 > 40
    book.save(path)

    reviewed = read_reviewed(path)
    letter = openpyxl.utils.get_column_letter(approval)
    assert reviewed.rows[0].decision == ""  # "maybe" in adloom's column: undecided
    assert any(w.startswith(f"variants!{letter}2: approval") for w in reviewed.warnings)
    found = [f.where for f in lint_file(path).findings]
    assert found
    assert all(where.startswith("variants!") for where in found)
