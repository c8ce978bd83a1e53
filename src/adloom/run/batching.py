"""Batch: copy requests answered by the provider's batch jobs, at the batch price.

``Batcher.run`` takes the place of ``Engine.run`` for a run in batch mode
(``--mode batch``; ``choose`` decides for ``--mode auto``). For each round of requests:

1. Answers the journal holds are handed on as always, without a job. A model whose
   jobs refused native structured output (the journal remembers it) has its other
   requests built again in prompt form first (``rebuild``).
2. A batch model's other copy requests first join the jobs an earlier run submitted and
   did not read back (the run resumes waiting for those; it never submits them again);
   what remains goes in new jobs, split by the model's limits, when it reaches the
   minimum records per job. Below the minimum it goes on-demand, and the user is told.
3. Each new job: its worst case is reserved against the budget (no room: it is not
   submitted and its requests are not generated). Up to the account's quota of jobs
   at once (resumed ones count) it is journalled with its requests, then submitted
   with a name and token derived from its content; the rest wait, and the waiter
   submits each when a running job ends.
4. While jobs run, images (and anything not batched) go through the engine, paced.
5. A waiter thread polls each job with back-off. An ended job's answers are read,
   journalled exactly like on-demand answers (a later on-demand run with the same
   requests reuses them) and handed on. Every record that errored, is missing or
   whose answer is malformed goes on-demand once, the reason journalled; a job that
   ended Failed, Expired or Stopped is reported with the service's message. Records
   refused for their native structured output make the model ask in the prompt from
   then on: jobs still waiting go back to the dispatcher to be built again.

Only the dispatcher (the caller's thread) touches the engine, its budget and stats,
calls ``on_outcome`` and ``rebuild``; the waiter thread asks the service, journals,
and submits jobs already reserved. A Ctrl-C stops waiting; the jobs keep running on
the service, and the next run (or ``adloom jobs``) finds them in the journal.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from adloom.engine import Engine, Outcome
from adloom.engine.journal import BatchJob, Journal, Record
from adloom.errors import InputError, ProviderError
from adloom.model import BatchJobReport
from adloom.providers import ProviderConfig
from adloom.providers.base import (
    BatchAnswer,
    Batches,
    BatchLimits,
    BatchProgress,
    BatchSubmission,
    Request,
    RequestFailed,
    Submitted,
    TransientError,
)

MODES = ("on-demand", "batch", "auto")
_T = TypeVar("_T")
TIER = "batch"  # how a batch answer is counted among the service tiers served
_NAME_PREFIX = "adloom"


@dataclass(frozen=True)
class BatchOptions:
    poll_s: float = 30.0  # the first wait between status checks of a job
    max_poll_s: float = 300.0  # the back-off's cap


@dataclass
class _Job:
    """A job this run waits for: submitted now, or found in the journal."""

    name: str
    model: str  # the requests' model (as sent on-demand)
    submitted: Submitted
    requests: dict[str, Request]  # record id -> request (this run's, or as journalled)
    wanted: set[str]  # the record ids this run hands on
    worst_usd: float  # reserved against this run's budget
    submitted_model: str = ""  # the id the job names (``Batches.job_model``)
    progress: BatchProgress = field(default_factory=lambda: BatchProgress("Submitted"))
    since: float = field(default_factory=time.monotonic)

    @classmethod
    def of(cls, planned: _Pending) -> _Job:
        """A planned job, before the service has said anything about it."""
        s = planned.submission
        requests = {r.key: r for r in s.records}
        return cls(s.name, planned.model, Submitted("", "", ""), requests, set(requests),
                   planned.worst, s.model)  # fmt: skip


@dataclass(frozen=True)
class _Pending:
    """A new job, reserved against the budget, not yet journalled or submitted: it waits
    for room under the account's quota of jobs at once."""

    model: str  # the requests' model (as sent on-demand)
    submission: BatchSubmission
    worst: float
    prompt_form: bool = False  # built after its model's jobs refused native output


@dataclass(frozen=True)
class _Read:
    """One answer the waiter read and journalled."""

    answer: BatchAnswer
    record: Record | None


@dataclass(frozen=True)
class _Ended:
    """A job the waiter saw end, with everything it read back (or why it could not)."""

    job: _Job
    reads: tuple[_Read, ...] = ()
    error: BaseException | None = None
    # Output lines that could not be read: how many, and the first few (where: why).
    skipped: tuple[int, tuple[str, ...]] = (0, ())
    manifest: Mapping[str, int] = field(default_factory=dict)  # the service's own counts


class Batcher:
    def __init__(
        self,
        engine: Engine,
        batches: Batches,
        *,
        campaign: str,
        options: BatchOptions | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.journal: Journal = engine.journal
        self.batches = batches
        self.campaign = _name_part(campaign)
        self.options = options or BatchOptions()
        self.notify = notify or (lambda _msg: None)
        self.reports: list[BatchJobReport] = []
        self._rng = random.Random()  # noqa: S311 - back-off jitter, not cryptography
        self._lock = threading.Lock()  # guards _active, _pending (both threads use them)
        self._active: list[_Job] = []  # submitted, not yet seen to end
        self._pending: list[_Pending] = []  # planned, waiting for room under the quota
        self._limits: dict[str, BatchLimits | None] = {}
        # Models whose jobs refused native structured output (now or in an earlier run of
        # this folder, as the journal remembers): their batch requests ask in the prompt.
        self._prompt_form: set[str] = set()
        for model, why in self.journal.batch_prompt_forms().items():
            self._prompt_form.add(model)  # the provider is told in ``run`` (see there)
            self.notify(
                f"Batch jobs of {model} refused native structured output in an earlier run"
                f" ({why}); its batch requests carry the schema in the prompt."
            )

    # ------------------------------------------------------------------ public

    def run(
        self,
        requests: Sequence[Request],
        on_outcome: Callable[[Outcome], None],
        rebuild: Callable[[Request], Request] | None = None,
    ) -> None:
        """Answer ``requests`` like ``Engine.run``, copy requests of batch models in jobs.
        ``rebuild``: a request built again as the provider now builds it (for requests
        planned in a job before their model's jobs refused native structured output)."""
        batched, direct = self._sort(requests, rebuild)
        for model, todo in batched.items():
            self._plan(model, todo, direct, on_outcome)
        if not self._pending and not self._active:
            self.engine.run(direct, on_outcome)
            return
        ended: queue.Queue[_Ended | _Pending] = queue.Queue()
        outstanding = len(self._active) + len(self._pending)  # each ends as one _Ended
        self._launch_room(ended, raise_errors=True)  # the account's or S3's refusals: exit 3
        stop = threading.Event()
        waiter = threading.Thread(
            target=self._wait, args=(ended, stop), name="adloom-batch", daemon=True
        )
        waiter.start()
        try:
            self.engine.run(direct, on_outcome)
            again: list[Request] = []
            while outstanding:
                item = _next(ended)
                if isinstance(item, _Pending):  # its model now asks in the prompt
                    outstanding -= not self._replan(item, rebuild, again, on_outcome)
                    continue
                outstanding -= 1
                again += self._collected(item, on_outcome)
            self.engine.run(again, on_outcome)
        finally:
            stop.set()

    def _sort(
        self, requests: Sequence[Request], rebuild: Callable[[Request], Request] | None
    ) -> tuple[dict[str, list[Request]], list[Request]]:
        """(the requests for batch jobs by model, those for the engine: journal hits,
        images, models without batch jobs)."""
        # Requests of a model whose jobs refused native output (in an earlier run) were
        # built before this: those the journal does not answer as built are built again
        # in prompt form (an answer an earlier run got either way is reused).
        for model in self._prompt_form:
            self.batches.use_prompt_form(model)
        batched: dict[str, list[Request]] = {}
        direct: list[Request] = []
        for request in {r.key: r for r in requests}.values():
            if request.kind != "text" or self._model_limits(request.model) is None:
                direct.append(request)
                continue
            now = request
            if self.engine.lookup(now) is None and rebuild and now.model in self._prompt_form:
                now = rebuild(now)
            if self.engine.lookup(now) is not None:
                direct.append(now)  # the engine hands a journal hit on
            else:
                batched.setdefault(now.model, []).append(now)
        return batched, direct

    @property
    def waiting(self) -> tuple[_Job, ...]:
        """The jobs submitted and not yet seen to end (a Ctrl-C's message names them)."""
        with self._lock:
            return tuple(self._active)

    def status(self) -> str:
        """One line for the progress display while jobs run."""
        jobs = self.waiting
        if not jobs:
            return ""
        parts = []
        for job in jobs:
            p = job.progress
            done = f" {p.processed:,}/{p.total:,}" if p.total else ""
            parts.append(f"{job.name} {p.status}{done} ({_elapsed(time.monotonic() - job.since)})")
        with self._lock:
            queued = len(self._pending)
        if queued:
            parts.append(f"{queued} more queued under the account's batch job quota")
        return "batch: " + ", ".join(parts)

    # ------------------------------------------------------------------ planning jobs

    def _model_limits(self, model: str) -> BatchLimits | None:
        if model not in self._limits:
            self._limits[model] = self.batches.limits(model)
        return self._limits[model]

    def _plan(
        self,
        model: str,
        todo: list[Request],
        direct: list[Request],
        on_outcome: Callable[[Outcome], None],
    ) -> None:
        """The jobs that answer ``todo``: resumed ones first (``_active``), then new ones
        (``_pending``, reserved against the budget); requests left to send on-demand are
        appended to ``direct``."""
        limits = self._model_limits(model)
        assert limits is not None  # noqa: S101 - batched only with limits
        pending = {r.key: r for r in todo}
        resumable = [] if self.engine.fresh else self.journal.open_batch_jobs()
        for kept in resumable:
            job = self._resume(kept, model, pending, direct)
            if job is not None:
                self._active.append(job)
        rest = [r for r in todo if r.key in pending]
        if rest and len(rest) < limits.min_records:
            self.notify(
                f"{len(rest)} copy request(s) for {model}: fewer than the {limits.min_records}"
                " records a batch job must hold; sent on-demand instead."
            )
            direct += rest
            return
        for chunk in split(rest, limits):
            planned = self._reserve(model, chunk, on_outcome)
            if planned is not None:
                self._pending.append(planned)
        job_model = self.batches.job_model(model)
        mine = [p.submission.model for p in self._pending]
        mine += [j.submitted_model for j in self._active]
        if limits.max_jobs and mine.count(job_model) > limits.max_jobs:
            self.notify(
                f"This account may have {limits.max_jobs} batch job(s) of {model} submitted"
                " or running at once (its Service Quotas): the others wait their turn."
            )

    def _resume(
        self, kept: BatchJob, model: str, pending: dict[str, Request], direct: list[Request]
    ) -> _Job | None:
        """A journalled job this round's requests are in, taken up again (submitted
        again with its token if the kill came before the service's answer)."""
        if kept.model not in (model, self.batches.job_model(model)):
            return None
        requests = {r.key: r for r in self.journal.batch_requests(kept.name)}
        wanted = {key for key in requests if key in pending}
        if not wanted:
            if all(self.engine.lookup(r) for r in requests.values()):  # read, then killed
                self.journal.batch_status(kept.name, kept.status, kept.message, collected=True)
            return None
        for key in wanted:
            requests[key] = pending.pop(key)  # this run's request: its label, its costs
        submitted: Submitted | None = Submitted(kept.job_id, kept.input_uri, kept.output_uri)
        if not kept.job_id:
            records = tuple(requests.values())
            submitted = self._submit(BatchSubmission(kept.name, kept.model, kept.token, records))
        if submitted is None:
            direct += [requests[k] for k in wanted]
            return None
        worst = sum(self.batches.worst_cost(requests[k]) for k in wanted)
        # The job runs whether or not the budget has room (it may be done already):
        # without a reservation, what it cost is still counted as spent.
        worst = worst if self.engine.budget.reserve(worst) else 0.0
        self.notify(f"Resuming batch job {kept.name} ({len(wanted)} of this run's requests).")
        return _Job(kept.name, model, submitted, requests, wanted, worst, kept.model)

    def _reserve(
        self, model: str, chunk: list[Request], on_outcome: Callable[[Outcome], None]
    ) -> _Pending | None:
        """One new job, its worst case reserved; None when the budget has no room (its
        requests are then not generated)."""
        worst = sum(self.batches.worst_cost(r) for r in chunk)
        if not self.engine.budget.reserve(worst):
            for request in chunk:
                on_outcome(self.engine.skip(request, self.batches.worst_cost(request)))
            return None
        job_model = self.batches.job_model(model)
        # --fresh asks again: a job of its own, not the one the same token would find.
        fresh = [self.engine.run_id] if self.engine.fresh else []
        digest = content_digest(job_model, [r.key for r in chunk] + fresh)
        submission = BatchSubmission(
            name=f"{_NAME_PREFIX}-{self.campaign}-{digest[:12]}",
            model=job_model,
            token=digest,
            records=tuple(chunk),
        )
        return _Pending(model, submission, worst, prompt_form=model in self._prompt_form)

    def _replan(
        self,
        planned: _Pending,
        rebuild: Callable[[Request], Request] | None,
        direct: list[Request],
        on_outcome: Callable[[Outcome], None],
    ) -> bool:
        """A job not yet submitted whose model's jobs refused native structured output:
        its requests built again in prompt form and queued again (without ``rebuild``,
        sent on-demand as they are). False when it is not queued again."""
        self.engine.budget.settle(planned.worst, 0.0)
        records = list(planned.submission.records)
        if rebuild is None:
            direct += records
            return False
        again = self._reserve(planned.model, [rebuild(r) for r in records], on_outcome)
        if again is None:
            return False
        with self._lock:
            self._pending.append(again)
        return True

    def _launch_room(
        self, ended: queue.Queue[_Ended | _Pending], *, raise_errors: bool = False
    ) -> int:
        """Submit the planned jobs there is room for under each model's quota of jobs at
        once. A job planned before its model's jobs refused native structured output goes
        back to the dispatcher (to be built again); a refused job, or (unless
        ``raise_errors``) a failure, goes to ``ended``. Returns how many were started."""
        started = 0
        while True:
            with self._lock:
                planned = next((p for p in self._pending if self._room(p)), None)
                if planned is None:
                    return started
                self._pending.remove(planned)
            if planned.model in self._prompt_form and not planned.prompt_form:
                ended.put(planned)
                continue
            try:
                job = self._launch(planned)
            except Exception as exc:
                if raise_errors:
                    raise
                ended.put(_Ended(_Job.of(planned), error=exc))
                return started
            if job.progress.status == "Refused":
                ended.put(_Ended(job))
                continue
            started += 1

    def _room(self, planned: _Pending) -> bool:
        limit = (self._model_limits(planned.model) or BatchLimits(0, 0, 0)).max_jobs
        model = planned.submission.model
        return not limit or sum(j.submitted_model == model for j in self._active) < limit

    def _launch(self, planned: _Pending) -> _Job:
        """Journal and submit one planned job (a job the service refused comes back with
        the status Refused: its requests go on-demand)."""
        submission = planned.submission
        self.journal.add_batch_job(submission, planned.worst, self.engine.run_id)
        job = _Job.of(planned)
        submitted = self._submit(submission)
        if submitted is None:
            job.progress = BatchProgress("Refused", job.progress.message)
            return job
        job.submitted = submitted
        with self._lock:  # at once: a Ctrl-C from now on names it as still running
            self._active.append(job)
        self.notify(
            f"Submitted batch job {submission.name}: {len(submission.records)} copy request(s)"
            f" for {submission.model} (at most ${planned.worst:.4f})."
        )
        return job

    def _submit(self, submission: BatchSubmission) -> Submitted | None:
        """Start the job, trying again while the service is busy (the token keeps that
        from starting two); None when it refuses this job, which is then sent on-demand."""
        retry = self.engine.retry
        for attempt in itertools.count(1):
            try:
                submitted = self.batches.submit(submission)
                break
            except TransientError as exc:
                if attempt >= retry.max_attempts:
                    raise ProviderError(
                        f"batch job {submission.name} could not be started after {attempt}"
                        f" attempts: {exc}",
                        hint="Run the same command again later: nothing is submitted twice.",
                    ) from exc
                time.sleep(retry.delay(attempt, self._rng))
            except RequestFailed as exc:
                self.journal.batch_status(submission.name, "Refused", str(exc), collected=True)
                self.notify(
                    f"Batch job {submission.name} was refused ({exc}); its"
                    f" {len(submission.records)} copy request(s) are sent on-demand instead."
                )
                return None
        self.journal.batch_submitted(submission.name, submitted)
        return submitted

    def _use_prompt_form(self, model: str) -> None:
        self._prompt_form.add(model)
        self.batches.use_prompt_form(model)

    # ------------------------------------------------------------------ waiting

    def _wait(self, ended: queue.Queue[_Ended | _Pending], stop: threading.Event) -> None:
        """In the waiter thread: poll every job until it ends, read it back, and submit
        what waits for room as jobs end."""
        delay = self.options.poll_s
        while not stop.is_set():
            with self._lock:
                active = list(self._active)
            for job in active:
                try:
                    job.progress = self.batches.progress(job.submitted.job_id)
                    self.journal.batch_status(
                        job.name, job.progress.status, job.progress.message, collected=False
                    )
                    if job.progress.ended:
                        reads = tuple(self._read(job))
                        manifest = self.batches.manifest(job.submitted)
                        skipped = self.batches.skipped.count, tuple(self.batches.skipped.examples)
                        with self._lock:
                            self._active.remove(job)
                        ended.put(_Ended(job, reads, skipped=skipped, manifest=manifest))
                except TransientError:
                    continue  # throttled or a service hiccup: asked again at the next check
                except Exception as exc:  # handed to the dispatcher, which raises it
                    ended.put(_Ended(job, error=exc))
                    return
            if self._launch_room(ended):
                delay = self.options.poll_s  # a new job: followed closely again
            stop.wait(delay)
            delay = min(self.options.max_poll_s, delay * 1.5)

    def _read(self, job: _Job) -> Iterator[_Read]:
        """A job's answers, each journalled as soon as it is read (a kill loses none)."""
        refused = ""
        for answer in self.batches.answers(job.submitted, job.requests):
            request = job.requests.get(answer.key)
            if request is None:
                continue
            record = None
            if answer.response is not None:
                response = answer.response
                meta = {**response.meta, "tier": TIER, "batch_job": job.name}
                record = self.journal.record(
                    request, replace(response, meta=meta), 1, self.engine.run_id
                )
            elif answer.structured_refused:
                refused = answer.error
            yield _Read(answer, record)
        if refused and job.model not in self._prompt_form:
            # Before anything waiting is submitted: the rest of the run asks in the prompt.
            self.journal.remember_prompt_form(job.model, refused, self.engine.run_id)
            self._use_prompt_form(job.model)
        self.journal.batch_status(
            job.name, job.progress.status, job.progress.message, collected=True
        )

    def _collected(self, ended: _Ended, on_outcome: Callable[[Outcome], None]) -> list[Request]:
        """Hand on an ended job's answers; returns the requests to send on-demand (each
        journalled with why)."""
        if ended.error is not None:
            raise ended.error
        job, cost, answered = ended.job, 0.0, 0
        seen: set[str] = set()
        again: dict[str, str] = {}  # key -> why it goes on-demand
        for read in ended.reads:
            key = read.answer.key
            seen.add(key)
            if key not in job.wanted:
                continue
            request = job.requests[key]
            if read.record is not None:
                cost += read.record.response.usage.cost_usd
                answered += 1
                on_outcome(self.engine.answered(request, read.record, TIER))
            else:
                again[key] = read.answer.error
        skipped, examples = ended.skipped
        if skipped:
            self.notify(
                f"Batch job {job.name}: {skipped:,} output line(s) could not be read"
                f" ({'; '.join(examples)}); their requests are sent on-demand."
            )
        progress = job.progress
        missing = "refused" if progress.status == "Refused" else "missing from its output"
        for key in sorted(job.wanted - seen):
            again[key] = f"the batch job {job.name} left it unanswered ({missing})"
        self.journal.batch_fallbacks(job.name, again)
        self.engine.budget.settle(job.worst_usd, cost)
        if progress.status != "Completed" or again:
            why = f": {progress.message}" if progress.message else ""
            self.notify(
                f"Batch job {job.name} ended {progress.status}{why}; {answered} answer(s) read,"
                f" {len(again)} request(s) sent on-demand instead."
            )
        self._check_manifest(job, ended)
        self.reports.append(
            BatchJobReport(
                job.name, job.submitted.job_id, job.submitted_model, progress.status,
                len(job.requests), answered, len(again), progress.message,
                dict(ended.manifest), skipped_lines=skipped,
            )
        )  # fmt: skip
        return [job.requests[k] for k in again]

    def _check_manifest(self, job: _Job, ended: _Ended) -> None:
        """Say so when the service's own count of answers differs from what was read."""
        succeeded = ended.manifest.get("successRecordCount")
        read = sum(1 for r in ended.reads if r.record is not None)
        if succeeded is not None and succeeded != read:
            self.notify(
                f"Batch job {job.name}: its manifest counts {succeeded} answer(s), {read} were"
                " read from its output files (the rest are sent on-demand)."
            )


def _next(ended: queue.Queue[_T]) -> _T:
    """The next ended job; waits in short steps so that a Ctrl-C is taken at once."""
    while True:
        try:
            return ended.get(timeout=0.5)
        except queue.Empty:
            continue


def split(requests: Sequence[Request], limits: BatchLimits) -> list[list[Request]]:
    """``requests`` in jobs within ``limits`` (records and input bytes), as even as can
    be, so that no job falls below the minimum because the last one got the rest."""
    if not requests:
        return []
    sizes = [len(_line(r)) for r in requests]
    by_records = math.ceil(len(requests) / max(1, limits.max_records))
    by_bytes = math.ceil(sum(sizes) / max(1, limits.max_bytes))
    count = max(by_records, by_bytes)
    per_job = math.ceil(len(requests) / count)
    jobs: list[list[Request]] = [[]]
    used = 0
    for request, size in zip(requests, sizes, strict=True):
        if jobs[-1] and (len(jobs[-1]) >= per_job or used + size > limits.max_bytes):
            jobs.append([])
            used = 0
        jobs[-1].append(request)
        used += size
    return jobs


def _line(request: Request) -> bytes:
    """The request's line in a job's input file (what its size is counted on)."""
    line = {"recordId": request.key, "modelInput": request.body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def content_digest(model: str, keys: Sequence[str]) -> str:
    """The job's identity: its model and its records, in order."""
    return hashlib.sha256("\n".join([model, *keys]).encode("utf-8")).hexdigest()


def _name_part(text: str) -> str:
    """A campaign's name as it may appear in a job name (letters, digits, dashes)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30].strip("-") or "campaign"


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


# ---------------------------------------------------------------------------- the mode


@dataclass(frozen=True)
class Mode:
    """What ``--mode`` came to for a run: batch or not, and what to tell the user."""

    batch: bool
    note: str = ""


def mode_of(value: str | None, where: str) -> str:
    """``--mode`` or the ``mode`` setting, checked; on-demand by default."""
    mode = (value or "on-demand").strip().lower()
    if mode not in MODES:
        raise InputError(f'{where}: mode "{value}" is not one of {", ".join(MODES)}')
    return mode


def blockers(config: ProviderConfig) -> list[str]:
    """The run's options a batch job cannot carry (they are on-demand features)."""
    found = []
    if config.guardrail:
        found.append("--guardrail")
    if config.latency == "optimized":
        found.append("--latency optimized")
    if config.tier not in ("", "default"):
        found.append(f"--tier {config.tier}")
    return found
