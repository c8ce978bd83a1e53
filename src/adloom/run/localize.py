"""``adloom localize``: a round's approved ads taken to new markets.

The reviewer approved ads in ``variants.xlsx`` (or a later round's workbook). For each
approved ad and each language asked for, localize adds that ad in the language: the
same brief, audience, variant, placement and master image, named as the plan names
that slot, its copy *adapted* for the market from the approved copy (transcreation:
the prompt gives the model the approved copy as its source, the brief's fields
written in that language (``message@ja``) where the marketer wrote them, the
glossary's spellings for the language and the rules of law and platform the copy is
checked against: the Japanese pack for ``ja``). Each adapted ad goes through the same
copy checks and repair loop, composition, journal and budget as every other request,
under its placement's counting.

The result is a review round (``review.Round``): every ad of the workbook kept as it
is, the new ones added as ``localized`` (undecided), written as the next
``variants-round-N.xlsx`` with its preview and uploads (approved ads only), so
``adloom review`` continues it. Each new ad's hidden ``generated`` cell records what
it was adapted from, so a later round can write it again (rejected) the same way.

Offline, the draft provider cannot adapt: it writes the language's ad from the
brief's fields in that language, or, with none, labels it "not translated"
(``generate``), as a run does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from adloom.console import Tracker
from adloom.copy.languages import LANGUAGES, normalise_language
from adloom.delivery.workbook import SEARCH_SLOTS
from adloom.errors import InputError
from adloom.model import Adaptation, AdSpec, CopyLimits, Plan, RunSummary
from adloom.providers.base import Provider
from adloom.run.pipeline import RunOptions
from adloom.run.plan import adapted
from adloom.run.review import (
    Action,
    Reviewed,
    Round,
    Row,
    copy_texts,
    open_round,
    read_reviewed,
    run_round,
    where_is,
)

# Ads without written copy have nothing to adapt.
_WRITTEN = ("ok", "flagged")
# Country codes given for a language: the mistake is named with the code meant.
_COUNTRIES = {"jp": "ja", "kr": "ko", "cn": "zh-Hans", "tw": "zh-Hant", "uk": "en", "br": "pt"}


def parse_languages(text: str) -> tuple[str, ...]:
    """The languages of ``--languages`` ("ja,ko"), as adloom spells them, each once."""
    codes: list[str] = []
    for part in text.split(","):
        if not part.strip():
            continue
        code = normalise_language(part)
        if code is None:
            meant = _COUNTRIES.get(part.strip().lower())
            raise InputError(
                f'--languages: "{part.strip()}" is not a language adloom writes ads in'
                + (f' (a country code? the language is "{meant}")' if meant else ""),
                hint=f"Use one or more of: {', '.join(LANGUAGES)} (comma-separated).",
            )
        codes.append(code)
    if not codes:
        raise InputError(
            f'--languages "{text}": name the languages to localize into, e.g. --languages ja,ko'
        )
    return tuple(dict.fromkeys(codes))


def read_approved(path: Path) -> Reviewed:
    """The reviewed workbook at ``path``; ``InputError`` when it approves no ad with
    copy (there is nothing to take to another market)."""
    reviewed = read_reviewed(path)
    if not any(_source(row) for row in reviewed.rows):
        raise InputError(
            f"{reviewed.path.name}: no ad is approved in column approval of sheet"
            f" {reviewed.workbook.variants.title} (or an approved one has no copy):"
            " nothing to localize",
            hint="Mark the ads to take to new markets Approved (docs/review.md lists what"
            " is understood), save the workbook and run adloom localize again.",
        )
    return reviewed


def _source(row: Row) -> bool:
    return row.decision == "approved" and row.status in _WRITTEN


def _as_it_is(row: Row, spec: AdSpec) -> Action:
    """A localize round keeps every ad of the workbook as it is: decisions, edits and
    failures are ``adloom review``'s to act on."""
    return "keep"


def _source_copy(row: Row, spec: AdSpec) -> Adaptation:
    """The approved copy of ``row`` as the workbook holds it now (hand edits included),
    by field: a search ad's slots, else its headline, body and CTA."""
    texts = copy_texts(row, spec)
    names = SEARCH_SLOTS if spec.placement.limits.responsive else ("headline", "body", "cta")
    pairs = ((name, texts.get(name, "")) for name in names)
    return Adaptation(spec.language, tuple((name, text) for name, text in pairs if text.strip()))


@dataclass(frozen=True)
class _Target:
    """One ad to add: an approved ad's slot in another language, and its source copy."""

    source: AdSpec
    language: str
    adaptation: Adaptation

    @property
    def shares(self) -> tuple[str, str, str, int, CopyLimits, Adaptation]:
        """What ads with one piece of adapted copy have in common (as a plan's copy job)."""
        spec = self.source
        limits = spec.placement.limits
        return (self.language, spec.brief.id, spec.audience, spec.variant, limits, self.adaptation)


def _targets(job: Round, languages: Sequence[str]) -> list[_Target]:
    """Each approved ad in each language it is not yet in, once; what is already in
    the workbook under a target's name is left as it is, with a warning."""
    taken = {row.name: row for row, _, _ in job.rows}
    targets: dict[str, _Target] = {}
    for language in languages:
        for row, spec, _ in job.rows:
            if not _source(row) or spec.language == language:
                continue
            adaptation = _source_copy(row, spec)
            name = adapted(job.campaign, spec, language, adaptation).name
            there = taken.get(name)
            if there is not None:
                job.warnings.append(
                    f"{where_is(job.reviewed, there)}: {name} is already in the workbook — left"
                    f" as it is, not adapted again from {row.name}"
                )
            elif name in targets:
                job.warnings.append(
                    f"{where_is(job.reviewed, row)}: {name} is adapted from"
                    f" {targets[name].source.name}, approved too — not again from {row.name}"
                )
            else:
                targets[name] = _Target(spec, language, adaptation)
    return list(targets.values())


def run_localize(
    reviewed: Reviewed,
    plan: Plan,
    provider: Provider,
    options: RunOptions,
    tracker: Tracker,
    *,
    languages: Sequence[str],
) -> RunSummary:
    """Adapt ``reviewed``'s approved ads into ``languages`` and deliver them as the next
    round, every other ad kept as it is; return the round's summary."""
    job = open_round(reviewed, plan, provider, options, decide=_as_it_is)
    targets = _targets(job, languages)
    if not targets:
        raise InputError(
            "\n  ".join(
                [
                    f"{reviewed.path.name}: every approved ad is already in"
                    f" {', '.join(languages)}: nothing to localize",
                    *job.warnings,
                ]
            ),
            hint="Approve other ads, or name other languages with --languages.",
        )
    # Ads whose adapted copy is the same piece (as in a plan: equal limits) share it.
    sharing: dict[object, list[_Target]] = defaultdict(list)
    for target in targets:
        sharing[target.shares].append(target)
    for group in sharing.values():
        served = [t.source.placement for t in group]
        job.added += [
            adapted(job.campaign, t.source, t.language, t.adaptation, served) for t in group
        ]
    return run_round(job, tracker)
