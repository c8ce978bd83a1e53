"""Realistic campaigns and finished ads for tests of the later stages, with real image files.

``sample_run(tmp_path)`` gives a small run the way the pipeline hands it to render and
export: two briefs (one in English and Japanese), two audiences, two variants, image
placements of very different shapes, a text-only placement, drafts, failures and lint
issues. The pieces (``make_campaign``, ``make_ad``, ``make_summary``) build anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from PIL import Image, ImageDraw

from adloom.brief.placements import builtin_placements
from adloom.model import (
    Ad,
    AdSpec,
    Audience,
    BrandKit,
    Brief,
    Campaign,
    CopyJob,
    CopyResult,
    Creative,
    ImageJob,
    ImageResult,
    Placement,
    RunSummary,
    SearchAd,
    Settings,
    Status,
    Usage,
)
from adloom.naming import ad_name, with_utm

TEXT_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
IMAGE_MODEL = "amazon.nova-canvas-v1:0"

# A plain text-only placement (no image, a CTA limit, no headline pools), so render and
# export tests see a text ad without the search-ad shape of the built-in google_rsa.
TEXT_AD = Placement(
    id="google_rsa",
    platform="google",
    width=0,
    height=0,
    headline_max=30,
    body_max=90,
    cta_max=15,
    max_kb=0,
    width_rule="double_width",
    text_only=True,
    source="Google Ads API: responsive search ad, headline <= 30, description <= 90",
)


def placements() -> dict[str, Placement]:
    return {**builtin_placements(), TEXT_AD.id: TEXT_AD}


def make_brief(
    brief_id: str = "spring-runner",
    product: str = "Aero Runner 2",
    message: str = "Lightweight running shoe for spring mornings",
    *,
    audiences: tuple[str, ...] = ("runners", "commuters"),
    languages: tuple[str, ...] = (),
    landing_url: str = "https://shop.example.com/aero-runner",
    disclaimer: str = "",
    extra: Mapping[str, str] | None = None,
    row: int = 2,
) -> Brief:
    return Brief(
        id=brief_id,
        product=product,
        message=message,
        audiences=audiences,
        benefits=("12% lighter", "recycled upper"),
        tone="upbeat",
        cta="Shop now",
        landing_url=landing_url,
        image_prompt=f"{product} on a sunlit running track",
        disclaimer=disclaimer,
        languages=languages,
        extra=dict(extra or {}),
        row=row,
    )


def make_campaign(
    tmp_path: Path,
    briefs: Iterable[Brief] = (),
    *,
    name: str = "Spring Launch 2025",
    brand: str = "Northwind Athletics",
    languages: tuple[str, ...] = ("en",),
    placement_ids: tuple[str, ...] = ("meta_feed", "meta_story", "display_728x90"),
    provider: str = "bedrock",
    extra_columns: tuple[str, ...] = (),
) -> Campaign:
    briefs = tuple(briefs) or (make_brief(),)
    audience_ids = dict.fromkeys(a for b in briefs for a in b.audiences)
    source = tmp_path / "brief.xlsx"
    source.touch()
    return Campaign(
        settings=Settings(
            name=name,
            brand=brand,
            languages=languages,
            variants=2,
            placements=placement_ids,
            text_model=TEXT_MODEL,
            image_model=IMAGE_MODEL,
            provider=provider,
            utm_source="adloom",
            utm_medium="paid_social",
        ),
        briefs=briefs,
        audiences={a: Audience(a, f"{a} aged 25-45") for a in audience_ids},
        brand=BrandKit(disclaimer="Offer valid while stocks last."),
        placements=placements(),
        source=source,
        extra_columns=extra_columns,
    )


def write_creative(path: Path, width: int, height: int, color: str = "#1F3A93") -> Creative:
    """A real image at the placement's size: brand colour, a band where the copy would be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (width, height), color)
    ImageDraw.Draw(img).rectangle((0, int(height * 0.7), width, height), fill="#F5A623")
    if path.suffix == ".png":
        img.save(path)
    else:
        img.save(path, quality=85)
    return Creative(path=path, width=width, height=height, bytes=path.stat().st_size)


@dataclass(frozen=True)
class AdCopy:
    headline: str = "Run lighter this spring"
    body: str = "The Aero Runner 2 is 12% lighter, with an upper made from recycled yarn."
    cta: str = "Shop now"


def make_ad(
    campaign: Campaign,
    out: Path,
    *,
    brief: Brief | None = None,
    placement: str = "meta_feed",
    audience: str = "runners",
    language: str = "en",
    variant: int = 1,
    status: Status = "ok",
    copy: AdCopy = AdCopy(),
    draft: bool = False,
    issues: tuple[str, ...] = (),
    error: str = "",
    with_creative: bool | None = None,
    creative_path: Path | None = None,
    image_format: str = "jpg",
) -> Ad:
    """One finished ad as the pipeline assembles it.

    A creative file is written for image placements of ``ok`` ads (``with_creative``
    overrides); ``creative_path`` points several ads at one file.
    """
    brief = brief or campaign.briefs[0]
    place = campaign.placements[placement]
    settings = campaign.settings
    brand = campaign.brand
    name = ad_name(
        settings.naming,
        campaign=settings.name,
        brief=brief.id,
        audience=audience,
        language=language,
        placement=place.id,
        variant=variant,
    )
    # Like the real draft provider, a draft still names the configured models.
    provider = "draft" if draft else settings.provider
    copy_job = CopyJob(
        brief=brief,
        audience=campaign.audiences[audience],
        language=language,
        variant=variant,
        limits=place.limits,
        placements=(place.id,),
        model=settings.text_model,
        brand=brand,
        campaign=settings.name,
    )
    image_job = None
    image = None
    if not place.text_only:
        image_job = ImageJob(
            brief=brief,
            audience=campaign.audiences[audience],
            variant=variant,
            width=1024,
            height=1024,
            aspect="1:1",
            seed=1000 + variant,
            model=settings.image_model,
            brand=brand,
        )
        image = ImageResult(
            job=image_job,
            status=status,
            path=out / "masters" / f"{brief.id}-{audience}-v{variant}.png",
            error=error,
            usage=Usage(cost_usd=0.0 if draft else 0.04),
            draft=draft,
            model=settings.image_model,
        )
    # As the pipeline reports it: an image placement fails on its image (the copy is
    # there), a text-only one on its copy; the failure is also listed as an issue.
    copy_failed = status != "ok" and place.text_only
    copy_result = CopyResult(
        job=copy_job,
        status=status if copy_failed else "ok",
        headline="" if copy_failed else copy.headline,
        body="" if copy_failed else copy.body,
        cta="" if copy_failed else copy.cta,
        error=error if copy_failed else "",
        usage=Usage(input_tokens=420, output_tokens=96, cost_usd=0.0 if draft else 0.00023),
        draft=draft,
        model=settings.text_model,
    )
    if status != "ok":
        issues = (f"{'copy' if copy_failed else 'image'} {status}: {error}", *issues)
    if with_creative is None:
        with_creative = status == "ok" and not place.text_only
    creative = None
    if creative_path is not None:
        creative = Creative(
            path=creative_path,
            width=place.width,
            height=place.height,
            bytes=creative_path.stat().st_size,
        )
    elif with_creative:
        path = out / "creatives" / place.id / f"{name}.{image_format}"
        creative = write_creative(path, place.width, place.height)
    landing = with_utm(
        brief.landing_url,
        {
            "utm_source": settings.utm_source,
            "utm_medium": settings.utm_medium,
            "utm_campaign": settings.slug,
            "utm_content": name,
        },
    )
    spec = AdSpec(
        name=name,
        brief=brief,
        audience=audience,
        language=language,
        variant=variant,
        placement=place,
        copy_job=copy_job,
        image_job=image_job,
        landing_url=landing,
    )
    return Ad(
        spec=spec,
        copy=copy_result,
        image=image,
        creative=creative,
        disclaimer=brief.disclaimer or brand.disclaimer,
        status=status,
        issues=issues,
        provider=provider,
    )


def make_summary(ads: list[Ad], out: Path, **overrides: Any) -> RunSummary:
    summary = RunSummary(
        campaign="spring-launch-2025",
        out=out,
        preview=out / "index.html",
        workbook=out / "variants.xlsx",
        variants=len(ads),
        creatives=sum(1 for a in ads if a.creative),
        model_calls_text=12,
        model_calls_image=4,
        cache_hits=3,
        failed=sum(1 for a in ads if a.status == "failed"),
        cost_usd=0.1872,
        input_tokens=5040,
        output_tokens=1152,
        not_generated=2,
        not_generated_cost_usd=0.08,
        warnings=("Briefs!H5: unknown placement 'tiktok' ignored",),
    )
    return replace(summary, **overrides)


RSA = builtin_placements()["google_rsa"]  # the built-in responsive search ad

SEARCH_COPY = SearchAd(
    headlines=("Aero Runner 2", "Run lighter this spring", "12% lighter, same grip"),
    descriptions=(
        "The Aero Runner 2 is 12% lighter, with an upper made from recycled yarn.",
        "Free returns within 30 days.",
    ),
    path1="running",
    path2="aero-runner",
)


def make_search_ad(
    campaign: Campaign,
    out: Path,
    search: SearchAd = SEARCH_COPY,
    **kwargs: Any,
) -> Ad:
    """A finished responsive search ad: ``make_ad`` on the built-in ``google_rsa``, with
    its copy in ``CopyResult.search`` and its first headline and description as the
    headline and body, as generate makes them."""
    campaign = replace(campaign, placements={**campaign.placements, RSA.id: RSA})
    ad = make_ad(campaign, out, placement=RSA.id, **kwargs)
    if ad.copy.status != "ok":
        return ad
    copy = replace(
        ad.copy,
        job=replace(ad.copy.job, limits=RSA.limits),
        headline=search.headlines[0],
        body=search.descriptions[0],
        cta="",
        search=search,
    )
    return replace(ad, spec=replace(ad.spec, placement=RSA, copy_job=copy.job), copy=copy)


JA_COPY = AdCopy(
    headline="春の朝を、もっと軽やかに",
    body="エアロランナー2は従来比12%軽量。リサイクル素材のアッパーで快適な走りを。",
    cta="今すぐ購入",
)


@dataclass(frozen=True)
class Run:
    ads: list[Ad]
    summary: RunSummary
    campaign: Campaign
    out: Path


def sample_run(tmp_path: Path, *, extra_columns: tuple[str, ...] = ("Owner", "Budget")) -> Run:
    """A small, varied run: what a reviewer would see after a real ``adloom run``."""
    out = tmp_path / "out"
    shoes = make_brief(
        languages=("en", "ja"),
        extra={"Owner": "Mika Tanaka", "Budget": "=SUM(A1:A9)"},
    )
    jacket = make_brief(
        "rain-shell",
        "Storm Shell Jacket",
        "Packable rain jacket for city cyclists",
        audiences=("commuters",),
        landing_url="https://shop.example.com/storm-shell?ref=brief",
        disclaimer="Free returns within 30 days.",
        extra={"Owner": "Sam Lee", "Budget": "1200"},
        row=3,
    )
    campaign = make_campaign(
        tmp_path,
        (shoes, jacket),
        placement_ids=("meta_feed", "meta_story", "display_728x90", "google_rsa"),
        extra_columns=extra_columns,
    )
    ads: list[Ad] = []
    for brief in (shoes, jacket):
        for placement in ("meta_feed", "meta_story", "display_728x90", "google_rsa"):
            for audience in brief.audiences:
                for language in brief.languages or ("en",):
                    copy = JA_COPY if language == "ja" else AdCopy()
                    ads.append(
                        make_ad(
                            campaign,
                            out,
                            brief=brief,
                            placement=placement,
                            audience=audience,
                            language=language,
                            copy=copy,
                        )
                    )
    # The odd ones a review has to catch.
    ads.append(
        make_ad(
            campaign,
            out,
            brief=jacket,
            placement="meta_feed",
            audience="commuters",
            variant=2,
            status="failed",
            error="ValidationException: image blocked by the content filter",
        )
    )
    ads.append(
        make_ad(
            campaign,
            out,
            brief=jacket,
            placement="meta_story",
            audience="commuters",
            variant=2,
            draft=True,
            issues=("headline 44/40 characters", "body repeats the headline"),
            copy=AdCopy(headline="-20% on the Storm Shell this week only, friends"),
        )
    )
    ads.append(
        make_ad(
            campaign,
            out,
            brief=jacket,
            placement="display_728x90",
            audience="commuters",
            variant=2,
            status="skipped",
            error="budget reached: not generated",
        )
    )
    return Run(ads=ads, summary=make_summary(ads, out), campaign=campaign, out=out)


def preview_pages(out: Path) -> list[Path]:
    """The preview's pages of ads, in the order ``index.html`` links them."""
    index = (out / "index.html").read_text(encoding="utf-8")
    hrefs = dict.fromkeys(re.findall(r'href="(preview/[^"]+)"', index))
    return [out / unquote(href) for href in hrefs]


def preview_html(out: Path) -> str:
    """The index and every page of the preview, as one text to search."""
    paths = [out / "index.html", *preview_pages(out)]
    return "".join(p.read_text(encoding="utf-8") for p in paths)
