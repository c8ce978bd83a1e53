"""The preview in pages: a big run is split by brief, then into numbered pages, each within
the size budget, all linked from index.html; every page static, escaped, self-contained.

Built with the factories (no model, no images: text-only ads), rendered for real and
read back from disk.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import pytest

from adloom.delivery.pages import CARDS_PER_PAGE, MAX_PAGE_BYTES, page_name
from adloom.delivery.render import render_preview
from adloom.model import Ad, Brief, Campaign
from factories import AdCopy, make_ad, make_brief, make_campaign, make_summary, preview_pages

TEXT = "display_728x90"  # any placement: the ads below carry no creative
HOSTILE = '<script>alert(1)</script>"onerror=alert(2) x="'
LONG_BODY = "Slow-brewed overnight for a smoother cup. " * 240  # ~10,000 characters


def many(campaign: Campaign, out: Path, brief: Brief, count: int, copy: AdCopy) -> list[Ad]:
    """``count`` ads of ``brief``, each its own name: one made, the rest renamed copies."""
    ad = make_ad(campaign, out, brief=brief, placement=TEXT, copy=copy, with_creative=False)
    return [
        replace(ad, spec=replace(ad.spec, name=f"{ad.spec.name}_{i:05d}", variant=i))
        for i in range(1, count + 1)
    ]


def names_on(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return [html.unescape(n) for n in re.findall(r'class="ad-name">(.*?)</h4>', text)]


def links(page: Path) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page.read_text("utf-8"))]


def _text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


@pytest.fixture
def big(tmp_path: Path) -> tuple[list[Ad], Path]:
    """1,200 ads of one brief, 300 with 10,000-character bodies, and a hostile one."""
    plain = make_brief("plain", "Aero Runner 2", audiences=("runners",))
    wordy = make_brief("wordy", "Storm Shell", audiences=("runners",), row=3)
    hostile = make_brief("<b>x</b>/../../etc", HOSTILE, HOSTILE, audiences=("runners",), row=4)
    campaign = make_campaign(tmp_path, (plain, wordy, hostile), placement_ids=(TEXT,))
    out = tmp_path / "out"
    ads = [
        *many(campaign, out, plain, 1200, AdCopy()),
        *many(campaign, out, wordy, 300, AdCopy(body=LONG_BODY)),
        *many(campaign, out, hostile, 3, AdCopy(headline=HOSTILE, body=HOSTILE, cta=HOSTILE)),
    ]
    summary = make_summary(ads, out, warnings=(HOSTILE,))
    render_preview(
        ads, summary, replace(campaign, settings=replace(campaign.settings, name=HOSTILE)), out
    )
    return ads, out


def test_a_big_run_is_split_by_brief_and_within_the_budget(big: tuple[list[Ad], Path]) -> None:
    ads, out = big
    pages = preview_pages(out)
    assert [p.name for p in pages] == [
        "brief-001-plain.html", "brief-001-plain-2.html", "brief-001-plain-3.html",
        # 300 ads of ~10 KB do not fit 2 MB: that page was rendered again as two halves.
        "brief-002-wordy.html", "brief-002-wordy-2.html",
        "brief-003-b-x-b-etc.html",
    ]  # fmt: skip
    counts = [len(names_on(p)) for p in pages]
    assert counts == [CARDS_PER_PAGE, CARDS_PER_PAGE, 200, 150, 150, 3]
    assert all(p.stat().st_size <= MAX_PAGE_BYTES for p in pages)
    assert sum(p.stat().st_size for p in pages[3:5]) > MAX_PAGE_BYTES  # the split was needed
    # Every ad exactly once across the pages, nothing else.
    shown = Counter(name for p in pages for name in names_on(p))
    assert shown == Counter(a.spec.name for a in ads)


def test_every_link_resolves_inside_the_out_folder(big: tuple[list[Ad], Path]) -> None:
    _, out = big
    index = out / "index.html"
    root = out.resolve()
    for page in [index, *preview_pages(out)]:
        for href in links(page):
            if href.startswith("https://"):  # a landing URL
                continue
            target = (page.parent / unquote(href)).resolve()
            assert target.is_relative_to(root), (page.name, href)
            assert target.is_file(), (page.name, href)
    # The index links each page once by number, and each brief's first page by name too.
    linked = [h for h in links(index) if h.startswith("preview/")]
    assert Counter(linked)["preview/brief-001-plain-2.html"] == 1
    assert Counter(linked)["preview/brief-001-plain.html"] == 2
    # Pages of one brief link each other in order, and back to the index.
    second = out / "preview" / "brief-001-plain-2.html"
    assert links(second)[:3] == ["../index.html", "brief-001-plain.html", "brief-001-plain-3.html"]


def test_the_index_counts_each_brief(big: tuple[list[Ad], Path]) -> None:
    _, out = big
    text = (out / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr>(.*?)</tr>", text, flags=re.S)[1:]
    cells = [
        [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)] for row in rows
    ]
    assert [c[1:] for c in cells] == [
        ["1200", "1200", "1 2 3"],  # ads, ok, pages
        ["300", "300", "1 2"],
        ["3", "3", "1"],
    ]
    assert '<article class="card' not in text  # the index holds no ads


def test_hostile_text_is_escaped_on_every_page(big: tuple[list[Ad], Path]) -> None:
    _, out = big
    escaped = html.escape(HOSTILE, quote=False).replace('"', "&#34;")
    for page in [out / "index.html", *preview_pages(out)]:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text, page.name
        assert 'onerror=alert(2) x="' not in text, page.name
        assert escaped in text, page.name  # the campaign's name in every header
        # Self-contained: nothing fetched from elsewhere.
        assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=\"(https?:)?//", text)


def test_filters_list_what_is_on_each_page(tmp_path: Path) -> None:
    shoes = make_brief(languages=("en", "ja"), audiences=("runners",))
    jacket = make_brief("rain-shell", "Storm Shell", audiences=("runners",), row=3)
    campaign = make_campaign(tmp_path, (shoes, jacket), placement_ids=(TEXT, "meta_feed"))
    out = tmp_path / "out"
    ads = [
        make_ad(campaign, out, brief=shoes, placement=TEXT, language="ja", with_creative=False),
        make_ad(campaign, out, brief=jacket, placement="meta_feed", status="failed", error="x"),
    ]
    render_preview(ads, make_summary(ads, out), campaign, out)
    options = []
    for page in preview_pages(out):
        form = page.read_text(encoding="utf-8").split('<form class="filters"')[1]
        options.append(re.findall(r"<option>(.*?)</option>", form.split("</form>")[0]))
    assert options == [["ja", TEXT, "ok"], ["en", "meta_feed", "failed"]]


def test_a_rerun_removes_only_the_pages_it_wrote_before(tmp_path: Path) -> None:
    first, second = make_brief("first"), make_brief("second", row=3)
    campaign = make_campaign(tmp_path, (first, second), placement_ids=(TEXT,))
    out = tmp_path / "out"
    ads = [
        make_ad(campaign, out, brief=b, placement=TEXT, with_creative=False)
        for b in (first, second)
    ]
    render_preview(ads, make_summary(ads, out), campaign, out)
    mine = [out / "preview" / "notes.html", out / "preview" / "brief-009-mine.html"]
    for path in mine:
        path.write_text("the user's", encoding="utf-8")
    render_preview(ads[1:], make_summary(ads[1:], out), campaign, out)
    assert [p.name for p in preview_pages(out)] == ["brief-001-second.html"]
    assert not (out / "preview" / "brief-002-second.html").exists()
    assert not (out / "preview" / "brief-001-first.html").exists()
    assert all(p.read_text(encoding="utf-8") == "the user's" for p in mine)
    assert not list(out.rglob("*.tmp"))


@pytest.mark.parametrize(
    ("brief_id", "expected"),
    [
        ("cold-brew", "brief-007-cold-brew.html"),
        ("../../victim/holiday", "brief-007-victim-holiday.html"),
        ("CON", "brief-007-con.html"),
        ("   ", "brief-007-brief.html"),
        ("春のセール" * 20, "brief-007-" + "春のセール" * 3 + "春.html"),  # 48 bytes of UTF-8
    ],
)
def test_page_names_are_safe(brief_id: str, expected: str) -> None:
    assert page_name(7, brief_id) == expected
    assert len(page_name(7, brief_id, 12).encode("utf-8")) < 100
