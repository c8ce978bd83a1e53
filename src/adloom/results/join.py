"""Joining report rows to the ads adloom made, by ad name or ``utm_content``.

adloom names every ad (the campaign's naming template) and puts the same name in
the landing URL's ``utm_content`` (docs/output.md), so a row of any report finds its
ad by either: the ``Ad name`` column first, then ``utm_content`` (its own column, or
read from the row's URL). Names are compared after NFKC and case folding, as a
platform may change neither but a person retyping one might. Rows of one ad (a
report broken down by day, or two reports) are summed. Each row that finds no ad is
reported with why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from adloom.copy import textlen
from adloom.delivery.workbook import WORKBOOK_FILE, Variants, read_score, read_variants
from adloom.errors import InputError
from adloom.results.reports import Report
from adloom.results.stats import Counts

# What adloom generated that an ad can be compared by (docs/results.md).
DIMENSIONS = ("brief", "audience", "language", "placement", "variant", "copy_length", "cta")
_ROUND = re.compile(r"-round-(\d+)\.xlsx$")
LENGTHS = ("short", "medium", "long")  # thirds of the run's ads by headline + body length


@dataclass(frozen=True)
class AdInfo:
    """One ad of the run, as its workbook holds it."""

    name: str
    dims: Mapping[str, str]  # by DIMENSIONS
    headline: str
    body: str
    cta: str
    score: float | None  # the judge's overall score (--score), if any


@dataclass(frozen=True)
class Unmatched:
    where: str  # "google.csv!9"
    key: str  # the name or utm_content the row gave ("" when none)
    why: str


@dataclass(frozen=True)
class Joined:
    counts: Mapping[str, Counts]  # by ad name, the rows that matched summed
    rows: int  # data rows read (totals rows not counted)
    by_name: int  # rows matched by ad name
    by_utm: int  # rows matched by utm_content
    unmatched: tuple[Unmatched, ...]
    totals: int  # totals rows left out

    @property
    def matched(self) -> int:
        return self.by_name + self.by_utm


def latest_workbook(out: Path) -> Path:
    """The newest round's workbook in ``out``: ``variants-round-N.xlsx`` with the
    highest N, else ``variants.xlsx``."""
    if not out.is_dir():
        raise InputError(f"{out}: no such folder — give the out folder of an adloom run")
    rounds = [
        (int(m[1]), p) for p in out.glob("variants-round-*.xlsx") if (m := _ROUND.search(p.name))
    ]
    if rounds:
        return max(rounds)[1]
    path = out / WORKBOOK_FILE
    if not path.is_file():
        raise InputError(
            f"{out}: has no {WORKBOOK_FILE} — give the out folder an `adloom run` wrote"
        )
    return path


def run_ads(out: Path) -> tuple[Variants, dict[str, AdInfo]]:
    """The delivered ads of the newest round in ``out``, by name."""
    workbook = read_variants(latest_workbook(out))
    workbook.variants.require(("ad_name",), workbook.path.name, "adloom results")
    rows = [row for row in workbook.rows() if not row.candidate]
    lengths = [
        textlen.measure(row.cells.get("headline", "") + row.cells.get("body", ""), "chars")
        for row in rows
    ]
    thirds = sorted(lengths)
    cuts = (thirds[len(thirds) // 3], thirds[2 * len(thirds) // 3]) if thirds else (0, 0)
    ads: dict[str, AdInfo] = {}
    for row, length in zip(rows, lengths, strict=True):
        cells = row.cells
        bucket = LENGTHS[(length > cuts[0]) + (length > cuts[1])]
        dims = {
            "brief": cells.get("brief_id", ""),
            "audience": cells.get("audience", ""),
            "language": cells.get("language", ""),
            "placement": cells.get("placement", ""),
            "variant": f"v{cells.get('variant', '')}",
            "copy_length": bucket,
            "cta": cells.get("cta", "") or "(none)",
        }
        score = read_score(cells)
        ads[row.name] = AdInfo(
            row.name,
            dims,
            cells.get("headline", ""),
            cells.get("body", ""),
            cells.get("cta", ""),
            score.overall if score else None,
        )
    return workbook, ads


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def join(reports: Sequence[Report], ads: Mapping[str, AdInfo]) -> Joined:
    """Every row of ``reports`` matched to ``ads`` (by name), summed per ad."""
    names = {_key(name): name for name in ads}
    counts: dict[str, Counts] = {}
    unmatched: list[Unmatched] = []
    by_name = by_utm = rows = 0
    for report in reports:
        for row in report.rows:
            rows += 1
            name = names.get(_key(row.ad_name)) if row.ad_name else None
            if name is not None:
                by_name += 1
            elif row.utm_content and (name := names.get(_key(row.utm_content))) is not None:
                by_utm += 1
            else:
                unmatched.append(_why(row.where, row.ad_name, row.utm_content, report))
                continue
            counts[name] = counts.get(name, Counts()) + row.counts
    totals = sum(report.totals for report in reports)
    return Joined(counts, rows, by_name, by_utm, tuple(unmatched), totals)


def _why(where: str, name: str, utm: str, report: Report) -> Unmatched:
    if name and utm:
        why = f'neither ad name "{name}" nor utm_content "{utm}" is an ad of this run'
    elif name:
        why = f'ad name "{name}" is not an ad of this run'
        if "url" in report.columns:
            why += " and its URL has no utm_content"
    elif utm:
        why = f'utm_content "{utm}" is not an ad of this run'
    elif "url" in report.columns:
        why = "no ad name, and its URL has no utm_content (was the URL changed?)"
    else:
        why = "no ad name"
    return Unmatched(where, name or utm, why)
