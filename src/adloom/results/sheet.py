"""The ``Results`` sheet: every comparison, every contender, its counts, rates with
their intervals, probability of being best and the verdict in words.

Written into ``results.xlsx`` by ``adloom results`` (the run's ``variants.xlsx``
keeps its thumbnails, which openpyxl cannot carry over when it rewrites a workbook).
Text cells go through ``cells.set_text_cell``: an ad name from a report that starts
with ``=`` stays text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from adloom import safepath
from adloom.delivery.cells import set_text_cell
from adloom.outdir import Deliverable
from adloom.results.analysis import Analysis, Comparison
from adloom.results.join import Unmatched

RESULTS_SHEET = "Results"
SHEET_FILE = "results.xlsx"
SHEET = Deliverable("the Results sheet (adloom results)", (SHEET_FILE,))
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


def write_sheet(out: Path, analysis: Analysis, unmatched: Sequence[Unmatched]) -> Path:
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None  # a new workbook has its sheet  # noqa: S101
    ws.title = RESULTS_SHEET
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
    return safepath.write_with(out, out / SHEET_FILE, workbook.save)
