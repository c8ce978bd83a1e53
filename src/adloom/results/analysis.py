"""What won: per ad within its slot, and per dimension adloom generated.

A **slot** is the ads that compete for the same place (one brief, audience,
language and placement: the variants of an ad); a **dimension** (brief, audience,
language, placement, variant, copy length, CTA) pools every ad of each value. Each
is judged by ``stats.decide`` on CTR and on conversion rate. Pooling by dimension
mixes the other dimensions in (a language that ran mostly on a weak placement looks
weak): it says where to look, and the slots say what won like for like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from adloom.results.join import DIMENSIONS, AdInfo
from adloom.results.stats import MIN_TRIALS, Counts, Rate, Verdict, decide, spearman

Kind = Literal["slot", "dimension"]


@dataclass(frozen=True)
class Line:
    """One contender: an ad, or the ads of one value of a dimension."""

    label: str
    counts: Counts
    ctr: Rate | None
    cvr: Rate | None
    p_best_ctr: float | None  # None: not taking part (too little data, or alone)
    winner: bool  # named best by CTR


@dataclass(frozen=True)
class Comparison:
    kind: Kind
    name: str  # "placement", or the slot: "cold-brew / general / en / meta_feed"
    lines: tuple[Line, ...]
    ctr: Verdict
    cvr: Verdict


@dataclass(frozen=True)
class JudgeFit:
    """The judge's scores against observed CTR, over ads with enough impressions."""

    ads: int
    rho: float | None  # Spearman's rank correlation; None: too few ads or all tied


@dataclass(frozen=True)
class Analysis:
    ads: Mapping[str, AdInfo]
    counts: Mapping[str, Counts]  # by ad name: the ads that had results
    slots: tuple[Comparison, ...]
    dimensions: tuple[Comparison, ...]
    judge: JudgeFit | None  # None: no ad was scored


def slot_name(info: AdInfo) -> str:
    return " / ".join(info.dims[d] for d in ("brief", "audience", "language", "placement"))


def compare(kind: Kind, name: str, contenders: Mapping[str, Counts]) -> Comparison:
    ctr, cvr = decide(contenders, "ctr"), decide(contenders, "cvr")
    lines = tuple(
        Line(
            label,
            counts,
            counts.rate("ctr"),
            counts.rate("cvr"),
            ctr.p_best.get(label),
            label == ctr.winner,
        )
        for label, counts in contenders.items()
    )
    return Comparison(kind, name, lines, ctr, cvr)


def analyse(ads: Mapping[str, AdInfo], counts: Mapping[str, Counts]) -> Analysis:
    ran = {name: ads[name] for name in counts if name in ads}
    slots: dict[str, dict[str, Counts]] = {}
    for name, info in ran.items():
        slots.setdefault(slot_name(info), {})[name] = counts[name]
    by_slot = tuple(compare("slot", s, c) for s, c in slots.items() if len(c) > 1)
    dimensions = []
    for dimension in DIMENSIONS:
        pooled: dict[str, Counts] = {}
        for name, info in ran.items():
            value = info.dims[dimension]
            pooled[value] = pooled.get(value, Counts()) + counts[name]
        if len(pooled) > 1:
            dimensions.append(compare("dimension", dimension, dict(sorted(pooled.items()))))
    return Analysis(ads, counts, by_slot, tuple(dimensions), _judge(ran, counts))


def _judge(ran: Mapping[str, AdInfo], counts: Mapping[str, Counts]) -> JudgeFit | None:
    scored = [name for name, info in ran.items() if info.score is not None]
    if not scored:
        return None
    enough = [n for n in scored if counts[n].impressions >= MIN_TRIALS["ctr"]]
    scores: Sequence[float] = [ran[n].score or 0.0 for n in enough]
    rates = [counts[n].clicks / counts[n].impressions for n in enough]
    return JudgeFit(len(enough), spearman(scores, rates))
