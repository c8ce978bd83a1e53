"""``adloom lint`` on a real variants workbook edited with openpyxl, and on briefs."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from adloom.cli import main
from adloom.console import Env
from adloom.errors import ExitCode
from briefs import write_brief, write_csv_brief
from conftest import user_environ

CAMPAIGN = {
    "name": "Lint",
    "brand": "Lumen",
    "provider": "draft",
    "languages": "en",
    "variants": 2,
    "placements": "meta_feed, display_300x250",
}
BRIEF = {
    "id": "cold-brew",
    "product": "Cold Brew Kit",
    "message": "Smooth coffee, zero effort",
    "benefits": "Brews overnight; Half the acidity",
    "cta": "Shop now",
    "disclaimer": "Serve chilled.",
}
LONG = "Smooth cold brew coffee, zero effort today"  # 42 characters: over Meta's 40


def lint(*args: str | Path) -> tuple[int, str, str]:
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ=user_environ())
    code = main(["lint", *map(str, args)], env=env)
    assert isinstance(env.stdout, io.StringIO)
    assert isinstance(env.stderr, io.StringIO)
    return code, env.stdout.getvalue(), env.stderr.getvalue()


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A draft run: brief.xlsx, and out/variants.xlsx as adloom wrote it.

    Rows: 2 meta_feed v1, 3 display_300x250 v1, 4 meta_feed v2, 5 display_300x250 v2.
    """
    root = tmp_path_factory.mktemp("run")
    brief = write_brief(
        root / "brief.xlsx", campaign=CAMPAIGN, briefs=[BRIEF], brand={"banned_words": "miracle"}
    )
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ=user_environ())
    assert main(["run", str(brief), "--out", str(root / "out")], env=env) == ExitCode.OK
    return root


@pytest.fixture
def project(delivered: Path, tmp_path: Path) -> Path:
    """A copy of the run to edit: the brief, and the workbook two folders below it."""
    shutil.copy(delivered / "brief.xlsx", tmp_path / "brief.xlsx")
    (tmp_path / "output" / "lint").mkdir(parents=True)
    shutil.copy(delivered / "out" / "variants.xlsx", tmp_path / "output" / "lint")
    return tmp_path


def workbook(project: Path) -> Path:
    return project / "output" / "lint" / "variants.xlsx"


def edit(
    path: Path, changes: dict[tuple[int, str], Any], insert_first_column: bool = False
) -> None:
    """Change cells as a reviewer would, found by header name: {(row, column): value}."""
    book = load_workbook(path)
    sheet = book["Variants"]
    assert isinstance(sheet, Worksheet)
    if insert_first_column:
        sheet.insert_cols(1)
        sheet["A1"] = "reviewer"
    header = {cell.value: cell.column for cell in sheet[1]}
    for (row, name), value in changes.items():
        # Not cell(..., value=None): that leaves the value as it was.
        sheet.cell(row=row, column=header[name]).value = value
    book.save(path)


REVIEWED = {
    (2, "headline"): LONG,
    (3, "body"): "A miracle in every glass.",
    (4, "headline"): LONG,
    (4, "body"): "Smooth coffee, zero effort. Brews overnight. Half the acidity.",  # as row 2
    (4, "disclaimer"): None,
    (5, "headline"): "Half the acidity!",
}


def test_a_delivered_workbook_is_clean(project: Path) -> None:
    code, out, err = lint(workbook(project))
    assert code == ExitCode.OK, err
    assert out == ""
    assert "no problems in 4 row(s) checked" in err


def test_each_problem_is_reported_at_its_cell(project: Path) -> None:
    edit(workbook(project), REVIEWED)
    code, out, err = lint(workbook(project))
    assert code == ExitCode.SOME_FAILED
    assert out.splitlines() == [
        "Variants!G2: headline is 42 characters, over Meta's limit of 40 — shorten it by 2",
        'Variants!H3: body uses the banned word "miracle" — reword it',
        "Variants!G4: headline is 42 characters, over Meta's limit of 40 — shorten it by 2",
        'Variants!J4: disclaimer is missing — this ad must carry "Serve chilled."',
        "Variants!G4: copy reads almost the same as the variant in row 2 (100% alike)"
        " — rewrite it so the variants test different ideas",
        'Variants!G5: headline has "!" — Google does not allow exclamation marks in'
        " headlines; remove it",
    ]
    assert "6 problem(s) in 4 row(s) checked" in err


def test_columns_are_found_by_header_name(project: Path) -> None:
    edit(workbook(project), {(5, "headline"): "Half the acidity!"}, insert_first_column=True)
    code, out, _ = lint(workbook(project))
    assert code == ExitCode.SOME_FAILED
    assert out.splitlines() == [
        'Variants!H5: headline has "!" — Google does not allow exclamation marks in'
        " headlines; remove it"
    ]


def test_json_lists_rule_field_and_cell(project: Path) -> None:
    edit(workbook(project), REVIEWED)
    code, out, _ = lint(workbook(project), "--json")
    assert code == ExitCode.SOME_FAILED
    report = json.loads(out)
    assert report["kind"] == "workbook"
    assert report["brief"] == str(project / "brief.xlsx")
    assert report["checked"] == 4
    assert [(p["where"], p["rule"], p["field"]) for p in report["problems"]] == [
        ("Variants!G2", "length", "headline"),
        ("Variants!H3", "banned_word", "body"),
        ("Variants!G4", "length", "headline"),
        ("Variants!J4", "disclaimer", "disclaimer"),
        ("Variants!G4", "near_duplicate", "copy"),
        ("Variants!G5", "exclamation", "headline"),
    ]


def test_without_its_brief_the_brief_checks_are_skipped_with_a_note(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    edit(workbook(project), REVIEWED)
    elsewhere = tmp_path_factory.mktemp("far") / "a" / "b" / "c"
    elsewhere.mkdir(parents=True)
    moved = shutil.copy(workbook(project), elsewhere / "variants.xlsx")
    code, out, err = lint(moved)
    assert code == ExitCode.SOME_FAILED
    assert 'the brief the Summary sheet names, "brief.xlsx", is not next to the workbook' in err
    assert "pass --brief BRIEF" in err
    rules = [line.split(":")[0] for line in out.splitlines()]
    assert rules == ["Variants!G2", "Variants!G4", "Variants!G4", "Variants!G5"]  # no brief rules

    code, out, _ = lint(moved, "--brief", project / "brief.xlsx")
    assert len(out.splitlines()) == 6


def test_rows_without_copy_are_skipped(project: Path) -> None:
    edit(workbook(project), {(3, "headline"): None, (3, "body"): None, (3, "cta"): None})
    code, _, err = lint(workbook(project))
    assert code == ExitCode.OK
    assert "1 row(s) without copy were skipped" in err
    assert "no problems in 3 row(s) checked" in err


def test_an_unknown_placement_is_reported(project: Path) -> None:
    edit(workbook(project), {(2, "placement"): "meta_fed"})
    code, out, _ = lint(workbook(project))
    assert code == ExitCode.SOME_FAILED
    assert out.startswith('Variants!E2: placement "meta_fed" is not in the brief\'s placements')


def test_supplied_headlines_of_a_brief_are_checked_at_their_cells(tmp_path: Path) -> None:
    brief = write_brief(
        tmp_path / "brief.xlsx",
        campaign={**CAMPAIGN, "banned_words": "cheap"},
        briefs=[
            BRIEF,
            {**BRIEF, "id": "mug", "headline": "Cheap mugs that keep coffee hot!"},
            {**BRIEF, "id": "beans", "headline": "Beans, roasted Monday"},
        ],
    )
    code, out, err = lint(brief)
    assert code == ExitCode.SOME_FAILED
    # Column G is the headline; each problem once, though two placements share it.
    assert out.splitlines() == [
        'Briefs!G3: headline uses the banned word "cheap" — reword it',
        "Briefs!G3: headline is 32 width units, over Google's limit of 30 — shorten it by 2",
        'Briefs!G3: headline has "!" — Google does not allow exclamation marks in headlines;'
        " remove it",
    ]
    assert "3 problem(s) in 2 supplied headline(s) checked" in err


def test_a_csv_brief_with_settings_from_set(tmp_path: Path) -> None:
    brief = write_csv_brief(tmp_path / "briefs.csv", [{**BRIEF, "headline": "Miracle brew"}])
    code, out, _ = lint(
        brief, "--set", "name=Lint", "--set", "brand=Lumen", "--set", "banned_words=miracle"
    )
    assert code == ExitCode.SOME_FAILED
    assert out.splitlines() == [
        'briefs.csv!G2: headline uses the banned word "miracle" — reword it'
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", "hello", 'unknown file type ".txt"'),
        ("missing.xlsx", None, "no such file"),
    ],
)
def test_input_that_cannot_be_read_is_exit_2(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    code, out, err = lint(path)
    assert code == ExitCode.BAD_INPUT
    assert out == ""
    assert message in err


def test_a_workbook_without_copy_columns_is_exit_2(project: Path) -> None:
    book = load_workbook(workbook(project))
    book["Variants"].delete_cols(7)  # headline
    book.save(workbook(project))
    code, _, err = lint(workbook(project))
    assert code == ExitCode.BAD_INPUT
    assert "Variants!1 has no headline column(s)" in err


def test_a_brief_without_supplied_copy_has_nothing_to_check(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", campaign=CAMPAIGN, briefs=[BRIEF])
    code, out, err = lint(brief)
    assert code == ExitCode.OK
    assert out == ""
    assert "no brief has a supplied headline" in err


def test_a_search_ad_row_without_its_search_ads_row_is_noted(project: Path) -> None:
    edit(workbook(project), {(2, "placement"): "google_rsa", (2, "headline"): LONG})
    code, out, err = lint(workbook(project))
    assert code == ExitCode.OK
    assert out == ""
    assert "1 responsive search ad row(s) were not checked: they have no row in sheet" in err
    assert "no problems in 3 row(s) checked" in err


# ---------------------------------------------------------------- search ads

SEARCH_CAMPAIGN = {**CAMPAIGN, "languages": "en, ja", "placements": "google_rsa, meta_feed"}
SEARCH_BRIEF = {
    **BRIEF,
    "landing_url": "https://example.com/cold-brew",
    "pin_headline_1": "Lumen Cold Brew",
}


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A draft run with search ads. Sheet Search ads, rows 2-5: en v1, ja v1, en v2, ja v2;
    columns H-V are headline 1-15 (headline 1 pinned, from the brief)."""
    root = tmp_path_factory.mktemp("search")
    brief = write_brief(root / "brief.xlsx", campaign=SEARCH_CAMPAIGN, briefs=[SEARCH_BRIEF])
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ=user_environ())
    assert main(["run", str(brief), "--out", str(root / "out")], env=env) == ExitCode.OK
    return root / "out" / "variants.xlsx"


def edit_search_ads(path: Path, changes: dict[str, Any]) -> None:
    """Change cells of sheet Search ads by reference: {"J3": value}."""
    book = load_workbook(path)
    sheet = book["Search ads"]
    assert isinstance(sheet, Worksheet)
    for ref, value in changes.items():
        sheet[ref].value = value
    book.save(path)


def test_a_delivered_workbook_with_search_ads_is_clean(searched: Path, tmp_path: Path) -> None:
    path = Path(shutil.copy(searched, tmp_path / "variants.xlsx"))
    code, out, err = lint(path, "--brief", searched.parent.parent / "brief.xlsx")
    assert code == ExitCode.OK, out
    assert out == ""
    assert "not checked" not in err
    assert "no problems in 8 row(s) checked" in err  # 4 feed ads, 4 search ads


def test_search_ads_are_checked_slot_by_slot_at_their_cells(searched: Path, tmp_path: Path) -> None:
    path = Path(shutil.copy(searched, tmp_path / "variants.xlsx"))
    edit_search_ads(
        path,
        {
            "K2": "Brews overnight!",  # headline 4
            "J3": "水出しコーヒーを毎朝手軽に楽しもう",  # headline 3: 17 double-width characters
            "L4": "brews overnight.",  # headline 5, as headline 3 "Brews overnight"
            "I5": None,  # headline 2 cleared: headline 4 is then the ad's third
            "K5": "Half the acidity!",
        },
    )
    code, out, err = lint(path, "--brief", searched.parent.parent / "brief.xlsx")
    assert code == ExitCode.SOME_FAILED
    assert out.splitlines() == [
        'Search ads!K2: headline 4 has "!" — Google does not allow exclamation marks in'
        " headlines; remove it",
        "Search ads!J3: headline 3 is 34 width units, over Google's limit of 30"
        " (Japanese counts 2 per character) — shorten it by 4",
        "Search ads!L4: headline 5 repeats headline 3 — Google rejects duplicate headlines;"
        " write a different one",
        'Search ads!K5: headline 4 has "!" — Google does not allow exclamation marks in'
        " headlines; remove it",
    ]
    assert "4 problem(s) in 8 row(s) checked" in err
    code, out, _ = lint(path, "--brief", searched.parent.parent / "brief.xlsx", "--json")
    fields = [(p["where"], p["rule"], p["field"]) for p in json.loads(out)["problems"]]
    assert fields[2] == ("Search ads!L4", "near_duplicate", "headline 5")


def test_search_ad_variants_are_compared_without_their_pinned_copy(
    searched: Path, tmp_path: Path
) -> None:
    path = Path(shutil.copy(searched, tmp_path / "variants.xlsx"))
    # Variant 2 (row 4) gets variant 1's written copy and a pinned headline of its own:
    # pinned copy is left out of the comparison, as generation leaves it out.
    book = load_workbook(path)
    sheet = book["Search ads"]
    assert isinstance(sheet, Worksheet)
    for column in range(9, 29):  # headline 2 ... path 2
        sheet.cell(row=4, column=column).value = sheet.cell(row=2, column=column).value
    sheet["H4"].value = "Lumen Cold Brew at home"
    book.save(path)
    code, out, _ = lint(path, "--brief", searched.parent.parent / "brief.xlsx")
    assert code == ExitCode.SOME_FAILED
    assert out.splitlines() == [
        "Search ads!I4: copy reads almost the same as the variant in row 2 (100% alike)"
        " — rewrite it so the variants test different ideas"
    ]
