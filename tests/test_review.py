"""``adloom review``: a workbook marked up with openpyxl as a reviewer would, and the next
round read back, on the draft provider and on the fake Bedrock."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from adloom.cli import main
from adloom.console import Env
from adloom.errors import ExitCode
from adloom.run.review import decision
from briefs import write_brief
from conftest import user_environ
from factories import preview_html
from fakebedrock import FakeBedrock

HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
IMAGE = "stability.stable-image-core-v1:1"  # the registry's default
CAMPAIGN = {
    "name": "Spring Launch",
    "brand": "Lumen",
    "provider": "draft",
    "variants": 2,
    "languages": "en, ja",
    "placements": "google_rsa, meta_feed",
}
BRIEF = {
    "id": "cold-brew",
    "product": "Cold Brew Kit",
    "message": "Smooth coffee, zero effort",
    "benefits": "Brews overnight; Half the acidity; Glass carafe included",
    "cta": "Shop now",
    "landing_url": "https://example.com/cold-brew",
}
PREFIX = "spring-launch_cold-brew_general"
CARAFE = "Too generic: mention the glass carafe"
PRICE = "Lead with the price"


def cli(*args: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main([*args, "--json"], env=Env(stdout=stdout, stderr=stderr, environ=user_environ()))
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


class Sheet:
    """A sheet of the workbook by header and ad name, for editing as a reviewer does."""

    def __init__(self, workbook: Any, title: str) -> None:
        self.ws = workbook[title]
        self.header = [c.value for c in self.ws[1]]
        self.rows = {self.ws.cell(row=r, column=1).value: r for r in range(2, self.ws.max_row + 1)}

    def set(self, name: str, column: str, value: object) -> None:
        self.ws.cell(row=self.rows[name], column=self.header.index(column) + 1).value = value

    def get(self, name: str, column: str) -> Any:
        return self.ws.cell(row=self.rows[name], column=self.header.index(column) + 1).value


def rows(path: Path, title: str = "Variants") -> dict[str, dict[str, Any]]:
    ws = openpyxl.load_workbook(path)[title]
    header = [c.value for c in ws[1]]
    table = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    return {r["ad_name"]: r for r in table}


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as file:
        return list(csv.DictReader(file))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Approved", "approved"), ("approved", "approved"), (" APPROVE ", "approved"),
        ("Yes", "approved"), ("ok", "approved"), ("✓", "approved"), ("TRUE", "approved"),
        ("承認", "approved"), ("ＯＫ", "approved"), ("Approved.", "approved"),
        ("Rejected", "rejected"), ("reject", "rejected"), ("No", "rejected"),
        ("✗", "rejected"), ("却下", "rejected"), ("NG", "rejected"),
        ("", ""), ("FALSE", ""), ("pending", ""), ("保留", ""),  # FALSE: an unticked checkbox
        ("maybe", None), ("Approved?", None),
    ],
)  # fmt: skip
def test_approval_cells_are_read_as_reviewers_write_them(cell: str, expected: str | None) -> None:
    assert decision(cell) == expected


@pytest.fixture
def reviewed(tmp_path: Path) -> tuple[Path, Path]:
    """A draft run, then its workbook marked up: approvals in several spellings, two
    rejections with notes, a headline and a search headline edited by hand."""
    brief = write_brief(tmp_path / "brief.xlsx", CAMPAIGN, [BRIEF])
    out = tmp_path / "output" / "spring"
    code, _, err = cli("run", str(brief), "--out", str(out))
    assert code == ExitCode.OK, err
    workbook = openpyxl.load_workbook(out / "variants.xlsx")
    variants, search = Sheet(workbook, "Variants"), Sheet(workbook, "Search ads")
    variants.set(f"{PREFIX}_en_meta_feed_v1", "approval", "Approved")
    variants.set(f"{PREFIX}_ja_meta_feed_v1", "approval", " yes ")
    variants.set(f"{PREFIX}_en_google_rsa_v1", "approval", "✓")
    variants.set(f"{PREFIX}_en_meta_feed_v2", "approval", "rejected")
    variants.set(f"{PREFIX}_en_meta_feed_v2", "notes", CARAFE)
    variants.set(f"{PREFIX}_en_google_rsa_v2", "approval", "Rejected")
    variants.set(f"{PREFIX}_en_google_rsa_v2", "notes", PRICE)
    variants.set(f"{PREFIX}_ja_meta_feed_v2", "headline", "手作業の見出し")  # edited, approved
    variants.set(f"{PREFIX}_ja_meta_feed_v2", "approval", "Approved")
    search.set(f"{PREFIX}_ja_google_rsa_v1", "headline 3", "Edited by hand")  # edited, undecided
    variants.set(f"{PREFIX}_ja_google_rsa_v2", "approval", "maybe")
    workbook.save(out / "variants.xlsx")
    return brief, out


def test_a_review_round_on_the_draft_provider(reviewed: tuple[Path, Path]) -> None:
    _, out = reviewed
    before = rows(out / "variants.xlsx")
    workbook_digest = digest(out / "variants.xlsx")
    edited_creative = out / "creatives" / "meta_feed" / f"{PREFIX}_ja_meta_feed_v2.jpg"
    creative_digest = digest(edited_creative)

    code, summary, err = cli("review", str(out / "variants.xlsx"))
    assert code == ExitCode.OK, err

    # The same summary as `run`, with the round's counts.
    assert set(summary) >= {"campaign", "out", "preview", "workbook", "variants", "creatives",
                            "model_calls", "cache_hits", "failed", "cost_usd", "tokens",
                            "not_generated", "warnings", "review"}  # fmt: skip
    assert summary["review"] == {"round": 2, "kept": 4, "regenerated": 2, "edited": 2,
                                 "approved": 4}  # fmt: skip
    assert summary["workbook"] == str(out / "variants-round-2.xlsx")
    assert any('"maybe" is neither Approved nor Rejected' in w for w in summary["warnings"])

    assert digest(out / "variants.xlsx") == workbook_digest  # the reviewer's file is kept
    after = rows(out / "variants-round-2.xlsx")
    assert list(after) == list(before)  # every ad, in the same order
    expected = {  # ad -> (approval, round, changed)
        "en_meta_feed_v1": ("Approved", 1, None),
        "ja_meta_feed_v1": ("Approved", 1, None),
        "en_google_rsa_v1": ("Approved", 1, None),
        "en_meta_feed_v2": (None, 2, "regenerated"),
        "en_google_rsa_v2": (None, 2, "regenerated"),
        "ja_meta_feed_v2": ("Approved", 2, "edited"),
        "ja_google_rsa_v1": (None, 2, "edited"),
        "ja_google_rsa_v2": (None, 1, None),
    }
    for short, marks in expected.items():
        row = after[f"{PREFIX}_{short}"]
        assert (row["approval"], row["round"], row["changed"]) == marks, short

    # Approved ads are untouched; rejected ones come back with other copy, notes kept.
    for short in ("en_meta_feed_v1", "ja_meta_feed_v1", "en_google_rsa_v1", "ja_google_rsa_v2"):
        for column in ("headline", "body", "cta", "image", "generated"):
            assert after[f"{PREFIX}_{short}"][column] == before[f"{PREFIX}_{short}"][column]
    feed = f"{PREFIX}_en_meta_feed_v2"
    assert (after[feed]["headline"], after[feed]["body"]) != (
        before[feed]["headline"], before[feed]["body"]
    )  # fmt: skip
    assert after[feed]["notes"] == CARAFE
    rsa_before = rows(out / "variants.xlsx", "Search ads")
    rsa_after = rows(out / "variants-round-2.xlsx", "Search ads")
    regenerated = f"{PREFIX}_en_google_rsa_v2"
    assert [rsa_after[regenerated][f"headline {i}"] for i in range(1, 16)] != [
        rsa_before[regenerated][f"headline {i}"] for i in range(1, 16)
    ]

    # Edited copy is kept as edited, checked, and its creative recomposed with it.
    edited = f"{PREFIX}_ja_meta_feed_v2"
    assert after[edited]["headline"] == "手作業の見出し"
    assert digest(edited_creative) != creative_digest
    assert rsa_after[f"{PREFIX}_ja_google_rsa_v1"]["headline 3"] == "Edited by hand"
    # ... and the next round sees it as the copy adloom delivered, not as an edit again.
    assert after[edited]["generated"] != before[edited]["generated"]

    # The platform files hold the approved ads only.
    exports = out / "exports"
    meta = [r["Ad Name"] for r in csv_rows(exports / "meta-bulk.csv")]
    approved = ("en_meta_feed_v1", "ja_meta_feed_v1", "ja_meta_feed_v2")
    assert sorted(meta) == sorted(f"{PREFIX}_{short}" for short in approved)
    (google,) = csv_rows(exports / "google-ads-editor.csv")
    assert google["Headline 1"] == rsa_after[f"{PREFIX}_en_google_rsa_v1"]["headline 1"]
    assert google["Ad group"] == "cold-brew_general_en"

    html = preview_html(out)
    assert "Review round 2" in html
    assert html.count('badge-change">regenerated') == 2
    assert html.count('badge-change">edited') == 2
    assert CARAFE in html


def test_a_second_round_builds_on_the_first(reviewed: tuple[Path, Path]) -> None:
    _, out = reviewed
    assert cli("review", str(out / "variants.xlsx"))[0] == ExitCode.OK
    round2 = out / "variants-round-2.xlsx"
    workbook = openpyxl.load_workbook(round2)
    variants = Sheet(workbook, "Variants")
    variants.set(f"{PREFIX}_en_meta_feed_v2", "approval", "Approved")
    workbook.save(round2)
    code, summary, err = cli("review", str(round2))
    assert code == ExitCode.OK, err
    assert summary["review"]["round"] == 3
    after = rows(out / "variants-round-3.xlsx")
    assert after[f"{PREFIX}_en_meta_feed_v2"]["approval"] == "Approved"
    assert after[f"{PREFIX}_en_meta_feed_v2"]["round"] == 2  # made in round 2, kept since
    assert summary["review"]["approved"] == 5


def test_a_brief_that_moved_is_asked_for(reviewed: tuple[Path, Path]) -> None:
    brief, out = reviewed
    moved = brief.parent / "elsewhere.xlsx"
    shutil.move(brief, moved)
    code, _, err = cli("review", str(out / "variants.xlsx"))
    assert code == ExitCode.BAD_INPUT
    assert "cannot find the brief" in err
    assert "--brief" in err
    code, _, err = cli("review", str(out / "variants.xlsx"), "--brief", str(moved))
    assert code == ExitCode.OK, err


def test_a_review_round_on_bedrock_sends_the_notes(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    settings = {**CAMPAIGN, "provider": "bedrock", "text_model": HAIKU45, "image_model": IMAGE,
                "languages": "en", f"quota.{IMAGE}.ipm": 100000}  # fmt: skip
    brief = write_brief(tmp_path / "brief.xlsx", settings, [BRIEF])
    out = tmp_path / "out"
    code, _, err = cli("run", str(brief), "--out", str(out))
    assert code == ExitCode.OK, err
    run_calls = len(fake_bedrock.calls("converse"))
    images = len(fake_bedrock.calls("invoke"))
    assert run_calls == 4  # (search ad + feed ad) x 2 variants, in English

    workbook = openpyxl.load_workbook(out / "variants.xlsx")
    variants = Sheet(workbook, "Variants")
    for name in variants.rows:
        variants.set(name, "approval", "Approved")
    variants.set(f"{PREFIX}_en_meta_feed_v2", "approval", "Rejected")
    variants.set(f"{PREFIX}_en_meta_feed_v2", "notes", CARAFE)
    variants.set(f"{PREFIX}_en_google_rsa_v1", "approval", "Rejected")
    variants.set(f"{PREFIX}_en_google_rsa_v1", "notes", PRICE)
    workbook.save(out / "variants.xlsx")

    code, summary, err = cli("review", str(out / "variants.xlsx"))
    assert code == ExitCode.OK, err
    review_calls = fake_bedrock.calls("converse")[run_calls:]
    prompts = [c.body["messages"][0]["content"][0]["text"] for c in review_calls]
    # One request per rejected ad (their copy jobs differ), each carrying its notes and
    # the copy that was rejected; the approved ads cost nothing.
    assert len(prompts) == 2
    (feed,) = [p for p in prompts if CARAFE in p]
    (search,) = [p for p in prompts if PRICE in p]
    assert "a reviewer rejected this copy" in feed
    assert "responsive search ad" in search
    assert len(fake_bedrock.calls("invoke")) == images  # the master comes from the journal
    assert summary["model_calls"] == {"text": 2, "image": 0}
    assert summary["review"]["regenerated"] == 2

    # The same review again is free: every request is in the journal.
    code, summary, err = cli("review", str(out / "variants.xlsx"))
    assert code == ExitCode.OK, err
    assert len(fake_bedrock.calls("converse")) == run_calls + 2
    assert summary["model_calls"] == {"text": 0, "image": 0}
