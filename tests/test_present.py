"""A run's deliverables tell one story: the preview and the workbook carry the one time
the pipeline stamped them with, in a run and in a review round."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl

from adloom.cli import main
from adloom.console import Env
from adloom.errors import ExitCode
from briefs import write_brief
from conftest import user_environ
from factories import preview_html

CAMPAIGN = {
    "name": "Spring Launch",
    "brand": "Lumen",
    "provider": "draft",
    "languages": "en",
    "placements": "meta_feed, google_rsa",
}
BRIEF = {
    "id": "cold-brew",
    "product": "Cold Brew Kit",
    "message": "Smooth coffee, zero effort",
    "cta": "Shop now",
    "landing_url": "https://example.com/cold-brew",
}
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def cli(*args: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main([*args, "--json"], env=Env(stdout=stdout, stderr=stderr, environ=user_environ()))
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def stamps(out: Path, workbook: Path) -> tuple[set[str], str]:
    """Every time the preview shows (index and pages), and the workbook's."""
    summary = dict(openpyxl.load_workbook(workbook)["Summary"].iter_rows(values_only=True))
    return set(STAMP.findall(preview_html(out))), str(summary["Generated at (UTC)"])


def test_preview_and_workbook_carry_one_time_in_a_run_and_a_review_round(
    tmp_path: Path,
) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", CAMPAIGN, [BRIEF])
    out = tmp_path / "out"
    before = datetime.now(UTC).replace(microsecond=0)
    code, summary, err = cli("run", str(brief), "--out", str(out))
    assert code == ExitCode.OK, err
    shown, written = stamps(out, Path(summary["workbook"]))
    assert shown == {written}
    assert before <= datetime.fromisoformat(written) <= datetime.now(UTC)

    code, summary, err = cli("review", summary["workbook"])
    assert code == ExitCode.OK, err
    assert Path(summary["workbook"]).name == "variants-round-2.xlsx"
    shown, written_again = stamps(out, Path(summary["workbook"]))
    assert shown == {written_again}
    assert datetime.fromisoformat(written) <= datetime.fromisoformat(written_again)
