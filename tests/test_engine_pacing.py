"""The pacer on a simulated clock: smooth under the quota, adapts to throttles, recovers.

A small discrete-event simulation stands in for Bedrock: a per-model token bucket
that reserves input + max_tokens when a request starts and gives the unused part
back when it ends, refusing (throttling) a request that does not fit. No sleeping,
no wall clock: every assertion is exact and fast.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import pytest

from adloom.engine import Pacer, Quota, Quotas
from adloom.engine.pacing import TOLERANCE_S
from adloom.errors import InputError
from adloom.providers.base import Request
from adloom.registry import load_registry


@dataclass
class Service:
    """Bedrock's quota as the fake implements it: a bucket refilled at ``rate`` per second."""

    rate: float
    capacity: float
    level: float = field(init=False)
    at: float = 0.0
    storm: tuple[float, float] = (0.0, 0.0)  # everything is refused from..until

    def __post_init__(self) -> None:
        self.level = self.capacity

    def _refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now

    def reserve(self, amount: float, now: float) -> bool:
        self._refill(now)
        if self.storm[0] <= now < self.storm[1] or amount > self.level:
            return False
        self.level -= amount
        return True

    def give_back(self, amount: float, now: float) -> None:
        self._refill(now)
        self.level = min(self.capacity, self.level + amount)


@dataclass
class Sim:
    pacer: Pacer
    service: Service
    concurrency: int = 16
    latency: float = 2.0
    seed: int = 7
    sent: list[tuple[float, float]] = field(default_factory=list)  # (time, reserved)
    throttles: int = 0
    finished: float = 0.0

    def run(self, n: int, reserved: float = 1000.0, used_share: float = 1.0) -> None:
        """Send ``n`` requests as fast as the pacer allows; throttled ones are resent."""
        rng = random.Random(self.seed)  # noqa: S311 - a simulated workload
        todo = [reserved * rng.uniform(0.5, 1.0) for _ in range(n)]
        # (ends, reserved, used, sent, charged)
        flying: list[tuple[float, float, float, float, float]] = []
        now = 0.0
        while todo or flying:
            while flying and flying[0][0] <= now:
                _, res, used, sent, charged = heapq.heappop(flying)
                self.service.give_back(res - used, now)
                self.pacer.settle(charged, res, used, sent, now)
                self.finished = now
            if todo and len(flying) < self.concurrency and self.pacer.delay(now) == 0:
                cost = todo.pop()
                charged = self.pacer.take(cost, now)
                self.sent.append((now, cost))
                if self.service.reserve(cost, now):
                    used = cost * used_share
                    heapq.heappush(flying, (now + self.latency, cost, used, now, charged))
                else:
                    self.throttles += 1
                    self.pacer.throttled(now, now)
                    todo.append(cost)
                continue
            wakes = [flying[0][0]] if flying else []
            if todo and len(flying) < self.concurrency:
                wakes.append(now + self.pacer.delay(now))
            if wakes:
                now = min(wakes)


def test_never_faster_than_the_quota_over_any_window() -> None:
    pacer = Pacer.per_minute(60_000)  # 1,000 tokens a second
    sim = Sim(pacer, Service(rate=1e9, capacity=1e12), concurrency=64, latency=0.5)
    sim.run(400)
    biggest = max(cost for _, cost in sim.sent)
    times = [t for t, _ in sim.sent]
    for i in range(len(sim.sent)):
        total = 0.0
        for j in range(i, len(sim.sent)):
            total += sim.sent[j][1]
            # Whatever window: its length (and the catch-up tolerance) times the rate,
            # plus the one request that opened it.
            window = times[j] - times[i] + TOLERANCE_S
            assert total <= 1000.0 * window + biggest + 1e-6


def test_paces_smoothly_at_the_quota_with_a_small_burst_allowance() -> None:
    # The service accepts only ~2 requests' worth at once: a minute's burst would be
    # refused, smooth pacing is not.
    sim = Sim(Pacer.per_minute(60_000), Service(rate=1000.0, capacity=2000.0), latency=0.2)
    sim.run(300, used_share=1.0)
    assert sim.throttles == 0
    total = sum(cost for _, cost in sim.sent)
    assert total / 1000.0 / sim.finished > 0.95  # within 5% of the quota-bound time


def test_unused_reservations_are_given_back() -> None:
    # Answers use 40% of what they reserve: pacing on reservations alone would be 2.5x
    # too slow; settling on usage runs at the quota without throttles.
    sim = Sim(Pacer.per_minute(60_000), Service(rate=1000.0, capacity=30_000.0), latency=1.0)
    sim.run(500, used_share=0.4)
    used = sum(cost * 0.4 for _, cost in sim.sent)
    assert sim.throttles == 0
    assert used / 1000.0 / sim.finished > 0.9


def test_learns_a_quota_lower_than_configured() -> None:
    # Configured for 2,000 tokens/s, the account has 1,000.
    pacer = Pacer.per_minute(120_000)
    sim = Sim(pacer, Service(rate=1000.0, capacity=5000.0), latency=0.5)
    sim.run(2000)
    total = sum(cost for _, cost in sim.sent)
    assert sim.throttles <= 0.02 * 2000
    assert 0.6 * 1000 <= pacer.ceiling <= 1.1 * 1000
    assert total / 1000.0 / sim.finished > 0.8


@pytest.mark.parametrize("storm", [(0.0, 5.0), (100.0, 110.0)])
def test_recovers_after_a_throttle_storm(storm: tuple[float, float]) -> None:
    pacer = Pacer.per_minute(60_000)
    service = Service(rate=1000.0, capacity=10_000.0, storm=storm)
    sim = Sim(pacer, service, latency=0.5)
    sim.run(1500)
    assert sim.throttles >= 3  # the storm did throttle and cut the rate...
    assert pacer.rate >= 0.9 * pacer.limit  # ...which has come back
    total = sum(cost for _, cost in sim.sent)
    lost = storm[1] - storm[0]
    assert total / 1000.0 / (sim.finished - lost) > 0.9  # soon after the storm


def test_one_cut_per_episode() -> None:
    pacer = Pacer.per_minute(60_000)
    pacer.throttled(sent_at=1.0, now=2.0)
    cut = pacer.rate
    pacer.throttled(sent_at=1.5, now=2.1)  # sent before the cut: no news
    assert pacer.rate == cut == pytest.approx(700.0)
    pacer.throttled(sent_at=2.2, now=3.0)  # sent at the new rate and still throttled
    assert pacer.rate == pytest.approx(490.0)


def test_no_quota_means_no_waiting_until_throttled() -> None:
    pacer = Pacer(0.0)
    for t in range(10):
        assert pacer.delay(float(t)) == 0
        pacer.take(1000, float(t))
        pacer.settle(1000, 1000, 1000, float(t), float(t) + 0.5)
    pacer.throttled(sent_at=9.0, now=10.0)
    # What went through in the last minute (10,000 tokens since the first answer,
    # 9.5 s ago) becomes the quota, and the throttle cuts below it.
    assert pacer.limit == pytest.approx(10_000 / 9.5)
    assert pacer.rate == pytest.approx(0.7 * 0.9 * 10_000 / 9.5)


def test_quotas_from_registry_and_settings() -> None:
    registry = load_registry()
    haiku = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    quotas = Quotas(
        registry,
        {
            "quota.anthropic.claude-haiku-4-5-20251001-v1:0.tpm": "50,000",
            "quota.amazon.titan-image-generator-v2:0.ipm": "6",
            "unrelated": "x",
        },
    )
    assert quotas.for_model(haiku) == Quota(tpm=50_000, ipm=0, output_multiplier=1)
    assert quotas.for_model("amazon.titan-image-generator-v2:0").ipm == 6
    sonnet = quotas.for_model("us.anthropic.claude-sonnet-4-20250514-v1:0")
    assert sonnet.tpm == 200_000
    assert sonnet.output_multiplier == 5
    request = Request("text", haiku, {}, input_tokens=100, max_tokens=50)
    assert sonnet.reserved(request) == 100 + 5 * 50
    assert Quotas().for_model("anything") == Quota()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("quota.m.tpmm", "5", "expected quota.<model-id>.tpm"),
        ("quota.m.tpm", "many", "not a number — give a whole number above 0"),
        ("quota.m.ipm", "0", "out of range — give a whole number above 0"),
    ],
)
def test_bad_quota_settings_name_their_cell(key: str, value: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        Quotas(None, {key: value}, {key: "Campaign!B9"})
    assert err.value.message.startswith("Campaign!B9: ")
    assert message in err.value.message
