"""The preview: one static HTML page that shows every ad as it will run, for review.

The page opens from disk with no server: images are linked relative to the out
folder, CSS is inline, nothing is fetched from the network, and the small filter
script is optional (the page is complete without it). Templates live in
``templates/preview/``; with ``--templates DIR`` a file of the same name in
``DIR/preview/`` replaces any one of them.

Everything that reaches the page is escaped by jinja2's autoescape; landing URLs
are only made into links for http(s), since an escaped ``javascript:`` URL is
still a working link.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)

from adloom import __version__
from adloom.errors import InputError
from adloom.model import Ad, Brief, Campaign, Placement, RunSummary, Status
from adloom.resources import template_dirs

INDEX_TEMPLATE = "preview/index.html.j2"
PREVIEW_FILE = "index.html"

# The box an ad is drawn in: larger creatives scale down to fit it, smaller ones
# (320x50, 300x250) keep their real pixel size so they look as small as they are.
MAX_WIDTH = 480
MAX_HEIGHT = 320
# Narrow creatives (160x600) still get a card wide enough to read their copy.
MIN_CARD_WIDTH = 260

STATUSES: tuple[Status, ...] = ("ok", "failed", "blocked", "filtered", "skipped")
LINK_SCHEMES = ("http", "https")


# ---------------------------------------------------------------- shared with export


def relative_link(path: Path, out: Path) -> str:
    """``path`` relative to the out folder, with ``/`` separators (works on Windows too)."""
    return Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()


def error_text(ad: Ad) -> str:
    """Why an ad has no copy or image: the copy and image errors, without repeats."""
    errors = [ad.copy.error, ad.image.error if ad.image else ""]
    return "; ".join(dict.fromkeys(e for e in errors if e))


def issues_besides(ad: Ad, error: str) -> tuple[str, ...]:
    """The ad's issues without those that restate ``error`` (the pipeline lists it as one)."""
    return tuple(i for i in ad.issues if not (error and error in i))


def problems(ad: Ad) -> tuple[str, ...]:
    """Everything wrong with an ad, once: its issues, led by the error unless one states it."""
    error = error_text(ad)
    if not error or any(error in i for i in ad.issues):
        return ad.issues
    return (error, *ad.issues)


def provider_label(ad: Ad) -> str:
    """``bedrock:<text model>, <image model>``, or just ``draft``: a draft used no model."""
    if ad.draft:
        return "draft"
    models = [m for m in (ad.copy.model, ad.image.model if ad.image else "") if m]
    return ":".join([ad.provider, ", ".join(dict.fromkeys(models))]) if models else ad.provider


def models_used(ads: Sequence[Ad]) -> tuple[str, str]:
    """The text and image models the ads were made with (drafts were made with none)."""
    text = dict.fromkeys(a.copy.model for a in ads if a.copy.model and not a.copy.draft)
    image = dict.fromkeys(
        a.image.model for a in ads if a.image and a.image.model and not a.image.draft
    )
    return ", ".join(text), ", ".join(image)


def providers_used(ads: Sequence[Ad], campaign: Campaign) -> str:
    return ", ".join(dict.fromkeys(a.provider for a in ads if a.provider)) or (
        campaign.settings.provider
    )


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- what the templates see


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
    provider: str
    image: str | None  # URL relative to index.html
    width: int  # display size, at the placement's true aspect ratio
    height: int
    text_only: bool
    size_kb: int | None


@dataclass(frozen=True)
class PlacementGroup:
    placement: Placement
    card_width: int
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class BriefGroup:
    brief: Brief
    placements: tuple[PlacementGroup, ...]

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


def _card(ad: Ad, out: Path) -> Card:
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
        provider=provider_label(ad),
        # quote(): ad names may hold CJK, spaces or '#', which must not break the link.
        image=quote(relative_link(creative.path, out)) if creative else None,
        width=width,
        height=height,
        text_only=text_only,
        size_kb=round(creative.bytes / 1024) if creative else None,
    )


def _groups(cards: Sequence[Card]) -> tuple[BriefGroup, ...]:
    """Group by brief, then placement, in the order they first appear (the plan's order)."""
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
        )
        for brief_id, by_placement in by_brief.items()
    )


def build_page(ads: Sequence[Ad], campaign: Campaign, out: Path, generated_at: datetime) -> Page:
    cards = [_card(ad, out) for ad in ads]
    text_model, image_model = models_used(ads)
    counts = {s: sum(1 for a in ads if a.status == s) for s in STATUSES}
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
        status_counts={s: n for s, n in counts.items() if n},
        groups=_groups(cards),
        languages=tuple(sorted({c.language for c in cards})),
        placements=tuple(dict.fromkeys(c.placement for c in cards)),
    )


def _template_error(detail: str) -> InputError:
    return InputError(
        f"cannot render the preview: {detail}",
        hint="fix the template in --templates DIR/preview/, or run without --templates",
    )


def render_preview(
    ads: Sequence[Ad],
    summary: RunSummary,
    campaign: Campaign,
    out: Path,
    templates: Path | None = None,
    *,
    generated_at: datetime | None = None,
) -> Path:
    """Write ``out/index.html`` and return its path.

    ``generated_at`` lets the CLI stamp the preview and the workbook with one time.
    """
    env = Environment(
        loader=FileSystemLoader(template_dirs(templates)),
        autoescape=True,
        # A typo in a (user) template fails loudly instead of rendering blanks.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page = build_page(ads, campaign, out, generated_at or datetime.now(UTC))
    try:
        html = env.get_template(INDEX_TEMPLATE).render(
            page=page, summary=summary, campaign=campaign
        )
    except TemplateSyntaxError as err:
        raise _template_error(
            f"{err.filename or err.name}, line {err.lineno}: {err.message}"
        ) from err
    except TemplateError as err:
        raise _template_error(str(err)) from err
    out.mkdir(parents=True, exist_ok=True)
    path = out / PREVIEW_FILE
    # Write then rename: a browser tab reloading mid-run never sees half a page.
    tmp = path.with_name(f".{PREVIEW_FILE}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
