"""Hostile copy never reaches an upload file: whatever breaks a platform rule after the
repair rounds is flagged, shown for review and left out of ``exports/*.csv``.

Every row of every export is checked again with the rules, so a new way of breaking
one cannot slip through unnoticed; and nothing outside the out folder changes.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from adloom.brief.placements import builtin_placements
from adloom.cli import main
from adloom.console import Env
from adloom.copy import rsa
from adloom.copy.lint import CopyContext, check_copy
from adloom.copy.verdict import holds_back
from adloom.errors import ExitCode
from adloom.model import BrandKit, Brief
from briefs import write_brief
from conftest import user_environ
from fakebedrock import FakeBedrock

PLACEMENTS = builtin_placements()
BANNED = "miracle"
CAMPAIGN = {
    "name": "Hostile",
    "brand": "Lumen",
    "provider": "draft",
    "variants": 1,
    "languages": "en",
    "placements": "google_rsa, meta_feed",
}
BRIEF = {
    "product": "Cold Brew Kit",
    "message": "Smooth coffee, zero effort",
    "benefits": "Brews overnight; Half the acidity",
    "cta": "Shop now",
    "landing_url": "https://example.com/cold-brew",
}
# Supplied headlines (used as given, never sent to a model), each breaking a rule.
HOSTILE = {
    "phone": "Call 555-0199 today",
    "shouting": "BUY COLD BREW NOW",
    "banned": f"The {BANNED} cold brew",
    "emoji": "Cold brew 🎉 at home",
    "exclaim": "Cold brew at home!",
    "long": "Cold Brew Kit: smooth coffee made overnight, ready for every single morning rush",
}


def cli(*args: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main([*args, "--json"], env=Env(stdout=stdout, stderr=stderr, environ=user_environ()))
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def snapshot(root: Path, out: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file() and out not in p.parents}


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as file:
        return list(csv.DictReader(file))


def context(placement: str) -> CopyContext:
    brief = Brief("x", BRIEF["product"], BRIEF["message"])
    brand = BrandKit(banned_words=(BANNED,))
    return CopyContext.for_brief(brief, brand, "Lumen", [PLACEMENTS[placement]], "en")


def assert_exports_pass_the_rules(out: Path) -> list[str]:
    """Every exported ad checked again; returns the exported ad names (Meta) and groups."""
    names = []
    for row in csv_rows(out / "exports" / "google-ads-editor.csv"):
        search = rsa.from_fields(
            {
                **{f"headline {i}": row[f"Headline {i}"] for i in range(1, 16)},
                **{f"description {i}": row[f"Description {i}"] for i in range(1, 5)},
                "path 1": row["Path 1"],
                "path 2": row["Path 2"],
            },
            {},
        )
        limits = PLACEMENTS["google_rsa"].limits
        found = rsa.check(search, limits, context("google_rsa"))
        assert not [v for v in found if holds_back(v)], (row["Ad group"], found)
        names.append(row["Ad group"])
    for row in csv_rows(out / "exports" / "meta-bulk.csv"):
        copy = {"headline": row["Title"], "body": row["Body"]}
        found = check_copy(copy, PLACEMENTS["meta_feed"].limits, context("meta_feed"))
        assert not [v for v in found if holds_back(v)], (row["Ad Name"], found)
        names.append(row["Ad Name"])
    return names


def test_supplied_copy_breaking_a_rule_is_never_exported(tmp_path: Path) -> None:
    briefs = [{**BRIEF, "id": key, "headline": text} for key, text in HOSTILE.items()]
    briefs.append({**BRIEF, "id": "clean"})
    brief = write_brief(tmp_path / "brief.xlsx", CAMPAIGN, briefs, brand={"banned_words": BANNED})
    out = tmp_path / "out"
    before = snapshot(tmp_path, out)
    code, summary, err = cli("run", str(brief), "--out", str(out))
    assert code == ExitCode.SOME_FAILED, err
    # Google's editorial rules hold back the search ad; Meta takes "!", capitals,
    # phone numbers and emoji, so only the banned word and the length hold back its ad.
    rows = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    header = [c.value for c in rows[1]]
    status = {
        r[header.index("ad_name")]: r[header.index("status")]
        for r in rows.iter_rows(min_row=2, values_only=True)
    }
    flagged = {name for name, s in status.items() if s == "flagged"}
    assert flagged == {
        *(f"hostile_{key}_general_en_google_rsa_v1" for key in HOSTILE),
        "hostile_banned_general_en_meta_feed_v1",
        "hostile_long_general_en_meta_feed_v1",
    }
    assert summary["flagged"] == len(flagged)
    exported = assert_exports_pass_the_rules(out)
    assert "clean_general_en" in exported
    assert not flagged & set(exported)
    assert snapshot(tmp_path, out) == before  # nothing outside --out changed


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_model_that_ignores_repairs_gets_nothing_exported(
    fake_bedrock: FakeBedrock, tmp_path: Path, language: str
) -> None:
    """The issue's case: headlines far over their limit with banned words, every round."""
    fake_bedrock.behaviour.spoil_words = ["奇跡の" if language == "ja" else BANNED, "results"]
    settings = {
        **CAMPAIGN,
        "provider": "bedrock",
        "text_model": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "image_model": "stability.stable-image-core-v1:1",
        "languages": language,
    }
    brief = write_brief(
        tmp_path / "brief.xlsx", settings, [{**BRIEF, "id": "cold-brew"}],
        brand={"banned_words": f"{BANNED}, 奇跡"},
    )  # fmt: skip
    out = tmp_path / "out"
    before = snapshot(tmp_path, out)
    code, summary, err = cli("run", str(brief), "--out", str(out))
    assert code == ExitCode.SOME_FAILED, err
    assert summary["flagged"] == 2
    assert csv_rows(out / "exports" / "google-ads-editor.csv") == []
    assert csv_rows(out / "exports" / "meta-bulk.csv") == []
    assert snapshot(tmp_path, out) == before


# Japanese claims written to slip past a pattern: full-width letters, an ideographic
# space or a zero-width space inside the phrase, a space before a verb ending.
JAPANESE_HOSTILE = {
    "fullwidth": ("Ｎｏ．１のコールドブリュー", ""),
    "spaced": ("業界最　安のコールドブリュー", ""),
    "zero-width": ("日本\u200b一のコールドブリュー", ""),
    "cure": ("ニキビが 治る美容液", "cosmetics"),
}


def test_japanese_law_cannot_be_dodged_into_an_upload_file(tmp_path: Path) -> None:
    briefs = [
        {**BRIEF, "id": key, "headline@ja": text, "category": category}
        for key, (text, category) in JAPANESE_HOSTILE.items()
    ]
    briefs.append({**BRIEF, "id": "clean", "message@ja": "朝の一杯を、もっと手軽に。"})
    settings = {**CAMPAIGN, "languages": "ja", "placements": "meta_feed"}
    brief = write_brief(tmp_path / "brief.xlsx", settings, briefs)
    out = tmp_path / "out"
    before = snapshot(tmp_path, out)
    code, summary, err = cli("run", str(brief), "--out", str(out))
    assert code == ExitCode.SOME_FAILED, err
    assert summary["flagged"] == len(JAPANESE_HOSTILE)
    exported = csv_rows(out / "exports" / "meta-bulk.csv")
    assert [row["Ad Name"] for row in exported] == ["hostile_clean_general_ja_meta_feed_v1"]
    ja = replace(context("meta_feed"), language="ja", category="cosmetics")
    for row in exported:
        copy = {"headline": row["Title"], "body": row["Body"]}
        found = check_copy(copy, PLACEMENTS["meta_feed"].limits, ja)
        assert not [v for v in found if holds_back(v)], (row["Ad Name"], found)
    assert snapshot(tmp_path, out) == before


# Japan's upload files (Yahoo! search's import file, the YDA, LINE and TikTok sheets):
# a formula never runs, and what breaks a platform's own rule is in none of them.
JAPAN_FILES = {
    "yahoo-search-ads.csv": "yahoo_search_rsa",
    "yahoo-display-upload-sheet.csv": "yda_banner_300x250",
    "line-upload-sheet.csv": "line_card",
    "tiktok-upload-sheet.csv": "tiktok_infeed",
}
# The copy each sheet carries, by its own column names.
JAPAN_TEXT = {
    "yahoo-display-upload-sheet.csv": ("タイトル", "説明文"),
    "line-upload-sheet.csv": ("タイトル", "ディスクリプション"),
    "tiktok-upload-sheet.csv": ("Headline on image", "Ad text"),
}


def test_japans_upload_files_take_no_formula_and_no_broken_rule(tmp_path: Path) -> None:
    # "+" starts a formula in a CSV as "=" does ("=" in a workbook cell is a formula
    # the brief reader reads as empty).
    injection = '+HYPERLINK("http://evil.example")'
    briefs = [
        {**BRIEF, "id": "clean", "message@ja": "朝の一杯を、もっと手軽に。"},
        {**BRIEF, "id": "tagged", "message@ja": "朝の一杯を #コーヒー {今}"},
        {**BRIEF, "id": "cheapest", "headline@ja": "日本\u200b一のコールドブリュー"},
        {**BRIEF, "id": "formula", "headline@ja": "@1+1の朝", "message@ja": "-朝の一杯。"},
    ]
    settings = {
        **CAMPAIGN,
        "name": injection,
        "languages": "ja",
        "placements": ", ".join(JAPAN_FILES.values()),
    }
    brief = write_brief(tmp_path / "brief.xlsx", settings, briefs)
    out = tmp_path / "out"
    before = snapshot(tmp_path, out)
    code, _, err = cli("run", str(brief), "--out", str(out))
    assert code == ExitCode.SOME_FAILED, err
    for name, placement in JAPAN_FILES.items():
        exported = csv_rows(out / "exports" / name)
        assert exported, name
        text = (out / "exports" / name).read_text(encoding="utf-8-sig")
        for held in ("tagged_general_ja_tiktok", "cheapest", "日本"):
            assert held not in text, (name, held)
        assert "'@1+1の朝" in text, name  # the supplied headline, neutralised
        for row in exported:
            for value in row.values():
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (name, value)
            assert injection not in row.values()
            assert f"'{injection}" in row.values()
            if name in JAPAN_TEXT:
                headline, body = (row[c].removeprefix("'") for c in JAPAN_TEXT[name])
                ja = replace(context(placement), language="ja")
                found = check_copy(
                    {"headline": headline, "body": body}, PLACEMENTS[placement].limits, ja
                )
                assert not [v for v in found if holds_back(v)], (name, row, found)
    tiktok = (out / "exports" / "tiktok-upload-sheet.csv").read_text(encoding="utf-8-sig")
    assert "#" not in tiktok
    assert "{" not in tiktok
    line = (out / "exports" / "line-upload-sheet.csv").read_text(encoding="utf-8-sig")
    assert "#コーヒー" in line  # LINE has no such rule: the same ad goes there
    assert snapshot(tmp_path, out) == before
