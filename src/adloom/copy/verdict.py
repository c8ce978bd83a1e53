"""Whether copy may go to an ad platform as it is: ``ok``, or ``flagged`` for a person.

A rule the platforms (or the brand) enforce and the copy still breaks after the
repair rounds holds the ad back: it is delivered ``flagged``, shown in the workbook
and the preview with each reason, and never written to a platform upload file
(``adloom.delivery.platforms``) until a reviewer fixes it (``adloom review``). The advisory
rules (``ADVISORY``; and near-duplicate variants, found once all are written) leave
the ad ``ok`` with the issue noted: a platform accepts such an ad.

A responsive search ad has pools to spare: the headlines and descriptions the model
wrote that break a rule are dropped instead (a failing path too), when the
ad then passes with at least ``rsa.MIN_HEADLINES`` and ``rsa.MIN_DESCRIPTIONS``; an
issue names each one dropped. The marketer's supplied copy is never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from adloom.copy import rsa
from adloom.copy.lint import CopyContext, RuleId, Violation
from adloom.model import Brief, CopyLimits, SearchAd

Verdicts = Literal["ok", "flagged"]

# The copy names neither the product nor the message: a weak ad, not a rejected one.
ADVISORY: frozenset[RuleId] = frozenset({"product"})

Describe = Callable[[Violation], str]


@dataclass(frozen=True)
class Verdict:
    status: Verdicts
    issues: tuple[str, ...]
    search: SearchAd | None = None  # a search ad as delivered: failing slots dropped


def holds_back(violation: Violation) -> bool:
    return violation.rule not in ADVISORY


def judge(violations: Sequence[Violation], describe: Describe = str) -> Verdict:
    """Copy of one headline, body and CTA: flagged while any rule holds it back."""
    status: Verdicts = "flagged" if any(holds_back(v) for v in violations) else "ok"
    return Verdict(status, tuple(describe(v) for v in violations))


def judge_search(
    search: SearchAd,
    violations: Sequence[Violation],
    limits: CopyLimits,
    context: CopyContext,
    *,
    brief: Brief,
    describe: Describe = str,
) -> Verdict:
    """A search ad: ok, ok with the model's failing slots dropped, or flagged as written."""
    verdict = judge(violations, describe)
    if verdict.status == "ok":
        return Verdict("ok", verdict.issues, search)
    failing = [v for v in violations if holds_back(v)]
    if not any(v.supplied for v in failing):
        pruned = _without(search, {v.field for v in failing})
        if pruned is not None:
            kept, dropped = pruned
            again = rsa.check(kept, limits, context, brief=brief)
            if not any(holds_back(v) for v in again):
                notes = [_dropped(label, text, failing) for label, text in dropped]
                return Verdict("ok", (*notes, *(describe(v) for v in again)), kept)
    return Verdict("flagged", verdict.issues, search)


def _without(search: SearchAd, labels: set[str]) -> tuple[SearchAd, list[tuple[str, str]]] | None:
    """``search`` without the slots ``labels`` names, and those dropped as (label, text);
    None when a pool would fall below Google's minimum or a label is no single slot."""
    slots = rsa.fields(search)
    if not labels <= slots.keys():
        return None  # a rule of a whole pool (too few, too many): dropping cannot fix it
    headlines = [i for i in range(len(search.headlines)) if f"headline {i + 1}" not in labels]
    descriptions = [
        i for i in range(len(search.descriptions)) if f"description {i + 1}" not in labels
    ]
    if len(headlines) < rsa.MIN_HEADLINES or len(descriptions) < rsa.MIN_DESCRIPTIONS:
        return None
    # Google takes path 2 only after a path 1: a path 2 kept moves up to a dropped path 1.
    paths = [p for label, p in (("path 1", search.path1), ("path 2", search.path2))
             if p and label not in labels]  # fmt: skip
    path1, path2 = [*paths, "", ""][:2]
    kept = SearchAd(
        headlines=tuple(search.headlines[i] for i in headlines),
        descriptions=tuple(search.descriptions[i] for i in descriptions),
        path1=path1,
        path2=path2,
        headline_pins=tuple(search.pin("headline", i) for i in headlines),
        description_pins=tuple(search.pin("description", i) for i in descriptions),
    )
    dropped = [(label, slots[label]) for label in slots if label in labels]
    return kept, dropped


def _dropped(label: str, text: str, failing: Sequence[Violation]) -> str:
    reasons = "; ".join(v.message for v in failing if v.field == label)
    return f'dropped {label} ("{text}") — it broke a rule: {reasons}'
