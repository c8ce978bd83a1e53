"""The copy rules, each with copy that breaks it and copy that passes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adloom.brief.placements import builtin_placements
from adloom.brief.read import read_campaign
from adloom.copy.lint import (
    CopyContext,
    Violation,
    check_copy,
    names_phrase,
    near_duplicates,
)
from adloom.copy.terms import contains_term
from adloom.model import BrandKit, Brief
from briefs import write_brief

PLACEMENTS = builtin_placements()
GOOGLE = PLACEMENTS["display_300x250"]  # 30 / 90 / 15, double width
META = PLACEMENTS["meta_feed"]  # 40 / 125 / 20, characters
BRIEF = Brief(
    id="cold-brew",
    product="Cold Brew Kit",
    message="Smooth coffee, zero effort",
    disclaimer="Serve chilled.",
)
BRAND = BrandKit(banned_words=("guaranteed", "無料", "free", "ass", "cure*"))
GOOD = {"headline": "Cold Brew Kit, slow mornings", "body": "Smooth coffee, zero effort."}


def context(placement: Any = GOOGLE, language: str = "en", **changes: Any) -> CopyContext:
    made = CopyContext.for_brief(BRIEF, BRAND, "LUMEN", [placement], language)
    return replace(made, **changes)


def rules(copy: dict[str, str], ctx: CopyContext) -> list[str]:
    limits = ctx.placements[0].limits
    return [v.rule for v in check_copy({**GOOD, **copy}, limits, ctx)]


H, B, D = "headline", "body", "disclaimer"
BOTH = "headline and body"

# (rule, placement, field, text that breaks the rule, text that passes every rule)
CASES = [
    ("empty", META, H, " ", "Cold Brew Kit"),
    ("length", GOOGLE, H, "Cold Brew Kit, made for slow mornings", "Cold Brew Kit"),
    ("length", GOOGLE, H, "コールドブリューで朝をもっと軽やかに", "朝をもっと軽やかに"),
    ("length", META, B, "x" * 126, "Cold Brew Kit " + "x" * 111),
    ("banned_word", META, B, "Guaranteed smooth coffee.", "Smooth, classy coffee."),
    ("banned_word", GOOGLE, H, "今なら無料でお届け", "今ならすぐにお届け"),
    ("banned_word", META, H, "ＦＲＥＥ Cold Brew Kit", "Carefree Cold Brew Kit"),
    ("banned_word", META, B, "It cures slow mornings.", "Secure your mornings."),
    ("exclamation", GOOGLE, H, "Cold Brew Kit is here!", "Cold Brew Kit is here"),
    ("exclamation", GOOGLE, H, "コールドブリュー登場！", "コールドブリュー登場"),
    ("punctuation", GOOGLE, B, "Smooth coffee?!", "Smooth coffee. Zero effort?"),
    ("punctuation", GOOGLE, B, "Smooth coffee!!", "Smooth coffee… zero effort."),
    ("punctuation", GOOGLE, B, "**Smooth** coffee", "Smooth coffee — zero effort"),
    ("capitals", GOOGLE, H, "SMOOTH Cold Brew Kit", "LUMEN Cold Brew Kit, USA"),
    ("capitals", GOOGLE, B, "Smooth COLD BREW, zero effort", "Smooth Cold Brew, Zero Effort"),
    ("capitals", GOOGLE, B, "Cold Brew KiT: SmOOtH CoFFeE", "Cold Brew Kit: smooth coffee"),
    ("phone", GOOGLE, B, "Call 0120-123-456 today.", "Open 24/7 since 1998, 50,000 fans."),
    ("phone", GOOGLE, B, "Call +1 (800) 555-0199.", "Ends 2025-03-01, 2024-2025 range."),
    ("phone", GOOGLE, B, "お電話は０３－１２３４－５６７８まで", "価格は1,980円です"),
    ("characters", GOOGLE, H, "Cold Brew Kit ☕", "Cold Brew Kit®"),
    ("characters", GOOGLE, H, "ｺｰﾙﾄﾞﾌﾞﾘｭｰ", "コールドブリュー"),
    ("product", META, BOTH, "Mornings, sorted", "Cold brew kit: mornings, sorted"),
    ("product", META, BOTH, "朝が変わる", "Cold Brew Kitで朝が変わる"),
    ("product", META, BOTH, "Mornings, sorted", "Smooth mornings, zero effort"),  # the message
    ("disclaimer", META, D, "", "Serve chilled."),
    ("disclaimer", META, D, "Serve hot.", "Serve  chilled. Terms apply."),
]


@pytest.mark.parametrize(("rule", "placement", "field", "breaks", "passes"), CASES)
def test_rule(rule: str, placement: Any, field: str, breaks: str, passes: str) -> None:
    ctx = context(placement)
    fields = field.split(" and ")
    assert rule in rules(dict.fromkeys(fields, breaks), ctx)
    assert rules(dict.fromkeys(fields, passes), ctx) == []


@pytest.mark.parametrize(
    "copy",
    [
        {"headline": "Cold Brew Kit is here!"},
        {"body": "Call 0120-123-456 today!!"},
        {"headline": "FREE Cold Brew Kit ☕"},
    ],
)
def test_google_editorial_rules_are_for_google_placements_only(copy: dict[str, str]) -> None:
    assert set(rules(copy, context(META))) <= {"banned_word"}
    assert set(rules(copy, context(GOOGLE))) - {"banned_word"}


def test_messages_say_what_is_wrong_where_and_what_to_do() -> None:
    ctx = context(GOOGLE, "ja")
    found = check_copy(
        {**GOOD, "headline": "コールドブリューで朝を軽やかにする"}, GOOGLE.limits, ctx
    )
    assert [str(v) for v in found] == [
        "headline is 34 width units, over Google's limit of 30 (Japanese counts 2 per"
        " character) — shorten it by 4"
    ]
    found = check_copy({**GOOD, "body": "Guaranteed FREE cure!!"}, GOOGLE.limits, ctx)
    assert [str(v) for v in found] == [
        'body uses the banned words "guaranteed", "free", "cure*" — reword it',
        'body repeats punctuation ("!!") — Google rejects repeated punctuation or symbols; use one',
        'body has words in capitals ("FREE") — Google rejects gimmicky capitals; write them in'
        " normal case",
    ]
    meta = check_copy({**GOOD, "headline": "x" * 45}, META.limits, context(META))
    assert str(meta[0]) == "headline is 45 characters, over Meta's limit of 40 — shorten it by 5"


def test_supplied_copy_is_flagged_as_such() -> None:
    brief = replace(BRIEF, headline="Cold Brew Kit: now with zero effort")
    ctx = CopyContext.for_brief(brief, BRAND, "Lumen", [GOOGLE], "en")
    (found,) = check_copy({**GOOD, "headline": brief.headline}, GOOGLE.limits, ctx)
    assert found.supplied
    assert str(found).endswith("(supplied copy, not changed)")
    assert not found.message.endswith("(supplied copy, not changed)")


def test_a_limit_shared_by_several_platforms_names_the_placements() -> None:
    custom = replace(META, id="partner_feed", platform="custom")
    ctx = context(META, placements=(META, custom))
    (found,) = check_copy({**GOOD, "headline": "x" * 41}, META.limits, ctx)
    assert "over the limit of 40 for meta_feed, partner_feed —" in found.message


def test_only_given_fields_are_checked() -> None:
    # A brief's supplied headline is checked alone: no body to find empty, no product.
    assert check_copy({"headline": "Mornings, sorted"}, META.limits, context(META)) == []


@pytest.mark.parametrize(
    ("text", "term", "found"),
    [
        ("First class coffee", "ass", False),  # Latin terms match whole words only
        ("Kick ass coffee", "ass", True),
        ("ASS.", "ass", True),
        ("Carefree mornings", "free", False),
        ("今ならfree体験", "free", True),  # Japanese has no spaces to bound a word
        ("今なら無料体験", "無料", True),
        ("ＦＲＥＥ", "free", True),  # NFKC: full-width letters
        ("ｶﾞｲﾄﾞ付き", "ガイド", True),  # NFKC: half-width katakana and voicing marks
        ("STRASSE", "Straße", True),  # case folding: ß is ss
        ("The best  in the\nworld", "best in the world", True),  # any spacing
        ("guaranteed fresh", "guarantee", False),
        ("guaranteed fresh", "guarantee*", True),  # a trailing * takes longer words
        ("무료로 드려요", "무료", True),  # Korean particles attach to the word
        ("", "free", False),
        ("anything", " ", False),
    ],
)
def test_terms_are_matched_after_nfkc_and_case_folding(text: str, term: str, found: bool) -> None:
    assert contains_term(text, term) is found


@pytest.mark.parametrize(
    ("text", "phrase", "named"),
    [
        ("The new Aero Runner, lighter", "Aero Runner 2", True),  # 2 of 3 terms
        ("Lighter shoes for you", "Aero Runner 2", False),
        ("Light for spring morning runs", "Lightweight running shoe for spring mornings", True),
        ("Light for you", "Lightweight running shoe for spring mornings", False),
        ("手軽に冷たいコーヒーを", "冷たいコーヒーを手軽に", True),  # character pairs
        ("コールドブリューで朝を", "コールドブリューキット", True),
        ("朝をもっと軽やかに", "コールドブリューキット", False),
        ("Tea kit for two", "Tea kit", True),  # short words count when there are no others
    ],
)
def test_product_or_message_named(text: str, phrase: str, named: bool) -> None:
    assert names_phrase(text, phrase) is named


def test_near_duplicates_flag_the_later_variant() -> None:
    copies = [
        {"headline": "Cold brew: made for your day", "body": "Fast coffee. Variant 1."},
        {"headline": "Cold brew, made for your day!", "body": "Fast coffee. Variant 2."},
        {"headline": "Slow mornings, sorted", "body": "Brew it tonight, pour it at seven."},
        {"headline": "COLD BREW: MADE FOR YOUR DAY", "body": "Fast coffee — variant 1"},
    ]
    found = near_duplicates(copies, ["v1", "v2", "v3", "v4"])
    assert found[0] is None
    assert found[2] is None
    assert isinstance(found[1], Violation)
    assert isinstance(found[3], Violation)
    assert found[1].rule == "near_duplicate"
    assert found[1].message.startswith("copy reads almost the same as v1 (")
    assert "(100% alike)" in found[3].message  # case and punctuation do not count


def test_near_duplicates_leave_supplied_fields_out() -> None:
    copies = [
        {"headline": "Hot for 6 hours. No leaks.", "body": "Keeps coffee hot all commute."},
        {"headline": "Hot for 6 hours. No leaks.", "body": "Fits every cup holder we tried."},
    ]
    assert near_duplicates(copies, ["v1", "v2"], skip=("headline",)) == [None, None]
    same_body = [copies[0], {**copies[1], "body": copies[0]["body"]}]
    assert near_duplicates(same_body, ["v1", "v2"], skip=("headline",))[1] is not None


def test_campaign_and_brand_banned_words_both_apply(tmp_path: Path) -> None:
    path = write_brief(
        tmp_path / "brief.xlsx",
        campaign={"name": "Spring", "brand": "Lumen", "banned_words": "cheap, 激安"},
        brand={"banned_words": "miracle, cheap"},
    )
    campaign = read_campaign(path)
    assert campaign.brand.banned_words == ("miracle", "cheap", "激安")
    assert not [w for w in campaign.warnings if "banned_words" in str(w)]
