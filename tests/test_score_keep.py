"""``--score --keep K`` end to end (issue 11's "must show"): on the fake Bedrock the
judge sees each image ad's composed creative, exactly K ads per slot are delivered
(sheet Variants, the preview, the upload files) and the rest are listed in sheet
Candidates with their scores and reasons; a rerun asks the judge nothing. Offline,
the example campaign does the same with the draft heuristic."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl

from adloom.errors import ExitCode
from fakebedrock import FakeBedrock
from test_score import ROOT, judged, run

IMAGE = "stability.stable-image-core-v1:1"
THREE = ("--set", "variants=3", "--set", "languages=en", "--set", "placements=meta_feed")


def sheet(out: Path, name: str) -> list[dict[str, Any]]:
    rows = list(openpyxl.load_workbook(out / "variants.xlsx")[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def slots(rows: list[dict[str, Any]]) -> Counter[tuple[str, str, str, str]]:
    return Counter((r["brief_id"], r["audience"], r["language"], r["placement"]) for r in rows)


def test_score_keep_2_on_bedrock_delivers_the_best_two_per_slot(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    argv = ("run", str(ROOT / "campaigns" / "spring-launch.xlsx"), "--provider", "bedrock",
            "--out", str(out), "--score", "--keep", "2", *THREE,
            "--set", f"quota.{IMAGE}.ipm=100000")  # fmt: skip
    code, summary, err = run(*argv)
    assert code == ExitCode.OK, err
    bodies = judged(fake_bedrock)
    assert len(bodies) == summary["variants"] == 15  # 5 briefs (one audience each) x 3 variants
    assert all("image" in b["messages"][0]["content"][0] for b in bodies)  # the creative

    delivered, candidates = sheet(out, "Variants"), sheet(out, "Candidates")
    assert set(slots(delivered).values()) == {2}
    assert set(slots(candidates).values()) == {1}
    assert all(isinstance(r["score"], int | float) and r["score_reasons"] for r in candidates)
    worst_kept = {
        s: min(r["score"] for r in delivered if slots([r]) == {s: 1}) for s in slots(delivered)
    }
    assert all(r["score"] <= worst_kept[next(iter(slots([r])))] for r in candidates)
    with (out / "exports" / "meta-bulk.csv").open(encoding="utf-8-sig") as fh:
        exported = {row["Ad Name"] for row in csv.DictReader(fh)}
    assert exported == {r["ad_name"] for r in delivered}

    asked = len(bodies)
    code, again, err = run(*argv)
    assert code == ExitCode.OK, err
    assert len(judged(fake_bedrock)) == asked  # a rerun re-scores nothing
    assert again["model_calls"] == {"text": 0, "image": 0}


def test_the_example_campaign_scores_and_keeps_offline(tmp_path: Path) -> None:
    out = tmp_path / "out"
    brief = ROOT / "campaigns" / "spring-launch.xlsx"
    code, summary, err = run("run", str(brief), "--out", str(out), "--score", "--keep", "1")
    assert code == ExitCode.OK, err
    assert summary["scores"]["heuristic"] is True
    delivered, candidates = sheet(out, "Variants"), sheet(out, "Candidates")
    assert set(slots(delivered).values()) == {1}
    assert len(delivered) + len(candidates) == summary["variants"]
