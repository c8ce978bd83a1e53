"""Generate: the plan's jobs become copy and master images, through a provider.

Images and the first round of copy go to the engine together. Copy that comes
back malformed or breaking a rule is sent back with the specific violations, a
bounded number of times; what still breaks a rule is delivered flagged, never
silently cut. Supplied copy (the brief's ``headline``) is used as given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from adloom.engine import Engine, Outcome
from adloom.lint import check_copy
from adloom.model import CopyJob, CopyResult, ImageJob, ImageResult, Plan, Usage
from adloom.providers.base import Provider, Request

MAX_REPAIRS = 2


@dataclass(frozen=True)
class Estimate:
    text_requests: int
    image_requests: int
    input_tokens: int
    output_tokens_max: int
    cost_usd_max: float  # every answer at max_tokens: what the budget reserves


def estimate(plan: Plan, provider: Provider) -> Estimate:
    """What generating ``plan`` would ask for and cost at most; no model calls."""
    texts = [provider.text_request(j) for j in plan.copy_jobs]
    images = [provider.image_request(j) for j in plan.image_jobs]
    unique = {r.key: r for r in [*texts, *images]}.values()
    return Estimate(
        text_requests=len({r.key for r in texts}),
        image_requests=len({r.key for r in images}),
        input_tokens=sum(r.input_tokens for r in unique),
        output_tokens_max=sum(r.max_tokens for r in unique),
        cost_usd_max=sum(r.max_cost_usd for r in unique),
    )


def _usage_of(outcome: Outcome) -> Usage:
    if outcome.record is None or outcome.cached:
        return Usage()  # a cached answer costs nothing this run
    return outcome.record.response.usage


class _Copywriter:
    """Tracks each copy job through its rounds of requests."""

    def __init__(self, provider: Provider, max_repairs: int) -> None:
        self.provider = provider
        self.max_repairs = max_repairs
        self.by_key: dict[str, CopyJob] = {}
        self.rounds: dict[CopyJob, int] = {}
        self.spent: dict[CopyJob, Usage] = {}
        self.cached: dict[CopyJob, bool] = {}
        self.repairs: list[Request] = []

    def request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        req = self.provider.text_request(job, feedback)
        self.by_key[req.key] = job
        self.rounds[job] = self.rounds.get(job, 0) + 1
        return req

    def settle(self, outcome: Outcome) -> CopyResult | None:
        """A final result, or None when a repair request was queued instead."""
        job = self.by_key[outcome.request.key]
        used, add = self.spent.get(job, Usage()), _usage_of(outcome)
        self.spent[job] = Usage(
            used.input_tokens + add.input_tokens,
            used.output_tokens + add.output_tokens,
            used.cost_usd + add.cost_usd,
        )
        self.cached[job] = self.cached.get(job, True) and outcome.cached
        can_retry = self.rounds[job] <= self.max_repairs and not self.provider.draft
        if outcome.status != "ok" or outcome.record is None:
            # Sent and answered with something unusable (malformed output): ask again,
            # saying what was wrong. Refusals and unsendable requests are final.
            if outcome.record is not None and outcome.status == "failed" and can_retry:
                self.repairs.append(self.request(job, [outcome.error]))
                return None
            return self._result(job, outcome, outcome.status, error=outcome.error)
        copy = self._copy(job, outcome.record.response.output)
        supplied = ("headline",) if job.brief.headline else ()
        problems = check_copy(copy, job.limits, supplied=supplied)
        repairable = [p for p in problems if "supplied copy" not in p]
        if repairable and can_retry:
            self.repairs.append(self.request(job, repairable))
            return None
        return self._result(job, outcome, "ok", copy=copy, issues=problems)

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
    ) -> CopyResult:
        copy = copy or {}
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
        )


def generate(
    plan: Plan,
    provider: Provider,
    engine: Engine,
    *,
    on_copy: Callable[[CopyResult], None],
    on_image: Callable[[ImageResult], None],
    max_repairs: int = MAX_REPAIRS,
) -> None:
    """Run every job of ``plan``; results are handed on as they arrive."""
    writer = _Copywriter(provider, max_repairs)
    image_jobs: dict[str, list[ImageJob]] = {}
    requests: list[Request] = []
    for image_job in plan.image_jobs:
        req = provider.image_request(image_job)
        image_jobs.setdefault(req.key, []).append(image_job)
        requests.append(req)
    requests += [writer.request(job) for job in plan.copy_jobs]

    def handle(outcome: Outcome) -> None:
        if outcome.request.kind == "image":
            for job in image_jobs[outcome.request.key]:
                on_image(_image_result(job, outcome, provider))
            return
        result = writer.settle(outcome)
        if result is not None:
            on_copy(result)

    engine.run(requests, handle)
    while writer.repairs:
        batch, writer.repairs = writer.repairs, []
        engine.run(batch, handle)


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
