"""Reading the performance reports people download from the ad platforms.

A report is a CSV (comma or tab separated; UTF-8, UTF-16 as Google Ads' "Excel CSV"
writes it, or Shift_JIS as Yahoo! JAPAN's) or an .xlsx workbook (its first sheet
with a header adloom knows), read within the same limits as a brief
(``adloom.brief.inputs``). What real exports do is expected: title and date-range lines
above the header (the header is the first row with two known columns, one a
metric), totals rows (``Total: Account``, ``合計``) and localized numbers
(``adloom.results.numbers``). Only the columns of ``adloom.results.columns`` are
read; a value that is not a number where one must be is refused at its cell, all
such cells at once, as a brief's problems are.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from adloom.brief.inputs import check_file_size, csv_rows
from adloom.brief.sheets import cell_ref, read_xlsx, text_sheet
from adloom.errors import BriefError, InputError, Problem
from adloom.results.columns import (
    COUNTS,
    KNOWN,
    METRICS,
    Field,
    column_key,
    personal,
    platform_of,
)
from adloom.results.numbers import parse_number
from adloom.results.stats import Counts

_HEADER_SEARCH = 30  # rows looked at for the header (title and date lines come first)
# A totals row's label is the word alone or followed by what it totals: "Total: Account",
# "合計"; never an ad whose name starts with it ("total-care_spring_v1").
_TOTAL = re.compile(r"\s*(totals?|grand total|合計|総計|総合計)\s*([:：(（].*)?", re.IGNORECASE)
_BOMS = ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"), (b"\xef\xbb\xbf", "utf-8-sig"))


@dataclass(frozen=True)
class ReportRow:
    where: str  # "meta.csv!7", for messages
    ad_name: str
    utm_content: str  # from the utm_content column, else the URL's query
    counts: Counts


@dataclass(frozen=True)
class Report:
    path: Path
    platform: str  # meta | google | yahoo | generic
    columns: Mapping[Field, str]  # the header read for each field, as written
    rows: tuple[ReportRow, ...]
    totals: int  # totals rows left out
    ignored: tuple[str, ...]  # headers that may name personal data: never read


class _Every:
    """Every sheet name, for ``read_xlsx``: a report's sheet may be called anything."""

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def read_report(path: Path, mapping: Mapping[str, Field] | None = None) -> Report:
    """The rows of the report at ``path``; ``mapping``: header -> field, for columns
    named otherwise (``--column``). Raises ``InputError``/``BriefError``."""
    if path.is_dir() or not path.is_file():
        raise InputError(f"{path}: no such file — give a report exported from the platform")
    known = KNOWN | {column_key(header): field for header, field in (mapping or {}).items()}
    for prefix, rows in _sheets(path):
        found = _header(rows, known)
        if found is not None:
            return _read(path, prefix, rows, found)
    expected = ", ".join(('"Ad name"', '"Impressions"', '"Impr."', '"Clicks"', '"表示回数"'))
    raise InputError(
        f"{path.name}: no header row with an ad name or URL and a metric in its first"
        f" {_HEADER_SEARCH} rows (looked for {expected}, …)",
        hint="export the report at the ad level with impressions and clicks, or name its"
        " columns with --column field=Header (docs/results.md)",
    )


Rows = list[tuple[int, tuple[str, ...]]]


def _sheets(path: Path) -> list[tuple[str, Rows]]:
    """(prefix of a cell reference, rows as text) of each sheet of the file."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        _, raw = read_xlsx(path, _Every())
        return [
            (f"[{path.name}]{title}", list(text_sheet(title, values).rows))
            for title, values in raw.values()
        ]
    if suffix in (".csv", ".tsv", ".txt"):
        return [(path.name, _csv(path))]
    raise InputError(
        f'{path.name}: unknown report type "{path.suffix or "(none)"}" — export the report'
        " as .csv or .xlsx"
    )


def _csv(path: Path) -> Rows:
    check_file_size(path)  # before reading a byte of it
    data = path.read_bytes()
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "")
    if not encoding:
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "cp932"  # Shift_JIS as Windows writes it: Yahoo! JAPAN's CSV
    try:
        head = data[:65536].decode(encoding, errors="ignore")
        delimiter = "\t" if head.count("\t") > head.count(",") else ","
        rows = csv_rows(path, encoding, delimiter)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name}: not text in UTF-8, UTF-16 or Shift_JIS — export it again as CSV"
        ) from exc
    except csv.Error as exc:
        raise InputError(f"{path.name}: not a readable CSV file ({exc})") from exc
    return list(text_sheet(path.name, rows).rows)


def _header(rows: Rows, known: Mapping[str, Field]) -> tuple[int, dict[Field, int]] | None:
    """The header's index in ``rows`` and each field's column, if one is found."""
    for index, (_, cells) in enumerate(rows[:_HEADER_SEARCH]):
        columns: dict[Field, int] = {}
        for column, text in enumerate(cells):
            field = known.get(column_key(text)) if text else None
            if field is not None:
                columns.setdefault(field, column)
        keyed = {"ad_name", "url", "utm_content"} & columns.keys()
        if keyed and set(METRICS) & columns.keys():
            return index, columns
    return None


def _read(path: Path, prefix: str, rows: Rows, found: tuple[int, dict[Field, int]]) -> Report:
    index, columns = found
    header = rows[index][1]
    problems: list[Problem] = []
    out: list[ReportRow] = []
    totals = 0
    for number, cells in rows[index + 1 :]:

        def cell(field: Field, cells: Sequence[str] = cells) -> str:
            column = columns.get(field)
            return cells[column] if column is not None and column < len(cells) else ""

        if any(_TOTAL.fullmatch(text) for text in cells[:3] if text):
            totals += 1
            continue
        metrics: dict[Field, float] = {}
        for field in METRICS:
            value = parse_number(cell(field), count=field in COUNTS)
            if isinstance(value, str):
                where = cell_ref(prefix, columns[field], number)
                problems.append(Problem(where, f'"{cell(field)[:40]}" is {value}'))
            else:
                metrics[field] = value
        url = cell("url")
        utm = cell("utm_content") or _utm_content(url)
        counts = Counts(
            int(metrics.get("impressions", 0)),
            int(metrics.get("clicks", 0)),
            metrics.get("conversions", 0.0),
            metrics.get("cost", 0.0),
        )
        out.append(ReportRow(f"{prefix}!{number}", cell("ad_name"), utm, counts))
    if problems:
        raise BriefError(problems)
    keys = {column_key(text) for text in header if text}
    ignored = tuple(text for text in header if text and personal(text))
    names = {field: header[column] for field, column in columns.items()}
    return Report(path, platform_of(keys), names, tuple(out), totals, ignored)


def _utm_content(url: str) -> str:
    """The ``utm_content`` of a URL ("" without one)."""
    if not url:
        return ""
    try:
        query = parse_qs(urlsplit(url.strip()).query)
    except ValueError:  # not a URL at all
        return ""
    values = query.get("utm_content", [])
    return values[0] if values else ""
