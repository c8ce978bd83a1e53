"""The data shapes that pass one way through the pipeline.

    read  -> Campaign
    plan  -> Plan (CopyJob, ImageJob, AdSpec)
    generate -> CopyResult / ImageResult (through a provider and the journal)
    compose  -> Creative
    render / export read the Ads assembled from all of the above

All are frozen dataclasses: a stage never mutates what an earlier stage produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from adloom.errors import Problem
from adloom.naming import slugify

WidthRule = Literal["chars", "double_width"]
"""How a platform counts copy length: grapheme clusters, or CJK/full-width as 2."""


@dataclass(frozen=True)
class CopyLimits:
    """Text limits shared by placements; one copy job serves every placement with equal limits."""

    headline_max: int
    body_max: int
    cta_max: int
    width_rule: WidthRule = "chars"

    @property
    def id(self) -> str:
        rule = "w" if self.width_rule == "double_width" else "c"
        return f"h{self.headline_max}-b{self.body_max}-c{self.cta_max}-{rule}"


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
    # Fractions of the height kept free of copy (Stories: UI chrome at top and bottom).
    safe_top: float = 0.0
    safe_bottom: float = 0.0
    text_only: bool = False
    source: str = ""

    @property
    def limits(self) -> CopyLimits:
        return CopyLimits(self.headline_max, self.body_max, self.cta_max, self.width_rule)

    @property
    def aspect(self) -> float:
        return self.width / self.height


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


@dataclass(frozen=True)
class Audience:
    id: str
    description: str = ""


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
    placements: tuple[str, ...] = ()  # empty: the campaign's
    languages: tuple[str, ...] = ()  # empty: the campaign's
    # Columns adloom does not know, kept so the export carries them through. Not part
    # of equality/hash: they never change what is generated.
    extra: Mapping[str, str] = field(default_factory=dict, compare=False)
    row: int = 0  # spreadsheet row, for messages


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
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    naming: str = "{campaign}_{brief}_{audience}_{language}_{placement}_v{variant}"
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

    def placements_for(self, brief: Brief) -> tuple[Placement, ...]:
        ids = brief.placements or self.settings.placements
        return tuple(self.placements[i] for i in ids)

    def languages_for(self, brief: Brief) -> tuple[str, ...]:
        return brief.languages or self.settings.languages


# ---------------------------------------------------------------- plan


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

    @property
    def label(self) -> str:
        return (
            f"{self.brief.id}/{self.audience.id}/{self.language}/v{self.variant}/{self.limits.id}"
        )


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

    @property
    def label(self) -> str:
        return f"{self.brief.id}/{self.audience.id}/v{self.variant}/{self.aspect}"


Job = CopyJob | ImageJob


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


@dataclass(frozen=True)
class Plan:
    campaign: Campaign
    copy_jobs: tuple[CopyJob, ...]
    image_jobs: tuple[ImageJob, ...]
    ads: tuple[AdSpec, ...]
    text_model: str
    image_model: str


# ---------------------------------------------------------------- generate

Status = Literal["ok", "failed", "blocked", "filtered", "skipped"]


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class CopyResult:
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
    issues: tuple[str, ...] = ()  # rule violations left after repair, delivered flagged
    attempts: int = 1  # copy requests made for this job, repairs included


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


# ---------------------------------------------------------------- compose / deliver


@dataclass(frozen=True)
class Creative:
    """A finished ad image on disk, measured."""

    path: Path
    width: int
    height: int
    bytes: int
    issues: tuple[str, ...] = ()


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

    @property
    def draft(self) -> bool:
        return self.copy.draft or bool(self.image and self.image.draft)


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

    def as_json(self) -> dict[str, object]:
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
            "cost_usd": round(self.cost_usd, 6),
            "tokens": {"input": self.input_tokens, "output": self.output_tokens},
            "not_generated": self.not_generated,
            "not_generated_cost_usd": round(self.not_generated_cost_usd, 6),
            "warnings": list(self.warnings),
        }
