"""Generate: the plan's jobs become copy and master images, through a provider.

Images and the first round of copy go to the engine together. Copy that comes
back malformed or breaking a rule (``adloom.copy.lint``) is sent back with the specific
violations, a bounded number of times; what still breaks a rule is delivered with
each reason in ``CopyResult.issues``, never silently cut, and with status
``flagged`` when a platform would reject it (``adloom.copy.verdict``). Supplied copy (the brief's
``headline``) is used as given: checked and flagged, never sent back. Once all
variants of an ad are in, near-duplicates among them are flagged too; they are not
sent back, since a rewrite would need the other variants in the prompt. A responsive
search ad's answer is read and checked as pools of headlines and descriptions
(``adloom.copy.rsa``), and repaired the same way.
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from adloom.copy import rsa
from adloom.copy.languages import LANGUAGES
from adloom.copy.lint import CopyContext, Violation, check_copy, near_duplicates
from adloom.copy.verdict import judge, judge_search
from adloom.creative import fit
from adloom.engine import Outcome, Runner
from adloom.model import (
    CopyJob,
    CopyResult,
    CutoutJob,
    ImageJob,
    ImageResult,
    OutpaintJob,
    Plan,
    SearchAd,
    Usage,
)
from adloom.providers.base import Provider, Request

MAX_REPAIRS = 2
OWN_PHOTO = "own photo"  # ImageResult.model of a brand photo used as the master


@dataclass(frozen=True)
class Estimate:
    text_requests: int
    image_requests: int
    input_tokens: int
    output_tokens_max: int
    cost_usd_max: float  # every answer at max_tokens: what the budget reserves
    # The copy requests' share, to price them in another service tier.
    text_input_tokens: int = 0
    text_cache_tokens: int = 0  # of text_input_tokens, in prompt-cached prefixes
    text_output_tokens_max: int = 0
    image_cost_usd_max: float = 0.0  # the masters', the packshot cut-outs' and the outpaints'
    cutout_requests: int = 0  # packshots sent to a remove-background model
    cutout_cost_usd_max: float = 0.0
    # Outpaint requests (``fit``): those sure to be sent, and at most (``auto`` decides
    # on each generated master's subject once it is made), and what those cost at most.
    outpaint_requests: int = 0
    outpaint_requests_max: int = 0
    outpaint_cost_usd_max: float = 0.0


def estimate(plan: Plan, provider: Provider) -> Estimate:
    """What generating ``plan`` would ask for and cost at most; no model calls."""
    texts = list({r.key: r for r in (provider.text_request(j) for j in plan.copy_jobs)}.values())
    requested = (provider.image_request(j) for j in plan.image_jobs if j.source is None)
    images = list({r.key: r for r in requested}.values())
    cutouts = list({r.key: r for r in (provider.cutout_request(j) for j in plan.cutouts)}.values())
    sure, most, outpaint_cost = _outpaints(plan, provider)
    unique = [*texts, *images, *cutouts]
    return Estimate(
        text_requests=len(texts),
        image_requests=len(images),
        input_tokens=sum(r.input_tokens for r in unique),
        output_tokens_max=sum(r.max_tokens for r in unique),
        cost_usd_max=sum(r.max_cost_usd for r in unique) + outpaint_cost,
        text_input_tokens=sum(r.input_tokens for r in texts),
        text_cache_tokens=sum(r.cache_tokens for r in texts),
        text_output_tokens_max=sum(r.max_tokens for r in texts),
        image_cost_usd_max=sum(r.max_cost_usd for r in [*images, *cutouts]) + outpaint_cost,
        cutout_requests=len(cutouts),
        cutout_cost_usd_max=sum(r.max_cost_usd for r in cutouts),
        outpaint_requests=sure,
        outpaint_requests_max=most,
        outpaint_cost_usd_max=outpaint_cost,
    )


def _outpaints(plan: Plan, provider: Provider) -> tuple[int, int, float]:
    """(sure, at most, cost at most) of the plan's outpaint requests: a brand photo is
    judged on its pixels now, a master still to be made on its shapes (``fit.foreseen``)."""
    if not plan.outpaint_model:
        return 0, 0, 0.0
    sure = most = 0
    cost = 0.0
    for job in plan.image_jobs:
        if job.source is not None:
            with Image.open(job.source) as photo:
                surely = maybe = bool(fit.to_extend(photo, job.shapes))
        else:
            surely, maybe = fit.foreseen(job.shapes, job.width, job.height)
        if not maybe:
            continue
        sure, most = sure + surely, most + 1
        shapes = tuple(s.width / s.height for s in job.shapes)
        priced = OutpaintJob(
            job, Path(), "", job.width, job.height, shapes, (), plan.outpaint_model
        )
        cost += provider.outpaint_request(priced).max_cost_usd  # per image: the price
    return sure, most, cost


def _usage_of(outcome: Outcome) -> Usage:
    if outcome.record is None or outcome.cached:
        return Usage()  # a cached answer costs nothing this run
    return outcome.record.response.usage


class _Copywriter:
    """Tracks each copy job through its rounds of requests.

    The variants of one ad are compared with each other once all of them are written
    (near-duplicates are flagged on the later variant), so a finished result waits
    for its siblings before it is handed on.
    """

    def __init__(self, plan: Plan, provider: Provider, max_repairs: int) -> None:
        self.provider = provider
        self.max_repairs = max_repairs
        campaign = plan.campaign
        self.source_language = campaign.settings.source_language
        self.contexts = {
            job: CopyContext.for_campaign(
                campaign,
                job.brief,
                [campaign.placements[p] for p in job.placements],
                job.language,
            )
            for job in plan.copy_jobs
        }
        self.siblings: dict[CopyJob, list[CopyJob]] = defaultdict(list)
        for job in plan.copy_jobs:
            self.siblings[_ad_of(job)].append(job)
        self.finished: dict[CopyJob, CopyResult] = {}
        # Jobs whose requests are identical (the draft provider's, for audiences that
        # change nothing it writes) share one answer: the engine sends a key once.
        self.by_key: dict[str, list[CopyJob]] = defaultdict(list)
        self.feedback: dict[str, tuple[str, ...]] = {}  # by request key: what it asked to fix
        self.rounds: dict[CopyJob, int] = {}
        self.spent: dict[CopyJob, Usage] = {}
        self.cached: dict[CopyJob, bool] = {}
        self.repairs: list[Request] = []

    def request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        req = self.provider.text_request(job, feedback)
        self.by_key[req.key].append(job)
        self.feedback[req.key] = tuple(feedback)
        self.rounds[job] = self.rounds.get(job, 0) + 1
        return req

    def rebuild(self, request: Request) -> Request:
        """``request`` built again as the provider now builds it (e.g. a batch request in
        prompt form after its model's jobs refused native structured output); its jobs
        wait for the new request's outcome instead. Not a new round."""
        jobs = self.by_key.pop(request.key)
        feedback = self.feedback.pop(request.key)
        again = self.provider.text_request(jobs[0], feedback)  # the jobs ask the same
        self.by_key[again.key] += jobs
        self.feedback[again.key] = feedback
        return again

    def settle(self, outcome: Outcome) -> list[CopyResult]:
        """The results this outcome completes: none while repairs or siblings are pending."""
        ready: list[CopyResult] = []
        self.feedback.pop(outcome.request.key, None)
        for job in self.by_key.pop(outcome.request.key):
            result = self._settle(job, outcome)
            if result is not None:
                ready += self._with_siblings(result)
        return ready

    def _settle(self, job: CopyJob, outcome: Outcome) -> CopyResult | None:
        """A final result, or None when a repair request was queued instead."""
        self.spent[job] = self.spent.get(job, Usage()) + _usage_of(outcome)
        self.cached[job] = self.cached.get(job, True) and outcome.cached
        can_retry = self.rounds[job] <= self.max_repairs and not self.provider.draft
        if outcome.status != "ok" or outcome.record is None:
            # Sent and answered with something unusable (malformed output): ask again,
            # saying what was wrong. Refusals and unsendable requests are final.
            if outcome.record is not None and outcome.status == "failed" and can_retry:
                self.repairs.append(self.request(job, [outcome.error]))
                return None
            return self._result(job, outcome, outcome.status, error=outcome.error)
        output = outcome.record.response.output
        search = rsa.from_output(job, output) if job.limits.responsive else None
        if search is None:
            copy = written = self._copy(job, output)
            violations = check_copy(copy, job.limits, self.contexts[job])
        else:
            copy, written = rsa.summary(search), rsa.fields(search)
            violations = rsa.check(search, job.limits, self.contexts[job], brief=job.brief)
        # Supplied copy is the marketer's: the model cannot change it, so it is only flagged.
        repairable = [_feedback(v, written) for v in violations if not v.supplied]
        if repairable and can_retry:
            self.repairs.append(self.request(job, repairable))
            return None
        if search is None:
            verdict = judge(violations)
        else:
            verdict = judge_search(
                search, violations, job.limits, self.contexts[job], brief=job.brief
            )
            copy = rsa.summary(verdict.search or search)
        return self._result(
            job, outcome, verdict.status, copy=copy, issues=verdict.issues, search=verdict.search
        )

    def _with_siblings(self, result: CopyResult) -> list[CopyResult]:
        """Every variant of ``result``'s ad once the last is in, near-duplicates flagged."""
        self.finished[result.job] = result
        siblings = self.siblings[_ad_of(result.job)]
        if any(job not in self.finished for job in siblings):
            return []
        results = sorted((self.finished.pop(job) for job in siblings), key=lambda r: r.job.variant)
        written = [r for r in results if r.status in ("ok", "flagged")]
        repeats = near_duplicates(
            [
                rsa.comparable(r.search, r.job.brief)
                if r.search
                else {"headline": r.headline, "body": r.body}
                for r in written
            ],
            [f"variant {r.job.variant}" for r in written],
            skip=self.contexts[result.job].supplied,
        )
        flagged = {
            r.job: replace(r, issues=(*r.issues, str(v)))
            for r, v in zip(written, repeats, strict=True)
            if v is not None
        }
        return [flagged.get(r.job, r) for r in results]

    @staticmethod
    def _copy(job: CopyJob, output: Mapping[str, object]) -> dict[str, str]:
        copy = {k: str(output.get(k) or "").strip() for k in ("headline", "body", "cta")}
        if job.brief.headline:
            copy["headline"] = job.brief.headline
        return copy

    def _result(
        self,
        job: CopyJob,
        outcome: Outcome,
        status: str,
        *,
        copy: Mapping[str, str] | None = None,
        issues: Sequence[str] = (),
        error: str = "",
        search: SearchAd | None = None,
    ) -> CopyResult:
        copy = copy or {}
        # A draft has no model to translate: without the marketer's own fields in this
        # language it shows the source language's words, and says so.
        untranslated = (
            self.provider.draft
            and job.language != self.source_language
            and not job.brief.written_in(job.language)
            and status in ("ok", "flagged")
        )
        if untranslated:
            issues = (*issues, _not_translated(job, self.source_language))
        return CopyResult(
            job=job,
            status=status,  # type: ignore[arg-type]  # Outcome statuses are a subset
            headline=copy.get("headline", ""),
            body=copy.get("body", ""),
            cta=copy.get("cta", ""),
            error=error,
            usage=self.spent[job],
            cached=self.cached[job],
            draft=self.provider.draft,
            model=outcome.request.model,
            issues=tuple(issues),
            attempts=self.rounds[job],
            search=search,
            untranslated=untranslated,
        )


def _not_translated(job: CopyJob, source: str) -> str:
    language = LANGUAGES.get(job.language)
    name = language.english if language else job.language
    return (
        f"not translated — this {name} ad shows the brief's {source} text (offline draft,"
        f" no one wrote the brief in {name}): add message@{job.language},"
        f" product@{job.language}, benefits@{job.language}, cta@{job.language} to the"
        " Briefs sheet, or run with a model"
    )


def generate(
    plan: Plan,
    provider: Provider,
    engine: Runner,
    *,
    on_copy: Callable[[CopyResult], None],
    on_image: Callable[[ImageResult], None],
    max_repairs: int = MAX_REPAIRS,
) -> None:
    """Run every job of ``plan``; results are handed on as they arrive. A master whose
    packshot a model cuts out (``ImageJob.cutout``) is handed on once that cut-out is in
    too; the cut-out requests go first, one per packshot. A master some placements need
    extended (``creative.fit``) is handed on once its outpaint is in."""
    writer = _Copywriter(plan, provider, max_repairs)
    extender = _Extender(plan, provider, on_image)
    image_jobs: dict[str, list[ImageJob]] = {}
    cutout_jobs: dict[str, list[CutoutJob]] = defaultdict(list)
    requests: list[Request] = []
    for cutout_job in plan.cutouts:
        req = provider.cutout_request(cutout_job)
        cutout_jobs[req.key].append(cutout_job)
        requests.append(req)
    cut: dict[CutoutJob, Outcome] = {}
    waiting: dict[CutoutJob, list[tuple[ImageJob, Outcome]]] = defaultdict(list)
    for image_job in plan.image_jobs:
        if image_job.source is not None:  # the brand's own photo: nothing to generate
            own = ImageResult(image_job, "ok", path=image_job.source, model=OWN_PHOTO)
            extender.master(own)
            continue
        req = provider.image_request(image_job)
        image_jobs.setdefault(req.key, []).append(image_job)
        requests.append(req)
    requests += [writer.request(job) for job in plan.copy_jobs]

    def handle(outcome: Outcome) -> None:
        if extender.settle(outcome):
            return
        for cutout_job in cutout_jobs.get(outcome.request.key, ()):
            cut[cutout_job] = outcome
            for job, scene in waiting.pop(cutout_job, []):
                extender.master(_with_cutout(_image_result(job, scene, provider), outcome))
        if outcome.request.key in cutout_jobs:
            return
        if outcome.request.kind == "image":
            for job in image_jobs[outcome.request.key]:
                if job.cutout is not None and job.cutout not in cut:
                    waiting[job.cutout].append((job, outcome))
                else:
                    made = _image_result(job, outcome, provider)
                    extender.master(
                        made if job.cutout is None else _with_cutout(made, cut[job.cutout])
                    )
            return
        for result in writer.settle(outcome):
            on_copy(result)

    engine.run([*extender.take(), *requests], handle, writer.rebuild)
    while writer.repairs or extender.waiting:
        batch, writer.repairs = [*extender.take(), *writer.repairs], []
        engine.run(batch, handle, writer.rebuild)


def outpaint_job(result: ImageResult, model: str) -> OutpaintJob | None:
    """The outpaint ``result``'s master needs for the placements a crop would spoil
    (``creative.fit``); None when it serves every placement as it is."""
    if result.status != "ok" or result.path is None:
        return None
    data = result.path.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        shapes = fit.to_extend(image, result.job.shapes)
        size = image.size
    if not shapes:
        return None
    return OutpaintJob(
        master=result.job,
        source=result.path,
        digest=hashlib.sha256(data).hexdigest(),
        width=size[0],
        height=size[1],
        aspects=tuple(sorted({s.width / s.height for s in shapes})),
        placements=tuple(s.placement for s in shapes),
        model=model,
    )


class _Extender:
    """Masters on their way to compose: each handed on at once, or once the outpaint
    that extends it for the placements a crop would spoil is answered."""

    def __init__(self, plan: Plan, provider: Provider, on_image: Callable[[ImageResult], None]):
        self.model, self.provider, self.on_image = plan.outpaint_model, provider, on_image
        self.queued: list[Request] = []
        self.held: dict[str, list[tuple[ImageResult, OutpaintJob]]] = defaultdict(list)

    @property
    def waiting(self) -> bool:
        return bool(self.queued)

    def take(self) -> list[Request]:
        taken, self.queued = self.queued, []
        return taken

    def master(self, result: ImageResult) -> None:
        """``result`` handed on, or held for the outpaint its placements need."""
        job = outpaint_job(result, self.model) if self.model else None
        if job is None:
            self.on_image(result)
            return
        request = self.provider.outpaint_request(job)
        if request.key not in self.held:
            self.queued.append(request)
        self.held[request.key].append((result, job))

    def settle(self, outcome: Outcome) -> bool:
        """Whether ``outcome`` answered an outpaint (its masters are then handed on)."""
        waiting = self.held.pop(outcome.request.key, None)
        if waiting is None:
            return False
        record = outcome.record
        ok = outcome.status == "ok" and record is not None and record.image_path is not None
        for result, job in waiting:
            self.on_image(
                replace(
                    result,
                    extended_for=job.placements,
                    extended=record.image_path if ok and record is not None else None,
                    extend_error="" if ok else outcome.error or "the model returned no image",
                    usage=result.usage + _usage_of(outcome),
                    # A brand photo extended offline is draft art around the photo.
                    draft=result.draft or (ok and self.provider.draft),
                )
            )
        return True


def _feedback(violation: Violation, copy: Mapping[str, str]) -> str:
    """A violation as the model is told it, with the text at fault: a repair prompt is a
    fresh request, so the model does not otherwise see what it wrote. It also keeps
    repeated repairs apart: a second one is only the same request (answered from the
    journal, not paid again) when the model repeated its answer word for word."""
    if violation.field not in copy:
        return violation.message
    return f'{violation.message} (your {violation.field}: "{copy[violation.field]}")'


def _ad_of(job: CopyJob) -> CopyJob:
    """The job with its variant left out: what the variants of one ad have in common."""
    return replace(job, variant=0)


def _image_result(job: ImageJob, outcome: Outcome, provider: Provider) -> ImageResult:
    record = outcome.record
    ok = outcome.status == "ok" and record is not None and record.image_path is not None
    return ImageResult(
        job=job,
        status=outcome.status if not ok and outcome.status != "ok" else ("ok" if ok else "failed"),
        path=record.image_path if ok and record else None,
        error=outcome.error or ("" if ok else "the model returned no image"),
        usage=_usage_of(outcome),
        cached=outcome.cached,
        draft=provider.draft,
        model=outcome.request.model,
    )


def _with_cutout(result: ImageResult, cutout: Outcome) -> ImageResult:
    """A master with the model's cut-out of its packshot to set on it; failed (not
    composed) when there is none, since the ad would show no product."""
    record = cutout.record
    if result.status != "ok":
        return result
    if cutout.status == "ok" and record is not None and record.image_path is not None:
        return replace(result, product=record.image_path)
    status = "failed" if cutout.status == "ok" else cutout.status
    why = cutout.error or "the model returned no cut-out"
    return replace(result, status=status, error=f"the packshot's background was not removed: {why}")
