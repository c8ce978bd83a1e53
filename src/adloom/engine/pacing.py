"""Per-model pacing: a smooth rate under the model's per-minute quota, adapted to throttling.

Bedrock throttles per model on tokens per minute, reserving input plus ``max_tokens``
when a request starts and settling on the real usage when it ends: in the long run
what counts is the usage. How much of a minute's quota the service accepts in one
burst is not documented, so the pacer never relies on a burst: it is a GCRA (a token
bucket that holds one request and ``TOLERANCE_S`` of quota), so over any window of
``w`` seconds it sends at most ``rate * (w + TOLERANCE_S)`` plus one request. The
tolerance only absorbs the dispatcher waking a little late, which would otherwise be
lost to the pace on every request.

Each request is charged what it is expected to use: its reservation times the share
of their reservations that this model's answers have used so far (1 until the first
answer: nothing is assumed). When it ends, the pacer settles on what it really used,
so pacing is exact on usage, and answers that stop well short of ``max_tokens`` do
not slow the run down to the pace of their reservations.

The rate starts at the configured quota. A throttle means the real quota is lower
than the rate we sent at, or the service is busy for a while: the rate is cut
multiplicatively, once per episode, and 90% of what the service accepted over the
last minute becomes the ceiling (a storm does not erase that history, a wrong quota
shows in it). Successes bring the rate back to the ceiling within seconds of work,
then probe above it: slowly at first (the ceiling is probably right) and faster the
longer no throttle contradicts it, never above the configured quota.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

DECREASE = 0.7  # rate kept after a throttle (multiplicative decrease)
CEILING = 0.9  # the ceiling learned from a throttle, as a share of the rate that throttled
FLOOR = 0.02  # never pace below this share of the configured quota
RECOVER_S = 4.0  # seconds of sending that close most of the gap to the ceiling
PROBE_S = 300.0  # seconds of sending that probe one ceiling above it, at first...
FAST_S = 10.0  # ...then the distance above the ceiling grows e-fold every this many
WINDOW_S = 60.0  # the service's quota window: what "per minute" is measured over
TOLERANCE_S = 1.0  # how far behind schedule the pacer may catch up at once


class Clock(Protocol):
    """The timeline quotas are measured on; tests and benchmarks may compress it."""

    def now(self) -> float:
        """Seconds on the quota's timeline (monotonic)."""

    def real(self, seconds: float) -> float:
        """How many real seconds ``seconds`` on this timeline last."""


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def real(self, seconds: float) -> float:
        return seconds


@dataclass(frozen=True)
class ScaledClock:
    """A timeline running ``scale`` times faster than real time (a minute in 60/scale s)."""

    scale: float

    def now(self) -> float:
        return time.monotonic() * self.scale

    def real(self, seconds: float) -> float:
        return seconds / self.scale


@dataclass
class Pacer:
    """Paces one model's requests at ``rate`` units per second (tokens or images).

    Pure state, driven with explicit times, so it is tested with a fake clock.
    ``limit`` 0 means the model has no quota: every request may go at once.
    """

    limit: float  # configured quota, units per second
    rate: float = field(init=False)
    ceiling: float = field(init=False)
    tat: float = float("-inf")  # GCRA "theoretical arrival time" of the next request
    cut_at: float = float("-inf")  # when the rate was last cut
    share: float = 1.0  # the share of its reservation an answer uses, learned
    _answers: int = 0
    _used: deque[tuple[float, float]] = field(default_factory=deque, repr=False)
    _used_sum: float = 0.0

    def __post_init__(self) -> None:
        self.rate = self.ceiling = self.limit

    @classmethod
    def per_minute(cls, quota: int) -> Pacer:
        return cls(quota / 60.0)

    @property
    def limited(self) -> bool:
        return self.limit > 0

    def delay(self, now: float) -> float:
        """Seconds until the next request may be sent (0: now)."""
        return max(0.0, self.tat - now) if self.limited else 0.0

    def take(self, reserved: float, now: float) -> float:
        """Charge a request sent now (call only when ``delay`` is 0); returns the charge."""
        charge = reserved * self.share
        if self.limited:
            self.tat = max(self.tat, now - TOLERANCE_S) + charge / self.rate
        return charge

    def settle(
        self, charged: float, reserved: float, used: float, sent_at: float, now: float
    ) -> None:
        """A request sent at ``sent_at`` was answered: pace on what it used, and recover."""
        self._record(used, now)
        if reserved > 0:
            self._answers += 1
            weight = max(0.05, 1 / self._answers)  # the mean at first, then recent answers
            self.share += weight * (min(1.0, used / reserved) - self.share)
        if not self.limited:
            return
        self._adjust(used - charged, sent_at)
        dt = used / self.rate  # the share of sending time this request stands for
        if self.rate < self.ceiling:
            self.rate += (self.ceiling - self.rate) * min(1.0, dt / RECOVER_S)
        else:
            above = self.rate - self.ceiling
            self.rate = min(self.limit, self.rate + (self.ceiling / PROBE_S + above / FAST_S) * dt)

    def cancel(self, charged: float, sent_at: float) -> None:
        """A request failed without using quota (5xx, timeout, validation): refund it."""
        if self.limited:
            self._adjust(-charged, sent_at)

    def _adjust(self, units: float, sent_at: float) -> None:
        # A refund never moves the schedule before the request's own start, so refunds
        # cannot add up to a burst; an overrun pushes it later.
        if units >= 0:
            self.tat += units / self.rate
        else:
            self.tat = min(self.tat, max(sent_at, self.tat + units / self.rate))

    def throttled(self, sent_at: float, now: float) -> None:
        """The service throttled a request sent at ``sent_at``: slow down once per episode.

        Requests sent before the last cut were paced at the old rate; their throttles
        say nothing new, so they do not cut again. What the service accepted over the
        last minute is the best estimate of the real quota, so it sets the ceiling;
        with no answer yet there is no estimate and only the rate is cut. The throttled
        request's charge is not given back, which leaves the service time to refill.
        """
        accepted = self.per_second(now)
        if not self.limited:
            # No quota configured: what went through is the quota (nothing yet:
            # back-off alone has to do).
            self.limit = self.rate = self.ceiling = accepted
            if not self.limited:
                return
        elif sent_at < self.cut_at:
            return
        floor = self.limit * FLOOR
        if accepted > 0:
            self.ceiling = min(self.limit, max(floor, accepted * CEILING))
        self.rate = max(floor, min(self.rate, self.ceiling) * DECREASE)
        self.cut_at = now

    def per_second(self, now: float) -> float:
        """Units settled per second over the last quota window (what the service counted)."""
        self._record(0.0, now)
        if not self._used:
            return 0.0
        span = min(WINDOW_S, max(1.0, now - self._used[0][0]))
        return self._used_sum / span

    def _record(self, units: float, now: float) -> None:
        if units:
            self._used.append((now, units))
            self._used_sum += units
        while self._used and self._used[0][0] < now - WINDOW_S:
            self._used_sum -= self._used.popleft()[1]
