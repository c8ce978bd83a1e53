"""The preview: static HTML pages that show every ad as it will run, for review.

``index.html`` lists every brief with its counts and links its pages, which show the
ads (``adloom.delivery.pages``: a page per brief, more for a big one, each within a size
budget). The pages open from disk with no server: images are linked relative to
them, CSS is inline, nothing is fetched from the network, and the small filter
script is optional (a page is complete without it). Templates live in
``templates/preview/``; with ``--templates DIR`` a file of the same name in
``DIR/preview/`` replaces any one of them.

Everything that reaches the page is escaped by jinja2's autoescape; landing URLs
are only made into links for http(s), since an escaped ``javascript:`` URL is
still a working link.

A responsive search ad is drawn as a search result shows it (label, display URL
with its paths, three headlines, two descriptions), with every headline and
description listed under it, measured as Google counts them. After ``adloom
review``, each card says which round it is from, what the round changed and the
reviewer's decision and notes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import Environment, TemplateError

from adloom import __version__, safepath
from adloom.copy import rsa, textlen
from adloom.delivery.pages import (
    ENTRIES_PER_INDEX,
    PAGES_DIR,
    SHARED_FROM,
    fit,
    index_name,
    over_budget,
    packed,
    page_name,
    shared_name,
    write_pages,
    written_pages,
)
from adloom.delivery.present import (
    alt_text,
    error_text,
    issues_besides,
    models_used,
    provider_label,
    providers_used,
    relative_link,
    status_counts,
    utc_stamp,
)
from adloom.errors import InputError
from adloom.model import (
    Ad,
    Brief,
    Campaign,
    CopyLimits,
    PinField,
    Placement,
    RunSummary,
    SearchAd,
    Status,
)
from adloom.outdir import Deliverable
from adloom.resources import template_env, template_place

# A page of ads; its name is from when the preview was one page, so templates made
# for that still render each page.
INDEX_TEMPLATE = "preview/index.html.j2"
CONTENTS_TEMPLATE = "preview/contents.html.j2"  # index.html: every brief, linked
PREVIEW_FILE = "index.html"
PREVIEW = Deliverable("the preview's index", (PREVIEW_FILE,))
# What won, written by ``adloom results`` (``results/page.py``) beside index.html. Every
# index page holds a place for a link to it between these markers, filled when the page
# is rendered with results there, or by ``link_results`` when the results come later.
RESULTS_PAGE = "results.html"
RESULTS_LINK_TEMPLATE = "preview/_results_link.html.j2"
_RESULTS_PLACE = re.compile(r"<!--adloom:results-->.*?<!--/adloom:results-->", re.DOTALL)

# The box an ad is drawn in: larger creatives scale down to fit it, smaller ones
# (320x50, 300x250) keep their real pixel size so they look as small as they are.
MAX_WIDTH = 480
MAX_HEIGHT = 320
# Narrow creatives (160x600) still get a card wide enough to read their copy.
MIN_CARD_WIDTH = 260

LINK_SCHEMES = ("http", "https")


# ---------------------------------------------------------------- what the templates see


@dataclass(frozen=True)
class Slot:
    """One headline, description or path of a search ad, measured as the platform counts."""

    label: str  # "headline 3"
    text: str
    width: int
    limit: int
    pin: int  # pinned position, 0 if not pinned

    @property
    def over(self) -> bool:
        return self.width > self.limit


@dataclass(frozen=True)
class SearchView:
    """A responsive search ad as a search result would first show it, and all its slots."""

    display_url: str  # host/path1/path2
    headline: str  # the three shown headlines, joined as a result joins them
    description: str  # the two shown descriptions
    headlines: tuple[Slot, ...]
    descriptions: tuple[Slot, ...]
    paths: tuple[Slot, ...]


@dataclass(frozen=True)
class Card:
    """One ad, flattened for the card template."""

    ad: Ad
    name: str
    audience: str
    language: str
    variant: int
    placement: str
    status: Status
    headline: str
    body: str
    cta: str
    disclaimer: str
    landing_url: str
    href: str | None  # the landing URL when it is safe to link
    host: str  # shown as the display URL of a text ad
    issues: tuple[str, ...]  # lint issues; the error is shown on its own
    error: str
    draft: bool
    untranslated: bool  # draft copy in the source language, not this ad's language
    provider: str
    image: str | None  # URL relative to index.html
    width: int  # display size, at the placement's true aspect ratio
    height: int
    text_only: bool
    size_kb: int | None
    search: SearchView | None = None  # a responsive search ad's whole copy
    round: int = 1
    change: str = ""  # "regenerated", "edited" or "retried" by the latest review round
    approval: str = ""
    notes: str = ""
    alt: str = ""  # the picture's description (present.alt_text)


@dataclass(frozen=True)
class PlacementGroup:
    placement: Placement
    card_width: int
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class BriefGroup:
    brief: Brief
    placements: tuple[PlacementGroup, ...]
    anchor: str = ""  # the section's id ("brief-7"), which the index links on a shared page

    @property
    def count(self) -> int:
        return sum(len(p.cards) for p in self.placements)


@dataclass(frozen=True)
class Page:
    title: str
    brand: str
    source: str
    generated_at: str
    version: str
    provider: str
    text_model: str
    image_model: str
    total: int
    drafts: int
    status_counts: dict[str, int]
    groups: tuple[BriefGroup, ...]
    languages: tuple[str, ...]
    placements: tuple[str, ...]
    round: int = 1  # the review round shown (1: straight from `adloom run`)
    changes: dict[str, int] | None = None  # per change ("regenerated", ...): how many ads
    nav: PageNav | None = None  # where a page of ads sits; None on the index page


@dataclass(frozen=True)
class PageNav:
    """Links from a page of ads: the index, and the brief's pages before and after it."""

    index: str  # "../index.html"
    part: int  # this page, 1-based, of the brief's
    parts: int
    previous: str | None  # file name of the brief's page before, None on its first
    next: str | None


@dataclass(frozen=True)
class IndexNav:
    """Where an index page sits among the index's pages (``index.html``, ``index-2.html``)."""

    part: int
    parts: int
    pages: tuple[str, ...]  # every index page's file name, in order

    @property
    def previous(self) -> str | None:
        return self.pages[self.part - 2] if self.part > 1 else None

    @property
    def next(self) -> str | None:
        return self.pages[self.part] if self.part < self.parts else None


@dataclass(frozen=True)
class PageLink:
    """One page of a brief, as the index links it."""

    href: str  # relative to index.html: "preview/brief-001-cold-brew.html", "...#brief-7"
    part: int
    total: int  # ads on the page
    status_counts: dict[str, int]


@dataclass(frozen=True)
class BriefEntry:
    """One brief on the index page: its counts and its pages."""

    brief: Brief
    total: int
    status_counts: dict[str, int]
    pages: tuple[PageLink, ...]


def display_size(width: int, height: int) -> tuple[int, int]:
    """Scale down (never up) into the preview box, keeping the aspect ratio."""
    scale = min(MAX_WIDTH / width, MAX_HEIGHT / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _link(url: str) -> tuple[str | None, str]:
    """The href (None unless http/https) and the host name of a landing URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # malformed (e.g. a broken IPv6 literal): shown as text only
        return None, ""
    return (url if parts.scheme.lower() in LINK_SCHEMES else None), host


def _search_view(search: SearchAd, limits: CopyLimits, host: str) -> SearchView:
    def slots(
        label: str, texts: tuple[str, ...], limit: int, kind: PinField | None
    ) -> tuple[Slot, ...]:
        return tuple(
            Slot(
                f"{label} {i + 1}",
                text,
                textlen.measure(text, limits.width_rule),
                limit,
                search.pin(kind, i) if kind else 0,
            )
            for i, text in enumerate(texts)
        )

    paths = [p for p in (search.path1, search.path2) if p]
    return SearchView(
        display_url="/".join([host, *paths]) if host else "/".join(paths),
        headline=rsa.SEPARATOR.join(rsa.serving_order(search, "headline")),
        description=" ".join(rsa.serving_order(search, "description")),
        headlines=slots("headline", search.headlines, limits.headline_max, "headline"),
        descriptions=slots("description", search.descriptions, limits.body_max, "description"),
        paths=slots("path", (search.path1, search.path2), limits.path_max, None),
    )


def _card(ad: Ad, base: Path) -> Card:
    """``ad`` as a card on a page in ``base``, which its image link is relative to."""
    spec = ad.spec
    placement = spec.placement
    text_only = placement.text_only
    width, height = (0, 0) if text_only else display_size(placement.width, placement.height)
    creative = ad.creative
    href, host = _link(spec.landing_url)
    error = error_text(ad)
    return Card(
        ad=ad,
        name=spec.name,
        audience=spec.audience,
        language=spec.language,
        variant=spec.variant,
        placement=placement.id,
        status=ad.status,
        headline=ad.copy.headline,
        body=ad.copy.body,
        cta=ad.copy.cta,
        disclaimer=ad.disclaimer,
        landing_url=spec.landing_url,
        href=href,
        host=host,
        issues=issues_besides(ad, error),
        error=error,
        draft=ad.draft,
        untranslated=ad.copy.untranslated,
        provider=provider_label(ad),
        # quote(): ad names may hold CJK, spaces or '#', which must not break the link.
        image=quote(relative_link(creative.path, base)) if creative else None,
        width=width,
        height=height,
        text_only=text_only,
        size_kb=round(creative.bytes / 1024) if creative else None,
        search=_search_view(ad.copy.search, placement.limits, host) if ad.copy.search else None,
        round=ad.review.round,
        change=ad.review.change,
        approval=ad.review.approval,
        notes=ad.review.notes,
        alt=alt_text(ad),
    )


def _groups(cards: Sequence[Card], numbers: Mapping[str, int]) -> tuple[BriefGroup, ...]:
    """Group by brief, then placement, in the order they first appear (the plan's order);
    ``numbers``: each brief's position in the run, for its section's anchor."""
    by_brief: dict[str, dict[str, list[Card]]] = {}
    briefs: dict[str, Brief] = {}
    placements: dict[str, Placement] = {}
    for card in cards:
        spec = card.ad.spec
        briefs.setdefault(spec.brief.id, spec.brief)
        placements.setdefault(spec.placement.id, spec.placement)
        by_brief.setdefault(spec.brief.id, {}).setdefault(spec.placement.id, []).append(card)
    return tuple(
        BriefGroup(
            brief=briefs[brief_id],
            placements=tuple(
                PlacementGroup(
                    placement=placements[pid],
                    card_width=max(MIN_CARD_WIDTH, *(c.width for c in group)),
                    cards=tuple(group),
                )
                for pid, group in by_placement.items()
            ),
            anchor=f"brief-{numbers[brief_id]}" if brief_id in numbers else "",
        )
        for brief_id, by_placement in by_brief.items()
    )


def _build_page(
    ads: Sequence[Ad],
    campaign: Campaign,
    out: Path,
    generated_at: datetime,
    round_number: int = 1,
    *,
    nav: PageNav | None = None,
    numbers: Mapping[str, int] | None = None,
) -> Page:
    """What a template sees of ``ads``: one page of the preview (``nav`` says which;
    ``numbers``: brief id -> position in the run), or, without cards, the run as the
    index page's header shows it."""
    base = out / PAGES_DIR if nav else out
    cards = [_card(ad, base) for ad in ads] if nav else []
    text_model, image_model = models_used(ads)
    return Page(
        title=campaign.settings.name,
        brand=campaign.settings.brand,
        source=campaign.source.name,
        generated_at=utc_stamp(generated_at),
        version=__version__,
        provider=providers_used(ads, campaign),
        text_model=text_model,
        image_model=image_model,
        total=len(ads),
        drafts=sum(1 for a in ads if a.draft),
        status_counts=status_counts(ads),
        groups=_groups(cards, numbers or {}),
        languages=tuple(sorted({a.spec.language for a in ads})),
        placements=tuple(dict.fromkeys(a.spec.placement.id for a in ads)),
        round=round_number,
        changes=dict(Counter(a.review.change for a in ads if a.review.change)),
        nav=nav,
    )


def _by_brief(ads: Sequence[Ad]) -> list[tuple[Brief, list[Ad]]]:
    """The ads of each brief, briefs in the order their first ad comes (the plan's)."""
    groups: dict[str, tuple[Brief, list[Ad]]] = {}
    for ad in ads:
        groups.setdefault(ad.spec.brief.id, (ad.spec.brief, []))[1].append(ad)
    return list(groups.values())


def _template_error(detail: str) -> InputError:
    return InputError(
        f"cannot render the preview: {detail}",
        hint="fix the template in --templates DIR/preview/, or run without --templates",
    )


def _render(env: Environment, template: str, **context: object) -> str:
    try:
        return env.get_template(template).render(**context)
    except TemplateError as err:  # syntax, an undefined name, what the sandbox refused
        place = template_place(err) or template
        raise _template_error(f"{place}: {err.message or type(err).__name__}") from err


def render_preview(
    ads: Sequence[Ad],
    summary: RunSummary,
    campaign: Campaign,
    out: Path,
    templates: Path | None = None,
    *,
    generated_at: datetime | None = None,
    round_number: int = 1,
) -> Path:
    """Write the preview: pages of ads under ``out/preview/`` (``adloom.delivery.pages``: a page
    per brief, or several, or small briefs sharing one in a big campaign), and
    ``out/index.html`` (with ``index-2.html`` ... for many briefs) linking them all;
    return the index's path.

    ``generated_at``: when the run was made (the pipeline stamps the preview and the
    workbook with one time; a caller without one gets now);
    ``round_number`` is the review round shown (``adloom review`` writes 2, 3, ...).
    """
    env = template_env(templates, html=True)  # sandboxed: a shared template runs no code
    stamp = generated_at or datetime.now(UTC)
    # Candidates (past the best --keep of their slot) are in the workbook only.
    candidates = sum(1 for a in ads if a.candidate)
    ads = [a for a in ads if not a.candidate]

    def page(part: Sequence[Ad], nav: PageNav, numbers: Mapping[str, int]) -> str:
        built = _build_page(part, campaign, out, stamp, round_number, nav=nav, numbers=numbers)
        return _render(env, INDEX_TEMPLATE, page=built, summary=summary, campaign=campaign)

    entries: list[BriefEntry] = []
    # A generator: each page is written as soon as it is rendered, so a big run's pages
    # are never all in memory at once.
    write_pages(out, out / PAGES_DIR, _pages(_by_brief(ads), page, entries))
    header = _build_page(ads, campaign, out, stamp, round_number)

    def index(part: Sequence[BriefEntry], k: int, n: int) -> str:
        nav = IndexNav(k, n, tuple(index_name(i) for i in range(1, n + 1)))
        return _render(
            env, CONTENTS_TEMPLATE, page=header, entries=part, candidates=candidates,
            summary=summary, campaign=campaign, index=nav, results=results,
        )  # fmt: skip

    results = (out / RESULTS_PAGE).is_file()  # a review round on a folder with results
    parts = fit(entries, index, per_page=ENTRIES_PER_INDEX)
    # Written then renamed: a browser tab reloading mid-run never sees half a page.
    write_pages(out, out, ((index_name(k), html) for k, (_, html) in enumerate(parts, 1)))
    return out / PREVIEW_FILE


def link_results(out: Path, templates: Path | None = None) -> list[str]:
    """Link ``results.html`` from every index page of the preview in ``out``, rendered
    before the results were there; return the pages with no place for the link (made
    with a ``contents.html.j2`` of the user's own, without the markers)."""
    link = _render(template_env(templates, html=True), RESULTS_LINK_TEMPLATE)
    placed = f"<!--adloom:results-->{link}<!--/adloom:results-->"
    missing = []
    for name in written_pages(out, out):
        path = safepath.inside(out, out / name)
        if not name.startswith("index") or not path.is_file():
            continue
        html = path.read_text(encoding="utf-8")
        if not _RESULTS_PLACE.search(html):
            missing.append(name)
        elif (linked := _RESULTS_PLACE.sub(lambda _: placed, html, count=1)) != html:
            safepath.write_bytes(out, out / name, linked.encode("utf-8"))
    return missing


_Page = Callable[[Sequence[Ad], PageNav, Mapping[str, int]], str]


def _pages(
    briefs: Sequence[tuple[Brief, list[Ad]]], page: _Page, entries: list[BriefEntry]
) -> Iterator[tuple[str, str]]:
    """Every page of ads (name, html), in order; each brief's entry for the index is
    added to ``entries`` as its pages are made."""
    numbered = [(number, brief, ads) for number, (brief, ads) in enumerate(briefs, 1)]
    if len(briefs) > SHARED_FROM:
        groups = [numbered[r.start : r.stop] for r in packed([len(a) for _, a in briefs])]
    else:
        groups = [[one] for one in numbered]
    for group in groups:
        yield from _group_pages(group, page, entries)


def _group_pages(
    group: Sequence[tuple[int, Brief, list[Ad]]], page: _Page, entries: list[BriefEntry]
) -> Iterator[tuple[str, str]]:
    """The pages of consecutive briefs: one shared page within the budget, else halves;
    a brief alone has its own pages (more than one when its ads do not fit one)."""
    if len(group) > 1:
        nav = PageNav(f"../{PREVIEW_FILE}", 1, 1, None, None)
        numbers = {brief.id: number for number, brief, _ in group}
        html = page([a for *_, ads in group for a in ads], nav, numbers)
        if not over_budget(html):
            name = quote(shared_name(group[0][0], group[-1][0]))
            for number, brief, ads in group:
                counts = status_counts(ads)
                link = PageLink(f"{PAGES_DIR}/{name}#brief-{number}", 1, len(ads), counts)
                entries.append(BriefEntry(brief, len(ads), counts, (link,)))
            yield shared_name(group[0][0], group[-1][0]), html
            return
        middle = len(group) // 2
        yield from _group_pages(group[:middle], page, entries)
        yield from _group_pages(group[middle:], page, entries)
        return
    ((number, brief, ads),) = group

    def render(part: Sequence[Ad], k: int, n: int) -> str:
        return page(part, _nav(number, brief.id, k, n), {brief.id: number})

    links = []
    for k, (part, html) in enumerate(fit(ads, render), 1):
        name = page_name(number, brief.id, k)
        links.append(PageLink(f"{PAGES_DIR}/{quote(name)}", k, len(part), status_counts(part)))
        yield name, html
    entries.append(BriefEntry(brief, len(ads), status_counts(ads), tuple(links)))


def _nav(number: int, brief_id: str, part: int, parts: int) -> PageNav:
    def link(k: int) -> str | None:
        return quote(page_name(number, brief_id, k)) if 1 <= k <= parts else None

    return PageNav(f"../{PREVIEW_FILE}", part, parts, link(part - 1), link(part + 1))
