"""The fan-out engine: every request answered at most once, as fast as the quotas allow.

For every request: a journal hit is handed on without a call. Otherwise it waits in
its model's lane until the lane has a free slot (``concurrency`` per model), its
worst-case cost fits the budget and the model's pacer lets its tokens (or image)
through; then a worker thread sends it and commits the answer to the journal, and
only then is the outcome handed to ``on_outcome``, as it arrives, so later stages
overlap with generation. Transient errors come back to the lane after a backoff
with full jitter; throttles also slow that model's pacer down.

One dispatcher (the caller's thread) makes every decision and calls ``on_outcome``;
workers only send and journal. So pacers, budget and stats need no locks, and a
Ctrl-C (delivered to the main thread) always lands in the dispatcher.
"""

from __future__ import annotations

import heapq
import itertools
import math
import queue
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from adloom.engine.budget import Budget
from adloom.engine.journal import Journal, Record
from adloom.engine.pacing import Clock, Pacer, SystemClock
from adloom.engine.quotas import Quota, Quotas
from adloom.engine.retry import RetryPolicy
from adloom.engine.workers import Workers
from adloom.model import Usage
from adloom.providers.base import Provider, Request, RequestFailed, TransientError

OutcomeStatus = Literal["ok", "blocked", "filtered", "failed", "skipped"]

DEFAULT_CONCURRENCY = 16  # per model; the Bedrock provider sizes its connection pool to match
BUDGET_SKIPPED = "not generated: the budget would be exceeded"
STOP_GRACE_S = 10.0  # on Ctrl-C, how long requests in flight may finish (and be kept)


@dataclass(frozen=True)
class Outcome:
    request: Request
    status: OutcomeStatus
    record: Record | None = None
    cached: bool = False
    attempts: int = 0
    error: str = ""


class Runner(Protocol):
    """What answers a stage's requests: the engine, or ``adloom.run.batching.Batcher``."""

    def run(
        self,
        requests: Sequence[Request],
        on_outcome: Callable[[Outcome], None],
        rebuild: Callable[[Request], Request] | None = None,
    ) -> None:
        """Answer ``requests`` (each key once), handing each outcome on as it comes.
        ``rebuild`` builds a request again as its provider now would: a runner may send
        that instead (an outcome then names the rebuilt request)."""


@dataclass
class Stats:
    calls: dict[str, int] = field(default_factory=lambda: {"text": 0, "image": 0})
    done: dict[str, int] = field(default_factory=lambda: {"text": 0, "image": 0})
    in_flight: dict[str, int] = field(default_factory=lambda: {"text": 0, "image": 0})
    cache_hits: int = 0
    throttles: int = 0
    retries: int = 0
    failed: int = 0
    skipped: int = 0
    skipped_requests: dict[str, int] = field(default_factory=lambda: {"text": 0, "image": 0})
    skipped_cost_usd: float = 0.0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    abandoned: int = 0  # in flight when a stopped run gave up waiting for them
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_saved_usd: float = 0.0
    tiers: dict[str, int] = field(default_factory=dict)  # answers per service tier served

    def add(self, usage: Usage, tier: str) -> None:
        """Count an answer received this run."""
        self.cost_usd += usage.cost_usd
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cache_read_tokens += usage.cache_read_tokens
        self.cache_write_tokens += usage.cache_write_tokens
        self.cache_saved_usd += usage.cache_saved_usd
        if tier:
            self.tiers[tier] = self.tiers.get(tier, 0) + 1


@dataclass(frozen=True)
class ModelPace:
    """One model's pacing, for the progress display."""

    model: str
    kind: str
    used_per_min: float  # settled tokens (or images) over the last minute
    quota_per_min: float  # configured (or, with none, learned from throttling); 0: none
    pace_per_min: float  # what the pacer sends at now: below the quota after throttles


@dataclass
class _Job:
    request: Request
    seq: int
    quota: Quota
    ready_at: float = -math.inf
    attempts: int = 0
    budget_held: float | None = None  # the worst case reserved, once reserved
    sent_at: float = 0.0
    charged: float = 0.0  # what the pacer charged for the attempt in flight
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Result:
    job: _Job
    record: Record | None = None
    error: BaseException | None = None


@dataclass
class _Lane:
    """The requests of one model: waiting to go, backing off, in flight; and its pacer."""

    model: str
    kind: str
    pacer: Pacer
    queued: list[tuple[int, _Job]] = field(default_factory=list)  # heap, in request order
    backing_off: list[tuple[float, int, _Job]] = field(default_factory=list)  # heap, by time
    in_flight: int = 0

    def push(self, job: _Job) -> None:
        if job.ready_at == -math.inf:
            heapq.heappush(self.queued, (job.seq, job))
        else:
            heapq.heappush(self.backing_off, (job.ready_at, job.seq, job))

    def head(self, now: float) -> _Job | None:
        """The next request that may go: retries whose back-off is over rejoin in order."""
        while self.backing_off and self.backing_off[0][0] <= now:
            _, seq, job = heapq.heappop(self.backing_off)
            heapq.heappush(self.queued, (seq, job))
        return self.queued[0][1] if self.queued else None

    def pop(self) -> _Job:
        return heapq.heappop(self.queued)[1]

    def next_retry(self) -> float:
        return self.backing_off[0][0] if self.backing_off else math.inf

    def busy(self) -> bool:
        return bool(self.queued or self.backing_off or self.in_flight)

    def waiting(self) -> list[_Job]:
        return [j for _, j in self.queued] + [j for *_, j in self.backing_off]

    def clear(self) -> list[_Job]:
        jobs = sorted(self.waiting(), key=lambda j: j.seq)
        self.queued, self.backing_off = [], []
        return jobs


class Engine:
    def __init__(
        self,
        provider: Provider,
        journal: Journal,
        *,
        run_id: str,
        concurrency: int = DEFAULT_CONCURRENCY,
        budget: Budget | None = None,
        fresh: bool = False,
        retry: RetryPolicy | None = None,
        quotas: Quotas | None = None,
        clock: Clock | None = None,
        notify: Callable[[str], None] | None = None,
        seed: int | None = None,
    ) -> None:
        self.provider = provider
        self.journal = journal
        self.run_id = run_id
        self.concurrency = max(1, concurrency)
        self.budget = budget or Budget(None)
        self.fresh = fresh
        self.retry = retry or RetryPolicy()
        self.quotas = quotas or Quotas()
        self.clock = clock or SystemClock()
        self.notify = notify or (lambda _msg: None)
        self.stats = Stats()
        self.paces: tuple[ModelPace, ...] = ()  # published for the progress display
        self._rng = random.Random(seed)  # noqa: S311 - jitter, not cryptography
        self._seq = itertools.count()
        self._lanes: dict[str, _Lane] = {}
        self._answered: set[str] = set()  # keys answered in this run (reused even with fresh)
        # Jobs the budget could not reserve for yet, in order; while any waits, no other
        # job reserves, and what already holds a reservation goes on.
        self._starved: deque[_Job] = deque()
        self._budget_out = False  # once the budget is out, nothing more is sent

    # ------------------------------------------------------------------ public

    def run(
        self,
        requests: Sequence[Request],
        on_outcome: Callable[[Outcome], None],
        rebuild: Callable[[Request], Request] | None = None,
    ) -> None:
        """Answer ``requests`` (duplicates by key are sent once), handing each outcome on.
        ``rebuild`` is not used: on-demand inference takes every request as built."""
        unique: dict[str, Request] = {}
        for r in requests:
            unique.setdefault(r.key, r)
        jobs: list[_Job] = []
        for request in unique.values():
            record = self.lookup(request)
            if record is None:
                jobs.append(self._job(request))
                continue
            self.stats.cache_hits += 1
            self.budget.reuse(record.response.usage.cost_usd)
            on_outcome(Outcome(request, record.response.status, record, True, 0))
        if not jobs:
            return
        for job in jobs:
            self._lane(job.request).push(job)
        lanes = [self._lanes[m] for m in dict.fromkeys(j.request.model for j in jobs)]
        workers: Workers[_Job, _Result] = Workers(self.concurrency * len(lanes), self._attempt)
        try:
            self._dispatch(lanes, workers, on_outcome)
        except KeyboardInterrupt:
            self._stop(lanes, workers)
            raise
        finally:
            workers.close()

    # ------------------------------------------------------------------ dispatcher

    def _dispatch(
        self,
        lanes: list[_Lane],
        workers: Workers[_Job, _Result],
        on_outcome: Callable[[Outcome], None],
    ) -> None:
        while self._starved or any(lane.busy() for lane in lanes):
            now = self.clock.now()
            wake = self._send_ready(lanes, workers, now)
            self._publish(lanes, now)
            if not any(lane.in_flight for lane in lanes):
                held = any(j.budget_held is not None for ln in lanes for j in ln.waiting())
                if self._starved and not held:
                    # Nothing in flight or holding a reservation can give budget back.
                    self._skip_all(lanes, on_outcome)
                elif wake < math.inf:
                    time.sleep(self.clock.real(wake - now))
                continue
            timeout = None if wake == math.inf else max(0.0, self.clock.real(wake - now))
            try:
                result = workers.results.get(timeout=timeout)
            except queue.Empty:
                continue
            self._handle(result, on_outcome)
            while True:  # everything else that finished meanwhile, before sending more
                try:
                    self._handle(workers.results.get_nowait(), on_outcome)
                except queue.Empty:
                    break
            self._unstarve()

    def _send_ready(self, lanes: list[_Lane], workers: Workers[_Job, _Result], now: float) -> float:
        """Send what may go now; returns when something waiting may go next (inf: unknown)."""
        wake = math.inf
        for lane in lanes:
            while lane.in_flight < self.concurrency and (job := lane.head(now)):
                if job.budget_held is None and not self._reserve(job):
                    self._starved.append(lane.pop())
                    continue
                delay = lane.pacer.delay(now)
                if delay > 0:
                    wake = min(wake, now + delay)
                    break
                lane.pop()
                job.charged = lane.pacer.take(job.quota.reserved(job.request), now)
                job.attempts += 1
                job.sent_at = now
                lane.in_flight += 1
                self.stats.in_flight[lane.kind] += 1
                self.stats.calls[lane.kind] += 1
                workers.submit(job)
            if lane.in_flight < self.concurrency:
                wake = min(wake, lane.next_retry())
        return wake

    def _reserve(self, job: _Job) -> bool:
        if self._starved or self._budget_out:
            return False
        if not self.budget.reserve(job.request.max_cost_usd):
            return False
        job.budget_held = job.request.max_cost_usd
        return True

    def _unstarve(self) -> None:
        """Requests that waited for budget go, in order, as far as settled costs made room."""
        while self._starved and self.budget.reserve(self._starved[0].request.max_cost_usd):
            job = self._starved.popleft()
            job.budget_held = job.request.max_cost_usd
            self._lanes[job.request.model].push(job)

    def _skip_all(self, lanes: list[_Lane], on_outcome: Callable[[Outcome], None]) -> None:
        skipped = [*self._starved, *(j for lane in lanes for j in lane.clear())]
        self._starved.clear()
        for job in skipped:
            on_outcome(self.skip(job.request, job.request.max_cost_usd))

    def _handle(self, result: _Result, on_outcome: Callable[[Outcome], None]) -> None:
        job, request = result.job, result.job.request
        lane = self._lanes[request.model]
        lane.in_flight -= 1
        self.stats.in_flight[lane.kind] -= 1
        now = self.clock.now()
        error, cost = result.error, 0.0
        if isinstance(error, TransientError):
            job.errors.append(str(error))
            if error.throttled:
                self.stats.throttles += 1
                lane.pacer.throttled(job.sent_at, now)
            else:
                lane.pacer.cancel(job.charged, job.sent_at)
            if job.attempts < self.retry.max_attempts:
                self.stats.retries += 1
                job.ready_at = now + self.retry.delay(job.attempts, self._rng)
                lane.push(job)
                return
            message = f"gave up after {job.attempts} attempts: {error}"
            self.journal.record_failure(request, message, job.attempts, self.run_id, job.errors)
            outcome = Outcome(request, "failed", attempts=job.attempts, error=message)
        elif isinstance(error, RequestFailed):
            lane.pacer.cancel(job.charged, job.sent_at)
            self.journal.record_failure(request, str(error), job.attempts, self.run_id, job.errors)
            status: OutcomeStatus = "failed" if error.status == "ok" else error.status
            outcome = Outcome(request, status, attempts=job.attempts, error=str(error))
        elif error is not None:
            raise error  # nothing more will succeed (credentials, model access), or a bug
        else:
            record = result.record
            assert record is not None  # noqa: S101 - a result holds an error or a record
            response, usage = record.response, record.response.usage
            used = job.quota.used(request, usage)
            lane.pacer.settle(job.charged, job.quota.reserved(request), used, job.sent_at, now)
            self._answered.add(request.key)
            cost = usage.cost_usd
            self.stats.add(usage, str(response.meta.get("tier", "")))
            outcome = Outcome(request, response.status, record, False, job.attempts, response.error)
        self._release_budget(job, cost)
        self.stats.done[request.kind] += 1
        self.stats.failed += int(outcome.status != "ok")
        on_outcome(outcome)

    def _release_budget(self, job: _Job, cost: float) -> None:
        if job.budget_held is not None:
            self.budget.settle(job.budget_held, cost)
            job.budget_held = None

    def _stop(self, lanes: list[_Lane], workers: Workers[_Job, _Result]) -> None:
        """Ctrl-C: send nothing more; keep what finishes within a grace period.

        Workers commit answers to the journal themselves, so a request that finishes
        is kept even if nobody reads its result; a second Ctrl-C abandons the rest.
        """
        waiting = sum(lane.in_flight for lane in lanes)
        if waiting:
            self.notify(
                f"Stopping: waiting up to {STOP_GRACE_S:.0f}s for {waiting} request(s) in flight "
                "to finish and be saved (Ctrl-C again to abandon them)."
            )
        deadline = time.monotonic() + STOP_GRACE_S
        try:
            while waiting and (left := deadline - time.monotonic()) > 0:
                try:
                    result = workers.results.get(timeout=left)
                except queue.Empty:
                    break
                waiting -= 1
                if result.record is not None:  # saved by the worker: count it as done
                    self.stats.done[result.job.request.kind] += 1
                    self.stats.cost_usd += result.record.response.usage.cost_usd
        finally:
            self.stats.abandoned = waiting

    # ------------------------------------------------------------------ workers

    def _attempt(self, job: _Job) -> _Result:
        """One attempt, in a worker thread: send, and commit an answer to the journal.

        Committing here, not in the dispatcher, keeps an answer that arrives after a
        Ctrl-C: nobody may read the result any more, but it is paid for and saved.
        """
        request = job.request
        started = time.monotonic()
        try:
            response = self.provider.send(request)
            if not response.latency_ms:
                latency_ms = round((time.monotonic() - started) * 1000)
                response = replace(response, latency_ms=latency_ms)
            record = self.journal.record(request, response, job.attempts, self.run_id, job.errors)
        except BaseException as exc:  # handed to the dispatcher, which decides
            return _Result(job, error=exc)
        return _Result(job, record=record)

    # ------------------------------------------------------------------ helpers

    def lookup(self, request: Request) -> Record | None:
        """The journal's answer to ``request`` that this run may reuse, if any."""
        # --fresh ignores what earlier runs stored, but a key answered during this
        # run is reused (repair rounds may ask the same thing twice).
        if self.fresh and request.key not in self._answered:
            return None
        return self.journal.lookup(request.key)

    def answered(self, request: Request, record: Record, tier: str) -> Outcome:
        """An answer that came another way than ``run`` (a batch job), counted as this
        run's; the caller settles the budget."""
        self._answered.add(request.key)
        response = record.response
        self.stats.add(response.usage, tier)
        self.stats.done[request.kind] += 1
        self.stats.failed += int(response.status != "ok")
        return Outcome(request, response.status, record, False, record.attempts, response.error)

    def failed(self, request: Request, error: str) -> Outcome:
        """A request that failed another way than ``run``, counted and journalled."""
        self.journal.record_failure(request, error, 1, self.run_id)
        self.stats.done[request.kind] += 1
        self.stats.failed += 1
        return Outcome(request, "failed", attempts=1, error=error)

    def skip(self, request: Request, cost_usd: float) -> Outcome:
        """A request not sent because the budget would be exceeded (worst case ``cost_usd``):
        once one is, nothing more is sent."""
        self._budget_out = True
        self.stats.skipped += 1
        self.stats.skipped_requests[request.kind] += 1
        self.stats.skipped_cost_usd += cost_usd
        return Outcome(request, "skipped", error=BUDGET_SKIPPED)

    def _job(self, request: Request) -> _Job:
        return _Job(request, next(self._seq), self.quotas.for_model(request.model))

    def _lane(self, request: Request) -> _Lane:
        lane = self._lanes.get(request.model)
        if lane is None:
            quota = self.quotas.for_model(request.model).per_minute(request.kind)
            lane = _Lane(request.model, request.kind, Pacer.per_minute(quota))
            self._lanes[request.model] = lane
        return lane

    def _publish(self, lanes: list[_Lane], now: float) -> None:
        self.paces = tuple(
            ModelPace(
                lane.model,
                lane.kind,
                lane.pacer.per_second(now) * 60,
                lane.pacer.limit * 60,
                lane.pacer.rate * 60,
            )
            for lane in lanes
        )
