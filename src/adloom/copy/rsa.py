"""Google responsive search ads (RSA): the copy shape, reading a model's answer, the rules.

An RSA is not one headline and one body but pools Google combines at serving time:
up to 15 headlines and 4 descriptions (the ``google_rsa`` placement's counts), two
display-URL paths, and optional pins that fix a headline to position 1-3 or a
description to 1-2. Pinned copy comes from the brief (``pin_headline_1`` ...,
docs/brief-format.md) and, with the brief's ``headline``, is the marketer's: it is
put in as given, first, and only flagged by the checks, never sent back.

Each headline, description and path is checked with the same rules as any copy
(``lint.check_copy``: length as Google counts it, banned words, Google's editorial
basics), and the ad as a whole for what only a pool can break: too few or too many
items, duplicates, and a path with a slash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from adloom.copy.lint import CopyContext, Violation, check_copy
from adloom.copy.terms import fold
from adloom.model import (
    MAX_DESCRIPTIONS,
    MAX_HEADLINES,
    Brief,
    CopyJob,
    CopyLimits,
    PinField,
    SearchAd,
)

# Google Ads API, responsive search ads overview: at least 3 headlines and 2
# descriptions, at most 15 and 4 (the placement table's counts); pins to headline
# positions 1-3 and description positions 1-2.
MIN_HEADLINES = 3
MIN_DESCRIPTIONS = 2
PIN_POSITIONS: Mapping[PinField, int] = {"headline": 3, "description": 2}

SEPARATOR = " | "  # between the headlines of a search result, as the preview draws one

Supplied = list[tuple[str, int]]  # (text, pinned position or 0)


def supplied(brief: Brief) -> tuple[Supplied, Supplied]:
    """The marketer's headlines and descriptions with their pins, in the order they go
    into the ad: pinned ones by position, then the brief's ``headline`` (unpinned)."""
    pins = sorted(brief.pins, key=lambda p: p.position)
    headlines = [(p.text, p.position) for p in pins if p.field == "headline"]
    if brief.headline and not any(same(brief.headline, text) for text, _ in headlines):
        headlines.append((brief.headline, 0))
    descriptions = [(p.text, p.position) for p in pins if p.field == "description"]
    return headlines, descriptions


def to_write(job: CopyJob) -> tuple[int, int]:
    """How many headlines and descriptions the model writes: the rest of the pools.

    At least one of each, so a brief that supplies a whole pool still gets variants.
    """
    headlines, descriptions = supplied(job.brief)
    limits = job.limits
    return (
        max(1, limits.headline_count - len(headlines)),
        max(1, limits.description_count - len(descriptions)),
    )


def from_output(job: CopyJob, output: Mapping[str, object]) -> SearchAd:
    """The ad from a model's (or the draft provider's) answer, supplied copy first."""
    given_headlines, given_descriptions = supplied(job.brief)
    headlines = [*given_headlines, *((t, 0) for t in _texts(output.get("headlines")))]
    descriptions = [*given_descriptions, *((t, 0) for t in _texts(output.get("descriptions")))]
    return SearchAd(
        headlines=tuple(t for t, _ in headlines),
        descriptions=tuple(t for t, _ in descriptions),
        path1=str(output.get("path1") or "").strip(),
        path2=str(output.get("path2") or "").strip(),
        headline_pins=tuple(p for _, p in headlines),
        description_pins=tuple(p for _, p in descriptions),
    )


def _texts(value: object) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    return [str(v).strip() for v in value]


def comparable(search: SearchAd, brief: Brief) -> dict[str, str]:
    """What tells the variants of one search ad apart: the copy the model wrote (supplied
    copy, the same in every variant, left out), as one headline and one body."""
    headlines, descriptions = supplied(brief)
    return {
        "headline": " ".join(search.headlines[len(headlines) :]),
        "body": " ".join(search.descriptions[len(descriptions) :]),
    }


def summary(search: SearchAd) -> dict[str, str]:
    """Its first headline and description as the one headline and body of other ads."""
    return {
        "headline": search.headlines[0] if search.headlines else "",
        "body": search.descriptions[0] if search.descriptions else "",
        "cta": "",
    }


# ---------------------------------------------------------------- one field per slot


def fields(search: SearchAd) -> dict[str, str]:
    """Every slot by its label (``headline 1`` ... ``path 2``), as the workbook shows them."""
    out = {f"headline {i}": text for i, text in enumerate(search.headlines, 1)}
    out |= {f"description {i}": text for i, text in enumerate(search.descriptions, 1)}
    return out | {"path 1": search.path1, "path 2": search.path2}


def pins(search: SearchAd) -> dict[str, int]:
    """The pinned slots by label: ``{"headline 1": 1, "description 2": 1}``."""
    out = {f"headline {i + 1}": search.pin("headline", i) for i in range(len(search.headlines))}
    out |= {
        f"description {i + 1}": search.pin("description", i)
        for i in range(len(search.descriptions))
    }
    return {label: position for label, position in out.items() if position}


def from_fields(slots: Mapping[str, str], pinned: Mapping[str, int]) -> SearchAd:
    """The ad back from its slots (a reviewed workbook): blank slots are left out, and a
    pin stays with its slot whatever its text became."""
    headlines = [
        (slots[label], pinned.get(label, 0))
        for i in range(1, MAX_HEADLINES + 1)
        if slots.get(label := f"headline {i}", "").strip()
    ]
    descriptions = [
        (slots[label], pinned.get(label, 0))
        for i in range(1, MAX_DESCRIPTIONS + 1)
        if slots.get(label := f"description {i}", "").strip()
    ]
    return SearchAd(
        headlines=tuple(t for t, _ in headlines),
        descriptions=tuple(t for t, _ in descriptions),
        path1=slots.get("path 1", ""),
        path2=slots.get("path 2", ""),
        headline_pins=tuple(p for _, p in headlines),
        description_pins=tuple(p for _, p in descriptions),
    )


def pins_text(search: SearchAd) -> str:
    """``headline 1 → 1; description 1 → 2``: the pins as a reviewer reads them."""
    return "; ".join(f"{label} → {position}" for label, position in pins(search).items())


def serving_order(search: SearchAd, kind: PinField) -> list[str]:
    """The headlines (or descriptions) in the order a search result would show them
    first: each pinned position filled by its pin, the rest by the unpinned in order."""
    texts = search.headlines if kind == "headline" else search.descriptions
    pinned: dict[int, str] = {}
    for i, text in enumerate(texts):  # the first pinned to a position shows there first
        pinned.setdefault(search.pin(kind, i), text)
    free = iter(t for i, t in enumerate(texts) if not search.pin(kind, i))
    shown = [pinned.get(p) or next(free, "") for p in range(1, PIN_POSITIONS[kind] + 1)]
    return [t for t in shown if t]


# ---------------------------------------------------------------- rules


def same(a: str, b: str) -> bool:
    """Duplicates as Google sees them: equal after case, width and punctuation are ignored."""
    return _identity(a) == _identity(b)


def _identity(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isalnum())


def check(
    search: SearchAd,
    limits: CopyLimits,
    context: CopyContext | None = None,
    *,
    brief: Brief | None = None,
) -> list[Violation]:
    """Every rule ``search`` breaks. The copy ``brief`` supplies leads its pools (as
    ``from_output`` puts it): its violations are flagged as supplied, never sent back."""
    context = context or CopyContext()
    headlines, descriptions = supplied(brief) if brief else ([], [])
    given = {"headline": len(headlines), "description": len(descriptions), "path": 0}
    # Supplied-ness is per text here, not per field: only some headlines are the marketer's.
    single = replace(context, supplied=frozenset())
    # One CopyLimits for the three kinds of slot; a path takes the call-to-action slot.
    slot_limits = CopyLimits(
        limits.headline_max, limits.body_max, limits.path_max, limits.width_rule
    )
    found: list[Violation] = []
    slots: Iterable[tuple[str, str, Sequence[str]]] = (
        ("headline", "headline", search.headlines),
        ("body", "description", search.descriptions),
        ("cta", "path", (search.path1, search.path2)),
    )
    for field, kind, texts in slots:
        for i, text in enumerate(texts, 1):
            label = f"{kind} {i}"
            for v in check_copy({field: text}, slot_limits, single):
                message = label + v.message.removeprefix(field)
                found.append(Violation(v.rule, label, message, i <= given[kind]))
    found += _counts(search, limits)
    found += _duplicates("headline", search.headlines)
    found += _duplicates("description", search.descriptions)
    found += _slashes(search)
    whole = {"headline": " ".join(search.headlines), "body": " ".join(search.descriptions)}
    # The product/message rule is about the ad as a whole: any headline or description
    # may carry it. Lengths and the other rules were checked per slot above.
    unbounded = CopyLimits(10**6, 10**6, 10**6, limits.width_rule)
    found += [v for v in check_copy(whole, unbounded, single) if v.rule == "product"]
    return found


def _counts(search: SearchAd, limits: CopyLimits) -> list[Violation]:
    found = []
    for kind, texts, least, most in (
        ("headline", search.headlines, MIN_HEADLINES, limits.headline_count),
        ("description", search.descriptions, MIN_DESCRIPTIONS, limits.description_count),
    ):
        n = len([t for t in texts if t.strip()])
        if n < least:
            found.append(
                Violation(
                    "empty",
                    f"{kind}s",
                    f"{kind}s: {n} written — Google needs at least {least}; write {least - n} more",
                )
            )
        elif len(texts) > most:
            found.append(
                Violation(
                    "length",
                    f"{kind}s",
                    f"{kind}s: {len(texts)} written — the ad takes at most {most}; drop"
                    f" {len(texts) - most}",
                )
            )
    return found


def _duplicates(kind: str, texts: Sequence[str]) -> list[Violation]:
    """Each repeat, on the later one: supplied copy comes first, so that is the model's."""
    found = []
    first: dict[str, int] = {}  # identity -> the first text with it
    for i, text in enumerate(texts):
        identity = _identity(text)
        earlier = first.setdefault(identity, i)
        if text.strip() and earlier != i:
            found.append(
                Violation(
                    "near_duplicate",
                    f"{kind} {i + 1}",
                    f"{kind} {i + 1} repeats {kind} {earlier + 1} — Google rejects duplicate"
                    f" {kind}s; write a different one",
                )
            )
    return found


def _slashes(search: SearchAd) -> list[Violation]:
    return [
        Violation(
            "characters",
            f"path {i}",
            f'path {i} has "/" or a line break — each path is one segment of the display'
            " URL; remove it",
        )
        for i, path in enumerate((search.path1, search.path2), 1)
        if "/" in path or "\n" in path
    ]
