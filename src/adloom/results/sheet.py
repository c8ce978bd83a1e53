"""The ``Results`` sheet: every comparison, every contender, its counts, rates with
their intervals, probability of being best and the verdict in words.

``adloom results`` puts it into the run's newest workbook (``variants.xlsx`` or the
last review round's), in place of an earlier one: the workbook is loaded whole
(openpyxl reads its thumbnails back since 2.5, and every cell a reviewer typed),
the sheet added, and the file written beside it and renamed into place. What
openpyxl cannot carry over (shapes a person drew, threaded comments, Excel's
extension lists, …) is counted in the file before and after: if any of it would be
lost, the workbook is left as it is and the sheet goes to ``results.xlsx`` instead,
with a warning saying why. Text cells go through ``cells.set_text_cell``: an ad name
from a report that starts with ``=`` stays text.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from adloom import safepath
from adloom.brief.sheets import header_key
from adloom.delivery.cells import set_text_cell
from adloom.errors import InputError
from adloom.outdir import Deliverable
from adloom.results.analysis import Analysis, Comparison
from adloom.results.join import Unmatched

RESULTS_SHEET = "Results"
SHEET_FILE = "results.xlsx"
# Only when the run's workbook holds something a rewrite would lose (module docstring).
SHEET = Deliverable(
    "the Results sheet, when the workbook cannot take it (adloom results)", (SHEET_FILE,)
)
COLUMNS = (
    ("comparison", 34),
    ("kind", 10),
    ("contender", 44),
    ("impressions", 12),
    ("clicks", 9),
    ("ctr", 8),
    ("ctr_low", 8),
    ("ctr_high", 8),
    ("p_best_ctr", 10),
    ("conversions", 11),
    ("cvr", 8),
    ("cvr_low", 8),
    ("cvr_high", 8),
    ("cost", 10),
    ("cost_per_result", 14),
    ("verdict", 70),
)

Value = str | float | int | None


def _put(ws: Worksheet, values: Sequence[Value]) -> None:
    """``values`` as the next row; text always as text, never a formula."""
    row: list[Cell | Value] = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(ws)
            set_text_cell(cell, value)
            row.append(cell)
        else:
            row.append(value)
    ws.append(row)


def _note(ws: Worksheet, name: str, kind: str, contender: str, said: str) -> None:
    """A row with text in the first three columns and the verdict column only."""
    _put(ws, [name, kind, contender, *[None] * (len(COLUMNS) - 4), said])


def _rows(comparison: Comparison) -> list[list[Value]]:
    rows: list[list[Value]] = []
    for n, line in enumerate(comparison.lines):
        c = line.counts
        said = (comparison.ctr.said + "; conversion rate: " + comparison.cvr.said) if n == 0 else ""
        rows.append(
            [
                comparison.name,
                comparison.kind,
                line.label + (" (winner)" if line.winner else ""),
                c.impressions,
                c.clicks,
                line.ctr.value if line.ctr else None,
                line.ctr.low if line.ctr else None,
                line.ctr.high if line.ctr else None,
                line.p_best_ctr,
                c.conversions,
                line.cvr.value if line.cvr else None,
                line.cvr.low if line.cvr else None,
                line.cvr.high if line.cvr else None,
                round(c.cost, 2),
                round(c.cost_per_result, 2) if c.cost_per_result is not None else None,
                said,
            ]
        )
    return rows


def _fill(ws: Worksheet, analysis: Analysis, unmatched: Sequence[Unmatched]) -> None:
    _put(ws, [name for name, _ in COLUMNS])
    for column, (_, width) in enumerate(COLUMNS, start=1):
        ws.cell(row=1, column=column).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = "A2"
    for comparison in (*analysis.slots, *analysis.dimensions):
        for row in _rows(comparison):
            _put(ws, row)
    for letter in ("F", "G", "H", "I", "K", "L", "M"):
        for cell in ws[letter][1:]:
            cell.number_format = "0.00%"
    if analysis.judge is not None:
        rho = analysis.judge.rho
        said = f"rho {rho:.2f}" if rho is not None else "too few scored ads with enough data"
        _put(ws, [])
        _note(ws, "judge score vs CTR", "spearman", f"{analysis.judge.ads} ads", said)
    if unmatched:
        _put(ws, [])
        _note(ws, "rows not matched", "where", "ad name or utm_content", "why")
        for miss in unmatched:
            _note(ws, "unmatched", miss.where, miss.key, miss.why)


@dataclass(frozen=True)
class Written:
    path: Path  # the file the sheet is in
    why_apart: str = ""  # why it is not in the run's workbook ("" when it is)


def write_sheet(
    out: Path, workbook: Path, analysis: Analysis, unmatched: Sequence[Unmatched]
) -> Written:
    """The Results sheet into ``workbook`` (a file in ``out``), else into ``results.xlsx``."""
    before = workbook.read_bytes()
    with warnings.catch_warnings():  # what openpyxl would drop is counted below, and said
        warnings.simplefilter("ignore", UserWarning)
        book = load_workbook(BytesIO(before), rich_text=True)  # rich text: a reviewer's bold
    for title in book.sheetnames:
        if header_key(title) == header_key(RESULTS_SHEET):  # this command's, from before
            del book[title]
    _fill(book.create_sheet(RESULTS_SHEET), analysis, unmatched)
    buffer = BytesIO()
    book.save(buffer)
    after = buffer.getvalue()
    lost = _lost(_contents(before), _contents(after))
    if lost:
        alone = Workbook()
        ws = alone.active
        assert ws is not None  # a new workbook has its sheet  # noqa: S101
        ws.title = RESULTS_SHEET
        _fill(ws, analysis, unmatched)
        path = safepath.write_with(out, out / SHEET_FILE, alone.save)
        why = (
            f"{workbook.name} holds {lost}, which adloom cannot carry over when it rewrites"
            f" the file: it was left as it is, and the Results sheet is in {SHEET_FILE}"
        )
        return Written(path, why)
    path = safepath.write_bytes(out, workbook, after)
    if (out / SHEET_FILE).is_file():  # an earlier sheet apart would now disagree with this one
        safepath.remove(out, out / SHEET_FILE)
    return Written(path)


# What an .xlsx holds beyond cells, counted by its XML: pictures and drawn shapes on
# drawings, Excel's extension lists, and every part by its content type.
_ELEMENTS = re.compile(rb"<(?:\w+:)?(pic|sp|grpSp|cxnSp|graphicFrame|contentPart|extLst)[\s>/]")
_NAMES = {
    "pic": "picture(s)",
    "sp": "drawn shape(s)",
    "grpSp": "shape group(s)",
    "cxnSp": "connector(s)",
    "graphicFrame": "chart(s) or diagram(s)",
    "contentPart": "ink drawing(s)",
    "extLst": "Excel extension(s) (sparklines, newer validations or formats)",
}
_PART = "parts of type "
_CONTENT_TYPE = re.compile(rb'ContentType="([^"]+)"')


def _contents(data: bytes) -> Counter[str]:
    """The things in the .xlsx ``data`` a rewrite could drop, counted."""
    found: Counter[str] = Counter()
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.startswith(("xl/drawings/", "xl/worksheets/")) and name.endswith(".xml"):
                    found.update(_NAMES[m.decode()] for m in _ELEMENTS.findall(archive.read(name)))
            types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise InputError("the workbook is not a readable .xlsx") from exc
    found.update(f"{_PART}{t.decode()}" for t in set(_CONTENT_TYPE.findall(types)))
    return found


def _lost(before: Counter[str], after: Counter[str]) -> str:
    """What ``before`` holds more of than ``after``, in words ("" when nothing)."""
    return ", ".join(
        what if what.startswith(_PART) else f"{n - after[what]} {what}"
        for what, n in sorted(before.items())
        if n > after[what]
    )
