"""The HTML preview, read back with html.parser: what a reviewer's browser would get."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from adloom.delivery.render import MAX_HEIGHT, MAX_WIDTH, display_size, render_preview
from adloom.errors import InputError
from factories import (
    AdCopy,
    Run,
    make_ad,
    make_brief,
    make_campaign,
    make_summary,
    preview_pages,
    sample_run,
)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    content: list[Node | str] = field(default_factory=list)  # in document order

    @property
    def children(self) -> list[Node]:
        return [c for c in self.content if isinstance(c, Node)]

    def iter(self, tag: str | None = None) -> list[Node]:
        found = [self] if tag in (None, self.tag) else []
        for child in self.children:
            found += child.iter(tag)
        return found

    def all_text(self) -> str:
        return "".join(c if isinstance(c, str) else c.all_text() for c in self.content)

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def find_class(self, name: str) -> list[Node]:
        return [n for n in self.iter() if name in n.classes]


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].content.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].content.append(data)


def parse(path: Path) -> Node:
    builder = TreeBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def parse_pages(index: Path) -> Node:
    """Every page of ads the index links, under one node (the index itself left out)."""
    root = Node("#pages", {})
    root.content = [parse(page) for page in preview_pages(index.parent)]
    return root


def cards(doc: Node) -> dict[str, Node]:
    found = {n.find_class("ad-name")[0].all_text(): n for n in doc.iter("article")}
    assert all("card" in n.classes for n in found.values())
    return found


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return sample_run(tmp_path)


NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def test_every_ad_is_shown_grouped_by_brief_then_placement(run: Run) -> None:
    doc = parse_pages(render_preview(run.ads, run.summary, run.campaign, run.out))
    shown = cards(doc)
    assert set(shown) == {ad.spec.name for ad in run.ads}
    assert len(doc.iter("article")) == len(run.ads)

    briefs = doc.find_class("brief")
    assert [b.find_class("brief-id")[0].all_text() for b in briefs] == [
        "spring-runner",
        "rain-shell",
    ]
    for brief in briefs:
        brief_id = brief.find_class("brief-id")[0].all_text()
        for section in brief.find_class("placement"):
            placement = section.iter("h3")[0].all_text().split()[0]
            for card in section.iter("article"):
                ad = next(
                    a for a in run.ads if a.spec.name == card.find_class("ad-name")[0].all_text()
                )
                assert (ad.spec.brief.id, ad.spec.placement.id) == (brief_id, placement)
                assert card.attrs["data-placement"] == placement


def test_card_shows_copy_and_review_fields(run: Run) -> None:
    doc = parse_pages(render_preview(run.ads, run.summary, run.campaign, run.out))
    ad = next(a for a in run.ads if a.spec.placement.id == "meta_feed" and a.status == "ok")
    card = cards(doc)[ad.spec.name]
    text = card.all_text()
    for value in (
        ad.spec.audience,
        ad.spec.language,
        f"v{ad.spec.variant}",
        ad.copy.headline,
        ad.copy.body,
        ad.copy.cta,
        ad.disclaimer,
    ):
        assert value in text
    link = next(a for a in card.iter("a") if a.attrs.get("href"))
    assert link.attrs["href"] == ad.spec.landing_url
    assert link.all_text() == ad.spec.landing_url
    assert card.attrs["data-status"] == "ok"
    assert "status-ok" in card.classes
    assert card.find_class("badge-ok")[0].all_text() == "ok"


def test_images_keep_their_true_aspect_ratio_and_fit_the_box(run: Run) -> None:
    doc = parse_pages(render_preview(run.ads, run.summary, run.campaign, run.out))
    shown = cards(doc)
    checked = set()
    for ad in run.ads:
        if not ad.creative:
            continue
        img = shown[ad.spec.name].iter("img")[0]
        width, height = int(img.attrs["width"] or 0), int(img.attrs["height"] or 0)
        placement = ad.spec.placement
        assert width <= MAX_WIDTH
        assert height <= MAX_HEIGHT
        # Rounded to whole pixels: within one pixel of the placement's ratio.
        assert abs(width / placement.aspect - height) <= 1
        checked.add(placement.id)
    assert checked == {"meta_feed", "meta_story", "display_728x90"}


def test_small_placements_are_not_scaled_up(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path, placement_ids=("display_300x250",))
    out = tmp_path / "out"
    ad = make_ad(campaign, out, placement="display_300x250")
    doc = parse_pages(render_preview([ad], make_summary([ad], out), campaign, out))
    img = doc.iter("img")[0]
    assert (img.attrs["width"], img.attrs["height"]) == ("300", "250")


def test_image_links_are_relative_and_resolve_from_their_page(run: Run) -> None:
    render_preview(run.ads, run.summary, run.campaign, run.out)
    sources = [
        (page, img.attrs["src"] or "")
        for page in preview_pages(run.out)
        for img in parse(page).iter("img")
    ]
    assert len(sources) == sum(1 for a in run.ads if a.creative)
    for page, src in sources:
        assert src.startswith("../creatives/")
        assert (page.parent / unquote(src)).is_file()


def test_links_survive_unusual_file_names(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    odd = out / "creatives" / "meta_feed" / "春 #1?.jpg"
    base = make_ad(campaign, out, placement="meta_feed")
    odd.write_bytes(base.creative.path.read_bytes())  # type: ignore[union-attr]
    ad = make_ad(campaign, out, placement="meta_feed", creative_path=odd)
    (page,) = preview_pages(render_preview([ad], make_summary([ad], out), campaign, out).parent)
    src = parse(page).iter("img")[0].attrs["src"] or ""
    assert not set("# ?") & set(src)
    assert (page.parent / unquote(src)).resolve() == odd.resolve()


def test_failed_ads_show_the_error_instead_of_an_image(run: Run) -> None:
    doc = parse_pages(render_preview(run.ads, run.summary, run.campaign, run.out))
    failed = next(a for a in run.ads if a.status == "failed")
    card = cards(doc)[failed.spec.name]
    text = card.all_text()
    assert card.iter("img") == []
    assert "status-failed" in card.classes
    placeholder = card.find_class("placeholder")[0]
    assert "image blocked by the content filter" in placeholder.all_text()
    # The placeholder keeps the placement's shape, so the grid stays readable.
    width, height = display_size(1080, 1080)
    assert f"aspect-ratio: {width} / {height}" in (placeholder.attrs["style"] or "")
    # Shown once: not again as the issue the pipeline lists for it, nor in an error box.
    assert failed.issues == ("image failed: " + failed.image.error,)  # type: ignore[union-attr]
    assert card.find_class("issues") == []
    assert card.find_class("error") == []
    assert text.count("content filter") == 1
    # The copy was written; the reviewer still sees it.
    assert failed.copy.headline in text


def test_text_only_placements_show_their_copy_as_a_card(run: Run) -> None:
    doc = parse_pages(render_preview(run.ads, run.summary, run.campaign, run.out))
    text_ad = next(a for a in run.ads if a.spec.placement.text_only)
    card = cards(doc)[text_ad.spec.name]
    assert card.iter("img") == []
    mock = card.find_class("text-ad")[0]
    assert text_ad.copy.headline in mock.all_text()
    assert text_ad.copy.body in mock.all_text()
    assert "shop.example.com" in mock.all_text()


def test_a_failed_text_ad_shows_its_error_in_the_card(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path, placement_ids=("google_rsa",))
    out = tmp_path / "out"
    ad = make_ad(campaign, out, placement="google_rsa", status="blocked", error="policy: health")
    doc = parse_pages(render_preview([ad], make_summary([ad], out), campaign, out))
    card = cards(doc)[ad.spec.name]
    assert "status-blocked" in card.classes
    assert card.find_class("error")[0].all_text() == "Error: policy: health"
    assert card.find_class("issues") == []


def test_drafts_are_badged_and_the_run_has_a_banner(run: Run) -> None:
    index = render_preview(run.ads, run.summary, run.campaign, run.out)
    doc = parse_pages(index)
    shown = cards(doc)
    for ad in run.ads:
        badges = [b.all_text() for b in shown[ad.spec.name].find_class("badge-draft")]
        assert badges == (["DRAFT"] if ad.draft else [])
    banner = parse(index).find_class("banner-draft")
    assert len(banner) == 1
    assert "1 of 23 ads" in " ".join(banner[0].all_text().split())


def test_no_draft_banner_for_a_model_run(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    ads = [make_ad(campaign, out, variant=v) for v in (1, 2)]
    doc = parse(render_preview(ads, make_summary(ads, out), campaign, out))
    assert doc.find_class("banner-draft") == []
    assert doc.find_class("badge-draft") == []


def test_header_shows_the_run(run: Run) -> None:
    path = render_preview(run.ads, run.summary, run.campaign, run.out, generated_at=NOW)
    header = parse(path).iter("header")[0]
    text = " ".join(header.all_text().split())
    for expected in (
        "Spring Launch 2025",
        "Northwind Athletics",
        "brief.xlsx",
        "2025-03-14T09:26:53Z",
        "$0.1872",
        "5,040 in · 1,152 out",
        "12 text · 4 image",
        "anthropic.claude-3-haiku-20240307-v1:0",
        "amazon.nova-canvas-v1:0",
        "bedrock, draft",
        "2 ($0.0800)",
    ):
        assert expected in text
    counts = {
        div.iter("dt")[0].all_text(): div.iter("dd")[0].all_text()
        for div in header.find_class("stats")[0].children
    }
    assert counts["Ads"] == "23"
    assert counts["ok"] == "21"
    assert counts["failed"] == "1"
    assert counts["skipped"] == "1"


def test_lint_issues_are_listed(run: Run) -> None:
    doc = parse_pages(render_preview(run.ads, run.summary, run.campaign, run.out))
    ad = next(a for a in run.ads if a.issues and a.status == "ok")
    items = [li.all_text() for li in cards(doc)[ad.spec.name].find_class("issues")[0].iter("li")]
    assert items == list(ad.issues)


def test_japanese_copy_is_marked_and_encoded(run: Run) -> None:
    pages = preview_pages(render_preview(run.ads, run.summary, run.campaign, run.out).parent)
    ja = next(a for a in run.ads if a.spec.language == "ja" and a.status == "ok")
    path = next(p for p in pages if ja.spec.name in p.read_text(encoding="utf-8"))
    doc = parse(path)
    assert any(m.attrs.get("charset") == "utf-8" for m in doc.iter("meta"))
    copy = cards(doc)[ja.spec.name].find_class("copy")[0]
    assert copy.attrs["lang"] == "ja"
    assert "春の朝を、もっと軽やかに" in copy.all_text()
    assert "春の朝を".encode() in path.read_bytes()


def test_filters_are_optional_and_list_what_is_there(run: Run) -> None:
    doc = parse(render_preview(run.ads, run.summary, run.campaign, run.out))
    form = doc.iter("form")[0]
    assert "hidden" in form.attrs  # the script shows it; without JS every ad is listed
    options = {
        select.attrs["name"]: [o.all_text() for o in select.iter("option")][1:]
        for select in form.iter("select")
    }
    assert options == {
        "language": ["en", "ja"],
        "placement": ["meta_feed", "meta_story", "display_728x90", "google_rsa"],
        "status": ["ok", "failed", "skipped"],
        "sort": ["Needs attention first", "Ad name", "Best score first"],  # on the page
        "score": ["2", "3", "4", "4.5"],  # at least
    }
    # Nothing is fetched: no external scripts, styles or fonts.
    assert all("src" not in s.attrs for s in doc.iter("script"))
    assert doc.iter("link") == []


HOSTILE = '<script>alert(1)</script>"onerror=alert(2) x="'


def test_brief_and_model_text_is_escaped(tmp_path: Path) -> None:
    brief = make_brief(
        "xss",
        product=HOSTILE,
        message=HOSTILE,
        landing_url='https://example.com/?q="onerror=alert(3)',
        disclaimer=HOSTILE,
    )
    evil = make_brief("js", landing_url="javascript:alert(4)", row=3)
    campaign = make_campaign(tmp_path, (brief, evil), name=HOSTILE, brand=HOSTILE)
    out = tmp_path / "out"
    copy = AdCopy(headline=HOSTILE, body="<img src=x onerror=alert(5)>", cta=HOSTILE)
    ads = [
        make_ad(campaign, out, brief=brief, copy=copy, issues=(HOSTILE,)),
        make_ad(campaign, out, brief=brief, status="failed", error=HOSTILE, variant=2),
        make_ad(campaign, out, brief=evil, copy=copy),
    ]
    summary = make_summary(ads, out, warnings=(HOSTILE,))
    index = render_preview(ads, summary, campaign, out)
    pages = [parse(p) for p in preview_pages(out)]
    assert len(pages) == 2  # one per brief
    for doc in [parse(index), *pages]:
        for script in doc.iter("script"):  # each page's own filter script, nothing injected
            assert "alert" not in script.all_text()
        for node in doc.iter():
            assert not any(name.startswith("on") for name in node.attrs), node
        assert HOSTILE in doc.all_text()  # the campaign's name, as text
    assert [len(d.iter("script")) for d in pages] == [1, 1]
    doc = parse_pages(index)
    assert len(doc.iter("img")) == 2  # the two real creatives, no injected <img>
    assert "<img src=x onerror=alert(5)>" in doc.all_text()
    # A javascript: URL is shown but never becomes a link.
    hrefs = [a.attrs.get("href") or "" for c in cards(doc).values() for a in c.iter("a")]
    assert hrefs == [ads[0].spec.landing_url, ads[1].spec.landing_url]
    assert "javascript:alert(4)" in cards(doc)[ads[2].spec.name].all_text()


def test_a_template_in_the_override_folder_wins(run: Run, tmp_path: Path) -> None:
    custom = tmp_path / "my-templates"
    (custom / "preview").mkdir(parents=True)
    (custom / "preview" / "_card.html.j2").write_text(
        '<article class="card mine"><h4 class="ad-name">{{ card.name }}</h4>'
        "<p>{{ card.headline }}</p></article>\n",
        encoding="utf-8",
    )
    doc = parse_pages(render_preview(run.ads, run.summary, run.campaign, run.out, templates=custom))
    shown = cards(doc)
    assert len(shown) == len(run.ads)
    assert all("mine" in c.classes for c in shown.values())
    # Everything not overridden still comes from the shipped templates.
    assert doc.find_class("run")
    assert doc.find_class("banner-draft")


def test_the_page_template_can_be_replaced_and_stays_escaped(run: Run, tmp_path: Path) -> None:
    custom = tmp_path / "my-templates"
    (custom / "preview").mkdir(parents=True)
    (custom / "preview" / "index.html.j2").write_text(
        "<ul>{% for g in page.groups %}<li>{{ g.brief.product }}</li>{% endfor %}</ul>"
        "<p>{{ campaign.settings.name }}</p>",
        encoding="utf-8",
    )
    hostile = replace(run.campaign, settings=replace(run.campaign.settings, name=HOSTILE))
    index = render_preview(run.ads, run.summary, hostile, run.out, templates=custom)
    name = "<p>&lt;script&gt;alert(1)&lt;/script&gt;&#34;onerror=alert(2) x=&#34;</p>"
    assert [p.read_text(encoding="utf-8") for p in preview_pages(index.parent)] == [
        f"<ul><li>Aero Runner 2</li></ul>{name}",  # one page per brief
        f"<ul><li>Storm Shell Jacket</li></ul>{name}",
    ]


def test_a_broken_template_is_a_clear_input_error(run: Run, tmp_path: Path) -> None:
    custom = tmp_path / "my-templates"
    (custom / "preview").mkdir(parents=True)
    (custom / "preview" / "_card.html.j2").write_text("<article>\n{% endfor %}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"_card\.html\.j2, line 2: .*endfor"):
        render_preview(run.ads, run.summary, run.campaign, run.out, templates=custom)

    (custom / "preview" / "_card.html.j2").write_text("{{ card.no_such_field }}", encoding="utf-8")
    with pytest.raises(InputError, match="no_such_field"):
        render_preview(run.ads, run.summary, run.campaign, run.out, templates=custom)


def test_an_empty_run_renders(tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    out = tmp_path / "out"
    doc = parse(render_preview([], make_summary([], out), campaign, out))
    assert preview_pages(out) == []
    assert doc.iter("article") == []
    assert "no ads" in doc.find_class("empty")[0].all_text()
