"""Plan: a Campaign becomes the variant matrix and the model jobs that serve it.

Copy is written once per (brief, audience, language, variant, copy limits): all
placements with the same limits share it. Master images are made once per (brief,
audience, variant, aspect family), where the families are the fewest aspect ratios
the image model supports that keep every placement within the crop bound
(``aspects.CROP_BOUND``); every placement is composed from its nearest family, so
image calls scale with concepts, not placements.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from adloom import safepath
from adloom.aspects import choose_families, draft_size, master_size, nearest_aspect, parse_ratio
from adloom.copy import platforms, rulepacks
from adloom.copy.lint import CopyContext
from adloom.copy.terms import contains_term
from adloom.creative import fit, product
from adloom.errors import BriefError, InputError, ModelAccessError, Problem
from adloom.model import (
    Adaptation,
    AdSpec,
    Audience,
    Brief,
    BriefImage,
    Campaign,
    CopyJob,
    CutoutJob,
    ImageJob,
    Placement,
    Plan,
    Shape,
)
from adloom.naming import ad_name, with_utm

if TYPE_CHECKING:  # `adloom validate` checks names without the registry (pydantic)
    from adloom.registry import ModelInfo, Registry

SEED_RANGE = 858_993_459  # the narrowest seed range of the image models (Nova Canvas)


def _stable_seed(*parts: object) -> int:
    """Same concept, same seed: reruns and resumed runs reproduce the same image."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_RANGE


def _resolve_models(
    campaign: Campaign, registry: Registry, provider: str, today: date | None = None
) -> tuple[ModelInfo, ModelInfo]:
    """The text and image models for this run, checked against the registry."""
    day = today or date.today()
    s = campaign.settings
    chosen = []
    for kind, configured in (("text", s.text_model), ("image", s.image_model)):
        # The draft provider writes its own placeholders whatever the brief names,
        # so a brief set up for Bedrock can be drafted offline unchanged.
        model_id = registry.default(provider, kind) if provider == "draft" else configured
        model_id = model_id or registry.default(provider, kind)
        where = campaign.cells.get(f"{kind}_model", "") if model_id == configured else ""
        info = registry.callable(model_id, kind=kind, where=where)
        if info.provider != provider:
            raise ModelAccessError(
                f'{where + ": " if where else ""}model "{model_id}" is served by the '
                f'"{info.provider}" provider, not "{provider}".',
                hint=f"Pick a {provider} model (`adloom models`) or run with "
                f"--provider {info.provider}.",
            )
        if info.lifecycle.status_on(day) == "retired":
            raise ModelAccessError(
                f'{where + ": " if where else ""}model "{model_id}" is retired'
                + (f" (end of life {info.lifecycle.eol_date})" if info.lifecycle.eol_date else "")
                + ".",
                hint=f"Choose a current {kind} model: `adloom models` shows lifecycle.",
            )
        chosen.append(model_id)
    # Keep the id as configured: an inference-profile id (us.…) resolves to its base
    # entry for prices and capabilities, but it is the id the service must be sent.
    text, image = (registry.get(m).model_copy(update={"id": m}) for m in chosen)
    return text, image


@dataclass
class _Matrix:
    copy_jobs: dict[tuple[object, ...], CopyJob] = field(default_factory=dict)
    image_jobs: dict[tuple[object, ...], ImageJob] = field(default_factory=dict)
    ads: list[AdSpec] = field(default_factory=list)
    cutouts: dict[Path, CutoutJob] = field(default_factory=dict)  # by packshot


def make_plan(campaign: Campaign, registry: Registry, provider: str) -> Plan:
    cutouts = _products(campaign, registry.default(provider, "cutout"))
    text, image = _resolve_models(campaign, registry, provider)
    families = image.aspect_ratios or ["1:1"]
    m = _Matrix(cutouts=cutouts)
    for slot in _slots(campaign):
        _add_ad(
            m,
            campaign,
            slot,
            text_model=text.id,
            image_model=image.id,
            families=families,
            draft=provider == "draft",
        )
    _check_names([a.name for a in m.ads], campaign)
    return Plan(
        campaign=campaign,
        copy_jobs=tuple(m.copy_jobs.values()),
        image_jobs=tuple(m.image_jobs.values()),
        ads=tuple(m.ads),
        text_model=text.id,
        image_model=image.id,
        cutouts=tuple(cutouts.values()),
        outpaint_model=_outpaint_model(m.image_jobs.values(), campaign, registry, provider),
    )


def _outpaint_model(
    jobs: Iterable[ImageJob], campaign: Campaign, registry: Registry, provider: str
) -> str:
    """The model that extends masters, when a placement's fit may need it (one of
    another shape than its master); "" if none."""
    fits = {
        shape.fit
        for job in jobs
        for shape in job.shapes
        if not math.isclose(shape.width / shape.height, job.width / job.height, rel_tol=1e-3)
    }
    if not fits & {"auto", "outpaint"}:
        return ""
    model = registry.default(provider, "outpaint")
    if not model and "outpaint" in fits:
        raise InputError(
            f"{campaign.cells.get('fit', 'fit')}: fit outpaint, but the {provider} provider "
            "has no outpaint model.",
            hint="Set fit to auto, crop or pad, or run with --provider bedrock or draft.",
        )
    return model


def _products(campaign: Campaign, cutout_model: str) -> dict[Path, CutoutJob]:
    """Every product image can be cut out, checked before anything is paid for: here
    (transparent, or on a plain background), else by the provider's remove-background
    model ``cutout_model`` (one job per packshot, however many briefs and ads use it);
    without one, a busy packshot is refused at its cell."""
    problems: list[Problem] = []
    cutouts: dict[Path, CutoutJob] = {}
    for brief in campaign.briefs:
        path = brief.product_image
        if path is None:
            continue
        where = brief.cells.get("product_image", f"brief {brief.id}")
        if cutout_model and product.busy(path):
            cutouts.setdefault(path, CutoutJob(path, cutout_model, where))
            continue
        found = product.problem(path)
        if found:
            problems.append(Problem(where, f"product_image {path.name} {found}"))
    if problems:
        raise BriefError(problems)
    return cutouts


def check_names(campaign: Campaign) -> None:
    """What ``make_plan`` checks of the ad names, without models: ``adloom validate``."""
    _check_names([_name(campaign, slot) for slot in _slots(campaign)], campaign)


@dataclass(frozen=True)
class _Slot:
    """One ad of the matrix: a brief's audience, variant, language and placement."""

    brief: Brief
    audience: Audience
    variant: int
    language: str
    placement: Placement
    placements: Sequence[Placement]  # every placement of the brief


def _slots(campaign: Campaign) -> Iterator[_Slot]:
    for brief in campaign.briefs:
        placements = campaign.placements_for(brief)
        for audience_id in brief.audiences:
            audience = campaign.audiences.get(audience_id, Audience(audience_id))
            for variant in range(1, campaign.settings.variants + 1):
                for language in campaign.languages_for(brief):
                    for placement in placements:
                        yield _Slot(brief, audience, variant, language, placement, placements)


def _name(campaign: Campaign, slot: _Slot) -> str:
    s = campaign.settings
    return ad_name(
        s.naming,
        campaign=s.utm_campaign or s.slug,
        brief=slot.brief.id,
        audience=slot.audience.id,
        language=slot.language,
        placement=slot.placement.id,
        variant=slot.variant,
        product=slot.brief.product,
    )


def _glossary(
    campaign: Campaign, brief: Brief, language: str, also: Sequence[str] = ()
) -> tuple[tuple[str, str], ...]:
    """The glossary terms the model is given: those with a spelling in ``language`` that
    the brief (or ``also``: copy being adapted) mentions in any language (a long
    glossary stays out of unrelated prompts; lint checks every term all the same)."""
    said = " ".join(
        [brief.product, brief.message, brief.cta, brief.headline, *brief.benefits, *also]
        + [text for _, _, text in brief.localized]
    )
    return tuple(
        (term.term, term.required(language))
        for term in campaign.glossary
        if term.required(language)
        and any(
            contains_term(said, spelling)
            for spelling in (term.term, *(t for _, t in term.spellings), *term.avoid)
        )
    )


def _copy_job(
    campaign: Campaign,
    slot: _Slot,
    served: Sequence[Placement],
    model: str,
    source: Adaptation | None = None,
) -> CopyJob:
    """The copy job of ``slot`` for the ``served`` placements (equal limits)."""
    brief, language = slot.brief, slot.language
    # The model is told the rules its copy is checked against, so repair rarely has to.
    scope = CopyContext.for_campaign(campaign, brief, served, language).scope
    also = [text for _, text in source.fields] if source else []
    return CopyJob(
        brief=brief.in_language(language),
        audience=slot.audience,
        language=language,
        variant=slot.variant,
        limits=slot.placement.limits,
        placements=tuple(p.id for p in served),
        model=model,
        brand=campaign.brand,
        campaign=campaign.settings.name,
        rules=rulepacks.prompt_lines(scope),
        glossary=_glossary(campaign, brief, language, also),
        source=source,
    )


def _landing(campaign: Campaign, slot: _Slot, name: str) -> str:
    """The slot's landing URL with its UTM parameters (``utm_content``: the ad's name)."""
    s, placement = campaign.settings, slot.placement
    utm = {
        "utm_source": s.utm_source or placement.platform,
        "utm_medium": s.utm_medium or platforms.medium(placement),
        "utm_campaign": s.utm_campaign or s.slug,
        "utm_content": name,
    }
    return with_utm(slot.brief.landing_url, utm)


def _add_ad(
    m: _Matrix,
    campaign: Campaign,
    slot: _Slot,
    *,
    text_model: str,
    image_model: str,
    families: Sequence[str],
    draft: bool,
) -> None:
    brief, audience, language, variant = slot.brief, slot.audience, slot.language, slot.variant
    limits = slot.placement.limits
    ckey = (brief.id, audience.id, language, variant, limits)
    if ckey not in m.copy_jobs:
        served = [p for p in slot.placements if p.limits == limits]
        m.copy_jobs[ckey] = _copy_job(campaign, slot, served, text_model)
    image_job = (
        None
        if slot.placement.text_only
        else _image_job(m, campaign, slot, image_model, families, draft=draft)
    )
    name = _name(campaign, slot)
    m.ads.append(
        AdSpec(
            name=name,
            brief=brief,
            audience=audience.id,
            language=language,
            variant=variant,
            placement=slot.placement,
            copy_job=m.copy_jobs[ckey],
            image_job=image_job,
            landing_url=_landing(campaign, slot, name),
        )
    )


def adapted(
    campaign: Campaign,
    source: AdSpec,
    language: str,
    adaptation: Adaptation,
    served: Sequence[Placement] = (),
) -> AdSpec:
    """``source``'s ad in ``language`` (``adloom localize``): the same brief, audience,
    variant, placement and master image, named as the plan names that slot, its copy
    adapted from ``adaptation`` under ``language``'s rules and glossary. ``served``:
    every placement the adapted copy serves (equal limits), by default its own."""
    job = source.copy_job
    slot = _Slot(
        source.brief, job.audience, source.variant, language, source.placement, (source.placement,)
    )
    name = _name(campaign, slot)
    return AdSpec(
        name=name,
        brief=source.brief,
        audience=source.audience,
        language=language,
        variant=source.variant,
        placement=source.placement,
        copy_job=_copy_job(campaign, slot, served or (source.placement,), job.model, adaptation),
        image_job=source.image_job,
        landing_url=_landing(campaign, slot, name),
        adapted_from=source.name,
    )


def _image_job(
    m: _Matrix,
    campaign: Campaign,
    slot: _Slot,
    image_model: str,
    supported: Sequence[str],
    *,
    draft: bool,
) -> ImageJob:
    """The master image ``slot`` is composed from: one per (brief, audience, variant,
    aspect family), shared by every placement nearest that family. The families are the
    fewest of the model's ratios that keep each of the brief's placements within the
    crop bound (``aspects.choose_families``). A paid master is asked for at the family's
    full size (what it came as is the record of what was bought); a draft one is drawn
    at the size its placements need."""
    brief, audience, variant = slot.brief, slot.audience, slot.variant
    pictured = [p for p in slot.placements if not p.text_only]
    families = choose_families([p.aspect for p in pictured], supported)
    aspect = nearest_aspect(slot.placement.aspect, families)
    key = (brief.id, audience.id, variant, aspect)
    if key not in m.image_jobs:
        family = [p for p in pictured if nearest_aspect(p.aspect, families) == aspect]
        sizes = [(p.width, p.height) for p in family]
        w, h = draft_size(aspect, sizes) if draft else master_size(aspect)
        source = _own_photo(brief.images, aspect, variant)
        if source is not None:
            with Image.open(source) as photo:  # checked readable when the brief was read
                w, h = photo.size
        m.image_jobs[key] = ImageJob(
            brief=brief,
            audience=audience,
            variant=variant,
            width=w,
            height=h,
            aspect=aspect,
            seed=_stable_seed(campaign.settings.slug, brief.id, audience.id, variant),
            model=image_model,
            brand=campaign.brand,
            source=source,
            cutout=m.cutouts.get(brief.product_image) if brief.product_image else None,
            shapes=tuple(
                Shape(p.id, p.width, p.height, fit.resolve(campaign.settings, p)) for p in family
            ),
        )
    return m.image_jobs[key]


def _own_photo(images: Sequence[BriefImage], aspect: str, variant: int) -> Path | None:
    """The brand photo that is the master of ``aspect``'s family for ``variant``: the
    photos marked for that family, else the unmarked ones, else any; nearest in shape
    first, and the variants take turns through them."""
    if not images:
        return None
    marked = [i for i in images if i.aspect and _same_ratio(i.aspect, aspect)]
    pool = marked or [i for i in images if not i.aspect] or list(images)
    target = math.log(parse_ratio(aspect))

    def distance(image: BriefImage) -> float:
        with Image.open(image.path) as photo:
            return abs(math.log(photo.width / photo.height) - target)

    ranked = sorted(pool, key=distance)
    return ranked[(variant - 1) % len(ranked)].path


def _same_ratio(a: str, b: str) -> bool:
    return math.isclose(parse_ratio(a), parse_ratio(b), rel_tol=1e-3)


def _check_names(names: Sequence[str], campaign: Campaign) -> None:
    """Ad names become file names and utm_content: two ads must never share one, and
    each must be a file name on every system (checked here, before any request)."""
    where = campaign.cells.get("naming", "naming")
    counts = Counter(names)
    dupes = [n for n, c in counts.items() if c > 1]
    if dupes:
        raise BriefError(
            [
                Problem(
                    where,
                    f'the naming template "{campaign.settings.naming}" gives {len(dupes)} '
                    f'names to more than one ad (e.g. "{dupes[0]}") — include every field '
                    "that varies: {brief} {audience} {language} {placement} {variant}",
                )
            ]
        )
    for name in counts:
        problem = safepath.name_problem(name)
        if problem:
            raise BriefError(
                [
                    Problem(
                        where,
                        f'the naming template "{campaign.settings.naming}" makes the ad name'
                        f" {problem} — use shorter ids and names, or fewer fields",
                    )
                ]
            )
