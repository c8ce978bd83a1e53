"""The export workbook, written for real and read back with openpyxl and as raw XML."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PIL import Image

from adloom import __version__
from adloom.delivery import thumbs
from adloom.delivery.cells import neutralise
from adloom.delivery.export import export_workbook
from adloom.delivery.thumbs import THUMB_PX
from adloom.delivery.workbook import COLUMN_NAMES, generated_state
from adloom.model import Ad, Creative
from factories import (
    AdCopy,
    Run,
    make_ad,
    make_brief,
    make_campaign,
    make_summary,
    sample_run,
    write_creative,
)

EXPECTED_COLUMNS = [
    "ad_name",
    "brief_id",
    "audience",
    "language",
    "placement",
    "variant",
    "headline",
    "body",
    "cta",
    "disclaimer",
    "landing_url",
    "image",
    "status",
    "issues",
    "provider",
    "approval",
    "notes",
    "round",
    "changed",
    "thumbnail",
    "generated",
    "contrast",
    "legibility",
    "safe_zone",
    "text_px",
    "text_share",
    "crop",
    "score",
    "score_reasons",
    "ai_generated",
    "alt_text",
]
NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return sample_run(tmp_path)


def load(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


def variants(path: Path) -> tuple[Any, list[dict[Any, Any]]]:
    """The sheet (``Any``: tests read openpyxl's ``_images``) and its rows by header."""
    ws = load(path)["Variants"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    return ws, rows


def summary_sheet(path: Path) -> dict[Any, Any]:
    return {row[0]: row[1] for row in load(path)["Summary"].iter_rows(values_only=True)}


def by_name(rows: list[dict[Any, Any]]) -> dict[Any, dict[Any, Any]]:
    return {r["ad_name"]: r for r in rows}


def test_one_row_per_ad_with_columns_in_order(run: Run) -> None:
    path = export_workbook(run.ads, run.summary, run.campaign, run.out)
    assert path == run.out / "variants.xlsx"
    ws, rows = variants(path)
    assert list(COLUMN_NAMES) == EXPECTED_COLUMNS
    assert [c.value for c in ws[1]] == [*EXPECTED_COLUMNS, "Owner", "Budget"]
    assert [r["ad_name"] for r in rows] == [a.spec.name for a in run.ads]


def test_row_values(run: Run) -> None:
    _, rows = variants(export_workbook(run.ads, run.summary, run.campaign, run.out))
    table = by_name(rows)

    ad = run.ads[0]
    assert ad.creative
    row = table[ad.spec.name]
    assert row == {
        "ad_name": ad.spec.name,
        "brief_id": "spring-runner",
        "audience": "runners",
        "language": "en",
        "placement": "meta_feed",
        "variant": 1,
        "headline": "Run lighter this spring",
        "body": ad.copy.body,
        "cta": "Shop now",
        "disclaimer": "Offer valid while stocks last.",
        "landing_url": ad.spec.landing_url,
        "image": f"creatives/meta_feed/{ad.spec.name}.jpg",
        "status": "ok",
        "issues": None,
        "provider": ("bedrock:anthropic.claude-3-haiku-20240307-v1:0, amazon.nova-canvas-v1:0"),
        "approval": None,
        "notes": None,
        "round": 1,
        "changed": None,
        "thumbnail": None,
        "generated": json.dumps(generated_state(ad), ensure_ascii=False, sort_keys=True),
        **dict.fromkeys(("contrast", "legibility", "safe_zone", "text_px", "text_share", "crop")),
        **dict.fromkeys(("score", "score_reasons")),  # not scored: run without --score
        # A Nova Canvas master: generated imagery; described by its subject and headline.
        "ai_generated": "yes",
        "alt_text": f"{ad.spec.brief.image_prompt}. {ad.copy.headline}",
        "Owner": "Mika Tanaka",
        "Budget": "=SUM(A1:A9)",
    }
    for r in rows:
        if r["image"]:
            assert (run.out / str(r["image"])).is_file()

    failed = next(a for a in run.ads if a.status == "failed")
    assert table[failed.spec.name]["status"] == "failed"
    assert table[failed.spec.name]["image"] is None
    assert table[failed.spec.name]["issues"] == (
        "image failed: ValidationException: image blocked by the content filter"
    )

    draft = next(a for a in run.ads if a.draft)
    assert table[draft.spec.name]["provider"] == "draft"
    assert (
        table[draft.spec.name]["issues"] == "headline 44/40 characters; body repeats the headline"
    )

    text_ad = next(a for a in run.ads if a.spec.placement.text_only)
    assert table[text_ad.spec.name]["image"] is None
    assert table[text_ad.spec.name]["headline"] == "Run lighter this spring"

    ja = next(a for a in run.ads if a.spec.language == "ja")
    assert table[ja.spec.name]["headline"] == "春の朝を、もっと軽やかに"


def test_a_draft_names_no_model(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    ads = [make_ad(campaign, out, draft=True)]
    assert ads[0].copy.model  # the draft provider still carries the configured id
    path = export_workbook(ads, make_summary(ads, out), campaign, out)
    _, rows = variants(path)
    assert rows[0]["provider"] == "draft"
    summary = summary_sheet(path)
    assert (summary["Text model"], summary["Image model"]) == (None, None)
    assert summary["Provider"] == "draft"


def test_the_error_is_listed_once(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path, placement_ids=("meta_feed", "google_rsa"))
    out = tmp_path / "out"
    error = "ThrottlingException: rate exceeded"
    restated = make_ad(campaign, out, status="failed", error=error, issues=("headline 44/40",))
    assert restated.issues == (f"image failed: {error}", "headline 44/40")
    # An error no issue mentions (a stage that does not list it) is put first.
    bare = replace(restated, issues=("headline 44/40",))
    text_only = make_ad(campaign, out, placement="google_rsa", status="blocked", error="policy")
    ads = [restated, bare, text_only]
    _, rows = variants(export_workbook(ads, make_summary(ads, out), campaign, out))
    assert [r["issues"] for r in rows] == [
        f"image failed: {error}; headline 44/40",
        f"{error}; headline 44/40",
        "copy blocked: policy",
    ]


def test_sheet_is_ready_for_review(run: Run) -> None:
    ws, _ = variants(export_workbook(run.ads, run.summary, run.campaign, run.out))
    last = len(run.ads) + 1
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:AG{last}"
    assert all(c.font.bold for c in ws[1])

    (validation,) = ws.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"Approved,Rejected"'
    assert str(validation.sqref) == f"P2:P{last}"
    assert validation.allow_blank

    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["A"] >= 40  # ad_name
    assert widths["H"] >= 40  # body
    body = ws.cell(row=2, column=EXPECTED_COLUMNS.index("body") + 1)
    assert body.alignment.wrap_text
    for row in range(2, last + 1):
        assert ws.row_dimensions[row].height >= THUMB_PX * 0.75


def test_a_thumbnail_per_creative_anchored_in_its_row(run: Run) -> None:
    ws, rows = variants(export_workbook(run.ads, run.summary, run.campaign, run.out))
    with_image = [i for i, r in enumerate(rows, start=2) if r["image"]]
    images = ws._images  # openpyxl keeps the drawings it read here
    assert len(images) == len(with_image) == sum(1 for a in run.ads if a.creative)
    thumb_col = EXPECTED_COLUMNS.index("thumbnail")
    anchors = sorted((img.anchor._from.row + 1, img.anchor._from.col) for img in images)
    assert anchors == [(row, thumb_col) for row in with_image]
    for img in images:
        assert max(img.width, img.height) <= THUMB_PX

    # One thumbnail per distinct creative (identical files share one).
    made = sorted((run.out / "thumbs").rglob("*.jpg"))
    contents = {a.creative.path.read_bytes() for a in run.ads if a.creative}
    assert len(made) == len(contents)
    for thumb in made:
        with Image.open(thumb) as im:
            assert im.format == "JPEG"
            assert max(im.size) == THUMB_PX
        assert thumb.stat().st_size < 8_000


def test_thumbnails_are_made_once_per_creative_content(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    shared = write_creative(out / "creatives" / "meta_feed" / "shared.png", 1080, 1080)
    twin = out / "creatives" / "x_card" / "twin.png"
    twin.parent.mkdir(parents=True)
    twin.write_bytes(shared.path.read_bytes())
    ads = [
        make_ad(campaign, out, variant=v, creative_path=shared.path, with_creative=False)
        for v in (1, 2, 3)
    ] + [make_ad(campaign, out, variant=4, creative_path=twin, with_creative=False)]
    summary = make_summary(ads, out)
    export_workbook(ads, summary, campaign, out)
    # One thumbnail for four rows: three point at one file, the fourth at a copy of it.
    (thumb,) = (out / "thumbs").iterdir()
    assert thumb == thumbs.path_for(out, thumbs.digest(shared.path.read_bytes()))
    # A rerun keeps it...
    made = thumb.stat().st_mtime_ns
    export_workbook(ads, summary, campaign, out)
    assert thumb.stat().st_mtime_ns == made
    # ...and a creative whose content changed gets its own.
    write_creative(shared.path, 1080, 1080, color="#000000")
    export_workbook(ads, summary, campaign, out)
    changed = thumbs.path_for(out, thumbs.digest(shared.path.read_bytes()))
    with Image.open(changed) as im:
        assert im.getpixel((10, 10)) == (0, 0, 0)


def test_the_thumbnail_compose_made_is_used_without_decoding_the_creative(
    tmp_path: Path,
) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    made = write_creative(out / "creatives" / "meta_feed" / "made.png", 1080, 1080)
    thumb = out / "thumbs" / "from-compose.jpg"
    thumb.parent.mkdir(parents=True)
    Image.new("RGB", (96, 96), "#00FF00").save(thumb)
    ad = make_ad(campaign, out, creative_path=made.path, with_creative=False)
    ad = replace(ad, creative=replace(made, thumb=thumb))
    ws, _ = variants(export_workbook([ad], make_summary([ad], out), campaign, out))
    (image,) = ws._images
    assert Image.open(io.BytesIO(image._data())).getpixel((5, 5))[1] > 250  # the green one
    assert list((out / "thumbs").iterdir()) == [thumb]


def test_a_creative_outside_the_out_folder_keeps_its_thumbnail_inside(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    elsewhere = write_creative(tmp_path / "shared" / "hero.jpg", 1080, 1080)
    ad = make_ad(campaign, out, creative_path=elsewhere.path)
    _, rows = variants(export_workbook([ad], make_summary([ad], out), campaign, out))
    assert rows[0]["image"] == "../shared/hero.jpg"
    (thumb,) = (out / "thumbs").iterdir()
    assert thumb.suffix == ".jpg"


def test_transparent_and_broken_creatives(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    clear = out / "creatives" / "meta_feed" / "clear.png"
    clear.parent.mkdir(parents=True)
    Image.new("RGBA", (200, 200), (0, 0, 0, 0)).save(clear)
    broken = out / "creatives" / "meta_feed" / "broken.jpg"
    broken.write_bytes(b"not an image")
    ads = [
        make_ad(campaign, out, variant=1, creative_path=clear),
        make_ad(campaign, out, variant=2, creative_path=broken),
    ]
    ws, rows = variants(export_workbook(ads, make_summary(ads, out), campaign, out))
    # The broken file costs its thumbnail only; its row and path are still there.
    assert len(ws._images) == 1
    assert rows[1]["image"] == "creatives/meta_feed/broken.jpg"
    with Image.open(thumbs.path_for(out, thumbs.digest(clear.read_bytes()))) as im:
        assert im.getpixel((5, 5)) == (255, 255, 255)  # on white, not black


FORMULAS = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+1",
    "-20% this week",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=1",
]


def test_nothing_is_written_as_a_formula(tmp_path: Path) -> None:
    brief = make_brief(
        extra={"=Owner": "=cmd|' /C calc'!A0", "Budget": "-5", "Code": "#N/A"},
        disclaimer="@risk: terms apply",
    )
    campaign = make_campaign(
        tmp_path,
        (brief,),
        name="=Spring",
        brand="+Brand",
        extra_columns=("=Owner", "Budget", "Code"),
    )
    out = tmp_path / "out"
    ads = [
        make_ad(
            campaign,
            out,
            variant=i,
            copy=AdCopy(headline=value, body=value, cta=value),
            issues=(value,),
        )
        for i, value in enumerate(FORMULAS, start=1)
    ]
    path = export_workbook(ads, make_summary(ads, out, warnings=("=warn",)), campaign, out)

    # No formula anywhere in the package.
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                xml = zf.read(name).decode()
                assert not re.search(r"<f[ >]", xml), name
                assert 't="e"' not in xml, name  # nor an error value (#N/A)

    wb = load(path)
    ws = wb["Variants"]
    header = [c.value for c in ws[1]]
    assert header[-3:] == ["=Owner", "Budget", "Code"]
    for row, value in enumerate(FORMULAS, start=2):
        # The exact text, no apostrophe added (a CR is stored as a cell line break).
        text = value.replace("\r", "\n")
        for column in ("headline", "body", "cta"):
            cell = ws.cell(row=row, column=header.index(column) + 1)
            assert cell.value == text
            assert cell.data_type == "s"
            assert cell.quotePrefix
        issues = ws.cell(row=row, column=header.index("issues") + 1)
        assert issues.value == text
    extras = [c.value for c in ws[2][-3:]]
    assert extras == ["=cmd|' /C calc'!A0", "-5", "#N/A"]
    assert all(c.data_type == "s" for c in ws[2][-3:])
    disclaimer = ws.cell(row=2, column=header.index("disclaimer") + 1)
    assert disclaimer.value == "@risk: terms apply"
    assert disclaimer.quotePrefix

    summary = summary_sheet(path)
    assert summary["Campaign"] == "=Spring"
    assert summary["Brand"] == "+Brand"
    assert summary["Warning"] == "=warn"


def test_plain_text_gets_no_quote_prefix(run: Run) -> None:
    ws, _ = variants(export_workbook(run.ads, run.summary, run.campaign, run.out))
    assert not ws["G2"].quotePrefix  # headline "Run lighter this spring"


def test_control_characters_do_not_break_the_export(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    ad = make_ad(campaign, out, copy=AdCopy(headline="Run\x0b lighter\x00", body="line 1\nline 2"))
    _, rows = variants(export_workbook([ad], make_summary([ad], out), campaign, out))
    assert rows[0]["headline"] == "Run lighter"
    assert rows[0]["body"] == "line 1\nline 2"


def test_brief_columns_named_like_ours_are_kept_apart(tmp_path: Path) -> None:
    brief = make_brief(extra={"notes": "from the brief", "Region": "EMEA"})
    campaign = make_campaign(tmp_path, (brief,), extra_columns=("notes", "Region"))
    out = tmp_path / "out"
    ad = make_ad(campaign, out)
    _, rows = variants(export_workbook([ad], make_summary([ad], out), campaign, out))
    assert rows[0]["notes"] is None  # the reviewer's column stays empty
    assert rows[0]["brief.notes"] == "from the brief"
    assert rows[0]["Region"] == "EMEA"


def test_summary_sheet(run: Run) -> None:
    path = export_workbook(run.ads, run.summary, run.campaign, run.out, generated_at=NOW)
    assert load(path).sheetnames == ["Variants", "Summary"]
    assert summary_sheet(path) == {
        "Campaign": "Spring Launch 2025",
        "Brand": "Northwind Athletics",
        "Brief file": "brief.xlsx",
        "Brief path": "../brief.xlsx",
        "Round": 1,
        "Provider": "bedrock, draft",
        "Text model": "anthropic.claude-3-haiku-20240307-v1:0",
        "Image model": "amazon.nova-canvas-v1:0",
        "Ads": 23,
        "Ads by status": "21 ok, 1 failed, 1 skipped",
        "Creatives": 16,
        "Failed": 1,
        "Flagged": 0,
        "Cache hits": 3,
        "Model calls (text)": 12,
        "Model calls (image)": 4,
        "Input tokens": 5040,
        "Output tokens": 1152,
        "Cost (USD)": 0.1872,
        "Not generated": 2,
        "Not generated cost (USD)": 0.08,
        "Generated at (UTC)": "2025-03-14T09:26:53Z",
        "adloom version": __version__,
        "Draft": (
            "DRAFT: 1 of 23 ads were made offline without a model (draft provider). "
            "Not for publishing."
        ),
        "Warning": "Briefs!H5: unknown placement 'tiktok' ignored",
    }


def test_summary_of_a_model_run_has_no_draft_notice(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    ads = [make_ad(campaign, out)]
    path = export_workbook(ads, make_summary(ads, out, warnings=()), campaign, out)
    summary = summary_sheet(path)
    assert summary["Draft"] == "No"
    assert "Warning" not in summary


def test_an_empty_run_exports_a_header(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    ws, rows = variants(export_workbook([], make_summary([], out), campaign, out))
    assert rows == []
    assert ws.auto_filter.ref == "A1:AE1"
    assert ws.data_validations.dataValidation == []


def test_csv_neutralise() -> None:
    for value in FORMULAS:
        assert neutralise(value) == "'" + value
    assert neutralise("Run lighter") == "Run lighter"
    assert neutralise("") == ""
    assert neutralise(-5) == -5  # numbers are numbers, not formulas
    assert neutralise(None) is None


@pytest.mark.slow
def test_ten_thousand_rows(tmp_path: Path) -> None:
    """A large campaign streams to disk; thumbnails are made once per creative file."""
    campaign = make_campaign(tmp_path, placement_ids=("meta_feed",))
    out = tmp_path / "out"
    template = make_ad(campaign, out, with_creative=False)
    files = [
        write_creative(
            out / "creatives" / "meta_feed" / f"c{i}.jpg", 1080, 1080, f"#{i * 12:02X}3A93"
        )
        for i in range(20)
    ]
    ads: list[Ad] = [
        replace(
            template,
            spec=replace(template.spec, name=f"ad_{i:05d}", variant=i),
            creative=Creative(files[i % 20].path, 1080, 1080, files[i % 20].bytes),
        )
        for i in range(10_000)
    ]
    # About 20 s on a laptop (docs/output.md); no time limit here, a busy CI box varies.
    path = export_workbook(ads, make_summary(ads, out), campaign, out)
    assert len(list((out / "thumbs").rglob("*.jpg"))) == 20
    wb = openpyxl.load_workbook(path, read_only=True)
    names = [row[0] for row in wb["Variants"].iter_rows(min_row=2, values_only=True)]
    wb.close()
    assert names == [ad.spec.name for ad in ads]
