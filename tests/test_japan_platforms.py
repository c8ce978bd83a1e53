"""Japan's platforms: Yahoo! JAPAN search and display (YDA), LINE and TikTok, each counted
its own way, kept clear of its crop or interface, and delivered in its upload file.

Lengths are measured here with counts of the test's own (``width``), not adloom's
``textlen``, so a mistake there cannot hide itself. A Japanese campaign runs on the fake
Bedrock (real boto3 over HTTP), as tests/test_japan.py's do.
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from adloom.brief.placements import builtin_placements
from adloom.brief.read import read_campaign
from adloom.copy import rsa
from adloom.copy.lint import CopyContext, check_copy
from adloom.creative.layout import AdCopy, plan_layout
from adloom.errors import BriefError, ExitCode
from adloom.model import BrandKit, SearchAd
from briefs import write_brief
from fakebedrock import FakeBedrock
from test_japan import CHEAPEST, CLEAN, GLOSSARY, HAIKU45, IMAGE, SERUM, cli, rows

PLACEMENTS = builtin_placements()
YAHOO_SEARCH = PLACEMENTS["yahoo_search_rsa"]
LINE = PLACEMENTS["line_card"]
TIKTOK = PLACEMENTS["tiktok_infeed"]
YDA = PLACEMENTS["yda_responsive"]


def width(text: str, rule: str) -> int:
    """The platform's count, done independently: one per character for ``chars`` (the
    test's texts have no combining marks), two per East Asian Wide/Fullwidth character
    for ``double_width``."""
    if rule == "chars":
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_the_independent_count_agrees_with_the_platforms_own_statements() -> None:
    # Yahoo!: full-width 15 is half-width 30; LINE: 20 whatever the width.
    assert width("あ" * 15, "double_width") == 30 == width("a" * 30, "double_width")
    assert width("あ" * 20, "chars") == 20 == width("a" * 20, "chars")


# ---------------------------------------------------------------- counting


def lengths(copy: dict[str, str], placement_id: str) -> list[str]:
    placement = PLACEMENTS[placement_id]
    ctx = CopyContext(placements=(placement,), language="ja")
    return [str(v) for v in check_copy(copy, placement.limits, ctx) if v.rule == "length"]


def test_line_counts_every_character_one_whatever_its_width() -> None:
    """20 Japanese characters fill LINE's title, where Google's 30 width units hold 15."""
    assert LINE.width_rule == "chars"
    title, body = "朝" * 20, "冷" * 75
    assert width(title, "chars") == LINE.headline_max
    assert not lengths({"headline": title, "body": body}, "line_card")
    (over,) = lengths({"headline": title + "の", "body": body}, "line_card")
    assert over == "headline is 21 characters, over LINE's limit of 20 — shorten it by 1"
    # Half-width letters and full-width ones count the same.
    assert not lengths(
        {"headline": "Lumen" + "朝" * 15, "body": "Ｌｕｍｅｎ" + "冷" * 70}, "line_card"
    )
    assert lengths({"headline": title, "body": body}, "display_300x250")  # Google: 40 > 30


def test_yahoo_search_counts_full_width_two_slot_by_slot() -> None:
    assert (YAHOO_SEARCH.headline_max, YAHOO_SEARCH.body_max) == (30, 90)
    assert (YAHOO_SEARCH.headline_count, YAHOO_SEARCH.description_count) == (15, 4)
    ctx = CopyContext(placements=(YAHOO_SEARCH,), language="ja")
    fits = SearchAd(
        headlines=("朝" * 15, "Lumen" + "冷" * 12, "a" * 30),
        descriptions=("あ" * 45, "b" * 90),
        path1="コーヒー",
        path2="a" * 15,
    )
    assert not [v for v in rsa.check(fits, YAHOO_SEARCH.limits, ctx) if v.rule == "length"]
    over = SearchAd(
        headlines=("朝" * 16, *fits.headlines[1:]),
        descriptions=(fits.descriptions[0], "い" * 46),
        path1="コーヒー豆の店舗",  # 8 full-width: 16 > 15
    )
    found = {v.field: str(v) for v in rsa.check(over, YAHOO_SEARCH.limits, ctx)}
    assert "32 width units, over Yahoo! JAPAN's limit of 30" in found["headline 1"]
    assert "92 width units, over Yahoo! JAPAN's limit of 90" in found["description 2"]
    assert "path 1" in found


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ("朝の一杯を #coffee", "#"),
        ("朝の一杯を＃コーヒー", "#"),  # full-width, as NFKC reads it
        ("{name}さんの朝に", "{}"),
        ("朝の一杯を🎉", "🎉"),
        ("朝の一杯を☕️と", "☕️"),
    ],
)
def test_tiktok_refuses_emoji_braces_and_hash_in_its_ad_text(body: str, found: str) -> None:
    ctx = CopyContext(placements=(TIKTOK,), language="ja")
    (violation,) = check_copy({"headline": "朝の一杯", "body": body}, TIKTOK.limits, ctx)
    assert violation.rule == "tiktok_text"
    assert str(violation) == (
        f'body has "{found}" — TikTok does not allow emoji, {{ }} or # in ad text; remove them'
    )


def test_tiktok_counts_asian_characters_two_and_leaves_others_alone() -> None:
    """50 Japanese or 100 Latin characters of ad text; the rule is TikTok's alone."""
    assert not lengths({"headline": "朝", "body": "冷" * 50}, "tiktok_infeed")
    assert not lengths({"headline": "朝", "body": "c" * 100}, "tiktok_infeed")
    (over,) = lengths({"headline": "朝", "body": "冷" * 51}, "tiktok_infeed")
    assert "102 width units, over TikTok's limit of 100 (Japanese counts 2" in over
    meta = CopyContext(placements=(PLACEMENTS["meta_feed"],), language="ja")
    copy = {"headline": "朝", "body": "#朝の一杯 {新} 🎉"}
    assert not check_copy(copy, PLACEMENTS["meta_feed"].limits, meta)


# ---------------------------------------------------------------- crop and interface


@pytest.mark.parametrize(
    "placement_id", ["yda_responsive", "yda_responsive_square", "tiktok_infeed"]
)
def test_copy_logo_and_button_stay_clear_of_the_crop_and_the_interface(
    placement_id: str,
) -> None:
    """YDA crops up to 15% of each side: everything is in the centre 70%. TikTok's
    buttons cover the right: nothing there."""
    placement = PLACEMENTS[placement_id]
    copy = AdCopy("朝の一杯を、もっと手軽に", "購入する", "18時間かけてじっくり抽出。", "ja")
    layout = plan_layout(copy, BrandKit(), placement, logo_size=(400, 100))
    left = placement.safe_left * placement.width
    right = placement.width * (1 - placement.safe_right)
    top = placement.safe_top * placement.height
    bottom = placement.height * (1 - placement.safe_bottom)
    boxes = [t.block.ink for t in layout.texts]
    boxes += [layout.logo] if layout.logo else []
    boxes += [layout.button.box] if layout.button else []
    assert len(boxes) >= 3, layout
    for box in boxes:
        assert left <= box.x0, (placement_id, box)
        assert box.x1 <= right, (placement_id, box)
        assert top <= box.y0, (placement_id, box)
        assert box.y1 <= bottom, (placement_id, box)
    assert not [i for i in layout.issues if "does not fit" in i], layout.issues


def test_a_brief_sets_the_sides_of_its_own_placements(tmp_path: Path) -> None:
    row = {"id": "yda_responsive", "safe_left": "0.2", "safe_right": "0.6"}
    path = write_brief(
        tmp_path / "brief.xlsx",
        {"name": "Haru", "brand": "Lumen", "placements": "yda_responsive"},
        [CLEAN],
        placements=[row],
    )
    with pytest.raises(BriefError) as raised:
        read_campaign(path)
    (problem,) = [p for p in raised.value.problems if not p.warning]
    assert problem.where.startswith("Placements!")
    assert 'safe_right "0.6" is not a fraction of the width from 0 to 0.5' in problem.message
    path = write_brief(
        tmp_path / "brief.xlsx",
        {"name": "Haru", "brand": "Lumen", "placements": "yda_responsive"},
        [CLEAN],
        placements=[{**row, "safe_right": "0.25"}],
    )
    placement = read_campaign(path).placements["yda_responsive"]
    assert (placement.safe_left, placement.safe_right, placement.safe_top) == (0.2, 0.25, 0.15)


# ---------------------------------------------------------------- a Japanese campaign


def exported(out: Path, name: str) -> list[dict[str, str]]:
    with (out / "exports" / name).open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def everything_uploaded(out: Path) -> str:
    files = sorted((out / "exports").glob("*.csv"))
    return "".join(f.read_text(encoding="utf-8-sig") for f in files)


JAPAN = "yahoo_search_rsa, yda_responsive, yda_banner_300x250, line_card, line_small, x_card"


def test_a_japanese_campaign_on_bedrock_is_within_each_platforms_counting(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """Yahoo! search, YDA, LINE and X on the fake: every ad delivered is within its own
    platform's counting; the Yahoo! import file's rows are within Yahoo!'s limits; the
    supplied 最安 and the cosmetic cure are flagged with the law named and in no file."""
    campaign = {
        "name": "Haru",
        "brand": "Lumen",
        "provider": "bedrock",
        "text_model": HAIKU45,
        "image_model": IMAGE,
        "variants": 1,
        "languages": "ja",
        "placements": JAPAN,
    }
    path = write_brief(
        tmp_path / "brief.xlsx", campaign, [CHEAPEST, SERUM, CLEAN], glossary=GLOSSARY
    )
    out = tmp_path / "out"
    code, summary, err = cli("run", str(path), "--out", str(out))
    assert code == ExitCode.SOME_FAILED, err
    delivered = rows(out)
    assert {r["placement"] for r in delivered} == {p.strip() for p in JAPAN.split(",")}

    by_brief: dict[str, list[dict[str, Any]]] = {}
    for row in delivered:
        by_brief.setdefault(row["brief_id"], []).append(row)
    assert {r["status"] for r in by_brief["cheapest"]} == {"flagged"}
    assert all("景品表示法" in r["issues"] and "最安" in r["issues"] for r in by_brief["cheapest"])
    assert {r["status"] for r in by_brief["serum"]} == {"flagged"}
    assert all('"治る" — 薬機法' in r["issues"] for r in by_brief["serum"])
    assert {r["status"] for r in by_brief["clean"]} == {"ok"}, by_brief["clean"]

    for row in by_brief["clean"]:
        placement = PLACEMENTS[row["placement"]]
        rule = placement.width_rule
        assert width(row["headline"], rule) <= placement.headline_max, row
        assert width(row["body"], rule) <= placement.body_max, row
        assert width(row["cta"] or "", rule) <= max(placement.cta_max, 0), row
        assert any("\u3040" <= c <= "\u30ff" for c in row["headline"] + row["body"]), row

    # The Yahoo! search import file: Yahoo!'s columns, each slot within Yahoo!'s limits.
    (yahoo,) = exported(out, "yahoo-search-ads.csv")
    assert yahoo["コンポーネントの種類"] == "広告"
    assert yahoo["広告タイプ"] == "レスポンシブ検索広告"
    assert yahoo["キャンペーン名"] == "Haru"
    assert yahoo["広告グループ名"] == "clean_general_ja"
    assert yahoo["広告名"] == "haru_clean_general_ja_yahoo_search_rsa_v1"
    titles = [yahoo[f"タイトル{i}（アセット）"] for i in range(1, 16)]
    descriptions = [yahoo[f"説明文{i}（アセット）"] for i in range(1, 5)]
    titles, descriptions = [t for t in titles if t], [d for d in descriptions if d]
    assert 3 <= len(titles) <= 15
    assert 2 <= len(descriptions) <= 4
    assert all(width(t, "double_width") <= 30 for t in titles), titles
    assert all(width(d, "double_width") <= 90 for d in descriptions), descriptions
    assert all(width(yahoo[f"ディレクトリ{i}"], "double_width") <= 15 for i in (1, 2))
    assert yahoo["最終リンク先URL"].startswith("https://lumen.example/cold-brew?")
    assert "utm_source=yahoo_search" in yahoo["最終リンク先URL"]
    assert not exported(out, "google-ads-editor.csv")  # Yahoo!'s ads are Yahoo!'s alone

    # The upload sheets: the clean brief's image ads, each image beside its sheet.
    sheets = {
        "yahoo-display-upload-sheet.csv": (
            "yahoo-display-images",
            {"yda_responsive", "yda_banner_300x250"},
        ),
        "line-upload-sheet.csv": ("line-images", {"line_card", "line_small"}),
    }
    for sheet, (folder, placements) in sheets.items():
        found = exported(out, sheet)
        assert {r["広告名"].rsplit("_v", 1)[0].split("_ja_")[1] for r in found} == placements
        for row in found:
            assert (out / "exports" / folder / row["画像ファイル"]).is_file()
            placement = PLACEMENTS[row["広告名"].split("_ja_")[1].rsplit("_v", 1)[0]]
            assert width(row["タイトル"], "chars") <= placement.headline_max
    line_row = exported(out, "line-upload-sheet.csv")[0]
    assert width(line_row["ディスクリプション"], "chars") <= 75

    sent = everything_uploaded(out)
    for held in ("cheapest", "serum", "最安", "治る", "美容液"):
        assert held not in sent, held
    assert summary["flagged"] == len(by_brief["cheapest"]) + len(by_brief["serum"])


def test_the_yahoo_file_writes_pins_as_yahoo_does(tmp_path: Path) -> None:
    """A pinned title goes to Yahoo!'s 表示位置 column as 1番目; an unpinned one is empty."""
    brief = {**CLEAN, "pin_headline_1": "Lumen コールドブリュー"}
    path = write_brief(
        tmp_path / "brief.xlsx",
        {
            "name": "Haru",
            "brand": "Lumen",
            "provider": "draft",
            "variants": 1,
            "languages": "ja",
            "placements": "yahoo_search_rsa",
        },
        [brief],
    )
    out = tmp_path / "out"
    code, _, err = cli("run", str(path), "--out", str(out))
    assert code == ExitCode.OK, err
    (row,) = exported(out, "yahoo-search-ads.csv")
    assert row["タイトル1（アセット）"] == "Lumen コールドブリュー"
    assert row["タイトル1の表示位置"] == "1番目"
    assert row["タイトル2の表示位置"] == ""
    workbook = openpyxl.load_workbook(out / "variants.xlsx")
    assert "Search ads" in workbook.sheetnames
