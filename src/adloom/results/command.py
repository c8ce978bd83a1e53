"""``adloom results OUT REPORT [REPORT…]``: read the reports, join, judge, write.

Holds the out folder as a run does (one writer at a time), then writes, all inside
it: ``results.json`` (the counts, for the next round), sheet ``Results`` in the run's
newest workbook (or ``results.xlsx`` when that workbook holds what a rewrite would
lose: ``sheet``), ``results.html`` (the page with charts, linked from the preview's
pages) and ``style-guide.md`` (unless a person edited it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adloom.brief.inputs import check_file_size
from adloom.console import Env
from adloom.delivery.pages import PAGES
from adloom.delivery.render import PREVIEW, link_results
from adloom.delivery.workbook import WORKBOOKS
from adloom.errors import InputError
from adloom.outdir import Deliverable, claimed
from adloom.results.analysis import Analysis, analyse
from adloom.results.columns import FIELDS, Field
from adloom.results.join import Joined, join, run_ads
from adloom.results.page import PAGE, PAGE_FILE, write_page
from adloom.results.reports import Report, read_report
from adloom.results.sheet import SHEET, write_sheet
from adloom.results.store import STORED, write_results
from adloom.results.styleguide import GUIDE, GUIDE_FILE, distil, write_guide

# What ``adloom results`` writes into a run's out folder (the run's own deliverables
# list these too, so --force protects them).
RESULTS: tuple[Deliverable, ...] = (STORED, GUIDE, SHEET, PAGE)


@dataclass(frozen=True)
class Outcome:
    reports: tuple[Report, ...]
    joined: Joined
    analysis: Analysis
    files: tuple[Path, ...]
    guide_edited: bool
    sheet_apart: str = ""  # why the Results sheet is not in the run's workbook
    warnings: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        j = self.joined
        return {
            "reports": [_report_json(r) for r in self.reports],
            "rows": j.rows,
            "matched": j.matched,
            "matched_by": {"ad_name": j.by_name, "utm_content": j.by_utm},
            "unmatched": [{"where": u.where, "key": u.key, "why": u.why} for u in j.unmatched],
            "ads_with_results": len(self.analysis.counts),
            "winners": {
                c.name: {"ctr": c.ctr.winner, "cvr": c.cvr.winner}
                for c in (*self.analysis.slots, *self.analysis.dimensions)
            },
            "verdicts": {
                c.name: {"ctr": c.ctr.said, "cvr": c.cvr.said}
                for c in (*self.analysis.slots, *self.analysis.dimensions)
            },
            "judge": (
                {"ads": self.analysis.judge.ads, "spearman": self.analysis.judge.rho}
                if self.analysis.judge
                else None
            ),
            "style_guide": {"file": GUIDE_FILE, "edited": self.guide_edited},
            "results_sheet": {"file": self.files[2].name, "why_apart": self.sheet_apart},
            "warnings": list(self.warnings),
            "files": [str(p) for p in self.files],
        }


def _report_json(report: Report) -> dict[str, Any]:
    return {
        "file": report.path.name,
        "platform": report.platform,
        "rows": len(report.rows),
        "totals_rows": report.totals,
        "ignored_columns": list(report.ignored),
    }


def parse_mapping(pairs: Sequence[str] | None) -> dict[str, Field]:
    """``--column field=Header`` options as header -> field."""
    mapping: dict[str, Field] = {}
    for pair in pairs or ():
        field, sep, header = pair.partition("=")
        field = field.strip().lower()
        if not sep or not header.strip() or field not in FIELDS:
            raise InputError(
                f'--column "{pair}": give field=Header, the field one of {", ".join(FIELDS)}'
                ' (e.g. --column impressions="Views")'
            )
        mapping[header.strip()] = field
    return mapping


def results(
    out: Path,
    paths: Sequence[Path],
    mapping: Mapping[str, Field],
    *,
    templates: Path | None,
    notify: Callable[[str], None],
) -> Outcome:
    workbook, ads = run_ads(out)  # first: OUT must be a run's folder
    seen: dict[str, Path] = {}
    for path in paths:
        if path.is_file():
            check_file_size(path)  # before a byte is read, as for every input
            with path.open("rb") as file:
                digest = hashlib.file_digest(file, "sha256").hexdigest()
            if digest in seen:
                raise InputError(
                    f"{path.name}: the same report as {seen[digest].name} — give each once,"
                    " or its rows would count twice"
                )
            seen[digest] = path
    reports = tuple(read_report(path, mapping) for path in paths)
    joined = join(reports, ads)
    analysis = analyse(ads, joined.counts)
    campaign = workbook.said("Campaign") or out.name
    # The run's workbooks and index pages too: the Results sheet goes into the newest
    # workbook, and every index page links the results page.
    owned = (*RESULTS, WORKBOOKS, PREVIEW, PAGES)
    with claimed(out, owned, force=False, wait=False, notify=notify):
        # First: a workbook that cannot be replaced (a link, open in Excel) stops the
        # command before anything else is written.
        sheet = write_sheet(out, workbook.path, analysis, joined.unmatched)
        stored = write_results(
            out,
            joined.counts,
            [_report_json(r) for r in reports],
        )
        guide = write_guide(out, distil(analysis, campaign))
        names = [r.path.name for r in reports]
        page = write_page(
            out, analysis, joined, reports=names, campaign=campaign, templates=templates
        )
        unlinked = link_results(out, templates)
    files = (stored, out / GUIDE_FILE, sheet.path, page)
    warnings: tuple[str, ...] = (sheet.why_apart,) if sheet.why_apart else ()
    if unlinked:
        warnings += (
            f"{', '.join(unlinked)}: no place for a link to {PAGE_FILE} (a contents.html.j2 of"
            " your own without the adloom:results markers?): open it from the out folder",
        )
    return Outcome(reports, joined, analysis, files, guide.edited, sheet.why_apart, warnings)


def print_outcome(env: Env, outcome: Outcome) -> None:
    """What was read, matched and won, for a person at a terminal."""
    j = outcome.joined
    for report in outcome.reports:
        line = f"{report.path.name}: {report.platform} report, {len(report.rows)} rows"
        if report.totals:
            line += f", {report.totals} totals row(s) left out"
        env.out(line)
        if report.ignored:
            env.warn(
                f"{report.path.name}: columns that may hold personal data were not read:"
                f" {', '.join(report.ignored)}"
            )
    env.out(
        f"{j.matched} of {j.rows} rows matched an ad ({j.by_name} by ad name,"
        f" {j.by_utm} by utm_content); {len(j.unmatched)} did not"
    )
    for miss in j.unmatched:
        env.warn(f"{miss.where}: not matched: {miss.why}")
    for comparison in (*outcome.analysis.slots, *outcome.analysis.dimensions):
        env.out(f"{comparison.kind} {comparison.name}:")
        env.out(f"  CTR: {comparison.ctr.said}")
        env.out(f"  conversion rate: {comparison.cvr.said}")
    judge = outcome.analysis.judge
    if judge is not None:
        rho = f"{judge.rho:.2f}" if judge.rho is not None else "too few to say"
        env.out(f"judge scores vs CTR over {judge.ads} ads: Spearman {rho}")
    for warning in outcome.warnings:
        env.warn(warning)
    if outcome.guide_edited:
        env.out(f"{GUIDE_FILE}: edited by hand, kept as it is")
    for path in outcome.files:
        env.out(f"wrote {path}")
