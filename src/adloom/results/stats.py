"""The statistics of results, kept small and exact enough to check by hand.

- **Rates with intervals**: CTR (clicks / impressions) and conversion rate
  (conversions / clicks), each with its 95% Wilson score interval — the range the
  true rate lies in, given the counts; unlike "rate ± 2 standard errors" it stays
  inside 0-100% and is honest for small counts.
- **Probability of being best**: each contender's rate is given a Beta(1 + successes,
  1 + failures) posterior (a uniform prior); ``DRAWS`` joint draws with the fixed
  ``SEED`` count how often each one is highest. A winner is named only when one
  contender is best in at least ``P_BEST`` of the draws (contenders with little data
  take part: their wide posteriors make that harder) and has itself at least the
  minimum of trials (``MIN_TRIALS``); otherwise "not enough data yet" when some have
  too little, "not significant" when all have enough.
- **How much more**: the trials per contender a two-sided 5% test with 80% power
  needs to tell the leader's rate from the runner-up's (normal approximation): a
  guide to how long to keep the ads running, not a promise. Given only while it is
  within ``REACH`` times what the two have had: two nearly equal rates would need
  millions more, a figure no one can act on, so the verdict calls them level at
  this traffic instead.
- **Rank correlation** (Spearman's rho, ties ranked by their average): whether the
  judge's scores order ads as their observed CTR does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Z95 = 1.959963984540054  # the 97.5% point of the normal distribution
# For the sample size: two-sided 5% (1.96) and 80% power (0.8416).
_Z_POWER = 0.8416212335729143
P_BEST = 0.95
# The most trials per contender "how much more" names, as a multiple of what the less
# tried of the top two has had: past it, keeping the ads running would not settle it.
REACH = 10
DRAWS = 20_000
SEED = 20  # fixed: the same results always name the same winner
MetricName = Literal["ctr", "cvr"]
# The least a contender needs before it takes part in a verdict: per CTR, impressions;
# per conversion rate, clicks.
MIN_TRIALS: Mapping[MetricName, int] = {"ctr": 1000, "cvr": 100}
TRIALS: Mapping[MetricName, str] = {"ctr": "impressions", "cvr": "clicks"}
LABELS: Mapping[MetricName, str] = {"ctr": "CTR", "cvr": "conversion rate"}


@dataclass(frozen=True)
class Counts:
    """What a report says about an ad (or a group of them), summed."""

    impressions: int = 0
    clicks: int = 0
    conversions: float = 0.0  # may be fractional: attribution models share them
    cost: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.impressions + other.impressions,
            self.clicks + other.clicks,
            self.conversions + other.conversions,
            self.cost + other.cost,
        )

    @property
    def cost_per_result(self) -> float | None:
        return self.cost / self.conversions if self.conversions else None

    def rate(self, metric: MetricName) -> Rate | None:
        """CTR or conversion rate with its interval; None when it has no trials, or
        (conversion rate) more conversions than clicks were counted (view-through
        or per-action counting: not a rate of clicks)."""
        if metric == "ctr":
            return wilson(self.clicks, self.impressions) if self.impressions else None
        if not self.clicks or self.conversions > self.clicks:
            return None
        return wilson(self.conversions, self.clicks)

    def trials(self, metric: MetricName) -> int:
        return self.impressions if metric == "ctr" else self.clicks


@dataclass(frozen=True)
class Rate:
    successes: float
    trials: float
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.successes / self.trials


def wilson(successes: float, trials: float, z: float = Z95) -> Rate:
    """The Wilson score interval of ``successes`` in ``trials`` (> 0)."""
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Rate(successes, trials, max(0.0, centre - half), min(1.0, centre + half))


def probability_best(rates: Sequence[Rate], *, draws: int = DRAWS, seed: int = SEED) -> list[float]:
    """For each rate, the share of joint Beta-posterior draws in which it is highest."""
    if len(rates) < 2:
        return [1.0] * len(rates)
    rng = np.random.default_rng(seed)
    a = np.array([1 + r.successes for r in rates])[:, None]
    b = np.array([1 + r.trials - r.successes for r in rates])[:, None]
    samples = rng.beta(a, b, size=(len(rates), draws))
    best = np.bincount(samples.argmax(axis=0), minlength=len(rates))
    return [float(n) / draws for n in best]


def trials_to_separate(p1: float, p2: float) -> int | None:
    """Trials per contender to tell rates ``p1`` and ``p2`` apart (None: equal)."""
    if p1 == p2:
        return None
    spread = p1 * (1 - p1) + p2 * (1 - p2)
    return math.ceil((Z95 + _Z_POWER) ** 2 * spread / (p1 - p2) ** 2)


@dataclass(frozen=True)
class Verdict:
    """Which contender, if any, the evidence names best by one metric."""

    metric: MetricName
    winner: str | None
    p_best: Mapping[str, float]  # by contender taking part
    said: str  # in plain words, for the sheet, the page and the terminal
    more: int | None = None  # trials each contender still needs (None: named, or unknown)


def decide(
    contenders: Mapping[str, Counts], metric: MetricName, *, minimum: int | None = None
) -> Verdict:
    """The verdict on ``contenders`` (label -> counts) by ``metric``.

    Every contender with a rate takes part in the draws, those under the minimum too:
    their wide posteriors lower the leader's probability, as they should. The leader
    is named only with ``P_BEST`` and at least the minimum of trials itself."""
    least = MIN_TRIALS[metric] if minimum is None else minimum
    unit, label = TRIALS[metric], LABELS[metric]
    rates = {name: r for name, c in contenders.items() if (r := c.rate(metric)) is not None}
    short = tuple(name for name, c in contenders.items() if c.trials(metric) < least)
    if len(contenders) < 2:
        return Verdict(metric, None, {}, "only one to compare")
    p_best = dict(zip(rates, probability_best(list(rates.values())), strict=True))
    leader = max(p_best, key=lambda name: p_best[name]) if p_best else None
    if leader is not None and p_best[leader] >= P_BEST and leader not in short:
        said = f"{leader} has the best {label} (best in {p_best[leader]:.1%} of posterior draws)"
        if short:
            said += f"; {len(short)} other(s) have fewer than {least:,} {unit} yet"
        return Verdict(metric, leader, p_best, said)
    if short:
        more = least - min(contenders[name].trials(metric) for name in short)
        return Verdict(
            metric,
            None,
            p_best,
            f"not enough data yet: {len(short)} with fewer than {least:,} {unit}"
            f" (about {more:,} more {unit} each)",
            more,
        )
    ordered = sorted(rates, key=lambda name: -rates[name].value)
    first, second = rates[ordered[0]], rates[ordered[1]]
    needed = trials_to_separate(first.value, second.value)
    if needed is None:
        return Verdict(metric, None, p_best, f"not significant: the {label}s are level — no winner")
    had = int(min(first.trials, second.trials))
    leader_said = (
        f"not significant: the leader is best in only {p_best[ordered[0]]:.1%} of posterior"
        f" draws (needs {P_BEST:.0%})"
    )
    if needed > REACH * had:
        return Verdict(
            metric,
            None,
            p_best,
            f"{leader_said}; the top two ({first.value:.2%} and {second.value:.2%}) are level"
            f" at this traffic — telling them apart would take more than {REACH} times the"
            f" {unit} they have had, so treat them as equal (or test a bolder difference)",
        )
    more = max(needed - had, 1)
    return Verdict(
        metric,
        None,
        p_best,
        f"{leader_said}; about {more:,} more {unit} each would tell the top two apart",
        more,
    )


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation; None for fewer than 3 pairs or a constant side."""
    if len(xs) < 3:
        return None
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if not sxx or not syy:
        return None
    return sxy / math.sqrt(sxx * syy)


def _ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties given the average of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return ranks
