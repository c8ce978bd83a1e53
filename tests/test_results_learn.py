"""The next round from what ran: ``run --learn-from`` and a review round on a folder
with results, on the fake Bedrock (the request bodies it received are read) and on
the draft provider."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl
import pytest

from adloom.errors import ExitCode
from briefs import write_brief
from fakebedrock import FakeBedrock
from reports import meta_csv
from test_cli import run_json

HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
IMAGE = "stability.stable-image-core-v1:1"
CAMPAIGN = {"name": "Spring Launch", "brand": "Lumen", "variants": 3, "languages": "en",
            "placements": "meta_feed"}  # fmt: skip
BEDROCK = {**CAMPAIGN, "provider": "bedrock", "text_model": HAIKU45, "image_model": IMAGE,
           f"quota.{IMAGE}.ipm": 100000}  # fmt: skip
BRIEF = {
    "id": "cold-brew",
    "product": "Cold Brew Kit",
    "message": "Smooth coffee, zero effort",
    "benefits": "Brews overnight; Half the acidity; Glass carafe included",
    "cta": "Shop now",
    "landing_url": "https://example.com/cold-brew",
}
P = "spring-launch_cold-brew_general_en_meta_feed"
EDITED = "Always name the glass carafe. Never use the word 'effortless'."


def variants(out: Path, name: str = "variants.xlsx") -> dict[str, dict[str, str]]:
    ws = openpyxl.load_workbook(out / name)["Variants"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    return {r["ad_name"]: r for r in rows}


def report(tmp_path: Path) -> Path:
    """v1 wins clearly, v2 loses with plenty of data, v3 has too little to judge."""
    return meta_csv(tmp_path / "meta.csv", [
        (f"{P}_v1", 20000, 800, 40, 100.0),
        (f"{P}_v2", 20000, 300, 5, 100.0),
        (f"{P}_v3", 500, 10, 0, 2.5),
    ])  # fmt: skip


def prompts(fake: FakeBedrock, since: int) -> list[str]:
    return [c.body["messages"][0]["content"][0]["text"] for c in fake.calls("converse")[since:]]


def test_the_next_round_carries_the_winners_and_the_style_guide(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", BEDROCK, [BRIEF])
    out = tmp_path / "out"
    code, _, text = run_json("run", brief, "--out", out, "--json")
    assert code == ExitCode.OK, text
    first = variants(out)
    calls = len(fake_bedrock.calls("converse"))
    assert calls == 3

    code, data, text = run_json("results", out, report(tmp_path), "--json")
    assert code == ExitCode.OK, text
    assert data["winners"]["cold-brew / general / en / meta_feed"]["ctr"] == f"{P}_v1"
    guide = (out / "style-guide.md").read_text(encoding="utf-8")
    assert "From 1 winning and 1 losing ads" in guide

    code, summary, text = run_json("run", brief, "--out", out, "--learn-from", out, "--json")
    assert code == ExitCode.OK, text
    assert "1 copy job(s) written again with 1 winning example(s)" in text
    assert "1 won, 1 too little data" in text
    # Only the loser is written again; the winner and the ad with too little data are
    # the same requests as before, answered by the journal.
    (sent,) = prompts(fake_bedrock, calls)
    assert summary["model_calls"]["text"] == 1
    assert first[f"{P}_v1"]["headline"] in sent
    assert first[f"{P}_v1"]["body"] in sent
    assert "CTR 4.00%" in sent
    assert "From 1 winning and 1 losing ads" in sent  # the style guide, as generated
    assert "variant 2" in sent
    second = variants(out)
    assert second[f"{P}_v1"]["headline"] == first[f"{P}_v1"]["headline"]
    assert second[f"{P}_v3"]["headline"] == first[f"{P}_v3"]["headline"]

    # The marketer edits the guide; the next request carries the edit, as written, and
    # `adloom results` again leaves the edited guide alone.
    (out / "style-guide.md").write_text(guide + "\n" + EDITED + "\n", encoding="utf-8")
    code, data, text = run_json("results", out, report(tmp_path), "--json")
    assert code == ExitCode.OK, text
    assert data["style_guide"]["edited"] is True
    assert EDITED in (out / "style-guide.md").read_text(encoding="utf-8")
    calls = len(fake_bedrock.calls("converse"))
    code, _, text = run_json("run", brief, "--out", out, "--learn-from", out, "--json")
    assert code == ExitCode.OK, text
    assert "style guide (edited by hand)" in text
    (sent,) = prompts(fake_bedrock, calls)
    assert EDITED in sent
    assert "adloom style guide, generated" not in sent  # the stamp is not sent


def test_a_review_round_on_a_folder_with_results_teaches_the_rewrites(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", BEDROCK, [BRIEF])
    out = tmp_path / "out"
    code, _, text = run_json("run", brief, "--out", out, "--json")
    assert code == ExitCode.OK, text
    winner = variants(out)[f"{P}_v1"]["headline"]
    code, _, text = run_json("results", out, report(tmp_path), "--json")
    assert code == ExitCode.OK, text
    workbook = openpyxl.load_workbook(out / "variants.xlsx")
    ws = workbook["Variants"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        decision = "Rejected" if row[0].value == f"{P}_v3" else "Approved"
        row[header.index("approval")].value = decision
    workbook.save(out / "variants.xlsx")
    calls = len(fake_bedrock.calls("converse"))
    code, summary, text = run_json("review", out / "variants.xlsx", "--json")
    assert code == ExitCode.OK, text
    (sent,) = prompts(fake_bedrock, calls)
    assert "a reviewer rejected this copy" in sent
    assert winner in sent
    assert "From 1 winning and 1 losing ads" in sent
    assert summary["review"]["regenerated"] == 1
    # The round's preview, rendered with the results there, links them.
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="results.html">' in index


def test_the_draft_provider_follows_the_same_path(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", {**CAMPAIGN, "provider": "draft"}, [BRIEF])
    out = tmp_path / "out"
    code, _, text = run_json("run", brief, "--out", out, "--json")
    assert code == ExitCode.OK, text
    first = variants(out)
    code, _, text = run_json("results", out, report(tmp_path), "--json")
    assert code == ExitCode.OK, text
    code, _, text = run_json("run", brief, "--out", out, "--learn-from", out, "--json")
    assert code == ExitCode.OK, text
    second = variants(out)
    assert second[f"{P}_v2"]["headline"] != first[f"{P}_v2"]["headline"]
    for kept in (f"{P}_v1", f"{P}_v3"):
        assert (second[kept]["headline"], second[kept]["body"]) == (
            first[kept]["headline"],
            first[kept]["body"],
        )
    # The loser's request is journalled, with the winner's copy and the guide in it.
    with sqlite3.connect(out / "journal.sqlite") as db:
        (taught,) = db.execute(
            "SELECT request FROM requests WHERE kind='text' AND request LIKE '%lessons%'"
        ).fetchall()
    assert first[f"{P}_v1"]["headline"] in taught[0]
    assert "From 1 winning and 1 losing ads" in taught[0]


def test_learning_from_a_folder_without_results_is_refused(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", {**CAMPAIGN, "provider": "draft"}, [BRIEF])
    out = tmp_path / "out"
    code, _, text = run_json("run", brief, "--out", out, "--json")
    assert code == ExitCode.OK, text
    code, _, text = run_json("run", brief, "--out", out, "--learn-from", out)
    assert code == ExitCode.BAD_INPUT
    assert "no results.json" in text
    assert "adloom results" in text


@pytest.mark.parametrize("budget", ["0.000001"])
def test_learning_stays_budgeted(fake_bedrock: FakeBedrock, tmp_path: Path, budget: str) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", BEDROCK, [BRIEF])
    out = tmp_path / "out"
    code, _, text = run_json("run", brief, "--out", out, "--json")
    assert code == ExitCode.OK, text
    code, _, text = run_json("results", out, report(tmp_path), "--json")
    assert code == ExitCode.OK, text
    calls = len(fake_bedrock.calls("converse"))
    code, summary, text = run_json(
        "run", brief, "--out", out, "--learn-from", out, "--max-cost", budget, "--json"
    )
    assert code == ExitCode.SOME_FAILED, text  # the rewrite does not fit the budget
    assert len(fake_bedrock.calls("converse")) == calls
    assert summary["not_generated"] >= 1
