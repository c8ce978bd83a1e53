"""Batch: copy requests answered by the provider's batch jobs, at the batch price.

``Batcher.run`` takes the place of ``Engine.run`` for a run in batch mode
(``--mode batch``; ``choose`` decides for ``--mode auto``). For each round of requests:

1. Answers the journal holds are handed on as always, without a job.
2. A batch model's other copy requests first join the jobs an earlier run submitted and
   did not read back (the run resumes waiting for those; it never submits them again);
   what remains goes in new jobs, split by the model's limits, when it reaches the
   minimum records per job. Below the minimum it goes on-demand, and the user is told.
3. Each new job: its worst case is reserved against the budget (no room: it is not
   submitted and its requests are not generated), it is journalled with its requests,
   then submitted with a name and token derived from its content.
4. While jobs run, images (and anything not batched) go through the engine, paced.
5. A waiter thread polls each job with back-off. An ended job's answers are read,
   journalled exactly like on-demand answers (a later on-demand run with the same
   requests reuses them) and handed on. Records that errored or are missing go
   on-demand, unless the error says on-demand would fail the same way; a job that
   ended Failed, Expired or Stopped is reported with the service's message.

Only the dispatcher (the caller's thread) touches the engine, its budget and stats,
and calls ``on_outcome``; the waiter thread only asks the service and journals.
A Ctrl-C stops waiting; the jobs keep running on the service, and the next run (or
``adloom jobs``) finds them in the journal.
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
    model: str
    submitted: Submitted
    requests: dict[str, Request]  # record id -> request (this run's, or as journalled)
    wanted: set[str]  # the record ids this run hands on
    worst_usd: float  # reserved against this run's budget
    progress: BatchProgress = field(default_factory=lambda: BatchProgress("Submitted"))
    since: float = field(default_factory=time.monotonic)


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
    skipped: tuple[str, ...] = ()  # output lines that could not be read, and why
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
        self.waiting: tuple[_Job, ...] = ()  # published for the progress line

    # ------------------------------------------------------------------ public

    def run(self, requests: Sequence[Request], on_outcome: Callable[[Outcome], None]) -> None:
        """Answer ``requests`` like ``Engine.run``, copy requests of batch models in jobs."""
        unique = list({r.key: r for r in requests}.values())
        limits = {r.model: self.batches.limits(r.model) for r in unique if r.kind == "text"}
        batched: dict[str, list[Request]] = {}
        direct: list[Request] = []
        for request in unique:
            if limits.get(request.model) is None or request.kind != "text":
                direct.append(request)
            elif self.engine.lookup(request) is not None:
                direct.append(request)  # the engine hands a journal hit on
            else:
                batched.setdefault(request.model, []).append(request)
        jobs: list[_Job] = []
        for model, todo in batched.items():
            model_limits = limits[model]
            assert model_limits is not None  # noqa: S101 - batched only with limits
            jobs += self._jobs(model, todo, model_limits, direct, on_outcome)
        if not jobs:
            self.engine.run(direct, on_outcome)
            return
        ended: queue.Queue[_Ended] = queue.Queue()
        stop = threading.Event()
        waiter = threading.Thread(
            target=self._wait, args=(jobs, ended, stop), name="adloom-batch", daemon=True
        )
        self.waiting = tuple(jobs)
        waiter.start()
        try:
            self.engine.run(direct, on_outcome)
            again: list[Request] = []
            for _ in jobs:
                again += self._collected(_next(ended), on_outcome)
            self.waiting = ()  # kept on a Ctrl-C: the message names the jobs still running
            self.engine.run(again, on_outcome)
        finally:
            stop.set()

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
        return "batch: " + ", ".join(parts)

    # ------------------------------------------------------------------ planning jobs

    def _jobs(
        self,
        model: str,
        todo: list[Request],
        limits: BatchLimits,
        direct: list[Request],
        on_outcome: Callable[[Outcome], None],
    ) -> list[_Job]:
        """The jobs that answer ``todo``: resumed ones first, then new ones; requests
        left to send on-demand are appended to ``direct``."""
        pending = {r.key: r for r in todo}
        resumable = [] if self.engine.fresh else self.journal.open_batch_jobs()
        jobs = [job for kept in resumable if (job := self._resume(kept, model, pending, direct))]
        rest = [r for r in todo if r.key in pending]
        if rest and len(rest) < limits.min_records:
            self.notify(
                f"{len(rest)} copy request(s) for {model}: fewer than the {limits.min_records}"
                " records a batch job must hold; sent on-demand instead."
            )
            direct += rest
            return jobs
        for chunk in split(rest, limits):
            job = self._start(model, chunk, direct, on_outcome)
            if job is not None:
                jobs.append(job)
        return jobs

    def _resume(
        self, kept: BatchJob, model: str, pending: dict[str, Request], direct: list[Request]
    ) -> _Job | None:
        """A journalled job this round's requests are in, taken up again (submitted
        again with its token if the kill came before the service's answer)."""
        if kept.model != model:
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
            submission = BatchSubmission(kept.name, model, kept.token, tuple(requests.values()))
            submitted = self._submit(submission)
        if submitted is None:
            direct += [requests[k] for k in wanted]
            return None
        worst = sum(self.batches.worst_cost(requests[k]) for k in wanted)
        # The job runs whether or not the budget has room (it may be done already):
        # without a reservation, what it cost is still counted as spent.
        worst = worst if self.engine.budget.reserve(worst) else 0.0
        self.notify(f"Resuming batch job {kept.name} ({len(wanted)} of this run's requests).")
        return _Job(kept.name, model, submitted, requests, wanted, worst)

    def _start(
        self,
        model: str,
        chunk: list[Request],
        direct: list[Request],
        on_outcome: Callable[[Outcome], None],
    ) -> _Job | None:
        """Reserve, journal and submit one new job; None when the budget has no room, or
        the service refused the job (its requests are appended to ``direct``)."""
        worst = sum(self.batches.worst_cost(r) for r in chunk)
        if not self.engine.budget.reserve(worst):
            for request in chunk:
                on_outcome(self.engine.skip(request, self.batches.worst_cost(request)))
            return None
        # --fresh asks again: a job of its own, not the one the same token would find.
        fresh = [self.engine.run_id] if self.engine.fresh else []
        digest = content_digest(model, [r.key for r in chunk] + fresh)
        submission = BatchSubmission(
            name=f"{_NAME_PREFIX}-{self.campaign}-{digest[:12]}",
            model=model,
            token=digest,
            records=tuple(chunk),
        )
        self.journal.add_batch_job(submission, worst, self.engine.run_id)
        submitted = self._submit(submission)
        if submitted is None:
            self.engine.budget.settle(worst, 0.0)
            direct += chunk
            return None
        self.notify(
            f"Submitted batch job {submission.name}: {len(chunk)} copy request(s) for {model}"
            f" (at most ${worst:.4f})."
        )
        requests = {r.key: r for r in chunk}
        return _Job(submission.name, model, submitted, requests, set(requests), worst)

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

    # ------------------------------------------------------------------ waiting

    def _wait(self, jobs: list[_Job], ended: queue.Queue[_Ended], stop: threading.Event) -> None:
        """In the waiter thread: poll every job until it ends, then read it back."""
        delay = self.options.poll_s
        left = list(jobs)
        while left and not stop.is_set():
            for job in list(left):
                try:
                    job.progress = self.batches.progress(job.submitted.job_id)
                    self.journal.batch_status(
                        job.name, job.progress.status, job.progress.message, collected=False
                    )
                    if job.progress.ended:
                        reads = tuple(self._read(job))
                        manifest = self.batches.manifest(job.submitted)
                        left.remove(job)
                        skipped = tuple(self.batches.skipped)
                        ended.put(_Ended(job, reads, skipped=skipped, manifest=manifest))
                except TransientError:
                    continue  # throttled or a service hiccup: asked again at the next check
                except Exception as exc:  # handed to the dispatcher, which raises it
                    ended.put(_Ended(job, error=exc))
                    return
            if left:
                stop.wait(delay)
                delay = min(self.options.max_poll_s, delay * 1.5)

    def _read(self, job: _Job) -> Iterator[_Read]:
        """A job's answers, each journalled as soon as it is read (a kill loses none)."""
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
            yield _Read(answer, record)
        self.journal.batch_status(
            job.name, job.progress.status, job.progress.message, collected=True
        )

    def _collected(self, ended: _Ended, on_outcome: Callable[[Outcome], None]) -> list[Request]:
        """Hand on an ended job's answers; returns the requests to send on-demand."""
        if ended.error is not None:
            raise ended.error
        job, cost, answered = ended.job, 0.0, 0
        seen: set[str] = set()
        again: list[Request] = []
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
            elif read.answer.retry:
                again.append(request)
            else:
                on_outcome(
                    self.engine.failed(request, f"batch job {job.name}: {read.answer.error}")
                )
        if ended.skipped:
            self.notify(
                f"Batch job {job.name}: {len(ended.skipped)} output line(s) could not be read"
                f" ({'; '.join(ended.skipped[:3])}); their requests are sent on-demand."
            )
        missing = [job.requests[k] for k in sorted(job.wanted - seen)]
        again += missing
        self.engine.budget.settle(job.worst_usd, cost)
        progress = job.progress
        if progress.status != "Completed" or again:
            why = f": {progress.message}" if progress.message else ""
            self.notify(
                f"Batch job {job.name} ended {progress.status}{why}; {answered} answer(s) read,"
                f" {len(again)} request(s) sent on-demand instead."
            )
        self._check_manifest(job, ended)
        self.reports.append(
            BatchJobReport(
                job.name, job.submitted.job_id, job.model, progress.status,
                len(job.requests), answered, len(again), progress.message,
                dict(ended.manifest),
            )
        )  # fmt: skip
        return again

    def _check_manifest(self, job: _Job, ended: _Ended) -> None:
        """Say so when the service's own count of answers differs from what was read."""
        succeeded = ended.manifest.get("successRecordCount")
        read = sum(1 for r in ended.reads if r.record is not None)
        if succeeded is not None and succeeded != read:
            self.notify(
                f"Batch job {job.name}: its manifest counts {succeeded} answer(s), {read} were"
                " read from its output files (the rest are sent on-demand)."
            )


def _next(ended: queue.Queue[_Ended]) -> _Ended:
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
