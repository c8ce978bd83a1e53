"""Search ads end to end: ``adloom run`` in-process on a brief with ``google_rsa``, on the
draft provider and on the fake Bedrock (real boto3, real journal, real files)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl

from adloom.cli import main
from adloom.console import Env
from adloom.copy import textlen
from adloom.errors import ExitCode
from briefs import write_brief
from conftest import user_environ
from factories import preview_html
from fakebedrock import FakeBedrock

HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # native structured output
NOVA_LITE = "amazon.nova-lite-v1:0"  # a forced tool
IMAGE = "stability.stable-image-core-v1:1"  # the registry's default
CAMPAIGN = {
    "name": "春のセール",
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
    "benefits": "Brews overnight; Half the acidity",
    "cta": "Shop now",
    "landing_url": "https://example.com/cold-brew",
    "pin_headline_1": "Lumen Cold Brew",
    "pin_description_2": "Cold brew at home, made simple.",
}


def run(brief: Path, out: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(["run", str(brief), "--out", str(out), "--json", *args],
                env=Env(stdout=stdout, stderr=stderr, environ=user_environ()))  # fmt: skip
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def google_rows(out: Path) -> list[dict[str, str]]:
    with (out / "exports" / "google-ads-editor.csv").open(encoding="utf-8-sig") as file:
        return list(csv.DictReader(file))


def check_search_row(row: dict[str, str]) -> list[str]:
    """The row's headlines, after checking what Google Ads Editor would."""
    headlines = [row[f"Headline {i}"] for i in range(1, 16) if row[f"Headline {i}"]]
    descriptions = [row[f"Description {i}"] for i in range(1, 5) if row[f"Description {i}"]]
    assert 3 <= len(headlines) <= 15
    assert 2 <= len(descriptions) <= 4
    assert len({h.casefold() for h in headlines}) == len(headlines)  # distinct
    assert all(textlen.measure(h, "double_width") <= 30 for h in headlines)
    assert all(textlen.measure(d, "double_width") <= 90 for d in descriptions)
    assert all(textlen.measure(row[p], "double_width") <= 15 for p in ("Path 1", "Path 2"))
    assert row["Ad type"] == "Responsive search ad"
    return headlines


def test_a_search_campaign_runs_on_the_draft_provider(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", CAMPAIGN, [BRIEF])
    out = tmp_path / "out"
    code, summary, err = run(brief, out)
    assert code == ExitCode.OK, err
    assert summary["variants"] == 8  # 2 languages x 2 variants x (search ad + feed ad)
    assert summary["creatives"] == 4  # search ads have no image
    rows = google_rows(out)
    assert len(rows) == 4
    for row in rows:
        headlines = check_search_row(row)
        assert headlines[0] == "Lumen Cold Brew"
        assert row["Headline 1 position"] == "1"
        assert row["Description 1"] == "Cold brew at home, made simple."
        assert row["Description 1 position"] == "2"
        assert row["Campaign"] == "春のセール"
        assert "utm_source=google&utm_medium=cpc" in row["Final URL"]
    assert {r["Ad group"] for r in rows} == {"cold-brew_general_en", "cold-brew_general_ja"}
    workbook = openpyxl.load_workbook(out / "variants.xlsx")
    assert workbook.sheetnames == ["Variants", "Search ads", "Summary"]
    assert workbook["Search ads"].max_row == 5
    html = preview_html(out)
    assert html.count('class="text-ad search-ad"') == 4
    assert "example.com/Cold-Brew-Kit/" in html


def test_a_search_campaign_runs_on_bedrock(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    settings = {**CAMPAIGN, "provider": "bedrock", "text_model": HAIKU45, "image_model": IMAGE,
                "placements": "google_rsa", "variants": 1}  # fmt: skip
    brief = write_brief(tmp_path / "brief.xlsx", settings, [BRIEF])
    out = tmp_path / "out"
    code, summary, err = run(brief, out)
    assert code == ExitCode.OK, err
    assert summary["model_calls"] == {"text": 2, "image": 0}  # en and ja; no image for text ads
    for call in fake_bedrock.calls("converse"):
        schema = json.loads(
            call.body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"]
        )
        assert set(schema["properties"]) == {"headlines", "descriptions", "path1", "path2"}
        assert "maxItems" not in json.dumps(schema)  # native decoding rejects the keyword
        prompt = call.body["messages"][0]["content"][0]["text"]
        assert "headlines: exactly 14" in prompt
        assert '"Lumen Cold Brew" (always shown in position 1)' in prompt
    rows = google_rows(out)
    assert len(rows) == 2
    for row in rows:
        headlines = check_search_row(row)
        assert len(headlines) == 15  # the pinned one and the 14 the model wrote
        assert row["Headline 1 position"] == "1"
    ja = next(r for r in rows if r["Ad group"].endswith("_ja"))
    assert ja["Headline 2"].startswith("1. Cold Brew Kitで")  # the fake's Japanese copy


def test_a_forced_tool_gets_bounded_lists(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    settings = {**CAMPAIGN, "provider": "bedrock", "text_model": NOVA_LITE, "image_model": IMAGE,
                "placements": "google_rsa", "variants": 1, "languages": "en"}  # fmt: skip
    brief = write_brief(tmp_path / "brief.xlsx", settings, [BRIEF])
    code, _, err = run(brief, tmp_path / "out")
    assert code == ExitCode.OK, err
    (call,) = fake_bedrock.calls("converse")
    schema = call.body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    assert schema["properties"]["headlines"]["maxItems"] == 14
    assert schema["properties"]["descriptions"]["items"]["maxLength"] == 90
    (row,) = google_rows(tmp_path / "out")
    assert len(check_search_row(row)) == 15
