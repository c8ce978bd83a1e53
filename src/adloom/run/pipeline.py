"""The whole run: read -> plan -> generate -> compose -> render -> export (workbook and
platform bulk files).

Stages are plain functions; this module only wires them. Composition starts as
soon as an ad's copy and master image are both in, so it overlaps generation; the
ads ready from one master go to a worker process together, which opens it once.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

from PIL import Image

from adloom import __version__, outdir
from adloom.console import Tracker
from adloom.creative import checks, fit, focal, layout, measures, product, provenance, typeset
from adloom.creative import compose as compose_module
from adloom.creative.compose import (
    CREATIVES,
    AdCopy,
    Composed,
    compose_twin,
    composed,
    creative_stem,
    twin_key,
)
from adloom.delivery import thumbs
from adloom.delivery.export import export_workbook
from adloom.delivery.pages import PAGES
from adloom.delivery.platforms import UPLOADS, export_platforms
from adloom.delivery.render import PREVIEW, render_preview
from adloom.delivery.workbook import WORKBOOK_FILE, WORKBOOKS
from adloom.engine import DEFAULT_CONCURRENCY, Budget, Engine, Quotas, RetryPolicy, Source
from adloom.engine.journal import MASTERS, Journal
from adloom.errors import Interrupted, MachineError
from adloom.lifeline import worker_init
from adloom.model import (
    Ad,
    AdSpec,
    BrandKit,
    Campaign,
    CopyJob,
    CopyResult,
    Creative,
    ImageJob,
    ImageResult,
    Placement,
    Plan,
    RunSummary,
    Settings,
    Status,
)
from adloom.providers.base import Batches, Provider
from adloom.results.command import RESULTS
from adloom.run import score
from adloom.run.batching import Batcher, BatchOptions
from adloom.run.generate import generate
from adloom.run.keep import select

WRITTEN: tuple[Status, ...] = ("ok", "flagged")  # copy there is, to show and compose


# Everything a run keeps in its out folder besides the folder's marker, lock and journal
# (``outdir``): each declared beside its writer. ``--force`` protects their names and
# nothing else may be written while the folder is claimed.
DELIVERABLES: tuple[outdir.Deliverable, ...] = (
    PREVIEW,
    PAGES,
    WORKBOOKS,
    thumbs.THUMBS,
    UPLOADS,
    CREATIVES,
    MASTERS,
    *RESULTS,
)


@dataclass(frozen=True)
class RunOptions:
    out: Path
    fresh: bool = False
    concurrency: int = DEFAULT_CONCURRENCY  # requests in flight per model
    max_cost_usd: float | None = None
    templates: Path | None = None
    quotas: Quotas = field(default_factory=Quotas)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    force: bool = False  # write into a folder holding other files (outdir.claimed)
    wait: bool = False  # wait for another run on the folder instead of exiting BUSY
    # What the run was asked for (runsettings.Choices.record), kept in the journal so a
    # review round can use the same.
    settings: Mapping[str, Any] = field(default_factory=dict)
    keep: int | None = None  # the best K per slot delivered, the rest candidates (keep.py)
    # --score: the judge model that rates every ad ("" : no scores), and whether it
    # takes images (else it is shown the copy only).
    judge: str = ""
    judge_images: bool = False
    # --mode batch: the provider's batch jobs for copy requests (None: all on-demand).
    batches: Batches | None = None
    batch: BatchOptions = field(default_factory=BatchOptions)


def default_out(campaign: Campaign, root: Path = Path("output")) -> Path:
    return root / campaign.settings.slug


@dataclass(frozen=True)
class _Placed:
    """One ad to compose from a master: what goes on it, and where it is written."""

    copy: AdCopy
    placement: Placement
    stem: Path
    draft: bool
    out: Path
    product: Path | None = None  # the brief's product image, set on the master
    source_type: str = ""  # IPTC DigitalSourceType written into the file
    signing: tuple[Path, Path] | None = None  # C2PA certificate chain and key (PEM)
    model: str = ""  # the image model that made the master, for the C2PA manifest
    pad: bool = False  # fit pad: the whole master on its blurred edges
    edits: tuple[str, ...] = ()  # other models' work on the picture, for the C2PA manifest


def _compose_from(master: Path, brand: BrandKit, ads: Sequence[_Placed]) -> list[Creative]:
    """In a worker process: every ad of one master, which is decoded once for all of them.
    Ads whose files would be byte for byte the same (e.g. linkedin_single and x_card with
    the same headline) are composed once; the others link that file (``compose_twin``)."""
    made: dict[Hashable, Composed] = {}
    creatives = []
    with Image.open(master) as image:
        image.load()
        for a in ads:
            key = (twin_key(a.copy, a.placement, a.draft), a.pad)
            first = made.get(key)
            if first is None:
                fresh = composed(
                    image,
                    a.copy,
                    brand,
                    a.placement,
                    a.stem,
                    draft=a.draft,
                    out=a.out,
                    packshot=a.product,
                    source_type=a.source_type,
                    signing=a.signing,
                    model=a.model,
                    edits=a.edits,
                    pad=a.pad,
                )
                made[key] = first = _with_thumb(fresh, a.out)
                creatives.append(first.creative)
            else:
                creatives.append(
                    compose_twin(
                        first, a.copy, brand, a.placement, a.stem, draft=a.draft, out=a.out
                    )
                )
    return creatives


def _with_thumb(made: Composed, out: Path) -> Composed:
    """The workbook's thumbnail from the pixels in hand (not by decoding the file again);
    the pixels are let go."""
    assert made.canvas is not None  # noqa: S101 - a fresh composition holds its pixels
    thumb = thumbs.write(out, made.content, made.canvas)
    return replace(made, creative=replace(made.creative, thumb=thumb), canvas=None)


def model_edits(image: ImageResult | None, placement: str, outpaint_model: str) -> tuple[str, ...]:
    """What models other than the master's did to ``placement``'s picture before
    compose, as the C2PA manifest's actions say it."""
    if image is None:
        return ()
    cutout = image.job.cutout
    return (
        *(
            [f"the product's background removed by {cutout.model}"]
            if cutout and image.product
            else []
        ),
        *(
            [f"extended to the placement's shape by {outpaint_model}"]
            if image.extended is not None and placement in image.extended_for
            else []
        ),
    )


@cache
def _composer_version() -> str:
    """The compose code itself: a change to it must recompose, not reuse old files."""
    digest = hashlib.sha256(__version__.encode())
    for module in (compose_module, layout, checks, focal, typeset, product, provenance):
        digest.update(Path(str(module.__file__)).read_bytes())
    for path in sorted(Path(str(measures.__file__)).parent.glob("*.py")):  # every check
        digest.update(path.read_bytes())
    return digest.hexdigest()


def signing(settings: Settings) -> tuple[Path, Path] | None:
    """The campaign's C2PA certificate chain and key, when both are set."""
    if settings.signing_cert is None or settings.signing_key is None:
        return None
    return settings.signing_cert, settings.signing_key


def _creative_key(master: Path, brand: BrandKit, placed: _Placed) -> str:
    """Everything a composed file depends on; a rerun reuses the file only if all of
    it is unchanged. A generated master's file name is its request's content hash; the
    brand's own files (photo masters, product, font, logo) are taken by path, size and
    modification time."""
    files = [
        (str(p), p.stat().st_size, p.stat().st_mtime_ns)
        for p in (master, brand.font, brand.logo, placed.product, *(placed.signing or ()))
        if p is not None and p.is_file()
    ]
    blob = repr((_composer_version(), master.name, brand, files, placed))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _start_workers(pool: ProcessPoolExecutor) -> None:
    """Fork the compose workers now, before the engine's threads, with Ctrl-C held back.

    A Ctrl-C (or SIGTERM) that lands while ``fork`` runs its at-fork hooks is swallowed there (the
    run would go on); held back, it is delivered right after. Forking before any
    thread exists also avoids forking a process with locks held by other threads.
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        pool.submit(int).result()  # the first task starts every worker
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextmanager
def _compose_pool(plan: Plan, workers: int) -> Iterator[_Composers | None]:
    """The compose workers, started at once; none for a run with nothing to compose
    (search ads only): idle workers would hold memory for nothing."""
    if all(spec.placement.text_only for spec in plan.ads):
        yield None
        return
    composers = _Composers(workers)
    try:
        yield composers
    finally:
        composers.pool.shutdown(wait=True)


# A composition whose worker was killed is tried on fresh workers this many times in
# all; then the run stops (exit 74), resumable.
COMPOSE_TRIES = 3


@dataclass
class _Task:
    """One master's ads, sent to a worker; sent again if that worker dies."""

    master: Path
    brand: BrandKit
    ads: list[_Placed]
    future: Future[list[Creative]] = field(default_factory=Future)
    pool: ProcessPoolExecutor | None = None  # the one it was sent to
    tries: int = 0
    on_done: Callable[[Future[list[Creative]]], None] | None = None  # each time it ends


class _Composers:
    """The compose worker processes. A worker killed (``kill -9``, the out-of-memory
    killer) breaks its whole pool: the pool is replaced and what it was composing is
    composed again, so the run goes on."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = self._start(fork=True)

    def _start(self, *, fork: bool) -> ProcessPoolExecutor:
        # A replacement is started while the engine's threads run: spawned, not forked,
        # since a fork copies whatever lock another thread holds at that instant.
        context = None if fork else multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=worker_init, initargs=(os.getpid(),)
        )
        _start_workers(pool)
        return pool

    def submit(self, task: _Task) -> None:
        task.tries += 1
        if task.tries > COMPOSE_TRIES:
            raise MachineError(
                f"{task.master}: a compose worker was killed {COMPOSE_TRIES} times while"
                " composing the ads of this image (out of memory?)",
                hint="free memory on this machine, then run the same command again:"
                " every answer paid for is kept",
            )
        pool = self.pool
        try:
            task.future = pool.submit(_compose_from, task.master, task.brand, task.ads)
        except BrokenProcessPool:  # a worker died since the last task was sent
            self._replace(pool)
            task.future = self.pool.submit(_compose_from, task.master, task.brand, task.ads)
        task.pool = self.pool
        if task.on_done is not None:
            task.future.add_done_callback(task.on_done)

    def result(self, task: _Task) -> list[Creative]:
        while True:
            try:
                return task.future.result()
            except BrokenProcessPool:
                if task.pool is not None:
                    self._replace(task.pool)
                self.submit(task)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        if self.pool is broken:  # not yet replaced for another task
            # Its other workers may wait for ever on a queue lock the killed one held
            # (Python 3.11 does not end them), and the pool's thread waits for them, so
            # the run could not exit: they are ended here.
            for worker in list((getattr(broken, "_processes", None) or {}).values()):
                worker.kill()
            broken.shutdown(wait=False, cancel_futures=True)
            self.pool = self._start(fork=False)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Assembler:
    """Collects results and starts each ad's composition once its inputs are in.

    A creative composed by an earlier run from the same inputs is reused from the
    journal (unless ``fresh``), so a rerun of an unchanged brief redoes no work.
    """

    def __init__(
        self,
        plan: Plan,
        provider: Provider,
        journal: Journal,
        pool: _Composers | None,
        tracker: Tracker,
        *,
        fresh: bool,
    ) -> None:
        self.plan, self.provider, self.journal, self.pool = plan, provider, journal, pool
        self.out = journal.out
        self.tracker = tracker
        self.fresh = fresh
        self.copies: dict[CopyJob, CopyResult] = {}
        self.images: dict[ImageJob, ImageResult] = {}
        self.creatives: dict[str, Creative | tuple[_Task, int, str]] = {}
        self.by_copy: dict[CopyJob, list[AdSpec]] = defaultdict(list)
        self.by_image: dict[ImageJob, list[AdSpec]] = defaultdict(list)
        # The ads of one master in one language: composed in one task once all their
        # copy is in, so that identical files among them are made once (_compose_from).
        self.by_group: dict[tuple[ImageJob, str], list[AdSpec]] = defaultdict(list)
        for spec in plan.ads:
            self.by_copy[spec.copy_job].append(spec)
            if spec.image_job is not None:
                self.by_image[spec.image_job].append(spec)
                self.by_group[(spec.image_job, spec.language)].append(spec)

    def on_copy(self, result: CopyResult) -> None:
        self.copies[result.job] = result
        self.tracker.advance("copy", result.job.label)
        self._compose_ready(self.by_copy[result.job])

    def on_image(self, result: ImageResult) -> None:
        self.images[result.job] = result
        self.tracker.advance("images", result.job.label)
        self._compose_ready(self.by_image[result.job])

    def flush(self) -> None:
        """Compose what waits for copy that will not come (the run ended without it)."""
        self._compose_ready(self.plan.ads, held=False)

    def _compose_ready(self, specs: Sequence[AdSpec], *, held: bool = True) -> None:
        by_master: dict[Path, list[AdSpec]] = defaultdict(list)
        groups = {(s.image_job, s.language) for s in specs if s.image_job is not None}
        for group in groups:
            members = self.by_group[group]
            if held and any(m.copy_job not in self.copies for m in members):
                continue  # its siblings' copy is still to come
            for spec in members:
                if spec.name not in self.creatives:
                    self._add_ready(spec, by_master)
        self._submit(by_master)

    def _add_ready(self, spec: AdSpec, by_master: dict[Path, list[AdSpec]]) -> None:
        copy = self.copies.get(spec.copy_job)
        image = self.images.get(spec.image_job) if spec.image_job else None
        # A flagged ad is composed too: the reviewer fixing it sees it as it would run.
        if spec.placement.text_only or copy is None or copy.status not in WRITTEN:
            return
        master = image.master_for(spec.placement.id) if image and image.status == "ok" else None
        if master is not None:
            by_master[master].append(spec)

    def _submit(self, by_master: Mapping[Path, Sequence[AdSpec]]) -> None:
        brand = self.plan.campaign.brand
        for master, ready in by_master.items():
            todo: list[tuple[AdSpec, _Placed, str]] = []
            for spec in ready:
                placed = self._placed(spec)
                key = _creative_key(master, brand, placed)
                reused = None if self.fresh else self.journal.creative(key, measures.restore)
                if reused is None:
                    todo.append((spec, placed, key))
                else:
                    self.creatives[spec.name] = reused
                    self.tracker.advance("compose")
            if not todo:
                continue
            assert self.pool is not None  # noqa: S101 - a pool whenever an ad is composed
            task = _Task(master, brand, [p for _, p, _ in todo])
            task.on_done = partial(self._composed, len(todo))
            self.pool.submit(task)
            for i, (spec, _, key) in enumerate(todo):
                self.creatives[spec.name] = (task, i, key)

    def _composed(self, count: int, done: Future[list[Creative]]) -> None:
        if not done.cancelled() and done.exception() is None:  # not a worker that died
            self.tracker.advance("compose", by=count)

    def _placed(self, spec: AdSpec) -> _Placed:
        copy = self.copies[spec.copy_job]
        image = self.images[spec.image_job] if spec.image_job else None
        ad_copy = AdCopy(copy.headline, copy.cta, _disclaimer(spec, self.plan), spec.language)
        stem = creative_stem(self.out, spec)
        draft = copy.draft or bool(image and image.draft)
        settings = self.plan.campaign.settings
        return _Placed(
            ad_copy,
            spec.placement,
            stem,
            draft,
            self.out,
            (image.product if image else None) or spec.brief.product_image,
            image.source_type_for(spec.placement.id) if image else "",
            signing(settings),
            image.model if image and image.job.source is None else "",
            pad=fit.resolve(settings, spec.placement) == "pad",
            edits=model_edits(image, spec.placement.id, self.plan.outpaint_model),
        )

    def ads(self) -> list[Ad]:
        out = []
        for spec in self.plan.ads:
            copy = self.copies.get(spec.copy_job) or CopyResult(
                spec.copy_job, "skipped", error="not generated"
            )
            image = self.images.get(spec.image_job) if spec.image_job else None
            creative = self._creative(spec.name)
            status, issues = _status(spec, copy, image)
            issues += creative.issues if creative else ()
            status = checks.status_with(status, creative)
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

    def _creative(self, name: str) -> Creative | None:
        composing = self.creatives.get(name)
        if composing is None or isinstance(composing, Creative):
            return composing
        task, index, key = composing
        assert self.pool is not None  # noqa: S101 - a task was sent to it
        creative = self.pool.result(task)[index]
        self.journal.record_creative(key, creative)
        return creative


def _disclaimer(spec: AdSpec, plan: Plan) -> str:
    return spec.copy_job.brief.disclaimer or plan.campaign.brand.disclaimer  # in the ad's language


def _status(
    spec: AdSpec, copy: CopyResult, image: ImageResult | None
) -> tuple[Status, tuple[str, ...]]:
    if copy.status not in WRITTEN:
        return copy.status, (f"copy {copy.status}: {copy.error}",)
    if spec.image_job is not None:
        if image is None:
            return "skipped", ("image not generated",)
        if image.status != "ok":
            return image.status, (f"image {image.status}: {image.error}",)
        if image.extend_error and spec.placement.id in image.extended_for:
            cropped = f"picture cropped, not extended: the outpaint failed ({image.extend_error})"
            return copy.status, (*copy.issues, cropped)
    return copy.status, copy.issues


Deliver = Callable[[Sequence[Ad], RunSummary], RunSummary]
"""What is made of a run's ads once all are in; returns the summary to report."""


def deliver_run(
    campaign: Campaign, options: RunOptions, ads: Sequence[Ad], summary: RunSummary
) -> RunSummary:
    """A run's deliverables, best first per slot (with ``keep``, the rest candidates):
    the preview, the workbook and the platform bulk files."""
    write_deliverables(select(ads, options.keep), summary, campaign, options.out, options.templates)
    return summary


def write_deliverables(
    ads: Sequence[Ad],
    summary: RunSummary,
    campaign: Campaign,
    out: Path,
    templates: Path | None,
    *,
    round_number: int = 1,
    workbook: str = WORKBOOK_FILE,
    uploads: Sequence[Ad] | None = None,
) -> None:
    """The preview and the workbook, stamped with one time, and the platform bulk files
    of ``uploads`` (by default every ad; the files leave out what may not run)."""
    generated_at = datetime.now(UTC)  # read once: the preview and workbook match
    render_preview(
        ads,
        summary,
        campaign,
        out,
        templates,
        generated_at=generated_at,
        round_number=round_number,
    )
    export_workbook(
        ads,
        summary,
        campaign,
        out,
        generated_at=generated_at,
        name=workbook,
        round_number=round_number,
    )
    export_platforms(ads if uploads is None else uploads, campaign, out)


def run_plan(
    plan: Plan,
    provider: Provider,
    options: RunOptions,
    tracker: Tracker,
    deliver: Deliver | None = None,
) -> RunSummary:
    """Generate and compose every ad of ``plan``, then ``deliver`` them (by default
    ``deliver_run``; ``adloom review`` merges them into the next round instead)."""
    claim = outdir.claimed(
        options.out, DELIVERABLES, force=options.force, wait=options.wait, notify=tracker.note
    )
    with claim:
        return _run_claimed(plan, provider, options, tracker, deliver)


def _run_claimed(
    plan: Plan,
    provider: Provider,
    options: RunOptions,
    tracker: Tracker,
    deliver: Deliver | None,
) -> RunSummary:
    out = options.out
    journal = Journal(out)
    run_id = uuid.uuid4().hex
    journal.start_run(run_id, str(plan.campaign.source), provider.name, options.settings)
    engine = Engine(
        provider,
        journal,
        run_id=run_id,
        concurrency=options.concurrency,
        budget=Budget(options.max_cost_usd),
        fresh=options.fresh,
        quotas=options.quotas,
        retry=options.retry,
        notify=tracker.note,
    )
    batcher = (
        Batcher(
            engine, options.batches, campaign=plan.campaign.settings.slug,
            options=options.batch, notify=tracker.note,
        )
        if options.batches
        else None
    )  # fmt: skip
    tracker.add("copy", len(plan.copy_jobs))
    tracker.add("images", len(plan.image_jobs))
    tracker.add("compose", sum(1 for a in plan.ads if not a.placement.text_only))
    tracker.watch(lambda: _progress_line(engine, batcher))
    outcome = "interrupted"
    try:
        with _compose_pool(plan, options.workers) as pool:
            assembler = _Assembler(plan, provider, journal, pool, tracker, fresh=options.fresh)
            try:
                generate(
                    plan,
                    provider,
                    batcher or engine,
                    on_copy=assembler.on_copy,
                    on_image=assembler.on_image,
                )
                assembler.flush()
                ads = assembler.ads()
                if options.judge:
                    ads = score.score_ads(
                        ads, plan.campaign, provider, engine, options.judge,
                        images=options.judge_images, tracker=tracker,
                    )  # fmt: skip
            except KeyboardInterrupt:
                if pool is not None:
                    pool.shutdown()
                raise
        summary = _summary(plan, provider, engine, ads, out, batcher=batcher, judge=options.judge)
        summary = (deliver or partial(deliver_run, plan.campaign, options))(ads, summary)
        outcome = "done"
    except KeyboardInterrupt:
        raise _interrupted(plan, engine, out, batcher) from None
    finally:
        journal.finish_run(run_id, outcome)
        journal.close()
    return summary


def held_back(ads: Sequence[Ad]) -> dict[str, int]:
    """Per creative check, by name, how many of ``ads``' creatives it held back; empty
    when no ad has a measured creative."""
    findings = [
        f for a in ads if a.creative and a.creative.checks for f in a.creative.checks.findings
    ]
    if not findings:
        return {}
    return {c.name: sum(f.holds for f in findings if f.check == c.name) for c in measures.CHECKS}


def _summary(
    plan: Plan,
    provider: Provider,
    engine: Engine,
    ads: Sequence[Ad],
    out: Path,
    *,
    batcher: Batcher | None,
    judge: str = "",
) -> RunSummary:
    stats = engine.stats
    reports = batcher.reports if batcher else []
    warnings = [
        f"Batch job {r.name} ended {r.status}{': ' + r.message if r.message else ''}: "
        f"{r.on_demand} of its request(s) were sent on-demand instead."
        for r in reports
        if r.status != "Completed"
    ]
    if stats.skipped:
        text, image = stats.skipped_requests["text"], stats.skipped_requests["image"]
        budget = engine.budget
        reused = f" (answers reused from earlier runs count ${budget.prior:.4f})"
        warnings.append(
            f"The budget (${budget.limit:.2f}{reused if budget.prior else ''}) stopped the "
            f"run: {text} copy and {image} image request(s) were not sent; they would cost "
            f"at most ${stats.skipped_cost_usd:.4f}. Raise max_cost_usd (or --max-cost) and "
            "run again: what was generated is reused, not paid for twice."
        )
    return RunSummary(
        checks=held_back(ads),
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
        flagged=sum(1 for a in ads if a.status == "flagged"),
        cost_usd=stats.cost_usd,
        input_tokens=stats.input_tokens,
        output_tokens=stats.output_tokens,
        cache_read_tokens=stats.cache_read_tokens,
        cache_write_tokens=stats.cache_write_tokens,
        cache_saved_usd=stats.cache_saved_usd,
        tiers=dict(stats.tiers),
        not_generated=sum(1 for a in ads if a.status == "skipped"),
        not_generated_cost_usd=stats.skipped_cost_usd,
        warnings=tuple(warnings),
        quotas=() if provider.draft else _quotas(plan, provider, engine, judge),
        scores=score.summary(ads),
        batch_jobs=tuple(reports),
        provider_faults=tuple(provider.faults()),
    )


def _quotas(plan: Plan, provider: Provider, engine: Engine, judge: str) -> tuple[Source, ...]:
    """The quota each model of the run (the ``--score`` judge too) was paced at (the
    pacer's own source), by the id its requests went out with (an inference profile has
    quotas of its own)."""
    text = provider.sent_id(plan.text_model, "text")
    image = provider.sent_id(plan.image_model, "image")
    scored = provider.sent_id(judge, "text") if judge else ""
    return (
        *([engine.quotas.explain(text, "tpm")] if plan.copy_jobs else []),
        *([engine.quotas.explain(image, "ipm")] if plan.image_jobs else []),
        *([engine.quotas.explain(scored, "tpm")] if scored and scored != text else []),
    )


def _interrupted(plan: Plan, engine: Engine, out: Path, batcher: Batcher | None) -> Interrupted:
    stats = engine.stats
    saved = sum(stats.done.values())
    lost = (
        f" {stats.abandoned} request(s) still in flight were abandoned." if stats.abandoned else ""
    )
    running = [job.name for job in batcher.waiting] if batcher else []
    if running:
        lost += (
            f" Batch job(s) {', '.join(running)} keep running on the service: the same command"
            f" resumes waiting for them (nothing is submitted twice); `adloom jobs {out} --stop`"
            " stops them."
        )
    return Interrupted(
        f"Stopped. {saved} answer(s) from this run are saved in {out / 'journal.sqlite'} "
        f"(cost so far ${stats.cost_usd:.4f}).{lost}",
        hint=f"Resume with the same command (adloom run {plan.campaign.source} --out {out} "
        "and the same options): saved answers are reused, only the rest is requested.",
    )


def _progress_line(engine: Engine, batcher: Batcher | None) -> str:
    waiting = batcher.status() if batcher else ""
    return f"{waiting} · {engine_status(engine)}" if waiting else engine_status(engine)


def engine_status(engine: Engine) -> str:
    """One line for the progress display: in flight, pace against quota, throttles, cost."""
    stats = engine.stats
    parts = [f"in flight {stats.in_flight['text']} text, {stats.in_flight['image']} image"]
    for pace in engine.paces:
        unit = "img" if pace.kind == "image" else "tok"
        quota = f"/{_si(pace.quota_per_min)}" if pace.quota_per_min else ""
        slowed = pace.pace_per_min < 0.99 * pace.quota_per_min
        part = f"{pace.model} {_si(pace.used_per_min)}{quota} {unit}/min"
        parts.append(part + (f" (pacing {_si(pace.pace_per_min)})" if slowed else ""))
    parts.append(f"{stats.throttles} throttled, {stats.retries} retried")
    parts.append(f"${stats.cost_usd:.4f}")
    return " · ".join(parts)


def _si(n: float) -> str:
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.1f}{suffix}"
    return f"{n:.0f}"
