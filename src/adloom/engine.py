"""The fan-out engine: send requests concurrently, at most once each, within budget.

For every request: a journal hit is handed on without a call; otherwise the worst
case cost is reserved against the budget, the request is sent (retrying transient
errors with capped exponential backoff and full jitter), the answer is committed to
the journal, and only then handed to ``on_outcome``. Outcomes are handed on as they
arrive, so later stages overlap with generation.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Literal

from adloom.journal import Journal, Record
from adloom.providers.base import Provider, Request, RequestFailed, TransientError

OutcomeStatus = Literal["ok", "blocked", "filtered", "failed", "skipped"]


@dataclass(frozen=True)
class Outcome:
    request: Request
    status: OutcomeStatus
    record: Record | None = None
    cached: bool = False
    attempts: int = 0
    error: str = ""


@dataclass
class Stats:
    calls: dict[str, int] = field(default_factory=lambda: {"text": 0, "image": 0})
    cache_hits: int = 0
    throttles: int = 0
    failed: int = 0
    skipped: int = 0
    skipped_cost_usd: float = 0.0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0


class Budget:
    """Worst-case reservation: a request is sent only if its maximum cost still fits."""

    def __init__(self, limit_usd: float | None) -> None:
        self.limit = limit_usd
        self.spent = 0.0
        self.reserved = 0.0
        self._lock = threading.Lock()

    def reserve(self, amount: float) -> bool:
        with self._lock:
            if self.limit is not None and self.spent + self.reserved + amount > self.limit + 1e-12:
                return False
            self.reserved += amount
            return True

    def settle(self, reserved: float, actual: float) -> None:
        with self._lock:
            self.reserved -= reserved
            self.spent += actual


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2^n)]."""
        return rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


class Engine:
    def __init__(
        self,
        provider: Provider,
        journal: Journal,
        *,
        run_id: str,
        concurrency: int = 8,
        budget: Budget | None = None,
        fresh: bool = False,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.provider = provider
        self.journal = journal
        self.run_id = run_id
        self.concurrency = max(1, concurrency)
        self.budget = budget or Budget(None)
        self.fresh = fresh
        self.retry = retry or RetryPolicy()
        self.stats = Stats()
        self._lock = threading.Lock()
        self._rng = random.Random()  # noqa: S311 - jitter, not cryptography
        self._seen_fresh: set[str] = set()

    def run(self, requests: Sequence[Request], on_outcome: Callable[[Outcome], None]) -> None:
        """Process ``requests`` (duplicates by key are sent once) and report each outcome."""
        unique: dict[str, Request] = {}
        for r in requests:
            unique.setdefault(r.key, r)
        todo: list[Request] = []
        for request in unique.values():
            record = self._cached(request)
            if record is None:
                todo.append(request)
                continue
            with self._lock:
                self.stats.cache_hits += 1
            on_outcome(Outcome(request, record.response.status, record, True, 0))

        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="adloom") as pool:
            pending: set[Future[Outcome]] = set()
            queue = list(reversed(todo))
            while queue or pending:
                while queue and len(pending) < self.concurrency:
                    pending.add(pool.submit(self._process, queue.pop()))
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    on_outcome(fut.result())

    def _cached(self, request: Request) -> Record | None:
        # --fresh ignores what earlier runs stored, but a key answered during this
        # run is reused (repair rounds may ask the same thing twice).
        if self.fresh and request.key not in self._seen_fresh:
            return None
        return self.journal.lookup(request.key)

    def _process(self, request: Request) -> Outcome:
        if not self.budget.reserve(request.max_cost_usd):
            with self._lock:
                self.stats.skipped += 1
                self.stats.skipped_cost_usd += request.max_cost_usd
            return Outcome(request, "skipped", error="not generated: the budget would be exceeded")
        outcome = Outcome(request, "failed", error="interrupted")
        try:
            outcome = self._send_with_retries(request)
        finally:
            spent = outcome.record.response.usage.cost_usd if outcome.record else 0.0
            self.budget.settle(request.max_cost_usd, spent)
        return outcome

    def _send_with_retries(self, request: Request) -> Outcome:
        error = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            with self._lock:
                self.stats.calls[request.kind] += 1
            try:
                response = self.provider.send(request)
            except TransientError as exc:
                error = str(exc)
                with self._lock:
                    self.stats.throttles += int(exc.throttled)
                if attempt < self.retry.max_attempts:
                    time.sleep(self.retry.delay(attempt, self._rng))
                continue
            except RequestFailed as exc:
                return self._fail(request, str(exc), attempt, exc.status)
            record = self.journal.record(request, response, attempt, self.run_id)
            with self._lock:
                self._seen_fresh.add(request.key)
                self.stats.cost_usd += response.usage.cost_usd
                self.stats.input_tokens += response.usage.input_tokens
                self.stats.output_tokens += response.usage.output_tokens
                self.stats.failed += int(response.status != "ok")
            return Outcome(request, response.status, record, False, attempt, response.error)
        return self._fail(request, f"gave up after {attempt} attempts: {error}", attempt, "failed")

    def _fail(self, request: Request, error: str, attempts: int, status: str) -> Outcome:
        self.journal.record_failure(request, error, attempts, self.run_id)
        with self._lock:
            self.stats.failed += 1
        final: OutcomeStatus = "blocked" if status == "blocked" else "failed"
        if status == "filtered":
            final = "filtered"
        return Outcome(request, final, None, False, attempts, error)
