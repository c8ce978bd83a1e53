"""The next round from what ran: ``adloom run BRIEF --learn-from OUT`` and a review
round on a folder with results.

The results stored in ``OUT`` (``adloom results``) are summed per copy job (a job's
copy serves every placement of the same limits) and its variants are compared as
``stats.decide`` compares anything. Then, per copy job:

- **replaced**: it had enough data and lost (best in under 5% of posterior draws):
  it is written again, its request carrying the winners' copy as examples and the
  style guide (``model.Lessons``). The lowest performers come first in the plan, so
  a budget that runs out leaves the better ones;
- **kept**: the winner, one with too little data, or one the evidence does not
  separate yet: the same request as before, so run in the same out folder its copy
  comes back from the journal unchanged and free;
- no results: planned as usual.

A review round (``every``) gives the lessons to every job it writes again (the
rejected and the failed); which ads those are is the reviewer's call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from adloom.model import CopyJob, Example, Lessons, Plan
from adloom.results.analysis import Analysis, analyse
from adloom.results.join import AdInfo, run_ads
from adloom.results.stats import MIN_TRIALS, Counts, decide
from adloom.results.store import read_results
from adloom.results.styleguide import LOSER_P_BEST, distil, read_guide, winners_and_losers

MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Learned:
    plan: Plan
    replaced: tuple[str, ...]  # copy job labels, lowest CTR first
    kept: Mapping[str, int]  # why -> copy jobs kept
    examples: int
    guide_edited: bool


def lessons_from(source: Path) -> tuple[Analysis, Lessons]:
    """The analysis of the results stored in ``source`` and what they teach."""
    workbook, ads = run_ads(source)
    analysis = analyse(ads, read_results(source))
    guide = read_guide(source)
    text = guide.text if guide else distil(analysis, workbook.said("Campaign") or source.name)
    winners, _ = winners_and_losers(analysis)
    winners.sort(key=lambda a: -_ctr(analysis.counts[a.name]))
    examples = tuple(_example(a, analysis.counts[a.name]) for a in winners[:MAX_EXAMPLES])
    return analysis, Lessons(examples, text)


def _ctr(c: Counts) -> float:
    return c.clicks / c.impressions if c.impressions else 0.0


def _example(ad: AdInfo, counts: Counts) -> Example:
    rate = counts.rate("ctr")
    evidence = (
        f"CTR {rate.value:.2%} ({rate.low:.2%}-{rate.high:.2%}) over {counts.impressions:,}"
        " impressions"
        if rate
        else ""
    )
    return Example(ad.headline, ad.body, ad.cta, evidence)


def learn(plan: Plan, source: Path, *, every: bool = False) -> Learned:
    """``plan`` with lessons on the copy jobs to write again (module docstring)."""
    analysis, lessons = lessons_from(source)
    per_job: dict[CopyJob, Counts] = {}
    for spec in plan.ads:
        counts = analysis.counts.get(spec.name)
        if counts is not None:
            per_job[spec.copy_job] = per_job.get(spec.copy_job, Counts()) + counts
    groups: dict[tuple[str, ...], dict[str, Counts]] = {}
    by_label = {job.label: job for job in plan.copy_jobs}
    for job, counts in per_job.items():
        slot = (job.brief.id, job.audience.id, job.language, job.limits.id)
        groups.setdefault(slot, {})[job.label] = counts
    kept: Counter[str] = Counter()
    replaced: list[CopyJob] = list(plan.copy_jobs) if every else []
    for contenders in () if every else groups.values():
        verdict = decide(contenders, "ctr")
        for label, counts in contenders.items():
            p_best = verdict.p_best.get(label)
            if counts.impressions < MIN_TRIALS["ctr"]:
                kept["too little data"] += 1
            elif p_best is not None and p_best < LOSER_P_BEST:
                replaced.append(by_label[label])
            else:
                kept["won" if label == verdict.winner else "not separated yet"] += 1
    replaced.sort(key=lambda job: _ctr(per_job.get(job, Counts())))
    taught = {job: replace(job, lessons=lessons) for job in replaced}
    order = [*replaced, *(job for job in plan.copy_jobs if job not in taught)]
    new_plan = replace(
        plan,
        copy_jobs=tuple(taught.get(job, job) for job in order),
        ads=tuple(replace(s, copy_job=taught.get(s.copy_job, s.copy_job)) for s in plan.ads),
    )
    guide = read_guide(source)
    return Learned(
        new_plan,
        tuple(job.label for job in replaced),
        dict(kept),
        len(lessons.examples),
        bool(guide and guide.edited),
    )
