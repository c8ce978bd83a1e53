"""The platform bulk files, written for real and read back with the csv module."""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adloom.brief.placements import builtin_placements
from adloom.copy import textlen
from adloom.copy.lint import CopyContext, check_copy
from adloom.copy.platforms import (
    GOOGLE_COLUMNS,
    GOOGLE_FILE,
    META_COLUMNS,
    META_FILE,
    META_IMAGES,
    MICROSOFT_COLUMNS,
    MICROSOFT_FILE,
    meta_cta,
)
from adloom.delivery import platforms
from adloom.model import Ad, Campaign, SearchAd
from briefs import write_brief
from factories import (
    JA_COPY,
    AdCopy,
    Run,
    make_ad,
    make_brief,
    make_campaign,
    make_search_ad,
    make_summary,
)
from test_cli import run_cli


def export_platforms(ads: Sequence[Ad], campaign: Campaign, out: Path) -> tuple[Path, Path]:
    """Google's and Meta's files, of all the upload files written."""
    written = platforms.export_platforms(ads, campaign, out)
    return written[GOOGLE_FILE], written[META_FILE]


# From the Marketing API's AdCreativeLinkDataCallToAction enum: the types adloom maps to.
META_CTA_TYPES = {
    "SHOP_NOW", "BUY_NOW", "ORDER_NOW", "LEARN_MORE", "SIGN_UP", "SUBSCRIBE", "BOOK_NOW",
    "GET_OFFER", "GET_QUOTE", "APPLY_NOW", "CONTACT_US", "DOWNLOAD", "DONATE_NOW",
    "WATCH_MORE", "GET_STARTED",
}  # fmt: skip
JA_SEARCH = SearchAd(
    headlines=("エアロランナー2", "春の朝を、もっと軽やかに", "従来比12%軽量"),
    descriptions=(
        "エアロランナー2は従来比12%軽量。リサイクル素材のアッパーで快適な走りを。",
        "30日間返品無料。",
    ),
    path1="ランニング",
    path2="新作",
    headline_pins=(1,),
    description_pins=(0, 2),
)


def campaign_run(tmp_path: Path, name: str = "春のセール 2025") -> Run:
    """English and Japanese search and Meta ads of a campaign with a Japanese name, and
    the ads no platform file may take: failed, skipped, LinkedIn, a display banner."""
    out = tmp_path / "out"
    brief = make_brief(languages=("en", "ja"), landing_url="https://shop.example.com/靴?ref=春")
    campaign = make_campaign(tmp_path, (brief,), name=name,
                             placement_ids=("meta_feed", "meta_story", "linkedin_single",
                                            "display_728x90"))  # fmt: skip
    ads: list[Ad] = []
    for language in ("en", "ja"):
        copy, search = (JA_COPY, JA_SEARCH) if language == "ja" else (AdCopy(), None)
        for variant in (1, 2):
            ads.append(make_search_ad(campaign, out, *([search] if search else []),
                                      language=language, variant=variant))  # fmt: skip
            for placement in ("meta_feed", "meta_story", "linkedin_single", "display_728x90"):
                ads.append(make_ad(campaign, out, placement=placement, language=language,
                                   variant=variant, copy=copy))  # fmt: skip
    ads += [
        make_ad(campaign, out, variant=3, status="failed", error="image blocked"),
        make_search_ad(campaign, out, variant=3, status="failed", error="copy blocked"),
        make_ad(campaign, out, variant=4, status="skipped", error="budget reached"),
    ]
    return Run(ads=ads, summary=make_summary(ads, out), campaign=campaign, out=out)


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    assert path.read_bytes().startswith(codecs.BOM_UTF8)  # Excel then reads Japanese right
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


def utm(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return campaign_run(tmp_path)


def test_google_ads_editor_file_reads_back_with_every_column_and_limit(run: Run) -> None:
    google, _ = export_platforms(run.ads, run.campaign, run.out)
    assert google == run.out / "exports" / "google-ads-editor.csv"
    header, rows = read(google)
    assert header == list(GOOGLE_COLUMNS)
    assert header[:3] == ["Campaign", "Ad group", "Ad type"]
    assert {"Headline 15", "Headline 15 position", "Description 4", "Description 4 position",
            "Path 1", "Path 2", "Final URL"} <= set(header)  # fmt: skip
    search = [a for a in run.ads if a.copy.search is not None and a.status == "ok"]
    assert len(rows) == len(search) == 4  # the failed search ad is left out
    for row, ad in zip(rows, search, strict=True):
        assert ad.copy.search is not None
        assert row["Campaign"] == "春のセール 2025"
        assert row["Ad group"] == f"spring-runner_runners_{ad.spec.language}"
        assert row["Ad type"] == "Responsive search ad"
        headlines = [row[f"Headline {i}"] for i in range(1, 16)]
        descriptions = [row[f"Description {i}"] for i in range(1, 5)]
        assert [h for h in headlines if h] == list(ad.copy.search.headlines)
        assert [d for d in descriptions if d] == list(ad.copy.search.descriptions)
        # Lengths as Google counts them: Japanese counts 2 per character.
        assert all(textlen.measure(h, "double_width") <= 30 for h in headlines)
        assert all(textlen.measure(d, "double_width") <= 90 for d in descriptions)
        for path in (row["Path 1"], row["Path 2"]):
            assert textlen.measure(path, "double_width") <= 15
        for i, text in enumerate(headlines, 1):
            assert row[f"Headline {i} position"] in (("", "1", "2", "3") if text else ("",))
        for i, text in enumerate(descriptions, 1):
            assert row[f"Description {i} position"] in (("", "1", "2") if text else ("",))
        assert row["Final URL"] == ad.spec.landing_url
    ja = rows[-1]
    assert (ja["Headline 1 position"], ja["Headline 2 position"]) == ("1", "")
    assert (ja["Description 1 position"], ja["Description 2 position"]) == ("", "2")
    assert (ja["Path 1"], ja["Path 2"]) == ("ランニング", "新作")


def test_meta_bulk_file_reads_back_with_its_images_beside_it(run: Run) -> None:
    _, meta = export_platforms(run.ads, run.campaign, run.out)
    header, rows = read(meta)
    assert header == list(META_COLUMNS)
    expected = [a for a in run.ads
                if a.spec.placement.platform == "meta" and a.status == "ok"]  # fmt: skip
    assert [r["Ad Name"] for r in rows] == [a.spec.name for a in expected]
    assert len(rows) == 8  # feed and story, two languages, two variants
    images = meta.parent / META_IMAGES
    for row, ad in zip(rows, expected, strict=True):
        assert ad.creative is not None
        assert row["Campaign Name"] == "春のセール 2025"
        placement = ad.spec.placement.id
        assert row["Ad Set Name"] == f"spring-runner_runners_{ad.spec.language}_{placement}"
        assert (row["Title"], row["Body"]) == (ad.copy.headline, ad.copy.body)
        assert row["Call to Action"] in META_CTA_TYPES
        assert row["Display Link"] == "shop.example.com"
        assert row["Link"] == ad.spec.landing_url
        assert row["URL Tags"] == ""  # the UTM parameters are in Link; Meta would add these
        # "Image File Name" is a file in meta-images/ next to the CSV: the creative itself.
        image = images / row["Image File Name"]
        assert image.read_bytes() == ad.creative.path.read_bytes()
    assert {r["Call to Action"] for r in rows} == {"SHOP_NOW"}  # "Shop now" and 今すぐ購入
    assert sorted(p.name for p in images.iterdir()) == sorted(r["Image File Name"] for r in rows)


def test_every_url_carries_its_utm_parameters_percent_encoded(run: Run) -> None:
    google, meta = export_platforms(run.ads, run.campaign, run.out)
    links = [r["Final URL"] for r in read(google)[1]] + [r["Link"] for r in read(meta)[1]]
    assert len(links) == 12
    for link in links:
        assert link.isascii()  # the Japanese path, query and names are percent-encoded
        assert " " not in link
        assert urlsplit(link).path == "/%E9%9D%B4"  # /靴
        params = utm(link)
        assert params["ref"] == ["春"]
        assert params["utm_campaign"] == ["春のセール-2025"]  # the campaign's slug
        assert params["utm_source"] == ["adloom"]
        (content,) = params["utm_content"]
        assert content.startswith("春のセール-2025_spring-runner_runners_")


def test_exported_cells_are_neutralised(tmp_path: Path) -> None:
    out = tmp_path / "out"
    campaign = make_campaign(tmp_path, name="=HYPERLINK(evil)")
    formulas = AdCopy(headline="-20% this week", body="@channel look", cta="+Shop")
    search = SearchAd(headlines=("=1+1", "+Fast", "\tTabbed"), descriptions=("@once.", "\rCR."),
                      path1="-path", path2="ok")  # fmt: skip
    ads = [make_ad(campaign, out, copy=formulas), make_search_ad(campaign, out, search)]
    google, meta = export_platforms(ads, campaign, out)
    (g,) = read(google)[1]
    assert g["Campaign"] == "'=HYPERLINK(evil)"
    assert [g["Headline 1"], g["Headline 2"], g["Headline 3"]] == ["'=1+1", "'+Fast", "'\tTabbed"]
    assert [g["Description 1"], g["Description 2"]] == ["'@once.", "'\rCR."]
    assert (g["Path 1"], g["Path 2"]) == ("'-path", "ok")
    (m,) = read(meta)[1]
    assert (m["Campaign Name"], m["Title"], m["Body"]) == (
        "'=HYPERLINK(evil)", "'-20% this week", "'@channel look"
    )  # fmt: skip
    assert m["Call to Action"] == "SHOP_NOW"
    for row in (g, m):
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_later_export_leaves_nothing_stale(run: Run) -> None:
    _, meta = export_platforms(run.ads, run.campaign, run.out)
    mine = meta.parent / META_IMAGES / "brand-guide.pdf"
    mine.write_text("kept")
    approved = [a for a in run.ads if a.spec.variant == 1 and a.spec.language == "en"]
    google, meta = export_platforms(approved, run.campaign, run.out)
    assert len(read(google)[1]) == 1
    rows = read(meta)[1]
    assert len(rows) == 2
    images = sorted(p.name for p in (meta.parent / META_IMAGES).iterdir())
    assert images == sorted([*(r["Image File Name"] for r in rows), mine.name])
    google, meta = export_platforms([], run.campaign, run.out)
    assert [p.name for p in (meta.parent / META_IMAGES).iterdir()] == [mine.name]
    assert read(google) == (list(GOOGLE_COLUMNS), [])  # a header, never a stale file
    assert read(meta) == (list(META_COLUMNS), [])


def test_a_search_ad_with_every_slot_fills_every_column(tmp_path: Path) -> None:
    out = tmp_path / "out"
    campaign = make_campaign(tmp_path)
    full = SearchAd(
        headlines=tuple(f"Headline number {i}" for i in range(1, 16)),
        descriptions=tuple(f"Description number {i}." for i in range(1, 5)),
        path1="a",
        path2="b",
        headline_pins=(1, 2, 3, *[0] * 12),
        description_pins=(1, 2, 0, 0),
    )
    google, _ = export_platforms([make_search_ad(campaign, out, full)], campaign, out)
    (row,) = read(google)[1]
    assert all(row[f"Headline {i}"] == f"Headline number {i}" for i in range(1, 16))
    assert all(row[f"Description {i}"] == f"Description number {i}." for i in range(1, 5))
    positions = [row[f"Headline {i} position"] for i in range(1, 16)]
    assert positions == ["1", "2", "3", *[""] * 12]
    assert [row[f"Description {i} position"] for i in range(1, 5)] == ["1", "2", "", ""]


@pytest.mark.parametrize(
    ("cta", "meta"),
    [
        ("Shop now", "SHOP_NOW"), ("Shop the kit", "SHOP_NOW"), ("今すぐ購入", "SHOP_NOW"),
        ("Buy now", "BUY_NOW"), ("Order now", "ORDER_NOW"), ("今すぐ注文", "ORDER_NOW"),
        ("Learn more", "LEARN_MORE"), ("詳しく見る", "LEARN_MORE"), ("", "LEARN_MORE"),
        ("Subscribe", "SUBSCRIBE"), ("定期便を始める", "SUBSCRIBE"), ("Sign up", "SIGN_UP"),
        ("Try it free", "SIGN_UP"), ("無料で試す", "SIGN_UP"), ("Book now", "BOOK_NOW"),
        ("予約する", "BOOK_NOW"), ("Get started", "GET_STARTED"), ("はじめる", "GET_STARTED"),
        ("Get the offer", "GET_OFFER"), ("Contact us", "CONTACT_US"),
        ("Download the app", "DOWNLOAD"), ("ＳＨＯＰ ＮＯＷ", "SHOP_NOW"),
        ("Restore your energy", "LEARN_MORE"),  # "store" only as a whole word
        ("Get yours", "LEARN_MORE"),
    ],
)  # fmt: skip
def test_cta_text_maps_to_the_closest_meta_type(cta: str, meta: str) -> None:
    assert meta_cta(cta) == meta
    assert meta in META_CTA_TYPES


def test_only_meta_image_ads_with_a_creative_go_to_meta(run: Run) -> None:
    no_image = replace(next(a for a in run.ads if a.spec.placement.id == "meta_feed"),
                       creative=None)  # fmt: skip
    _, meta = export_platforms([no_image], run.campaign, run.out)
    assert read(meta)[1] == []


# ---------------------------------------------------------------- Microsoft Advertising


def _on_microsoft(ad: Ad) -> Ad:
    microsoft = builtin_placements()["microsoft_rsa"]
    return replace(ad, spec=replace(ad.spec, placement=microsoft))


def test_microsoft_bulk_file_reads_back_as_the_bulk_schema_says(tmp_path: Path) -> None:
    """The Responsive Search Ad record of Microsoft's bulk file schema: header, Format
    Version row, one record per ad with its headlines and descriptions as JSON lists
    (pins as Headline1-3 / Description1-2); Google's file keeps only Google's ads."""
    out = tmp_path / "out"
    campaign = make_campaign(tmp_path, name="春のセール 2025")
    pinned = SearchAd(
        headlines=("エアロランナー2", "Light as air", "Runs all day"),
        descriptions=("Up to 12% lighter.", "Free returns."),
        path1="shoes",
        path2="",
        headline_pins=(1, 0, 2),
        description_pins=(0, 1),
    )
    microsoft = _on_microsoft(make_search_ad(campaign, out, pinned, language="ja"))
    google = make_search_ad(campaign, out, variant=2)
    written = platforms.export_platforms([microsoft, google], campaign, out)
    path = written[MICROSOFT_FILE]
    assert path == out / "exports" / "microsoft-ads-bulk.csv"
    header, rows = read(path)
    assert header == list(MICROSOFT_COLUMNS)
    version, record = rows
    assert version["Type"] == "Format Version"
    assert version["Name"] == "6.0"
    assert record["Type"] == "Responsive Search Ad"
    assert record["Status"] == "Active"
    assert record["Id"] == record["Parent Id"] == ""
    assert record["Campaign"] == "春のセール 2025"
    assert record["Ad Group"] == "spring-runner_runners_ja"
    assert record["Final Url"] == microsoft.spec.landing_url
    assert json.loads(record["Headline"]) == [
        {"text": "エアロランナー2", "pinnedField": "Headline1"},
        {"text": "Light as air"},
        {"text": "Runs all day", "pinnedField": "Headline2"},
    ]
    assert json.loads(record["Description"]) == [
        {"text": "Up to 12% lighter."},
        {"text": "Free returns.", "pinnedField": "Description1"},
    ]
    assert (record["Path 1"], record["Path 2"]) == ("shoes", "")
    (google_row,) = read(written[GOOGLE_FILE])[1]
    assert google_row["Final URL"] == google.spec.landing_url


def test_microsoft_limits_count_double_width_as_two() -> None:
    """Microsoft's own limits (bulk schema, Headline and Description text): 30 and 90
    final characters, 15 and 45 double-width ones; paths 15 (7 double-width)."""
    microsoft = builtin_placements()["microsoft_rsa"]
    limits = microsoft.limits
    assert (limits.headline_max, limits.body_max, limits.path_max) == (30, 90, 15)
    assert limits.width_rule == "double_width"
    assert (limits.headline_count, limits.description_count) == (15, 4)
    assert microsoft.text_only
    assert textlen.measure("エ" * 15, limits.width_rule) == 30
    assert textlen.measure("エ" * 16, limits.width_rule) > limits.headline_max


def test_a_microsoft_run_plans_lints_and_exports_through_the_table(tmp_path: Path) -> None:
    """A draft run on Google's and Microsoft's search placements: utm_medium cpc, each
    platform's ads in its own file, and a too-long headline named as Microsoft's."""
    campaign = {"name": "Bing", "brand": "Lumen", "provider": "draft",
                "placements": "google_rsa,microsoft_rsa"}  # fmt: skip
    brief = {"id": "b1", "product": "Cold brew", "message": "Café-strength in 30 seconds",
             "landing_url": "https://shop.example.com/cold-brew"}  # fmt: skip
    path = write_brief(tmp_path / "brief.xlsx", campaign=campaign, briefs=[brief])
    out = tmp_path / "out"
    code, _, err = run_cli("run", path, "--out", out)
    assert code == 0, err
    _, google_rows = read(out / "exports" / GOOGLE_FILE)
    _, (version, *records) = read(out / "exports" / MICROSOFT_FILE)
    assert version["Type"] == "Format Version"
    assert len(records) == len(google_rows) > 0
    for record in records:
        assert utm(record["Final Url"])["utm_source"] == ["microsoft"]
        assert utm(record["Final Url"])["utm_medium"] == ["cpc"]
        for asset in json.loads(record["Headline"]):
            assert textlen.measure(asset["text"], "double_width") <= 30
    assert all(utm(r["Final URL"])["utm_source"] == ["google"] for r in google_rows)
    microsoft = builtin_placements()["microsoft_rsa"]
    found = check_copy({"headline": "x" * 31}, microsoft.limits, CopyContext((microsoft,)))
    assert "Microsoft's limit of 30" in str(found[0])
