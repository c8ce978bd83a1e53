"""The read stage on real files: every brief is an .xlsx or .csv written to tmp_path."""

import datetime as dt
from pathlib import Path

import pytest
from noto_cjk_sans_jp_regular import FONT_PATH
from openpyxl import Workbook, load_workbook
from PIL import Image

from adloom.brief.placements import builtin_placements
from adloom.brief.read import DEFAULT_PLACEMENTS, read_campaign
from adloom.errors import BriefError, InputError
from briefs import (
    MINIMAL_BRIEF,
    MINIMAL_CAMPAIGN,
    with_excel_extension,
    write_brief,
    write_csv_brief,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "campaigns" / "spring-launch.xlsx"


def problems(path: Path, overrides: dict[str, str] | None = None) -> list[str]:
    """The error messages reading ``path`` raises, as the CLI prints them."""
    with pytest.raises(BriefError) as info:
        read_campaign(path, overrides)
    return [str(p) for p in info.value.problems if not p.warning]


def test_example_campaign_reads_as_documented() -> None:
    campaign = read_campaign(EXAMPLE)

    assert campaign.settings.name == "Spring Launch 2026"
    assert campaign.settings.brand == "Lumen Coffee"
    assert campaign.settings.provider == "draft"
    assert campaign.settings.languages == ("en", "ja")
    assert campaign.settings.utm_campaign == "spring-launch-2026"
    assert campaign.warnings == ()
    assert set(campaign.audiences) == {"commuters", "home-baristas"}
    assert [b.id for b in campaign.briefs if b.headline] == ["travel-mug"]
    assert [b.id for b in campaign.briefs if b.disclaimer] == ["sunrise-blend"]
    assert campaign.brand.logo == EXAMPLE.parent / "brand" / "logo.png"
    packshot = EXAMPLE.parent / "brand" / "house-blend.png"
    assert {b.id: b.product_image for b in campaign.briefs if b.product_image} == {
        "house-blend": packshot
    }
    ads = sum(
        len(b.audiences)
        * len(campaign.languages_for(b))
        * campaign.settings.variants
        * len(campaign.placements_for(b))
        for b in campaign.briefs
    )
    assert ads == 100


def test_headers_sheets_and_settings_match_loosely(tmp_path: Path) -> None:
    path = write_brief(
        tmp_path / "brief.xlsx",
        campaign={"Name": "Spring", "BRAND": "Lumen", "Max-Cost USD": 12.5, "Languages": "EN, Ja"},
        briefs=[
            {
                "ID": "b1",
                "Product": "Cold brew",
                " MESSAGE ": "Fast",
                "Landing URL": "https://example.com/a",
                "audiences": "commuters",
                "CTA Text": "Buy",
                "image-prompt": "a glass",
                "Benefits": "Strong; smooth\nNo sugar",
            },
            {"ID": "b2", "Product": "Mug", " MESSAGE ": "Hot", "Landing URL": "http://x.example"},
        ],
        sheet_names={"Campaign": "CAMPAIGN", "Briefs": "briefs"},
    )

    campaign = read_campaign(path)

    assert campaign.settings.max_cost_usd == 12.5
    assert campaign.settings.languages == ("en", "ja")
    assert campaign.settings.placements == DEFAULT_PLACEMENTS
    first, second = campaign.briefs
    assert first.landing_url == "https://example.com/a"
    assert first.audiences == ("commuters",)
    assert first.cta == "Buy"
    assert first.image_prompt == "a glass"
    assert first.benefits == ("Strong", "smooth", "No sugar")
    assert second.landing_url == "http://x.example"
    assert second.audiences == ("general",)
    assert set(campaign.audiences) == {"commuters", "general"}
    assert campaign.warnings == ()
    assert campaign.cells["max_cost_usd"] == "CAMPAIGN!B4"


def test_every_problem_is_reported_at_once_with_its_cell(tmp_path: Path) -> None:
    path = write_brief(
        tmp_path / "brief.xlsx",
        campaign={
            "name": "Spring",
            "brand": "Lumen",
            "languages": "en, klingon",
            "variants": 0,
            "placements": "meta_feed, meta_fed",
            "max_cost_usd": -1,
            "provider": "openai",
            "naming": "{campaign}_{colour}",
        },
        briefs=[
            {"id": "b1", "product": "Cold brew", "message": "Fast", "landing_url": "htp:/x"},
            {"id": "B1", "product": "", "message": "Hot", "audience": "comuters"},
            {"id": "b3", "product": "Mug", "message": "Hot", "placements": "tiktok"},
        ],
        audiences={"commuters": "on the way to work"},
        brand={"primary_color": "blue", "logo": "brand/missing.png"},
        placements=[{"id": "banner", "width": 10, "height": 90}],
    )

    found = problems(path)

    expected = [
        'Campaign!B4: unknown language "klingon" — use codes from: en, ja, ',
        'Campaign!B5: variants "0" is not a whole number from 1 to 20',
        'Campaign!B6: unknown placement "meta_fed" — use ids from: ',
        'Campaign!B7: max_cost_usd "-1" is out of range',
        'Campaign!B8: provider "openai" is not supported — use bedrock',
        'Campaign!B9: naming "{campaign}_{colour}" uses unknown field(s) {colour} — use only',
        'Brand!B1: primary_color "blue" is not a colour — use a hex code like #1F3A93',
        'Brand!B2: logo "brand/missing.png" not found (looked for ',
        'Placements!B2: width "10" is not a whole number from 16 to 8192 — give the width in',
        'Placements!A2: new placement "banner" needs headline_max, body_max, cta_max, max_kb',
        'Briefs!D2: landing_url "htp:/x" is not an http(s) URL — use a full https://… address',
        'Briefs!A3: id "B1" is already used by row 2 — give each brief its own id',
        "Briefs!B3: product is empty — every brief needs the product it advertises",
        'Briefs!E3: audience "comuters" is not in the Audiences sheet (known: commuters, general)',
        'Briefs!F4: unknown placement "tiktok" — use ids from: display_160x600, ',
    ]
    for start in expected:
        assert any(p.startswith(start) for p in found), f"{start!r} not in {found}"
    assert len(found) == len(expected)


def test_missing_required_column_names_the_header_row(tmp_path: Path) -> None:
    path = write_brief(tmp_path / "b.xlsx", briefs=[{"id": "b1", "product": "Mug", "tone": "x"}])

    assert problems(path) == [
        'Briefs!1: missing required column "message" — add it to the header row'
    ]


def test_misspelt_required_column_points_at_the_typo(tmp_path: Path) -> None:
    path = write_brief(tmp_path / "b.xlsx", briefs=[{"id": "b1", "product": "Mug", "mesage": "x"}])

    assert problems(path) == [
        'Briefs!1: missing required column "message" — rename column "mesage" (Briefs!C1) '
        'to "message"'
    ]


def test_missing_sheets_name_the_file_and_the_sheets_found(tmp_path: Path) -> None:
    path = write_brief(tmp_path / "brief.xlsx", campaign=None, sheet_names={"Briefs": "Sheet One"})

    found = problems(path)

    assert found[0].startswith('brief.xlsx: no "Campaign" sheet (sheets found: "Sheet One")')
    assert found[1].startswith('brief.xlsx: no "Briefs" sheet (sheets found: "Sheet One")')
    assert len(found) == 2


def test_missing_name_and_brand_in_the_campaign_sheet(tmp_path: Path) -> None:
    path = write_brief(tmp_path / "b.xlsx", campaign={"variants": 2, "brand": ""})

    assert problems(path) == [
        'Campaign: name is missing — add a row "name | <campaign name>"',
        "Campaign!B3: brand is empty — give the brand name",
    ]


def test_csv_takes_its_settings_from_overrides(tmp_path: Path) -> None:
    path = write_csv_brief(
        tmp_path / "briefs.csv",
        [{**MINIMAL_BRIEF, "landing_page": "https://example.com", "languages": "ja"}],
        encoding="utf-8-sig",
    )

    campaign = read_campaign(path, {"name": "Spring Sale", "brand": "Lumen", "variants": "2"})

    assert campaign.settings.name == "Spring Sale"
    assert campaign.settings.variants == 2
    assert campaign.settings.utm_campaign == "spring-sale"
    assert campaign.cells["variants"] == "--set variants"
    assert campaign.briefs[0].message == MINIMAL_BRIEF["message"]
    assert campaign.briefs[0].languages == ("ja",)
    assert campaign.briefs[0].landing_url == "https://example.com"


def test_csv_without_overrides_says_how_to_pass_name_and_brand(tmp_path: Path) -> None:
    path = write_csv_brief(tmp_path / "briefs.csv", [{**MINIMAL_BRIEF, "landing_url": "x.com"}])

    assert problems(path) == [
        "briefs.csv: name is missing — a .csv brief has no Campaign sheet: pass --set name=…",
        "briefs.csv: brand is missing — a .csv brief has no Campaign sheet: pass --set brand=…",
        'briefs.csv!D2: landing_url "x.com" is not an http(s) URL — use a full https://… address',
    ]


def test_overrides_beat_the_workbook_and_are_validated_alike(tmp_path: Path) -> None:
    path = write_brief(tmp_path / "b.xlsx", campaign={**MINIMAL_CAMPAIGN, "variants": 3})

    campaign = read_campaign(path, {"variants": "5", "provider": "bedrock"})
    assert campaign.settings.variants == 5
    assert campaign.settings.provider == "bedrock"
    assert campaign.cells["variants"] == "--set variants"
    assert campaign.cells["name"] == "Campaign!B2"

    assert problems(path, {"variants": "many"}) == [
        '--set variants: variants "many" is not a whole number from 1 to 20'
        " — give how many versions of each ad to write"
    ]


def test_unknown_columns_and_settings_are_kept_with_a_warning(tmp_path: Path) -> None:
    path = write_brief(
        tmp_path / "b.xlsx",
        campaign={**MINIMAL_CAMPAIGN, "quota.amazon.nova-lite-v1:0.tpm": 2000, "owner": "Kim"},
        briefs=[{**MINIMAL_BRIEF, "Budget Code": "BC-7", "Launch": dt.date(2026, 3, 1)}],
    )

    campaign = read_campaign(path)

    assert campaign.extra_columns == ("Budget Code", "Launch")
    assert campaign.briefs[0].extra == {"Budget Code": "BC-7", "Launch": "2026-03-01"}
    assert campaign.settings.extra == {"quota.amazon.nova-lite-v1:0.tpm": "2000", "owner": "Kim"}
    warnings = [str(w) for w in campaign.warnings]
    assert warnings[0].startswith('Campaign!B6: unknown setting "owner" — kept')
    assert warnings[1:] == [
        'Briefs!D1: unknown column "Budget Code" — kept in the export as is',
        'Briefs!E1: unknown column "Launch" — kept in the export as is',
    ]
    assert all(w.warning for w in campaign.warnings)


def test_cells_become_text_as_shown_and_formulas_use_cached_values(tmp_path: Path) -> None:
    path = write_brief(
        tmp_path / "b.xlsx",
        campaign=MINIMAL_CAMPAIGN,
        briefs=[
            {"id": 7, "product": "Mug", "message": 0.1 + 0.2},
            {},  # an empty row is skipped
            {"id": "b2", "product": "=A2", "message": "Hot", "tone": "#N/A"},
        ],
    )

    found = problems(path)

    # openpyxl stores no cached value for a formula, as when Excel never calculated it.
    assert found == [
        "Briefs!D4: the formula here gives #N/A — fix the formula or type the value in",
        "Briefs!B4: product is empty — every brief needs the product it advertises",
    ]
    path = write_brief(
        tmp_path / "b.xlsx",
        campaign={"name": 2026, "brand": "Lumen", "variants": 2.0},
        briefs=[{"id": 7, "product": "Mug", "message": 0.1 + 0.2}],
    )
    campaign = read_campaign(path)
    assert campaign.settings.name == "2026"
    assert campaign.settings.variants == 2
    assert (campaign.briefs[0].id, campaign.briefs[0].message) == ("7", "0.3")


def test_settings_sheet_without_header_row(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    write_brief(path, campaign=None, brand={"name": "Spring", "brand": "Lumen"})
    # The Brand sheet above has no header row; reuse it as the Campaign sheet.
    workbook = load_workbook(path)
    workbook["Brand"].title = "Campaign"
    workbook.save(path)

    assert read_campaign(path).settings.name == "Spring"


def test_audiences_come_from_briefs_when_there_is_no_sheet(tmp_path: Path) -> None:
    path = write_brief(
        tmp_path / "b.xlsx",
        briefs=[
            {**MINIMAL_BRIEF, "audience": "Commuters, general"},
            {**MINIMAL_BRIEF, "id": "b2", "audience": "commuters"},
        ],
    )

    campaign = read_campaign(path)

    assert set(campaign.audiences) == {"Commuters", "general"}
    assert campaign.briefs[1].audiences == ("Commuters",)


def test_brand_paths_resolve_against_the_workbook_folder(tmp_path: Path) -> None:
    (tmp_path / "brand").mkdir()
    Image.new("RGBA", (64, 32), (200, 0, 0, 255)).save(tmp_path / "brand" / "logo.png")
    path = write_brief(
        tmp_path / "b.xlsx",
        brand={
            "logo": "brand/logo.png",
            "font": str(FONT_PATH),
            "Primary Colour": "#abc",
            "text_color": "ff8800",
            "banned_words": "cheap, free ,",
        },
    )

    brand = read_campaign(path).brand

    assert brand.logo == (tmp_path / "brand" / "logo.png").resolve()
    assert brand.logo.is_absolute()
    assert brand.font == Path(str(FONT_PATH)).resolve()
    assert (brand.primary_color, brand.text_color) == ("#AABBCC", "#FF8800")
    assert brand.banned_words == ("cheap", "free")


def test_brand_files_that_do_not_open_are_reported(tmp_path: Path) -> None:
    (tmp_path / "fake.ttf").write_bytes(b"not a font")
    (tmp_path / "logo.svg").write_text("<svg/>")
    (tmp_path / "font.woff").write_bytes(b"wOFF")
    path = write_brief(tmp_path / "b.xlsx", brand={"font": "fake.ttf", "logo": "logo.svg"})

    found = problems(path)

    assert found[0].startswith('Brand!B1: font "fake.ttf" is not a TrueType or OpenType font')
    assert found[1].startswith('Brand!B2: logo "logo.svg" is not a readable PNG, JPEG, WEBP image')
    path = write_brief(tmp_path / "b.xlsx", brand={"font": "font.woff"})
    assert problems(path) == ['Brand!B1: font "font.woff" is not a .ttf, .otf or .ttc font file']


def test_placements_sheet_adds_and_overrides_presets(tmp_path: Path) -> None:
    path = write_brief(
        tmp_path / "b.xlsx",
        campaign={**MINIMAL_CAMPAIGN, "placements": "Meta Feed, tiktok_feed"},
        placements=[
            {"id": "meta_feed", "headline_max": 27},
            {
                "id": "tiktok_feed",
                "platform": "tiktok",
                "width": 1080,
                "height": 1920,
                "headline_max": 40,
                "body_max": 100,
                "cta_max": 20,
                "max_kb": 500,
                "width_rule": "double width",
                "safe_bottom": 0.2,
            },
        ],
    )

    campaign = read_campaign(path)

    builtin = builtin_placements()["meta_feed"]
    meta = campaign.placements["meta_feed"]
    assert meta.headline_max == 27
    assert (meta.width, meta.height, meta.body_max) == (1080, 1080, builtin.body_max)
    assert meta.source.startswith(builtin.source)
    tiktok = campaign.placements["tiktok_feed"]
    assert (tiktok.platform, tiktok.width, tiktok.height) == ("tiktok", 1080, 1920)
    assert (tiktok.width_rule, tiktok.safe_bottom) == ("double_width", 0.2)
    assert campaign.settings.placements == ("meta_feed", "tiktok_feed")
    assert set(builtin_placements()) < set(campaign.placements)


def test_duplicate_settings_and_columns_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Campaign"
    for row in (["name", "A"], ["brand", "B"], ["Name", "C"]):
        sheet.append(row)
    briefs = workbook.create_sheet("Briefs")
    briefs.append(["id", "product", "message", "Message"])
    briefs.append(["b1", "Mug", "Hot", "Warm"])
    workbook.save(path)

    assert problems(path) == [
        'Campaign!A3: setting "Name" is given twice (also Campaign!A1) — keep one',
        'Briefs!D1: column "Message" repeats Briefs!C1 (message) — remove one',
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0", "old.xls: old binary Excel files (.xls) cannot be read"),
        ("sheet.ods", b"PK\x03\x04", "sheet.ods: OpenDocument spreadsheets (.ods) cannot be read"),
        ("brief.xlsx", b"this is no zip", "brief.xlsx: not a readable .xlsx workbook"),
        ("brief.xlsx", b"PK\x03\x04broken", "brief.xlsx: not a readable .xlsx workbook"),
        (
            "locked.xlsx",
            bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504),
            "locked.xlsx: the workbook is password-protected",
        ),
        ("brief.numbers", b"", 'brief.numbers: unknown file type ".numbers"'),
        ("latin1.csv", "id,product\nb1,Café\n".encode("latin-1"), "latin1.csv: not UTF-8 text"),
    ],
)
def test_unreadable_files_are_input_errors(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(InputError) as info:
        read_campaign(path)

    assert not isinstance(info.value, BriefError)
    assert info.value.message.startswith(message)
    assert " — " in info.value.message  # and says what to do


def test_encrypted_workbook_says_how_to_remove_the_password(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504))

    with pytest.raises(InputError, match=r"remove the password \(File > Info > Protect Workbook\)"):
        read_campaign(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_campaign(tmp_path / "nope.xlsx")


def test_each_brief_keeps_the_cells_it_was_read_from(tmp_path: Path) -> None:
    """Later stages (lint) name a brief's cells without opening the file again."""
    path = write_brief(
        tmp_path / "brief.xlsx",
        briefs=[
            {**MINIMAL_BRIEF, "Headline": "Fresh every morning"},
            {**MINIMAL_BRIEF, "id": "second", "Headline": ""},
        ],
    )
    first, second = read_campaign(path).briefs
    header = [c.value for c in load_workbook(path)["Briefs"][1]]
    column = "ABCDEFGHIJ"[header.index("Headline")]
    assert first.cells["headline"] == f"Briefs!{column}2"
    assert second.cells["headline"] == f"Briefs!{column}3"
    assert first.cells["id"] == f"Briefs!{'ABCDEFGHIJ'[header.index('id')]}2"


def test_an_excel_data_validation_extension_reads_without_a_warning(tmp_path: Path) -> None:
    """Excel keeps newer drop-downs in an extension list; openpyxl warns it "will be
    removed" though reading removes nothing: the user is not told so."""
    import warnings

    brief = with_excel_extension(write_brief(tmp_path / "plain.xlsx"), tmp_path / "brief.xlsx")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        campaign = read_campaign(brief)
    assert campaign.briefs
    assert not [w for w in caught if "Data Validation" in str(w.message)]
