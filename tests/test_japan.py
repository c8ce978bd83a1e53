"""Japan, natively: X's counting, the Japanese rule pack (景品表示法, 薬機法, Yahoo!'s
symbol rules) in lint, repair and the upload files, per-language brief fields, the
Glossary, and phrase-aware line breaks on composed creatives.

Runs go through ``adloom run`` in-process, on the draft provider and on the fake
Bedrock (real boto3 over HTTP).
"""

from __future__ import annotations

import io
import json
import typing
from dataclasses import replace
from pathlib import Path
from typing import Any

import budoux
import openpyxl
import pytest

from adloom.brief.placements import builtin_placements
from adloom.brief.read import read_campaign
from adloom.cli import main
from adloom.console import Env
from adloom.copy import rsa, rulepacks, textlen
from adloom.copy.lint import CopyContext, RuleId, check_copy
from adloom.creative import typeset
from adloom.creative.layout import AdCopy, plan_layout
from adloom.errors import BriefError, ExitCode
from adloom.model import BrandKit, Brief, GlossaryTerm, Placement, SearchAd
from briefs import write_brief
from factories import preview_html
from fakebedrock import FakeBedrock

PLACEMENTS = builtin_placements()
X = PLACEMENTS["x_card"]
HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
IMAGE = "stability.stable-image-core-v1:1"
# A custom Yahoo! JAPAN placement: its platform opts it in to Yahoo!'s symbol rules.
YAHOO_ROW = {
    "id": "yahoo_banner",
    "platform": "yahoo_display",
    "width": 300,
    "height": 250,
    "headline_max": 20,
    "body_max": 90,
    "cta_max": 15,
    "max_kb": 150,
    "width_rule": "double_width",
}
YAHOO = Placement("yahoo_banner", "yahoo_display", 300, 250, 20, 90, 15, 150, "double_width")
JA_FIELDS = {
    "product@ja": "Lumen コールドブリュー",
    "message@ja": "注ぐだけで、カフェの味のアイスコーヒー。",
    "benefits@ja": "18時間かけて抽出; 砂糖不使用",
    "cta@ja": "購入する",
}
BRIEF = {
    "id": "cold-brew",
    "product": "Lumen Cold Brew",
    "message": "Café-strength iced coffee in 30 seconds",
    "benefits": "Slow-steeped for 18 hours; No added sugar",
    "cta": "Shop now",
    "landing_url": "https://lumen.example/cold-brew",
}
CHEAPEST = {  # supplied copy claiming 最安 without evidence
    **BRIEF,
    "id": "cheapest",
    **JA_FIELDS,
    "headline@ja": "業界最安のコールドブリュー",
}
SERUM = {  # a cosmetics brief claiming a cure
    "id": "serum",
    "product": "Lumen Serum",
    "message": "Clearer skin",
    "category": "化粧品",
    "product@ja": "Lumen 美容液",
    "message@ja": "塗るだけでニキビが治る",
    "cta@ja": "詳しく見る",
    "landing_url": "https://lumen.example/serum",
}
CLEAN = {**BRIEF, "id": "clean", **JA_FIELDS}
CAMPAIGN = {"name": "Haru", "brand": "Lumen", "provider": "draft", "variants": 1}


def cli(*args: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main([*args, "--json"], env=Env(stdout=stdout, stderr=stderr))
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def rows(out: Path) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]


def uploads(out: Path) -> str:
    """Every upload file's text: what reaches a platform."""
    files = sorted((out / "exports").glob("*.csv"))
    assert files
    return "".join(f.read_text(encoding="utf-8-sig") for f in files)


GLOSSARY = [{"term": "Lumen", "ja": "Lumen", "avoid": "ルーメン"}]


def ja_brief(tmp_path: Path, *briefs: dict[str, Any], **settings: Any) -> Path:
    campaign = {
        **CAMPAIGN,
        "languages": "ja",
        "placements": "x_card, meta_feed, display_300x250, yahoo_banner",
        **settings,
    }
    return write_brief(
        tmp_path / "brief.xlsx", campaign, briefs, placements=[YAHOO_ROW], glossary=GLOSSARY
    )


# ---------------------------------------------------------------- X counts Japanese as 2


def test_x_counts_full_width_as_two() -> None:
    """140 Japanese characters fill a post: 128 of them (with the link's 23 + a space)
    pass X's body limit of 256, 129 are flagged, where one-per-character let them by."""
    assert X.width_rule == "double_width"
    ctx = CopyContext(placements=(X,), language="ja")
    fits = {"headline": "朝の一杯を", "body": "あ" * 128}
    assert check_copy(fits, X.limits, ctx) == []
    (cut,) = check_copy({**fits, "body": "あ" * 129}, X.limits, ctx)
    assert cut.rule == "length"
    assert "258 width units, over X's limit of 256 (Japanese counts 2 per character)" in str(cut)
    # Latin letters still count 1 each.
    assert check_copy({**fits, "body": "a" * 256}, X.limits, ctx) == []


# ---------------------------------------------------------------- the rule pack


def test_every_rule_set_is_a_rule_id() -> None:
    assert set(rulepacks.set_names()) <= set(typing.get_args(RuleId))
    assert rulepacks.set_names() == ("keihyoho", "yakkiho", "yahoo")


def ja(copy: dict[str, str], brief: Brief | None = None, **context: Any) -> list[str]:
    made = CopyContext.for_brief(
        brief or Brief("b", "Lumen", "朝の一杯"), BrandKit(), "Lumen", [YAHOO], "ja"
    )
    made = replace(made, **context)
    full = {"headline": "朝の一杯を", "body": "じっくり抽出したコーヒー。", **copy}
    return [str(v) for v in check_copy(full, YAHOO.limits, made) if v.rule != "product"]


@pytest.mark.parametrize(
    ("field", "text", "law", "phrase"),
    [
        ("headline", "業界最安の一杯", "景品表示法", "業界最安"),
        ("body", "満足度Ｎｏ．１のコーヒー。", "景品表示法", "no.1"),
        ("body", "日本一おいしいコーヒー。", "景品表示法", "日本一"),
        ("body", "絶対においしい一杯。", "景品表示法", "絶対"),
        ("body", "今だけ送料無料。", "景品表示法", "今だけ"),
        ("body", "通常価格3,000円のところ。", "景品表示法", "通常価格"),
        ("headline", "【公式】朝の一杯", "Yahoo!広告 入稿規定", "【公式】"),
    ],
)
def test_each_flag_names_the_law_and_the_phrase(
    field: str, text: str, law: str, phrase: str
) -> None:
    (found,) = [m for m in ja({field: text}) if law in m]
    assert found.startswith(f'{field} has "{phrase}" — {law}: ')
    assert "ください" in found  # says what to do, in Japanese


def test_yakkiho_binds_the_categories_it_covers() -> None:
    serum = Brief("serum", "美容液", "肌", category="cosmetics")
    flagged = ja({"body": "ニキビが治る美容液。"}, serum)
    assert any('"治る" — 薬機法:' in m for m in flagged), flagged
    assert any('"ニキビが治" — 薬機法:' in m for m in flagged), flagged
    assert ja({"body": "痩せるサプリ。"}, replace(serum, category="supplements"))
    # A mug is no cosmetic: "治る" there is not the 薬機法's business.
    mug = Brief("mug", "マグ", "朝", category="other")
    assert not [m for m in ja({"body": "冷え性が治るほど温かい。"}, mug) if "薬機法" in m]


def test_evidence_backs_a_claim_and_a_date_backs_a_limited_offer() -> None:
    backed = Brief("b", "Lumen", "朝", evidence=(("最安値", "2026年11月 国内EC5社 自社調べ"),))
    assert not [m for m in ja({"headline": "業界最安の一杯"}, backed) if "景品表示法" in m]
    assert not [m for m in ja({"body": "今だけ、3月31日まで送料無料。"}) if "景品表示法" in m]
    assert [m for m in ja({"body": "今だけ送料無料。"}) if "景品表示法" in m]
    # The model is told which claims are backed, and the rest are off limits.
    told = rulepacks.prompt_lines(
        CopyContext.for_brief(backed, BrandKit(), "L", [YAHOO], "ja").scope
    )
    assert "景品表示法: 「最安」は根拠あり（2026年11月 国内EC5社 自社調べ）— 使ってよい" in told
    assert any(line.startswith("景品表示法: 「No.1」") for line in told)
    assert not any("薬機法" in line for line in told)  # no category: not its business
    assert any(line.startswith("Yahoo!広告 入稿規定: 【】") for line in told)


def test_a_search_ad_is_checked_slot_by_slot() -> None:
    rsa_placement = PLACEMENTS["google_rsa"]
    search = SearchAd(
        headlines=("Lumen コールドブリュー", "業界最安の一杯", "朝の一杯を手軽に"),
        descriptions=("じっくり抽出したコーヒー。", "砂糖不使用のすっきりした味わい。"),
    )
    ctx = CopyContext(placements=(rsa_placement,), language="ja")
    (found,) = [v for v in rsa.check(search, rsa_placement.limits, ctx) if v.rule == "keihyoho"]
    assert found.field == "headline 2"
    assert str(found).startswith('headline 2 has "業界最安" — 景品表示法: ')


def test_yahoo_symbol_rules_across_title_and_description() -> None:
    three = ja({"headline": "快適！便利！", "body": "安心？しかも低コスト。"})
    assert any('"!"' in m and "3回" in m for m in three), three
    assert any('"!!"' in m for m in ja({"headline": "新発売!!"}))
    # Twice is fine, and so is any amount of 、。・
    assert not ja({"headline": "快適！便利！", "body": "安心・安全・簡単。、。"})
    # Only Yahoo! placements: the same copy on Meta passes.
    meta = CopyContext(placements=(PLACEMENTS["meta_feed"],), language="ja")
    copy = {"headline": "快適！便利！", "body": "安心？しかも【低コスト】。"}
    assert check_copy(copy, PLACEMENTS["meta_feed"].limits, meta) == []


def test_a_rule_set_is_switched_off_only_by_name(tmp_path: Path) -> None:
    path = ja_brief(tmp_path, CHEAPEST, **{"rules.off": "keihyoho"})
    assert read_campaign(path).settings.rules_off == ("keihyoho",)
    assert not ja({"headline": "業界最安の一杯"}, rules_off=frozenset({"keihyoho"}))
    path = ja_brief(tmp_path, CHEAPEST, **{"rules.off": "keihyoho, law"})
    with pytest.raises(BriefError) as raised:
        read_campaign(path)
    (problem,) = raised.value.problems
    assert problem.where.startswith("Campaign!B")
    assert '"law"' in problem.message
    assert "keihyoho, yakkiho, yahoo" in problem.message


def test_supplied_cheapest_and_a_cosmetic_cure_are_held_out_of_every_upload(
    tmp_path: Path,
) -> None:
    """The issue's case, offline: flagged with the law named, never in an upload file."""
    out = tmp_path / "out"
    code, _summary, err = cli(
        "run", str(ja_brief(tmp_path, CHEAPEST, SERUM, CLEAN)), "--out", str(out)
    )
    assert code == ExitCode.SOME_FAILED, err
    by_brief: dict[str, list[dict[str, Any]]] = {}
    for row in rows(out):
        by_brief.setdefault(row["brief_id"], []).append(row)
    assert {r["status"] for r in by_brief["cheapest"]} == {"flagged"}
    assert all("景品表示法" in r["issues"] and "最安" in r["issues"] for r in by_brief["cheapest"])
    assert all("supplied copy, not changed" in r["issues"] for r in by_brief["cheapest"])
    assert {r["status"] for r in by_brief["serum"]} == {"flagged"}
    assert all('"治る" — 薬機法' in r["issues"] for r in by_brief["serum"])
    assert {r["status"] for r in by_brief["clean"]} == {"ok"}
    sent = uploads(out)
    assert "最安" not in sent
    assert "治る" not in sent
    assert "cheapest" not in sent
    assert "serum" not in sent
    assert "clean" in sent


def test_the_model_is_told_the_rules_and_repair_names_the_law(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """On Bedrock: the Japanese prompt carries the pack (薬機法 only for the cosmetics
    brief), the cure the fake keeps writing goes back as repair feedback naming the law,
    and what still breaks it is flagged; every delivered ad is within its platform's
    own counting."""
    path = ja_brief(
        tmp_path, SERUM, CLEAN, provider="bedrock", text_model=HAIKU45, image_model=IMAGE
    )
    out = tmp_path / "out"
    code, _, err = cli("run", str(path), "--out", str(out))
    assert code == ExitCode.SOME_FAILED, err
    prompts = [c.body["messages"][0]["content"][0]["text"] for c in fake_bedrock.calls("converse")]
    serum = [p for p in prompts if "Lumen 美容液" in p]
    clean = [p for p in prompts if "Lumen コールドブリュー" in p]
    assert serum
    assert clean
    assert all("景品表示法" in p and "薬機法" in p for p in serum)
    assert all("景品表示法" in p and "薬機法" not in p for p in clean)
    assert any("Yahoo!広告 入稿規定" in p for p in prompts)  # the Yahoo! placement's job
    assert all("- Lumen: Lumen" in p for p in prompts)  # the glossary, for Japanese
    assert all("The marketer wrote this brief in Japanese" in p for p in prompts)
    assert any("fix every one of them" in p and "薬機法" in p for p in serum)
    placements = read_campaign(path).placements
    for row in rows(out):
        if row["brief_id"] == "serum":
            assert row["status"] == "flagged"
            continue
        placement = placements[row["placement"]]
        rule = placement.width_rule
        assert textlen.measure(row["headline"], rule) <= placement.headline_max, row
        assert textlen.measure(row["body"], rule) <= placement.body_max, row
    assert "美容液" not in uploads(out)


def test_lint_on_a_brief_names_the_law_at_the_cell(tmp_path: Path) -> None:
    code, report, err = cli("lint", str(ja_brief(tmp_path, CHEAPEST)))
    assert code == 1, err
    problems = [p for p in report["problems"] if p["rule"] == "keihyoho"]
    assert problems
    assert problems[0]["where"].startswith("Briefs!")
    assert "景品表示法" in problems[0]["message"]
    assert "最安" in problems[0]["message"]


# ---------------------------------------------------------------- the brief's new cells


def test_bad_cells_are_refused_where_they_are(tmp_path: Path) -> None:
    bad = {
        **BRIEF,
        "category": "coffee",
        "evidence": "最安",
        "message@xx": "?",
    }
    path = write_brief(
        tmp_path / "brief.xlsx",
        {**CAMPAIGN, "languages": "en, ja", "source_language": "klingon"},
        [bad],
        glossary=[{"term": "Lumen", "ja": ""}, {"term": "", "ja": "ルーメン"}],
    )
    with pytest.raises(BriefError) as raised:
        read_campaign(path)
    found = {p.where: p.message for p in raised.value.problems if not p.warning}
    header = {p.where: p.message for p in raised.value.problems}
    assert any("category" in m and "cosmetics" in m for m in found.values()), found
    assert any('evidence "最安"' in m and "claim: basis" in m for m in found.values()), found
    assert any('column "message@xx": unknown language "xx"' in m for m in found.values()), header
    assert any("klingon" in m for m in found.values()), found
    glossary = [w for w in found if w.startswith("Glossary!")]
    assert sorted(glossary) == ["Glossary!A2", "Glossary!A3"], found
    assert all("!" in where for where in found)


def test_localized_fields_are_read_per_language(tmp_path: Path) -> None:
    path = write_brief(
        tmp_path / "brief.xlsx",
        {**CAMPAIGN, "languages": "en, ja"},
        [{**CLEAN, "evidence": "No.1: 2026年 国内調査\n最安：2026年11月 自社調べ"}],
        glossary=[{"term": "Lumen", "ja": "Lumen", "avoid": "ルーメン"}],
    )
    campaign = read_campaign(path)
    (brief,) = campaign.briefs
    assert brief.evidence == (("No.1", "2026年 国内調査"), ("最安", "2026年11月 自社調べ"))
    ja_brief_ = brief.in_language("ja")
    assert ja_brief_.message == JA_FIELDS["message@ja"]
    assert ja_brief_.benefits == ("18時間かけて抽出", "砂糖不使用")
    assert brief.in_language("en") == brief
    (term,) = campaign.glossary
    assert term == GlossaryTerm("Lumen", (("ja", "Lumen"),), ("ルーメン",), "Glossary!A2")


def test_glossary_is_checked_by_lint() -> None:
    term = GlossaryTerm("Cold Brew", (("en", "Cold Brew"), ("ja", "コールドブリュー")))
    ctx = CopyContext(placements=(PLACEMENTS["meta_feed"],), language="ja", glossary=(term,))
    limits = PLACEMENTS["meta_feed"].limits
    (wrong,) = check_copy({"headline": "Cold Brewで朝を", "body": "すっきり。"}, limits, ctx)
    assert wrong.rule == "glossary"
    assert '"Cold Brew" as "コールドブリュー"' in str(wrong)
    assert not check_copy({"headline": "コールドブリューで朝を", "body": "すっきり。"}, limits, ctx)


def test_offline_japanese_ads_are_japanese_or_say_they_are_not(tmp_path: Path) -> None:
    path = write_brief(
        tmp_path / "brief.xlsx",
        {**CAMPAIGN, "languages": "en, ja", "placements": "meta_feed"},
        [CLEAN, {**BRIEF, "id": "english-only"}],
    )
    out = tmp_path / "out"
    code, _, err = cli("run", str(path), "--out", str(out))
    assert code == ExitCode.OK, err
    for row in rows(out):
        untranslated = "not translated" in (row["issues"] or "")
        if row["language"] == "en":
            assert not untranslated
        elif row["brief_id"] == "clean":
            assert not untranslated
            assert row["body"].startswith(JA_FIELDS["message@ja"])
            assert row["cta"] == "購入する"
        else:
            assert untranslated
            assert "message@ja" in row["issues"]
    assert preview_html(out).count('class="badge badge-untranslated"') == 1


def test_the_example_campaign_offline_shows_japanese_ads(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "campaigns" / "spring-launch.xlsx"
    out = tmp_path / "out"
    code, _, err = cli("run", str(example), "--out", str(out))
    assert code == ExitCode.OK, err
    japanese = [r for r in rows(out) if r["language"] == "ja"]
    assert len(japanese) == 50  # 5 briefs x 2 variants x 5 placements
    for row in japanese:
        assert "not translated" not in (row["issues"] or "")
        for field in ("headline", "body", "cta"):
            assert typeset.has_cjk(row[field]), row
        assert row["disclaimer"] in ("", None) or typeset.has_cjk(row["disclaimer"])


# ---------------------------------------------------------------- line breaks on creatives

JAPANESE_COPY = [
    AdCopy(
        "注ぐだけで、カフェの味のアイスコーヒー。",
        "購入する",
        "18時間かけてじっくり抽出。1本でグラス12杯分、砂糖は使っていません。",
        "ja",
    ),
    AdCopy(
        "春の新しいエスプレッソ「サンライズ」、柑橘の明るさとミルクチョコのような甘さ",
        "定期便を始める",
        "初回20%オフは定期便を新しく始める方のみ（3月31日まで）。いつでも解約できます。",
        "ja",
    ),
    AdCopy("ちょっと待って！？ショッピングモールへ行こう……。", "詳しく見る", "", "ja"),
]


@pytest.mark.parametrize("copy", JAPANESE_COPY)
def test_japanese_creatives_break_between_phrases(copy: AdCopy) -> None:
    """On every built-in placement, each line set on the creative: no line starts with
    closing punctuation or a small kana, and no BudouX phrase is split when the text
    box's width could hold it at the size the text was set."""
    parser = budoux.load_default_japanese_parser()
    checked = 0
    for placement in PLACEMENTS.values():
        if placement.text_only:
            continue
        layout = plan_layout(copy, BrandKit(), placement)
        for element in layout.texts:
            block = element.block
            lines = [line.text for line in block.lines]
            for line in lines:
                assert line[0] not in typeset.NO_LINE_START, (placement.id, lines)
                assert line[-1] not in typeset.NO_LINE_END, (placement.id, lines)
            text = "".join(lines)
            face = typeset.font(block.font, block.size)
            breaks, at = set(), 0
            for line in lines[:-1]:
                at += len(line)
                breaks.add(at)
            at = 0
            for phrase in parser.parse(text):
                inside = set(range(at + 1, at + len(phrase)))
                if face.getlength(phrase) <= element.box.width:
                    assert not inside & breaks, (placement.id, phrase, lines)
                at += len(phrase)
            checked += 1
    assert checked >= 10
