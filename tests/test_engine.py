"""The engine with a provider registered like any other: retries, budget, journal, Ctrl-C.

The provider is ``adloom.providers.testing.MockProvider`` (registered through
``adloom.providers``) with a ``Script`` as its service: answers follow a per-request
script, so each behaviour is exact. Requests to
the real Bedrock stack over HTTP are in ``test_engine_fake.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from adloom.engine import Budget, Engine, Outcome, Quotas, RetryPolicy
from adloom.engine.journal import Journal
from adloom.errors import CredentialsError
from adloom.model import Usage
from adloom.providers import ProviderConfig, make_provider
from adloom.providers.base import Provider, Request, RequestFailed, Response, TransientError
from adloom.providers.testing import MockProvider, registered
from adloom.registry import load_registry
from adloom.run.pipeline import engine_status

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 32
FAST = RetryPolicy(max_attempts=4, base_s=0.001, cap_s=0.005)


class Script:
    """The service's side: ``steps[label]`` lists what each attempt does, then "ok";
    it counts the requests in flight per model (the engine bounds them)."""

    def __init__(self) -> None:
        self.steps: dict[str, list[str]] = {}
        self.latency = {"text": 0.0, "image": 0.0}
        self.calls: Counter[str] = Counter()
        self.flying: Counter[str] = Counter()
        self.most_flying: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            attempt = self.calls[request.label]
            self.calls[request.label] += 1
            self.flying[request.model] += 1
            self.most_flying[request.model] = max(
                self.most_flying[request.model], self.flying[request.model]
            )
            steps = self.steps.get(request.label, [])
            step = steps[attempt] if attempt < len(steps) else "ok"
        try:
            time.sleep(self.latency[request.kind])
            if step == "throttle":
                raise TransientError("ThrottlingException: Too many tokens", throttled=True)
            if step == "5xx":
                raise TransientError("ServiceUnavailableException")
            if step == "filter":
                raise RequestFailed("blocked by the content filter", status="filtered")
            if step == "denied":
                raise CredentialsError("AWS rejected the credentials")
            if request.kind == "image":
                return Response("ok", image=PNG, usage=Usage(cost_usd=request.max_cost_usd))
            cost = request.max_cost_usd / 2
            return Response("ok", output={"headline": request.label}, usage=Usage(50, 20, cost))
        finally:
            with self._lock:
                self.flying[request.model] -= 1


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def provider(script: Script) -> Iterator[MockProvider]:
    """The engine's requests are given to it directly: only ``send`` is used."""
    with registered(MockProvider(script, name="scripted")) as mock:
        assert make_provider("scripted", ProviderConfig(registry=load_registry())) is mock
        yield mock


def texts(n: int, cost: float = 0.0, model: str = "t") -> list[Request]:
    return [
        Request("text", model, {"n": i}, 50, 40, max_cost_usd=cost, label=f"t{i}") for i in range(n)
    ]


def images(n: int, cost: float = 0.0) -> list[Request]:
    return [Request("image", "i", {"n": i}, max_cost_usd=cost, label=f"i{i}") for i in range(n)]


def run(
    provider: Provider, journal: Journal, requests: Sequence[Request], **options: object
) -> tuple[Engine, list[Outcome]]:
    engine = Engine(provider, journal, run_id="r", retry=FAST, **options)  # type: ignore[arg-type]
    seen: list[Outcome] = []
    engine.run(requests, seen.append)
    return engine, seen


def test_outcomes_arrive_as_they_finish_with_kinds_interleaved(
    provider: MockProvider, script: Script, tmp_path: Path
) -> None:
    script.latency = {"text": 0.03, "image": 0.0}
    _, seen = run(provider, Journal(tmp_path), [*texts(20), *images(3)], concurrency=4)
    kinds = [o.request.kind for o in seen]
    assert sorted(kinds) == ["image"] * 3 + ["text"] * 20
    # Images are quick here: they are handed on long before the last copy, not after.
    assert kinds.index("image") < kinds.index("text") + 4
    assert all(o.status == "ok" and not o.cached for o in seen)


def test_concurrency_is_bounded_per_model(
    provider: MockProvider, script: Script, tmp_path: Path
) -> None:
    script.latency = {"text": 0.01, "image": 0.01}
    run(provider, Journal(tmp_path), [*texts(12, model="a"), *texts(12, model="b")], concurrency=3)
    assert script.most_flying["a"] <= 3
    assert script.most_flying["b"] <= 3
    assert max(script.most_flying.values()) == 3  # and the bound is used


def test_each_key_is_paid_once_and_a_rerun_makes_no_calls(
    provider: MockProvider, tmp_path: Path
) -> None:
    requests = [*texts(5), *texts(5), *images(2)]  # the same five twice
    engine, seen = run(provider, Journal(tmp_path), requests)
    assert len(seen) == 7
    assert engine.stats.calls == {"text": 5, "image": 2}

    again, cached = run(provider, Journal(tmp_path), requests)
    assert again.stats.calls == {"text": 0, "image": 0}
    assert again.stats.cache_hits == 7
    assert all(o.cached for o in cached)
    assert len(provider.requests) == 7

    fresh, _ = run(provider, Journal(tmp_path), requests, fresh=True)
    assert fresh.stats.calls == {"text": 5, "image": 2}


def test_transient_errors_are_retried_and_kept_in_the_journal(
    provider: MockProvider, script: Script, tmp_path: Path
) -> None:
    script.steps = {"t0": ["throttle", "5xx"], "t1": ["throttle"]}
    journal = Journal(tmp_path)
    engine, seen = run(provider, journal, texts(3))
    assert {o.request.label: (o.status, o.attempts) for o in seen} == {
        "t0": ("ok", 3),
        "t1": ("ok", 2),
        "t2": ("ok", 1),
    }
    assert engine.stats.throttles == 2
    assert engine.stats.retries == 3
    rows = {r["label"]: r for r in journal.rows()}
    assert json.loads(rows["t0"]["attempt_errors"]) == [
        "ThrottlingException: Too many tokens",
        "ServiceUnavailableException",
    ]
    assert rows["t0"]["attempts"] == 3


def test_attempt_limit_then_failure_is_asked_again_next_run(
    provider: MockProvider, script: Script, tmp_path: Path
) -> None:
    script.steps = {"t0": ["5xx"] * 4}
    engine, seen = run(provider, Journal(tmp_path), texts(2))
    failed = [o for o in seen if o.status != "ok"]
    assert [(o.request.label, o.attempts) for o in failed] == [("t0", 4)]
    assert "gave up after 4 attempts" in failed[0].error
    assert engine.stats.failed == 1

    again, seen = run(provider, Journal(tmp_path), texts(2))
    assert again.stats.calls["text"] == 1  # only the failure, which now succeeds
    assert {o.status for o in seen} == {"ok"}


def test_refusals_are_not_retried(provider: MockProvider, script: Script, tmp_path: Path) -> None:
    script.steps = {"i0": ["filter"]}
    _, seen = run(provider, Journal(tmp_path), images(2))
    assert {o.request.label: o.status for o in seen} == {"i0": "filtered", "i1": "ok"}
    assert script.calls["i0"] == 1


def test_a_provider_error_stops_the_run(
    provider: MockProvider, script: Script, tmp_path: Path
) -> None:
    script.steps = {"t3": ["denied"]}
    with pytest.raises(CredentialsError):
        run(provider, Journal(tmp_path), texts(6), concurrency=1)


def test_budget_is_never_exceeded_and_what_was_skipped_is_reported(
    provider: MockProvider, tmp_path: Path
) -> None:
    # Worst case $1 each, real cost $0.50: with $3.20, three fit at first; as they
    # settle below their worst case, more fit, until none does.
    budget = Budget(3.2)
    engine, seen = run(provider, Journal(tmp_path), texts(10, cost=1.0), budget=budget)
    sent = [o for o in seen if o.status == "ok"]
    skipped = [o for o in seen if o.status == "skipped"]
    assert len(sent) + len(skipped) == 10
    assert budget.spent == pytest.approx(0.5 * len(sent))
    assert budget.spent <= 3.2
    assert len(sent) == 5  # 5 x $0.50 spent; a sixth could cost $1 more: $3.50 > $3.20
    assert engine.stats.skipped_requests == {"text": 5, "image": 0}
    assert engine.stats.skipped_cost_usd == pytest.approx(5.0)
    assert len(provider.requests) == 5
    assert budget.reserved == pytest.approx(0.0)

    # A rerun with the same budget counts what the reused answers cost: no new calls.
    budget = Budget(3.2)
    again, _ = run(provider, Journal(tmp_path), texts(10, cost=1.0), budget=budget)
    assert budget.prior == pytest.approx(2.5)
    assert again.stats.calls["text"] == 0
    assert again.stats.skipped == 5


def test_ctrl_c_keeps_what_finishes_and_a_rerun_pays_only_for_the_rest(
    provider: MockProvider, script: Script, tmp_path: Path
) -> None:
    script.latency = {"text": 0.02, "image": 0.0}
    requests = texts(30)

    def stop_after_five(outcome: Outcome) -> None:
        seen.append(outcome)
        if len(seen) == 5:
            raise KeyboardInterrupt

    seen: list[Outcome] = []
    engine = Engine(provider, Journal(tmp_path), run_id="r1", concurrency=4, retry=FAST)
    with pytest.raises(KeyboardInterrupt):
        engine.run(requests, stop_after_five)
    paid = len(provider.requests)
    kept = len(list(Journal(tmp_path).rows()))
    assert kept == paid  # those in flight at the Ctrl-C finished and were journalled
    assert engine.stats.abandoned == 0

    again, _ = run(provider, Journal(tmp_path), requests)
    assert again.stats.cache_hits == kept
    assert again.stats.calls["text"] == 30 - kept
    assert max(Counter(r.label for r in provider.requests).values()) == 1  # no request paid twice


def test_progress_line_shows_pace_against_quota(
    provider: MockProvider, script: Script, tmp_path: Path
) -> None:
    script.steps = {"t0": ["throttle"]}
    settings = {"quota.t.tpm": "60000"}
    engine, _ = run(provider, Journal(tmp_path), texts(3), quotas=Quotas(None, settings))
    line = engine_status(engine)
    assert line.startswith("in flight 0 text, 0 image · t ")
    assert "/60.0k tok/min (pacing " in line  # the quota, and the pace the throttle lowered
    assert "1 throttled, 1 retried" in line
