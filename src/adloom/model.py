"""The data shapes that pass one way through the pipeline.

    read  -> Campaign
    plan  -> Plan (CopyJob, ImageJob, AdSpec)
    generate -> CopyResult / ImageResult (through a provider and the journal)
    compose  -> Creative
    render / export read the Ads assembled from all of the above

All are frozen dataclasses: a stage never mutates what an earlier stage produced.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from adloom.errors import Problem
from adloom.naming import slugify

WidthRule = Literal["chars", "double_width"]
"""How a platform counts copy length: grapheme clusters, or CJK/full-width as 2."""


@dataclass(frozen=True)
class CopyLimits:
    """Text limits shared by placements; one copy job serves every placement with equal limits.

    A *responsive* ad (Google's responsive search ad) is written as pools: up to
    ``headline_count`` headlines and ``description_count`` descriptions (the body
    limit applies to each), and two display-URL paths of ``path_max``; it has no CTA.
    """

    headline_max: int
    body_max: int
    cta_max: int
    width_rule: WidthRule = "chars"
    headline_count: int = 1
    description_count: int = 1
    path_max: int = 0

    @property
    def responsive(self) -> bool:
        return self.headline_count > 1 or self.description_count > 1

    @property
    def id(self) -> str:
        rule = "w" if self.width_rule == "double_width" else "c"
        base = f"h{self.headline_max}-b{self.body_max}-c{self.cta_max}-{rule}"
        if self.responsive:
            return f"{base}-{self.headline_count}x{self.description_count}-p{self.path_max}"
        return base


@dataclass(frozen=True)
class Placement:
    id: str
    platform: str
    width: int
    height: int
    headline_max: int
    body_max: int
    cta_max: int
    max_kb: int
    width_rule: WidthRule = "chars"
    # Fractions of the height kept free of copy (Stories: UI chrome at top and bottom;
    # a crop).
    safe_top: float = 0.0
    safe_bottom: float = 0.0
    text_only: bool = False
    source: str = ""
    fit: Fit | None = None  # the Placements sheet's ``fit``; None: the campaign's
    # Responsive search ads: how many headlines and descriptions, and the path limit.
    headline_count: int = 1
    description_count: int = 1
    path_max: int = 0
    # Fractions of the width kept free of copy at each side: a platform that crops the
    # picture (Yahoo! JAPAN's responsive display ads, up to 15% a side) or covers a side
    # with its interface (TikTok's buttons on the right).
    safe_left: float = 0.0
    safe_right: float = 0.0

    @property
    def limits(self) -> CopyLimits:
        return CopyLimits(
            self.headline_max,
            self.body_max,
            self.cta_max,
            self.width_rule,
            self.headline_count,
            self.description_count,
            self.path_max,
        )

    @property
    def aspect(self) -> float:
        return self.width / self.height


Fit = Literal["auto", "crop", "outpaint", "pad"]
"""How a master becomes a placement of another shape (docs/brief-format.md, *fit*): cut
to it (``crop``), extended by the image service and then cut exactly (``outpaint``),
set whole on its own blurred edges (``pad``, no model), or ``auto``: extended where a
crop would cut the subject or lose too much of the picture (``creative.fit``), else cut."""
FITS: tuple[Fit, ...] = ("auto", "crop", "outpaint", "pad")


@dataclass(frozen=True)
class BrandKit:
    primary_color: str = "#1F3A93"
    secondary_color: str = "#F5A623"
    text_color: str = "#FFFFFF"
    font: Path | None = None
    logo: Path | None = None
    voice: str = ""
    banned_words: tuple[str, ...] = ()
    disclaimer: str = ""
    # Brand policies a judge checks each ad against ("never show a drink in a moving car").
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Audience:
    id: str
    description: str = ""


PinField = Literal["headline", "description"]
# The most headlines and descriptions a responsive search ad takes, Google's and
# Microsoft's alike (``copy.rsa``; the platforms' upload columns).
MAX_HEADLINES = 15
MAX_DESCRIPTIONS = 4


@dataclass(frozen=True)
class Pin:
    """Supplied search-ad copy pinned to a position (headline 1-3, description 1-2)."""

    field: PinField
    position: int
    text: str


@dataclass(frozen=True)
class BriefImage:
    """One of the brand's own pictures a brief supplies (Briefs column ``images``)."""

    path: Path  # resolved, checked readable within the image limits
    aspect: str = ""  # "9:16": only for that aspect family; "": for any


ImageKind = Literal["generated", "composite", "own"]
"""How a creative's picture was made (IPTC DigitalSourceType, docs/output.md): fully by
an image model, the brand's product composited on a generated scene, or the brand's
own photo."""

IPTC_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC Digital Source Type terms (cv.iptc.org/newscodes/digitalsourcetype, 2024-09):
# a model's picture is trainedAlgorithmicMedia, the real product set on one is
# compositeWithTrainedAlgorithmicMedia (the two Meta reads as AI markers); the draft
# provider's procedural art is algorithmicMedia (no training data); a real photo (the
# brand's own, or a packshot on draft art) with adloom's type and logo laid over it is
# compositeSynthetic ("several elements, at least one of which is synthetic": the
# typography, not a model's).
_SOURCE_TYPES: Mapping[tuple[ImageKind, bool], str] = {
    ("generated", False): "trainedAlgorithmicMedia",
    ("composite", False): "compositeWithTrainedAlgorithmicMedia",
    ("own", False): "compositeSynthetic",
    ("generated", True): "algorithmicMedia",
    ("composite", True): "compositeSynthetic",
    ("own", True): "compositeSynthetic",
}
AI_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})


def source_type(kind: ImageKind, draft: bool) -> str:
    """The IPTC DigitalSourceType term (without its URI prefix) of a creative's picture."""
    return _SOURCE_TYPES[kind, draft]


@dataclass(frozen=True)
class Brief:
    id: str
    product: str
    message: str
    audiences: tuple[str, ...] = ("general",)
    benefits: tuple[str, ...] = ()
    tone: str = ""
    cta: str = ""
    landing_url: str = ""
    image_prompt: str = ""
    headline: str = ""  # supplied by the marketer: used as given, never generated
    disclaimer: str = ""
    pins: tuple[Pin, ...] = ()  # search-ad copy the marketer pins (pin_headline_1, ...)
    placements: tuple[str, ...] = ()  # empty: the campaign's
    languages: tuple[str, ...] = ()  # empty: the campaign's
    category: str = ""  # what is advertised, for the law that binds it (rulepacks.CATEGORIES)
    # What backs a claim the copy may make: (claim, basis), e.g. ("最安", "2026年11月 自社調べ").
    evidence: tuple[tuple[str, str], ...] = ()
    # Fields the marketer wrote in one language (``message@ja``): (language, field, text).
    localized: tuple[tuple[str, str, str], ...] = ()
    images: tuple[BriefImage, ...] = ()  # the brand's own photos: no image generation
    product_image: Path | None = None  # a packshot composited on generated scenes
    # Columns adloom does not know, kept so the export carries them through. Not part
    # of equality/hash: they never change what is generated.
    extra: Mapping[str, str] = field(default_factory=dict, compare=False)
    row: int = 0  # spreadsheet row, for messages
    # Each field's cell ("Briefs!K7"), so a later stage (lint) names it without
    # reopening the file.
    cells: Mapping[str, str] = field(default_factory=dict, compare=False)

    def written_in(self, language: str) -> bool:
        """Whether the marketer wrote any of this brief's copy fields in ``language``."""
        return any(lang == language for lang, _, _ in self.localized)

    def in_language(self, language: str) -> Brief:
        """This brief as the source for ``language``: its ``field@language`` cells in
        place of the unsuffixed ones (the rest kept). Benefits are one per line."""
        changes: dict[str, object] = {}
        for lang, name, text in self.localized:
            if lang == language:
                changes[name] = tuple(text.split("\n")) if name == "benefits" else text
        return replace(self, **changes) if changes else self  # type: ignore[arg-type]


LOCALIZED_FIELDS = ("product", "message", "benefits", "tone", "cta", "headline", "disclaimer")
"""Briefs fields a marketer may write per language (``message@ja``)."""


@dataclass(frozen=True)
class GlossaryTerm:
    """A term that must be written one way in each language (the Glossary sheet)."""

    term: str  # as the sheet's term column has it
    spellings: tuple[tuple[str, str], ...]  # (language, how it must be written)
    avoid: tuple[str, ...] = ()  # spellings that are wrong in every language
    where: str = ""  # its row, "Glossary!A3"

    def required(self, language: str) -> str:
        return next((text for lang, text in self.spellings if lang == language), "")

    def others(self, language: str) -> tuple[str, ...]:
        """Spellings that, in ``language``'s copy, mean the term was written wrongly."""
        wanted = self.required(language)
        candidates = [
            self.term,
            *(t for lang, t in self.spellings if lang != language),
            *self.avoid,
        ]
        return tuple(dict.fromkeys(c for c in candidates if c and c != wanted))


@dataclass(frozen=True)
class Settings:
    name: str
    brand: str
    languages: tuple[str, ...] = ("en",)
    variants: int = 3
    placements: tuple[str, ...] = ()
    text_model: str = ""
    image_model: str = ""
    max_cost_usd: float | None = None
    provider: str = ""
    tier: str = ""  # Bedrock service tier: default, flex or priority; "": default
    keep: int | None = None  # the best K ads per slot delivered, the rest candidates
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    naming: str = "{campaign}_{brief}_{audience}_{language}_{placement}_v{variant}"
    # Rule sets of the Japanese pack switched off by name (``rules.off``; rulepacks.SETS).
    rules_off: tuple[str, ...] = ()
    source_language: str = "en"  # the language of the Briefs' unsuffixed fields
    # PEM certificate chain and private key: every creative gets a signed C2PA manifest.
    signing_cert: Path | None = None
    signing_key: Path | None = None
    fit: Fit = "auto"  # each placement's unless its own ``fit`` says otherwise
    # The AWS region image requests (generation and outpaint) go to; "": the run's.
    image_region: str = ""
    # Settings adloom does not model as fields, e.g. ``quota.<model>.tpm``.
    extra: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def slug(self) -> str:
        return slugify(self.name)


@dataclass(frozen=True)
class Campaign:
    settings: Settings
    briefs: tuple[Brief, ...]
    audiences: Mapping[str, Audience]
    brand: BrandKit
    placements: Mapping[str, Placement]  # every placement known (built-in + sheet)
    source: Path
    warnings: tuple[Problem, ...] = ()
    extra_columns: tuple[str, ...] = ()  # unknown Briefs columns, in sheet order
    # Where each setting came from ("Campaign!B3", "--set"), for messages of later stages.
    cells: Mapping[str, str] = field(default_factory=dict)
    glossary: tuple[GlossaryTerm, ...] = ()

    def placements_for(self, brief: Brief) -> tuple[Placement, ...]:
        ids = brief.placements or self.settings.placements
        return tuple(self.placements[i] for i in ids)

    def languages_for(self, brief: Brief) -> tuple[str, ...]:
        return brief.languages or self.settings.languages


# ---------------------------------------------------------------- plan


@dataclass(frozen=True)
class Example:
    """A piece of copy that won when it ran (``adloom.results``), shown to the copy model."""

    headline: str
    body: str
    cta: str
    evidence: str  # how it did, in words: "CTR 3.1% (2.6-3.7%) over 12,000 impressions"


@dataclass(frozen=True)
class Lessons:
    """What the last round's results teach a copy job that is written again
    (``adloom run --learn-from``): the winners' copy and the style guide."""

    examples: tuple[Example, ...]
    style_guide: str


@dataclass(frozen=True)
class Adaptation:
    """An approved ad's copy, the source a copy job adapts for another market
    (``adloom localize``): transcreated, not translated word for word."""

    language: str  # the approved ad's language
    # Its copy by field, in order: headline, body, cta; a search ad's slots
    # ("headline 1", ..., "path 2"), as the workbook names them. Empty fields left out.
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CopyJob:
    """One piece of copy to write: (brief, audience, language, variant, copy limits)."""

    brief: Brief
    audience: Audience
    language: str
    variant: int  # 1-based
    limits: CopyLimits
    placements: tuple[str, ...]
    model: str
    brand: BrandKit
    campaign: str
    # What the model is told besides the brief: the rules of law and platform this copy
    # is checked against (rulepacks.prompt_lines), and the glossary's (term, spelling).
    rules: tuple[str, ...] = ()
    glossary: tuple[tuple[str, str], ...] = ()
    lessons: Lessons | None = None  # --learn-from: part of the prompt, so of the journal key
    source: Adaptation | None = None  # adloom localize: the approved copy to adapt

    @property
    def label(self) -> str:
        return (
            f"{self.brief.id}/{self.audience.id}/{self.language}/v{self.variant}/{self.limits.id}"
        )


@dataclass(frozen=True)
class CutoutJob:
    """A packshot whose background only a model can remove (neither transparent nor on
    a plain background): one per distinct file, whatever the number of ads."""

    path: Path  # the brief's product_image
    model: str  # the remove-background model (the registry's ``cutout`` default)
    where: str  # its cell, "Briefs!P4", for messages

    @property
    def label(self) -> str:
        return f"cut-out {self.path.name}"


@dataclass(frozen=True)
class Shape:
    """A placement as its master sees it: its size and how it is fitted."""

    placement: str
    width: int
    height: int
    fit: Fit


@dataclass(frozen=True)
class OutpaintJob:
    """One master extended to cover the shapes it cannot be cut to whole: one per
    (concept, aspect family) that needs it. The provider decides the pixels to add on
    each side (``aspects.scaled_extension``, within what its service takes)."""

    master: ImageJob
    source: Path  # the master's file
    digest: str  # SHA-256 of the source file: part of the request key
    width: int  # the source's size
    height: int
    aspects: tuple[float, ...]  # width / height of each shape the result must cover
    placements: tuple[str, ...]  # the placement ids composed from the extended master
    model: str

    @property
    def label(self) -> str:
        return f"{self.master.label}/outpaint"


@dataclass(frozen=True)
class ImageJob:
    """One master image: (brief, audience, variant, aspect family)."""

    brief: Brief
    audience: Audience
    variant: int
    width: int
    height: int
    aspect: str  # "1:1", "9:16", ...
    seed: int
    model: str
    brand: BrandKit
    source: Path | None = None  # the brand's own photo that is this master: no request
    # The model cut-out its brief's packshot needs (a busy background), made once per
    # packshot and set on this master; None: cut out locally, or no packshot.
    cutout: CutoutJob | None = None
    # The placements composed from this master: (id, width, height, fit as resolved).
    shapes: tuple[Shape, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.brief.id}/{self.audience.id}/v{self.variant}/{self.aspect}"

    @property
    def kind(self) -> ImageKind:
        if self.source is not None:
            return "own"
        return "composite" if self.brief.product_image is not None else "generated"


@dataclass(frozen=True)
class AdSpec:
    """One finished ad to deliver: the cross of a copy job and a placement."""

    name: str
    brief: Brief
    audience: str
    language: str
    variant: int
    placement: Placement
    copy_job: CopyJob
    image_job: ImageJob | None  # None for text-only placements
    landing_url: str  # with UTM parameters
    adapted_from: str = ""  # adloom localize: the approved ad this one adapts, by name


@dataclass(frozen=True)
class Plan:
    campaign: Campaign
    copy_jobs: tuple[CopyJob, ...]
    image_jobs: tuple[ImageJob, ...]
    ads: tuple[AdSpec, ...]
    text_model: str
    image_model: str
    cutouts: tuple[CutoutJob, ...] = ()  # packshots sent to a remove-background model
    # Extends masters where a placement's fit asks for it; "": no placement can need it.
    outpaint_model: str = ""


# ---------------------------------------------------------------- generate

# ``flagged``: written, but breaking a rule a platform enforces (``adloom.copy.verdict``):
# shown for review, never written to a platform upload file.
Status = Literal["ok", "flagged", "failed", "blocked", "filtered", "skipped"]


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0  # not read from or written to a prompt cache
    output_tokens: int = 0
    cost_usd: float = 0.0
    cache_read_tokens: int = 0  # input tokens read from the prompt cache
    cache_write_tokens: int = 0  # input tokens written to it
    cache_saved_usd: float = 0.0  # what the same tokens cost without caching, minus cost_usd

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cost_usd + other.cost_usd,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cache_saved_usd + other.cache_saved_usd,
        )


# No model in the registry takes ten million tokens, or charges $1,000, for one answer:
# a number past these is wrong, whoever reported it.
MAX_TOKENS = 10_000_000
MAX_COST_USD = 1_000.0
_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def checked_usage(usage: Usage, worst_usd: float) -> tuple[Usage, str]:
    """``usage`` if its numbers can be believed, with ""; else the request's worst case
    (what was reserved for it) as its cost, and why. Every answer's usage comes here
    through the journal (``Journal.record`` and ``lookup``), from the service, a batch
    line, a plugin or the journal itself, before the budget counts it: a NaN or a
    negative cost can never switch the budget off."""
    wrong = [
        f"{name} {value!r}"
        for name, value in vars(usage).items()
        if not _believable(value, name in _TOKENS, signed=name == "cache_saved_usd")
    ]
    if not wrong:
        return usage, ""
    worst = worst_usd if _believable(worst_usd, False, signed=False) else MAX_COST_USD
    reason = f"usage not believable ({', '.join(wrong)}): charged its worst case, ${worst:.4f}"
    return Usage(cost_usd=worst), reason


def _believable(value: object, tokens: bool, *, signed: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not math.isfinite(value) or (tokens and value != int(value)):
        return False
    top = MAX_TOKENS if tokens else MAX_COST_USD
    return (-top if signed else 0) <= value <= top


@dataclass(frozen=True)
class SearchAd:
    """The copy of a responsive search ad: pools Google combines at serving time.

    ``headline_pins``/``description_pins`` give each one's pinned position, aligned
    with ``headlines``/``descriptions`` (0, or absent at the end: not pinned).
    """

    headlines: tuple[str, ...]
    descriptions: tuple[str, ...]
    path1: str = ""
    path2: str = ""
    headline_pins: tuple[int, ...] = ()
    description_pins: tuple[int, ...] = ()

    def pin(self, kind: PinField, index: int) -> int:
        pins = self.headline_pins if kind == "headline" else self.description_pins
        return pins[index] if index < len(pins) else 0


@dataclass(frozen=True)
class CopyResult:
    """Written copy. A search ad's is in ``search``; its first headline and description
    are also ``headline`` and ``body``, for what shows one of each (near-duplicate
    checks, the workbook's Variants sheet)."""

    job: CopyJob
    status: Status
    headline: str = ""
    body: str = ""
    cta: str = ""
    error: str = ""
    usage: Usage = Usage()
    cached: bool = False
    draft: bool = False
    model: str = ""
    issues: tuple[str, ...] = ()  # rule violations left after repair, or search slots dropped
    attempts: int = 1  # copy requests made for this job, repairs included
    search: SearchAd | None = None
    # Offline draft copy for a language no one wrote the brief in: the source language's
    # words, labelled so they are never taken for this language's ad.
    untranslated: bool = False


@dataclass(frozen=True)
class ImageResult:
    job: ImageJob
    status: Status
    path: Path | None = None  # the master image file in the out dir
    error: str = ""
    usage: Usage = Usage()
    cached: bool = False
    draft: bool = False
    model: str = ""
    # The product cut-out set on this master when a model made it (``CutoutJob``);
    # None: the brief's packshot, cut out locally at compose.
    product: Path | None = None
    # The placements to compose from the master extended by the outpaint model (its own
    # file, ``extended``) instead of ``path``; empty when none needed it. Without
    # ``extended`` the outpaint failed (``extend_error``): they are cropped, and say so.
    extended_for: tuple[str, ...] = ()
    extended: Path | None = None
    extend_error: str = ""

    def master_for(self, placement: str) -> Path | None:
        """The file ``placement`` is composed from."""
        if self.extended is not None and placement in self.extended_for:
            return self.extended
        return self.path

    def source_type_for(self, placement: str) -> str:
        """The IPTC DigitalSourceType of ``placement``'s picture composed from this
        master: the brand's photo extended by a model is a real photo composited with
        generated parts."""
        outpainted = self.extended is not None and placement in self.extended_for
        kind: ImageKind = "composite" if outpainted and self.job.kind == "own" else self.job.kind
        return source_type(kind, self.draft)


# ---------------------------------------------------------------- compose / deliver


CheckValue = float | int | str | tuple[int, ...] | tuple[str, ...] | None
"""One number (or list of names, or box) a creative check measured: JSON as journalled."""
Cell = str | int | float
BadgeState = Literal["ok", "bad", "fixed", ""]


@dataclass(frozen=True)
class Badge:
    """A check's badge on the preview's card: its text, tooltip and colour."""

    text: str
    title: str
    state: BadgeState = ""  # "" : a plain report, neither good nor bad


@dataclass(frozen=True)
class Finding:
    """What one creative check (``creative/measures/``) makes of what it measured, by
    name: the workbook cells it fills, its badge, whether it holds the ad back."""

    check: str
    cells: Mapping[str, Cell]  # workbook column -> value
    badge: Badge | None = None
    holds: bool = False


@dataclass(frozen=True)
class CreativeChecks:
    """What the checks measured on a composed image (``values``, journalled) and each
    check's finding, in the checks' order (docs/output.md, columns)."""

    values: Mapping[str, CheckValue]
    findings: tuple[Finding, ...]

    @property
    def holds_back(self) -> bool:
        """Text a viewer cannot read (too faint, too small, under the platform's UI)."""
        return any(f.holds for f in self.findings)

    def cells(self) -> dict[str, Cell]:
        """Every check's workbook cells, by column name."""
        return {name: value for f in self.findings for name, value in f.cells.items()}


@dataclass(frozen=True)
class Creative:
    """A finished ad image on disk, measured."""

    path: Path
    width: int
    height: int
    bytes: int
    issues: tuple[str, ...] = ()
    checks: CreativeChecks | None = None
    # The workbook's thumbnail, made by compose from the same pixels (adloom.thumbs);
    # None when not made with it (a creative from the journal or a review round).
    thumb: Path | None = None


Change = Literal["", "regenerated", "edited", "retried", "localized"]


@dataclass(frozen=True)
class ReviewMark:
    """Where an ad stands in the review rounds (``adloom review``, docs/review.md)."""

    round: int = 1  # the round this ad's copy and image were made in
    change: Change = ""  # what the latest review round did to it
    approval: str = ""  # "Approved", "Rejected" or "": the reviewer's decision
    notes: str = ""  # the reviewer's notes, carried into the next round


@dataclass(frozen=True)
class Ad:
    """Everything the preview and the export show for one ad."""

    spec: AdSpec
    copy: CopyResult
    image: ImageResult | None
    creative: Creative | None
    disclaimer: str
    status: Status
    issues: tuple[str, ...]
    provider: str
    review: ReviewMark = ReviewMark()
    score: Score | None = None  # with --score

    @property
    def source_type(self) -> str:
        """The IPTC DigitalSourceType of the ad's picture; "" without one."""
        return self.image.source_type_for(self.spec.placement.id) if self.image else ""

    @property
    def ai_generated(self) -> bool:
        """Whether the ad's picture holds imagery an AI model made (docs/output.md)."""
        return self.source_type in AI_SOURCE_TYPES

    candidate: bool = False  # with --keep: not among the best K of its slot

    @property
    def draft(self) -> bool:
        return self.copy.draft or bool(self.image and self.image.draft)


# What a judge rates, each 1-5 with one sentence why (docs/output.md, "Scores").
RUBRIC = (
    "message_clear",
    "fits_audience",
    "brand_voice",
    "call_to_action",
    "copy_and_picture",
    "policy_risk",
)


@dataclass(frozen=True)
class Criterion:
    name: str  # one of RUBRIC
    score: int  # 1-5
    why: str


@dataclass(frozen=True)
class Score:
    """How good an ad is, and why: a judge model's rating, or the draft heuristic's."""

    overall: float  # 1-5
    criteria: tuple[Criterion, ...]
    policy_issues: tuple[str, ...] = ()  # brand policies the judge saw broken
    judge: str = ""  # the judge model's id, or "heuristic" for the offline draft score
    heuristic: bool = False  # True: a transparent rule-based score, not a model's opinion
    # The judge's description of the creative as it saw it, for screen readers (at most
    # ALT_MAX characters); "" when it saw no picture.
    alt_text: str = ""


ALT_MAX = 125  # characters: screen readers and the platforms' alt fields cut beyond


def short_alt(text: str) -> str:
    """``text`` on one line within ``ALT_MAX`` characters, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= ALT_MAX:
        return text
    cut = text[: ALT_MAX - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


@dataclass(frozen=True)
class BatchJobReport:
    """What became of one job, for the summary."""

    name: str
    job_id: str
    model: str
    status: str
    records: int
    answered: int
    on_demand: int  # errored or missing records sent on-demand instead
    message: str = ""
    # The job's manifest.json.out: the service's own counts of records and tokens.
    manifest: Mapping[str, int] = field(default_factory=dict)
    skipped_lines: int = 0  # output lines that were no answer of the job's (not read)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "job_id": self.job_id,
            "model": self.model,
            "status": self.status,
            "records": self.records,
            "answered": self.answered,
            "on_demand": self.on_demand,
            "message": self.message,
            "manifest": dict(self.manifest),
            "skipped_lines": self.skipped_lines,
        }


# The unit a model is paced on (engine/quotas.py), here so a run's summary can name it.
Unit = Literal["tpm", "ipm"]
UNITS: dict[str, str] = {"tpm": "tokens/min", "ipm": "images/min"}


@dataclass(frozen=True)
class Source:
    """The quota a model is paced at, and where it came from."""

    model: str
    unit: Unit
    per_minute: int  # 0: no quota known, not paced
    source: Literal["setting", "account", "registry"]
    detail: str  # the setting's place, the account's quota name, or "registry default"

    def as_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "unit": self.unit,
            "per_minute": self.per_minute,
            "source": self.source,
            "detail": self.detail,
        }

    def line(self) -> str:
        amount = f"{self.per_minute:,} {UNITS[self.unit]}" if self.per_minute else "no limit"
        origin = {"setting": "set by", "account": "account:", "registry": "from the"}[self.source]
        return f"{self.model}: {amount} ({origin} {self.detail})"


@dataclass(frozen=True)
class RunSummary:
    campaign: str
    out: Path
    preview: Path
    workbook: Path
    variants: int
    creatives: int
    model_calls_text: int
    model_calls_image: int
    cache_hits: int
    failed: int
    cost_usd: float
    input_tokens: int
    output_tokens: int
    not_generated: int = 0
    not_generated_cost_usd: float = 0.0
    warnings: tuple[str, ...] = ()
    # ``adloom review`` only: the round written and its counts (approved, rejected, ...).
    review: Mapping[str, int] = field(default_factory=dict)
    quotas: tuple[Source, ...] = ()  # the quota each model was paced at, and its source
    flagged: int = 0  # ads held back from the platform files until a person fixes them
    # Prompt caching this run: input tokens read from / written to the cache, and what
    # it saved against the same tokens uncached; answers per service tier served.
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_saved_usd: float = 0.0
    tiers: Mapping[str, int] = field(default_factory=dict)
    # --score: how many ads were scored, their average, by what judge (score.summary).
    scores: Mapping[str, object] = field(default_factory=dict)
    batch_jobs: tuple[BatchJobReport, ...] = ()  # --mode batch: what became of each job
    # What a provider plugin did wrong (providers.guard), each once: the run exits 3.
    provider_faults: tuple[str, ...] = ()
    # The creative checks by name: how many creatives each held back (with creatives).
    checks: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        extra: dict[str, object] = {"review": dict(self.review)} if self.review else {}
        if self.provider_faults:
            extra["provider_faults"] = list(self.provider_faults)
        if self.scores:
            extra["scores"] = dict(self.scores)
        if self.batch_jobs:
            extra["batch_jobs"] = [job.as_json() for job in self.batch_jobs]
        if self.checks:
            extra["checks"] = dict(self.checks)
        return {
            "campaign": self.campaign,
            "out": str(self.out),
            "preview": str(self.preview),
            "workbook": str(self.workbook),
            "variants": self.variants,
            "creatives": self.creatives,
            "model_calls": {"text": self.model_calls_text, "image": self.model_calls_image},
            "cache_hits": self.cache_hits,
            "failed": self.failed,
            "flagged": self.flagged,
            "cost_usd": round(self.cost_usd, 6),
            "tokens": {"input": self.input_tokens, "output": self.output_tokens},
            "prompt_cache": {
                "read_tokens": self.cache_read_tokens,
                "write_tokens": self.cache_write_tokens,
                "saved_usd": round(self.cache_saved_usd, 6),
            },
            "tiers": dict(self.tiers),
            "not_generated": self.not_generated,
            "not_generated_cost_usd": round(self.not_generated_cost_usd, 6),
            "warnings": list(self.warnings),
            "quotas": [q.as_json() for q in self.quotas],
            **extra,
        }
