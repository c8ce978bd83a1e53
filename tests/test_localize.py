"""``adloom localize``: a run's approved ads, marked in its real workbook with openpyxl,
adapted for other markets as the next round, offline and on the fake Bedrock over HTTP;
``adloom review`` continues that round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from adloom.brief.read import read_campaign
from adloom.copy import textlen
from adloom.errors import ExitCode
from briefs import write_brief
from conftest import point_at
from fakebedrock import FakeBedrock
from test_japan import BRIEF as JA_BRIEF
from test_japan import JA_FIELDS
from test_review import Sheet, cli, csv_rows, rows

HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
IMAGE = "stability.stable-image-core-v1:1"
CAMPAIGN = {
    "name": "Spring Launch",
    "brand": "Lumen",
    "provider": "draft",
    "variants": 2,
    "languages": "en",
    "placements": "google_rsa, meta_feed",
}
BRIEF = {**JA_BRIEF, **JA_FIELDS}  # an English brief with its Japanese fields
GLOSSARY = [{"term": "Lumen", "ja": "Lumen", "ko": "Lumen", "avoid": "ルーメン"}]
PREFIX = "spring-launch_cold-brew_general"
EDITED = "Iced coffee, café-strong"  # the reviewer's own headline, approved


def brief_file(tmp_path: Path, **settings: Any) -> Path:
    return write_brief(
        tmp_path / "brief.xlsx", {**CAMPAIGN, **settings}, [BRIEF], glossary=GLOSSARY
    )


def approve(workbook: Path, *names: str, headline: dict[str, str] | None = None) -> None:
    """Mark ``names`` Approved in sheet Variants (and edit headlines), as a reviewer does."""
    book = openpyxl.load_workbook(workbook)
    variants = Sheet(book, "Variants")
    for name in names:
        variants.set(name, "approval", "Approved")
    for name, text in (headline or {}).items():
        variants.set(name, "headline", text)
    book.save(workbook)


def within_counting(out: Path, workbook: str, brief: Path, language: str) -> None:
    """Every ``language`` ad of ``workbook`` within its placement's counting and limits."""
    placements = read_campaign(brief).placements
    search = rows(out / workbook, "Search ads")
    checked = 0
    for row in rows(out / workbook).values():
        if row["language"] != language or row["status"] != "ok":
            continue
        placement = placements[row["placement"]]
        rule = placement.width_rule
        if placement.limits.responsive:
            slots = search[row["ad_name"]]
            for key, text in slots.items():
                limit = placement.headline_max if key.startswith("headline ") else None
                limit = placement.body_max if key.startswith("description ") else limit
                if limit is not None and text:
                    assert textlen.measure(text, rule) <= limit, (key, text)
        else:
            assert textlen.measure(row["headline"], rule) <= placement.headline_max, row
            assert textlen.measure(row["body"], rule) <= placement.body_max, row
            assert textlen.measure(row["cta"], rule) <= placement.cta_max, row
        checked += 1
    assert checked


def test_offline_localize_writes_japanese_from_the_brief_and_says_korean_is_not_translated(
    tmp_path: Path,
) -> None:
    brief = brief_file(tmp_path)
    out = tmp_path / "out"
    assert cli("run", str(brief), "--out", str(out))[0] == ExitCode.OK
    approved = (f"{PREFIX}_en_meta_feed_v1", f"{PREFIX}_en_google_rsa_v2")
    approve(out / "variants.xlsx", *approved)

    code, summary, err = cli("localize", str(out / "variants.xlsx"), "--languages", "ja,KO")
    # The Korean ads are draft copy no one wrote in Korean: kept for review, labelled.
    assert code == ExitCode.OK, err
    assert summary["review"] == {"round": 2, "kept": 4, "localized": 4, "approved": 2}
    after = rows(out / "variants-round-2.xlsx")
    assert len(after) == 8  # every ad of round 1 kept, one per approved ad and language
    for name in approved:
        assert after[name]["approval"] == "Approved"
        for language in ("ja", "ko"):
            new = after[name.replace("_en_", f"_{language}_")]
            assert new["changed"] == "localized"
            assert new["round"] == 2
            assert not new["approval"]
    ja = after[f"{PREFIX}_ja_meta_feed_v1"]
    assert "Lumen" in ja["headline"] or "コーヒー" in ja["body"]
    assert any("\u3040" <= ch <= "\u30ff" for ch in ja["body"])  # kana: Japanese copy
    assert "not translated" not in (ja["issues"] or "")
    ko = after[f"{PREFIX}_ko_meta_feed_v1"]
    assert "not translated" in ko["issues"]
    assert (out / "creatives" / "meta_feed" / f"{PREFIX}_ja_meta_feed_v1.jpg").is_file()
    # Uploads hold the approved ads only; the new ones await a decision.
    uploaded = {r.get("Ad name") or r.get("Ad Name") or "" for r in _uploads(out)}
    assert not any("_ja_" in name or "_ko_" in name for name in uploaded)
    preview = (out / "index.html").read_text(encoding="utf-8")
    assert "4 localized" in preview
    within_counting(out, "variants-round-2.xlsx", brief, "ja")

    # `adloom review` continues the round: a Japanese ad approved goes out, a Korean
    # one rejected is written again (draft: from the brief), the rest kept.
    book = openpyxl.load_workbook(out / "variants-round-2.xlsx")
    variants = Sheet(book, "Variants")
    variants.set(f"{PREFIX}_ja_meta_feed_v1", "approval", "Approved")
    variants.set(f"{PREFIX}_ko_meta_feed_v1", "approval", "Rejected")
    variants.set(f"{PREFIX}_ko_meta_feed_v1", "notes", "Shorter")
    book.save(out / "variants-round-2.xlsx")
    code, summary, err = cli("review", str(out / "variants-round-2.xlsx"))
    assert code == ExitCode.OK, err
    assert "not in the brief's plan" not in err
    assert summary["review"]["round"] == 3
    assert summary["review"]["regenerated"] == 1
    assert summary["review"]["approved"] == 3
    third = rows(out / "variants-round-3.xlsx")
    assert len(third) == 8
    assert third[f"{PREFIX}_ja_meta_feed_v1"]["approval"] == "Approved"
    assert third[f"{PREFIX}_ko_meta_feed_v1"]["changed"] == "regenerated"
    # The Korean search ad, kept as it was, still says it is not translated.
    assert "not translated" in third[f"{PREFIX}_ko_google_rsa_v2"]["issues"]
    korean = (out / "preview" / "brief-001-cold-brew.html").read_text(encoding="utf-8")
    assert korean.count('class="badge badge-untranslated"') == 2  # both Korean ads
    meta = (out / "exports" / "meta-bulk.csv").read_text(encoding="utf-8-sig")
    assert f"{PREFIX}_ja_meta_feed_v1" in meta
    assert f"{PREFIX}_ko_meta_feed_v1" not in meta


def _uploads(out: Path) -> list[dict[str, str]]:
    return [row for path in sorted((out / "exports").glob("*.csv")) for row in csv_rows(path)]


def test_on_bedrock_the_approved_copy_is_adapted_under_the_markets_rules(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """The copy requests carry the approved copy (a hand edit included) as the source to
    adapt, the glossary's Japanese and the Japanese pack; the masters come from the
    journal; every Japanese ad is within its placement's counting; the same command
    again pays nothing."""
    brief = brief_file(
        tmp_path,
        provider="bedrock",
        text_model=HAIKU45,
        image_model=IMAGE,
        **{f"quota.{IMAGE}.ipm": 100000},
    )
    out = tmp_path / "out"
    code, _, err = cli("run", str(brief), "--out", str(out))
    assert code == ExitCode.OK, err
    run_calls = len(fake_bedrock.calls("converse"))
    images = len(fake_bedrock.calls("invoke"))
    feed, search = f"{PREFIX}_en_meta_feed_v1", f"{PREFIX}_en_google_rsa_v1"
    approve(out / "variants.xlsx", feed, search, headline={feed: EDITED})
    round1 = rows(out / "variants.xlsx")

    code, summary, err = cli("localize", str(out / "variants.xlsx"), "--languages", "ja")
    assert code == ExitCode.OK, err
    calls = fake_bedrock.calls("converse")[run_calls:]
    assert len(calls) == 2  # one adaptation per approved ad (their limits differ)
    assert len(fake_bedrock.calls("invoke")) == images  # masters: from the journal
    assert summary["model_calls"] == {"text": 2, "image": 0}
    prompts = [c.body["messages"][0]["content"][0]["text"] for c in calls]
    systems = [c.body["system"][0]["text"] for c in calls]
    for prompt in prompts:
        assert "Adapt this approved English ad for the Japanese-speaking market" in prompt
        assert "transcreation, not translation" in prompt
        assert "- Lumen: Lumen" in prompt  # the glossary's Japanese
        assert "景品表示法" in prompt  # the Japanese pack
        assert "Message: 注ぐだけで、カフェの味のアイスコーヒー。" in prompt  # message@ja
    (feed_prompt,) = [p for p in prompts if "responsive search ad" not in p]
    (search_prompt,) = [p for p in prompts if "responsive search ad" in p]
    assert f'- headline: "{EDITED}"' in feed_prompt  # the copy as approved, edit included
    assert f'- body: "{round1[feed]["body"]}"' in feed_prompt
    assert f'- headline 1: "{round1[search]["headline"]}"' in search_prompt
    assert all("natural Japanese advertising copy" in s for s in systems)

    after = rows(out / "variants-round-2.xlsx")
    for name in (feed, search):
        assert after[name.replace("_en_", "_ja_")]["changed"] == "localized"
    within_counting(out, "variants-round-2.xlsx", brief, "ja")

    # The same command again: every request is in the journal.
    code, summary, err = cli("localize", str(out / "variants.xlsx"), "--languages", "ja")
    assert code == ExitCode.OK, err
    assert len(fake_bedrock.calls("converse")) == run_calls + 2
    assert summary["model_calls"] == {"text": 0, "image": 0}
    assert summary["cost_usd"] == 0

    # Review continues the round: a rejected adaptation is adapted again, from the
    # same source, with the reviewer's notes.
    book = openpyxl.load_workbook(out / "variants-round-2.xlsx")
    Sheet(book, "Variants").set(f"{PREFIX}_ja_meta_feed_v1", "approval", "Rejected")
    Sheet(book, "Variants").set(f"{PREFIX}_ja_meta_feed_v1", "notes", "もっと短く")
    book.save(out / "variants-round-2.xlsx")
    code, summary, err = cli("review", str(out / "variants-round-2.xlsx"))
    assert code == ExitCode.OK, err
    (again,) = fake_bedrock.calls("converse")[run_calls + 2 :]
    text = again.body["messages"][0]["content"][0]["text"]
    assert f'- headline: "{EDITED}"' in text
    assert "もっと短く" in text
    assert summary["review"]["regenerated"] == 1


def test_from_tokyo_japanese_copy_goes_through_the_jp_profile(
    fake_bedrock: FakeBedrock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile-only model named by its base id, in ap-northeast-1: the run's and the
    localize round's copy requests are sent to its jp. profile (processing in Japan)."""
    point_at(monkeypatch, fake_bedrock, region="ap-northeast-1")
    base = HAIKU45.removeprefix("us.")
    brief = brief_file(
        tmp_path, provider="bedrock", text_model=base, image_model=IMAGE, placements="google_rsa"
    )
    out = tmp_path / "out"
    code, _, err = cli("run", str(brief), "--out", str(out))
    assert code == ExitCode.OK, err
    run_calls = len(fake_bedrock.calls("converse"))
    approve(out / "variants.xlsx", f"{PREFIX}_en_google_rsa_v1")
    code, _, err = cli("localize", str(out / "variants.xlsx"), "--languages", "ja")
    assert code == ExitCode.OK, err
    calls = fake_bedrock.calls("converse")[run_calls:]
    assert len(calls) == 1
    assert {c.model for c in calls} == {f"jp.{base}"}
    assert {c.region for c in calls} == {"ap-northeast-1"}


def test_nothing_approved_is_said_with_the_sheet(tmp_path: Path) -> None:
    brief = brief_file(tmp_path)
    out = tmp_path / "out"
    assert cli("run", str(brief), "--out", str(out))[0] == ExitCode.OK
    code, _, err = cli("localize", str(out / "variants.xlsx"), "--languages", "ja")
    assert code == ExitCode.BAD_INPUT
    assert "variants.xlsx: no ad is approved in column approval of sheet Variants" in err
    assert "Traceback" not in err
    assert not (out / "variants-round-2.xlsx").exists()


def test_ads_already_in_the_language_are_left_as_they_are(tmp_path: Path) -> None:
    """A campaign already in Japanese: its Japanese ads are not adapted over; approved
    Japanese ads are not adapted into Japanese; with nothing left, it says so."""
    brief = brief_file(tmp_path, languages="en, ja", variants=1)
    out = tmp_path / "out"
    assert cli("run", str(brief), "--out", str(out))[0] == ExitCode.OK
    approve(out / "variants.xlsx", f"{PREFIX}_en_meta_feed_v1", f"{PREFIX}_ja_meta_feed_v1")
    code, _, err = cli("localize", str(out / "variants.xlsx"), "--languages", "ja")
    assert code == ExitCode.BAD_INPUT
    assert "every approved ad is already in ja" in err
    assert "Variants!A" in err
    assert f"{PREFIX}_ja_meta_feed_v1 is already in the workbook" in err
    code, summary, err = cli("localize", str(out / "variants.xlsx"), "--languages", "ja,ko")
    assert code == ExitCode.OK, err
    # Both approved ads are the same slot: its Korean ad is adapted from the first.
    assert summary["review"]["localized"] == 1
    warned = "\n".join(summary["warnings"])
    assert f"{PREFIX}_ja_meta_feed_v1 is already in the workbook" in warned
    assert f"is adapted from {PREFIX}_en_meta_feed_v1, approved too" in warned


def test_a_localize_round_keeps_every_other_ad_as_it_is(tmp_path: Path) -> None:
    """Decisions, notes and failures are review's to act on: a rejected ad is not
    regenerated, a failed one not retried (it stays failed: exit 1), nothing sent for them."""
    brief = brief_file(tmp_path, variants=1)
    out = tmp_path / "out"
    assert cli("run", str(brief), "--out", str(out))[0] == ExitCode.OK
    book = openpyxl.load_workbook(out / "variants.xlsx")
    variants = Sheet(book, "Variants")
    variants.set(f"{PREFIX}_en_meta_feed_v1", "approval", "Approved")
    variants.set(f"{PREFIX}_en_google_rsa_v1", "approval", "Rejected")
    variants.set(f"{PREFIX}_en_google_rsa_v1", "notes", "Too long")
    variants.set(f"{PREFIX}_en_google_rsa_v1", "status", "failed")
    book.save(out / "variants.xlsx")
    before = rows(out / "variants.xlsx")
    code, summary, err = cli("localize", str(out / "variants.xlsx"), "--languages", "ja")
    assert code == ExitCode.SOME_FAILED, err
    assert summary["review"] == {"round": 2, "kept": 2, "localized": 1, "approved": 1}
    assert summary["failed"] == 1
    after = rows(out / "variants-round-2.xlsx")
    kept = after[f"{PREFIX}_en_google_rsa_v1"]
    assert (kept["status"], kept["approval"], kept["notes"]) == ("failed", "Rejected", "Too long")
    assert not kept["changed"]
    for column in ("headline", "body", "cta", "approval", "round"):
        assert (
            after[f"{PREFIX}_en_meta_feed_v1"][column]
            == before[f"{PREFIX}_en_meta_feed_v1"][column]
        )
