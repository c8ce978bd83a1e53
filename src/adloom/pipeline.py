"""The whole run: read -> plan -> generate -> compose -> render -> export.

Stages are plain functions; this module only wires them. Composition starts as
soon as an ad's copy and master image are both in, so it overlaps generation.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from adloom.compose import AdCopy, compose
from adloom.console import Tracker
from adloom.engine import Budget, Engine
from adloom.errors import Interrupted
from adloom.export import export_workbook
from adloom.generate import generate
from adloom.journal import Journal
from adloom.model import (
    Ad,
    AdSpec,
    Campaign,
    CopyJob,
    CopyResult,
    Creative,
    ImageJob,
    ImageResult,
    Plan,
    RunSummary,
    Status,
)
from adloom.providers.base import Provider
from adloom.render import render_preview


@dataclass(frozen=True)
class RunOptions:
    out: Path
    fresh: bool = False
    concurrency: int = 8
    max_cost_usd: float | None = None
    templates: Path | None = None
    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))


def default_out(campaign: Campaign, root: Path = Path("output")) -> Path:
    return root / campaign.settings.slug


class _Assembler:
    """Collects results and starts each ad's composition once its inputs are in."""

    def __init__(
        self, plan: Plan, provider: Provider, out: Path, pool: ProcessPoolExecutor, tracker: Tracker
    ) -> None:
        self.plan, self.provider, self.out, self.pool = plan, provider, out, pool
        self.tracker = tracker
        self.copies: dict[CopyJob, CopyResult] = {}
        self.images: dict[ImageJob, ImageResult] = {}
        self.creatives: dict[str, Future[Creative]] = {}
        self.by_copy: dict[CopyJob, list[AdSpec]] = defaultdict(list)
        self.by_image: dict[ImageJob, list[AdSpec]] = defaultdict(list)
        for spec in plan.ads:
            self.by_copy[spec.copy_job].append(spec)
            if spec.image_job is not None:
                self.by_image[spec.image_job].append(spec)

    def on_copy(self, result: CopyResult) -> None:
        self.copies[result.job] = result
        self.tracker.advance("copy", result.job.label)
        for spec in self.by_copy[result.job]:
            self._maybe_compose(spec)

    def on_image(self, result: ImageResult) -> None:
        self.images[result.job] = result
        self.tracker.advance("images", result.job.label)
        for spec in self.by_image[result.job]:
            self._maybe_compose(spec)

    def _maybe_compose(self, spec: AdSpec) -> None:
        copy = self.copies.get(spec.copy_job)
        image = self.images.get(spec.image_job) if spec.image_job else None
        if spec.placement.text_only or copy is None or copy.status != "ok":
            return
        if image is None or image.status != "ok":
            return
        ad_copy = AdCopy(copy.headline, copy.cta, _disclaimer(spec, self.plan), spec.language)
        stem = self.out / "creatives" / spec.placement.id / spec.name
        fut = self.pool.submit(
            compose,
            image.path,
            ad_copy,
            self.plan.campaign.brand,
            spec.placement,
            stem,
            draft=copy.draft or image.draft,
        )
        fut.add_done_callback(lambda _f: self.tracker.advance("compose"))
        self.creatives[spec.name] = fut

    def ads(self) -> list[Ad]:
        out = []
        for spec in self.plan.ads:
            copy = self.copies.get(spec.copy_job) or CopyResult(
                spec.copy_job, "skipped", error="not generated"
            )
            image = self.images.get(spec.image_job) if spec.image_job else None
            fut = self.creatives.get(spec.name)
            creative = fut.result() if fut else None
            status, issues = _status(spec, copy, image)
            issues += creative.issues if creative else ()
            out.append(
                Ad(
                    spec=spec,
                    copy=copy,
                    image=image,
                    creative=creative,
                    disclaimer=_disclaimer(spec, self.plan),
                    status=status,
                    issues=issues,
                    provider=self.provider.name,
                )
            )
        return out


def _disclaimer(spec: AdSpec, plan: Plan) -> str:
    return spec.brief.disclaimer or plan.campaign.brand.disclaimer


def _status(
    spec: AdSpec, copy: CopyResult, image: ImageResult | None
) -> tuple[Status, tuple[str, ...]]:
    if copy.status != "ok":
        return copy.status, (f"copy {copy.status}: {copy.error}",)
    if spec.image_job is not None:
        if image is None:
            return "skipped", ("image not generated",)
        if image.status != "ok":
            return image.status, (f"image {image.status}: {image.error}",)
    return "ok", copy.issues


def run_plan(
    plan: Plan,
    provider: Provider,
    options: RunOptions,
    tracker: Tracker,
    *,
    engine_factory: Callable[..., Engine] = Engine,
) -> RunSummary:
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    journal = Journal(out)
    run_id = uuid.uuid4().hex
    journal.start_run(run_id, str(plan.campaign.source), provider.name)
    budget = Budget(options.max_cost_usd)
    engine = engine_factory(
        provider,
        journal,
        run_id=run_id,
        concurrency=options.concurrency,
        budget=budget,
        fresh=options.fresh,
    )
    tracker.add("copy", len(plan.copy_jobs))
    tracker.add("images", len(plan.image_jobs))
    tracker.add("compose", sum(1 for a in plan.ads if not a.placement.text_only))
    outcome = "interrupted"
    try:
        with ProcessPoolExecutor(options.workers) as pool:
            assembler = _Assembler(plan, provider, out, pool, tracker)
            try:
                generate(
                    plan, provider, engine, on_copy=assembler.on_copy, on_image=assembler.on_image
                )
            except KeyboardInterrupt:
                pool.shutdown(wait=True, cancel_futures=False)
                raise Interrupted(
                    "Stopped. Everything finished so far is saved in the journal.",
                    hint=f"Resume with the same command and --out {out}: "
                    "finished requests are not paid for again.",
                ) from None
            ads = assembler.ads()
        outcome = "done"
    finally:
        journal.finish_run(run_id, outcome)
        journal.close()
    stats = engine.stats
    summary = RunSummary(
        campaign=plan.campaign.settings.name,
        out=out,
        preview=out / "index.html",
        workbook=out / "variants.xlsx",
        variants=len(ads),
        creatives=sum(1 for a in ads if a.creative is not None),
        model_calls_text=0 if provider.draft else stats.calls["text"],
        model_calls_image=0 if provider.draft else stats.calls["image"],
        cache_hits=stats.cache_hits,
        failed=sum(1 for a in ads if a.status in ("failed", "blocked", "filtered")),
        cost_usd=stats.cost_usd,
        input_tokens=stats.input_tokens,
        output_tokens=stats.output_tokens,
        not_generated=sum(1 for a in ads if a.status == "skipped"),
        not_generated_cost_usd=stats.skipped_cost_usd,
    )
    render_preview(ads, summary, plan.campaign, out, options.templates)
    export_workbook(ads, summary, plan.campaign, out)
    return summary
