"""``adloom lint``: the copy rules on a workbook edited by hand, or on a brief's supplied copy.

A *workbook* is an .xlsx with a ``Variants`` sheet, as ``adloom run`` writes it
(docs/output.md), read through ``adloom.delivery.workbook``. Columns are found by header name,
so a reviewer may reorder them or add their own. What the rules need beyond the copy
comes from the brief: the ``--brief`` given, else the one the workbook came from, by
the rule ``workbook.find_brief`` documents (the one ``adloom review`` uses too).
Without a brief only built-in placements are known, and banned words, disclaimers and
product names are not checked: a note says so.

A responsive search ad is checked in sheet ``Search ads``, where every headline,
description and path has its own cell, by ``rsa.check`` as ``adloom run`` checks it;
its Variants row (which only shows the first headline and description) is not.

A *brief* (an .xlsx with a ``Briefs`` sheet, or a .csv) holds one kind of supplied
copy, the ``headline`` column; each is checked against every placement of its brief.

Every problem is reported at its cell (``Variants!G12``), so it can be found and fixed
in the spreadsheet (``Variants!G12``, ``Search ads!J3``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from adloom.brief.placements import builtin_placements
from adloom.brief.read import read_campaign
from adloom.brief.sheets import Table, header_key
from adloom.console import Env
from adloom.copy import rsa
from adloom.copy.lint import COPY_FIELDS, CopyContext, Violation, check_copy, near_duplicates
from adloom.delivery.workbook import (
    BRIEF_FILE,
    SEARCH_SHEET,
    SEARCH_SLOTS,
    Variants,
    find_brief,
    open_variants,
)
from adloom.errors import InputError
from adloom.model import Brief, Campaign, CopyLimits, Placement, SearchAd

REQUIRED_COLUMNS = ("placement", "headline", "body")
_DELIVERED = (*COPY_FIELDS, "disclaimer")


@dataclass(frozen=True)
class Finding:
    where: str  # a cell: "Variants!G12"
    violation: Violation

    def __str__(self) -> str:
        return f"{self.where}: {self.violation.message}"


@dataclass(frozen=True)
class LintReport:
    source: Path
    kind: Literal["workbook", "brief"]
    checked: int  # workbook rows with copy, or supplied headlines
    findings: tuple[Finding, ...]
    brief: Path | None = None  # the brief a workbook was checked against
    notes: tuple[str, ...] = ()  # what could not be checked, and why

    def as_json(self) -> dict[str, object]:
        return {
            "file": str(self.source),
            "kind": self.kind,
            "brief": str(self.brief) if self.brief else None,
            "checked": self.checked,
            "problems": [
                {
                    "where": f.where,
                    "rule": f.violation.rule,
                    "field": f.violation.field,
                    "message": f.violation.message,
                }
                for f in self.findings
            ],
            "notes": list(self.notes),
        }


def lint_file(
    path: Path, *, brief: Path | None = None, overrides: Mapping[str, str] | None = None
) -> LintReport:
    """Check a variants workbook or a brief; raises ``InputError`` when it cannot be read."""
    path = Path(path)
    workbook = open_variants(path)
    if workbook is not None:
        workbook.variants.require(REQUIRED_COLUMNS, path.name, "lint")
        return _lint_workbook(
            path, workbook, brief_path=brief or find_brief(workbook), overrides=overrides or {}
        )
    if brief is not None:
        raise InputError(
            f"{path.name}: --brief goes with a variants workbook, and this is not one"
            ' (no "Variants" sheet) — to check a brief, give it alone: adloom lint BRIEF'
        )
    return _lint_brief(path, overrides or {})


def print_report(env: Env, report: LintReport) -> None:
    for note in report.notes:
        env.warn(note)
    for finding in report.findings:
        env.out(str(finding))
    what = "row(s)" if report.kind == "workbook" else "supplied headline(s)"
    if report.findings:
        env.err(f"{len(report.findings)} problem(s) in {report.checked} {what} checked.")
    else:
        env.err(f"{report.source}: no problems in {report.checked} {what} checked.")


# ---------------------------------------------------------------- workbook


@dataclass(frozen=True)
class _Variant:
    row: int
    number: int  # the variant column, 0 when unreadable
    copy: Mapping[str, str]


def _lint_workbook(
    path: Path, workbook: Variants, *, brief_path: Path | None, overrides: Mapping[str, str]
) -> LintReport:
    notes: list[str] = []
    campaign = read_campaign(brief_path, overrides) if brief_path else None
    if campaign is None:
        notes.append(_no_brief(workbook.said(BRIEF_FILE)))
    placements = campaign.placements if campaign else builtin_placements()
    briefs = {b.id.casefold(): b for b in campaign.briefs} if campaign else {}
    table = workbook.variants
    rows = _lint_variants(table, placements, briefs, campaign)
    checked = len(table.rows) - rows.empty - len(rows.responsive)
    search_rows: dict[str, bool] = {}
    search_findings: list[Finding] = []
    if workbook.search is not None:
        default = next((p for p in placements.values() if p.limits.responsive), None)
        search_rows, search_findings = _lint_search_ads(
            workbook.search, rows.responsive, default, briefs, campaign
        )
    checked += sum(search_rows.values())
    # A search ad whose slots were all cleared (for rework) while its Variants row was not.
    empty = rows.empty + sum(
        1 for name, copy in search_rows.items() if name in rows.responsive and not copy
    )
    if empty:
        notes.append(f"{empty} row(s) without copy were skipped (failed, or cleared for rework)")
    unread = len(rows.responsive.keys() - search_rows.keys())
    if unread:
        notes.append(
            f"{unread} responsive search ad row(s) were not checked: they have no row in"
            f" sheet {SEARCH_SHEET}, where their headlines and descriptions are"
        )
    by_row = rows.findings
    findings = (*(f for row in sorted(by_row) for f in by_row[row]), *search_findings)
    notes += _flagged_note(table, path, clean=not findings)
    return LintReport(path, "workbook", checked, findings, brief_path, tuple(notes))


@dataclass
class _Rows:
    """What sheet Variants gave: findings by row, rows without copy, and the search ads
    (checked in their own sheet) by ad name with their placements."""

    findings: dict[int, list[Finding]] = field(default_factory=lambda: defaultdict(list))
    empty: int = 0
    responsive: dict[str, Placement] = field(default_factory=dict)


def _lint_variants(
    table: Table,
    placements: Mapping[str, Placement],
    briefs: Mapping[str, Brief],
    campaign: Campaign | None,
) -> _Rows:
    """The copy rules on every Variants row but search ads, and near-duplicates among
    the variants of one ad."""
    found = _Rows()
    ads: dict[tuple[str, ...], list[_Variant]] = defaultdict(list)  # the variants of each ad
    for row, cells in table.rows:
        copy = {f: table.get(cells, f) for f in _DELIVERED if f in table.columns}
        if not any(copy.get(f) for f in COPY_FIELDS):
            found.empty += 1  # a failed ad, or copy a reviewer cleared to have it written again
            continue
        name = table.get(cells, "placement")
        placement = placements.get(header_key(name))
        if placement is None:
            where = table.ref("placement", row)
            found.findings[row].append(Finding(where, _unknown_placement(name, campaign)))
            continue
        if placement.limits.responsive:
            # A search ad is pools of headlines and descriptions (adloom.copy.rsa), which its
            # own sheet lists slot by slot; its Variants row only shows the first of each.
            found.responsive[table.get(cells, "ad_name") or f"row {row}"] = placement
            continue
        brief = briefs.get(table.get(cells, "brief_id").casefold())
        context = _row_context(table.get(cells, "language"), placement, brief, campaign)
        for violation in check_copy(copy, placement.limits, context):
            found.findings[row].append(Finding(_cell(table, violation, row), violation))
        ad = tuple(table.get(cells, c) for c in ("brief_id", "audience", "language"))
        ads[(*ad, placement.id)].append(_Variant(row, _number(table.get(cells, "variant")), copy))
    for (brief_id, *_), variants in ads.items():
        brief = briefs.get(brief_id.casefold())
        skip = ("headline",) if brief and brief.headline else ()
        for variant, violation in _repeats(variants, skip):
            where = table.ref("headline", variant.row)
            found.findings[variant.row].append(Finding(where, violation))
    return found


def _number(text: str) -> int:
    """A variant number; 0 when unreadable."""
    return int(text) if text.isdigit() else 0


def _flagged_note(table: Table, path: Path, *, clean: bool) -> list[str]:
    """What to do about the ads the run held back from the upload files (docs/output.md)."""
    flagged = sum(1 for _, cells in table.rows if table.get(cells, "status") == "flagged")
    if not flagged:
        return []
    if clean:
        return [
            f"{flagged} flagged ad(s) now pass every rule: approve them and run"
            f" `adloom review {path.name}` to put them in the upload files"
        ]
    return [
        f"{flagged} ad(s) are flagged (held back from the upload files): fix the problems"
        f" below, then approve them and run `adloom review {path.name}`"
    ]


def _no_brief(named: str) -> str:
    missing = (
        f'the brief the Summary sheet names, "{named}", is not next to the workbook,'
        " in the two folders above it or in the current folder, nor where its Brief path"
        " points"
        if named
        else "the workbook does not name its brief"
    )
    return (
        f"{missing}: only built-in placements are known, and banned words, disclaimers"
        " and product names are not checked — pass --brief BRIEF"
    )


def _row_context(
    language: str, placement: Placement, brief: Brief | None, campaign: Campaign | None
) -> CopyContext:
    if campaign is None or brief is None:
        return CopyContext(placements=(placement,), language=language)
    return CopyContext.for_brief(
        brief, campaign.brand, campaign.settings.brand, (placement,), language
    )


def _unknown_placement(name: str, campaign: Campaign | None) -> Violation:
    where = "the brief's placements" if campaign else "the built-in table (no brief found)"
    return Violation(
        "placement",
        "placement",
        f'placement "{name}" is not in {where}, so its limits are unknown — fix the id'
        + ("" if campaign else " or pass --brief BRIEF"),
    )


def _cell(table: Table, violation: Violation, row: int) -> str:
    """The cell a violation is about; a problem of the copy as a whole is put at its headline."""
    field = violation.field if violation.field in table.columns else "headline"
    return table.ref(field, row)


def _repeats(
    variants: Sequence[_Variant], skip: Sequence[str]
) -> Iterator[tuple[_Variant, Violation]]:
    """Near-duplicates among the variants of one ad, each reported on the later one."""
    ordered = sorted(variants, key=lambda v: (v.number, v.row))
    labels = [f"the variant in row {v.row}" for v in ordered]
    found = near_duplicates([v.copy for v in ordered], labels, skip=skip)
    for variant, violation in zip(ordered, found, strict=True):
        if violation is not None:
            yield variant, violation


# ---------------------------------------------------------------- Search ads

_SLOT_LABEL = re.compile(r"\b(?:headline|description) \d+\b")


@dataclass(frozen=True)
class _SearchRow:
    row: int
    search: SearchAd
    slots: Mapping[str, str]  # the ad's labels ("headline 3") -> the sheet's slot columns


def _lint_search_ads(
    table: Table,
    placement_of: Mapping[str, Placement],
    default: Placement | None,
    briefs: Mapping[str, Brief],
    campaign: Campaign | None,
) -> tuple[dict[str, bool], list[Finding]]:
    """Sheet Search ads checked as ``adloom run`` checks a search ad (``rsa.check``, and
    near-duplicates among the variants of one ad): whether each ad, by name, had copy to
    check, and the problems found, in row order."""
    seen: dict[str, bool] = {}
    by_row: dict[int, list[Finding]] = defaultdict(list)
    ads: dict[tuple[str, ...], list[tuple[_Variant, _SearchRow]]] = defaultdict(list)
    skips: dict[tuple[str, ...], frozenset[str]] = {}
    for row, cells in table.rows:
        name = table.get(cells, "ad_name") or f"row {row}"
        texts = {slot: table.get(cells, header_key(slot)) for slot in SEARCH_SLOTS}
        placement = placement_of.get(name, default)
        seen[name] = placement is not None and any(t.strip() for t in texts.values())
        if placement is None or not seen[name]:
            continue
        brief = briefs.get(table.get(cells, "brief_id").casefold())
        context = _row_context(table.get(cells, "language"), placement, brief, campaign)
        # As the review round reads it back: blank slots are left out, so the ad's
        # "headline 3" is its third headline, whichever column that is in.
        search = rsa.from_fields(texts, {})
        ad = _SearchRow(row, search, _slot_columns(texts))
        for violation in rsa.check(search, placement.limits, context, brief=brief):
            by_row[row].append(_search_finding(table, ad, violation))
        key = (*(table.get(cells, c) for c in ("brief_id", "audience", "language")), placement.id)
        # As generation compares variants: the copy the brief supplies or pins, the same
        # in every variant, is left out.
        copy = rsa.comparable(search, brief) if brief else _joined(search)
        ads[key].append((_Variant(row, _number(table.get(cells, "variant")), copy), ad))
        skips[key] = context.supplied
    for key, variants in ads.items():
        brief = briefs.get(key[0].casefold())
        first = len(rsa.supplied(brief)[0]) + 1 if brief else 1  # the first headline written
        of_row = {variant.row: ad for variant, ad in variants}
        for variant, violation in _repeats([v for v, _ in variants], tuple(skips[key])):
            ad = of_row[variant.row]
            at = f"headline {min(first, len(ad.search.headlines)) or 1}"
            by_row[variant.row].append(_search_finding(table, ad, violation, at=at))
    return seen, [f for row in sorted(by_row) for f in by_row[row]]


def _joined(search: SearchAd) -> dict[str, str]:
    return {"headline": " ".join(search.headlines), "body": " ".join(search.descriptions)}


def _slot_columns(texts: Mapping[str, str]) -> dict[str, str]:
    """The ad's slot labels, as ``rsa.from_fields`` numbers them, to the sheet's slots."""
    out = {"path 1": "path 1", "path 2": "path 2"}
    for kind in ("headline", "description"):
        filled = [s for s in SEARCH_SLOTS if s.startswith(kind) and texts[s].strip()]
        out |= {f"{kind} {i}": slot for i, slot in enumerate(filled, 1)}
    return out


def _search_finding(table: Table, ad: _SearchRow, violation: Violation, at: str = "") -> Finding:
    """``violation`` at the cell of its slot (or of ``at``; a pool's count at its first
    slot), with the slots it names numbered as the sheet numbers them."""
    label = at or violation.field
    slot = ad.slots.get(label) or ad.slots.get(label.removesuffix("s") + " 1")
    slot = slot or ad.slots.get("headline 1", "headline 1")  # the copy as a whole
    column = header_key(slot)
    if column not in table.columns:
        column = "ad_name"
    where = table.ref(column, ad.row) if column in table.columns else f"{table.title}!{ad.row}"
    message = _SLOT_LABEL.sub(lambda m: ad.slots.get(m[0], m[0]), violation.message)
    field = ad.slots.get(violation.field, violation.field)
    return Finding(where, replace(violation, field=field, message=message))


# ---------------------------------------------------------------- brief


def _lint_brief(path: Path, overrides: Mapping[str, str]) -> LintReport:
    campaign = read_campaign(path, overrides)
    supplied = [b for b in campaign.briefs if b.headline]
    findings: dict[tuple[str, str], Finding] = {}  # one report per cell and message
    for brief in supplied:
        by_limits: dict[CopyLimits, list[Placement]] = defaultdict(list)
        for placement in campaign.placements_for(brief):
            by_limits[placement.limits].append(placement)
        for limits, placements in by_limits.items():
            # The headline goes out in every language of the brief; the length note is
            # about double-width text in general.
            context = CopyContext.for_brief(
                brief, campaign.brand, campaign.settings.brand, placements, ""
            )
            for violation in check_copy({"headline": brief.headline}, limits, context):
                finding = Finding(brief.cells["headline"], violation)
                findings.setdefault((finding.where, violation.message), finding)
    notes = () if supplied else ("no brief has a supplied headline: there is no copy to check",)
    return LintReport(path, "brief", len(supplied), tuple(findings.values()), notes=notes)
