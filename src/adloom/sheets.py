"""Cell-level reading of spreadsheets, shared by every reader of one.

A brief (``read``), a reviewed workbook (``workbook``, for ``review`` and ``lint``) are
all read here the same way: opened within the input limits of ``adloom.inputs``, each
cell as the text a person sees in it (``3`` not ``3.0``), sheet and header names
compared ignoring case, spaces, ``_`` and ``-``, and every place named as an Excel
cell reference (``Briefs!C7``). What the cells *mean* is the caller's business.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from adloom.errors import InputError, Problem
from adloom.inputs import check_zip, csv_rows, sheet_rows

BRIEF_SHEETS = ("campaign", "briefs", "audiences", "brand", "placements")
# An encrypted .xlsx is not a zip but an OLE compound file, as is an old binary .xls.
_CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
# What a formula cell caches when its formula failed; never copy worth shipping.
_EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!"}
)

Rows = tuple[tuple[int, tuple[str, ...]], ...]  # (row number, texts from column A)


def shown_text(value: object) -> str:
    """A cell as the text a person sees in it: ``3`` not ``3.0``, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # 15 significant digits is what Excel shows; it hides binary noise like 0.1+0.2.
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").strip()


def header_key(text: str) -> str:
    """A sheet, header or setting name as compared: case, spaces, ``_`` and ``-`` ignored."""
    return re.sub(r"[\s_-]+", "_", text.strip().lower())


def cell_ref(title: str, column: int, row: int) -> str:
    """An Excel cell reference, ``Briefs!C7``, from a 0-based column and a row number."""
    return f"{title}!{get_column_letter(column + 1)}{row}"


@dataclass(frozen=True)
class Sheet:
    """One sheet's cells as text; rows without any text are left out."""

    title: str  # as written in the file (a CSV's file name), for messages
    rows: Rows

    def ref(self, column: int, row: int) -> str:
        return cell_ref(self.title, column, row)


@dataclass(frozen=True)
class Table:
    """A sheet under its first row: columns by normalised header (the first of a
    repeated header wins: adloom's own columns come before any a person adds)."""

    title: str
    columns: Mapping[str, int]  # normalised header -> 0-based column
    rows: Rows  # the rows under the header
    header_row: int = 1

    def get(self, cells: Sequence[str], name: str) -> str:
        index = self.columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    def ref(self, name: str, row: int) -> str:
        return cell_ref(self.title, self.columns[name], row)

    def record(self, cells: Sequence[str]) -> dict[str, str]:
        """One row as a dict by normalised header, in column order."""
        return {name: self.get(cells, name) for name in self.columns}

    def require(self, names: Iterable[str], file: str, who: str) -> None:
        """Raise ``InputError`` naming the header row when a column ``who`` needs is missing."""
        missing = [name for name in names if name not in self.columns]
        if missing:
            raise InputError(
                f"{file}: {self.title}!{self.header_row} has no {', '.join(missing)} column(s)"
                f" — {who} needs the header row adloom wrote (docs/output.md)"
            )


def table(sheet: Sheet) -> Table:
    """``sheet`` as a ``Table``: its first row with text is the header."""
    if not sheet.rows:
        return Table(sheet.title, {}, ())
    header_row, header = sheet.rows[0]
    columns: dict[str, int] = {}
    for index, text in enumerate(header):
        if text:
            columns.setdefault(header_key(text), index)
    return Table(sheet.title, columns, sheet.rows[1:], header_row)


def text_sheet(
    title: str, rows: Iterable[Sequence[object]], problems: list[Problem] | None = None
) -> Sheet:
    """Cells as shown text, trailing blanks and empty rows dropped. With ``problems``,
    a failed formula (``#N/A``) is reported at its cell and read as empty."""
    kept: list[tuple[int, tuple[str, ...]]] = []
    for number, values in enumerate(rows, start=1):
        texts = [shown_text(value) for value in values]
        for column, text in enumerate(texts):
            if problems is not None and text in _EXCEL_ERRORS:
                problems.append(
                    Problem(
                        cell_ref(title, column, number),
                        f"the formula here gives {text} — fix the formula or type the value in",
                    )
                )
                texts[column] = ""
        while texts and not texts[-1]:
            texts.pop()
        if texts:
            kept.append((number, tuple(texts)))
    return Sheet(title, tuple(kept))


# ---------------------------------------------------------------- files


@dataclass(frozen=True)
class Book:
    sheets: Mapping[str, Sheet]  # by normalised name: "campaign", "briefs", ...
    titles: tuple[str, ...]  # every sheet in the file, for "sheets found" messages
    problems: tuple[Problem, ...]  # failed formulas met while reading cells
    is_csv: bool


def load_sheets(path: Path) -> Book:
    """A brief file's sheets: a workbook's brief sheets, or a CSV as sheet Briefs."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder — pass the .xlsx or .csv brief inside it")
    if not path.is_file():
        raise InputError(f"{path}: no such file — check the path")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _load_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        problems: list[Problem] = []
        titles, raw = read_xlsx(path, BRIEF_SHEETS)
        sheets = {key: text_sheet(title, rows, problems) for key, (title, rows) in raw.items()}
        return Book(sheets, titles, tuple(problems), is_csv=False)
    if suffix == ".xls":
        raise InputError(
            f"{path.name}: old binary Excel files (.xls) cannot be read"
            " — open it in Excel and save it as .xlsx (File > Save As > Excel Workbook)"
        )
    if suffix == ".ods":
        raise InputError(
            f"{path.name}: OpenDocument spreadsheets (.ods) cannot be read"
            " — save it as .xlsx (File > Save As > Excel 2007-365)"
        )
    raise InputError(
        f'{path.name}: unknown file type "{path.suffix or "(none)"}" — give an .xlsx workbook'
        " or a .csv of the Briefs sheet"
    )


def _load_csv(path: Path) -> Book:
    try:
        # utf-8-sig also reads plain UTF-8; Excel's "CSV UTF-8" starts with a BOM.
        rows = csv_rows(path)
    except UnicodeDecodeError as exc:
        raise InputError(
            f'{path.name}: not UTF-8 text — save it from Excel as "CSV UTF-8 (Comma delimited)"'
        ) from exc
    except csv.Error as exc:
        raise InputError(f"{path.name}: not a readable CSV file ({exc})") from exc
    problems: list[Problem] = []
    briefs = text_sheet(path.name, rows, problems)
    return Book({"briefs": briefs}, (), tuple(problems), is_csv=True)


RawSheets = dict[str, tuple[str, list[Sequence[object]]]]  # key -> (title, cell values)


def read_xlsx(path: Path, keys: Collection[str]) -> tuple[tuple[str, ...], RawSheets]:
    """Every sheet title of the workbook at ``path``, and the cell values of the sheets
    whose normalised names are in ``keys`` (the first of a name), within the input
    limits. Raises ``InputError`` when it cannot be read."""
    unreadable = (
        f"{path.name}: not a readable .xlsx workbook (damaged, or not really Excel)"
        " — open it in Excel and save it again as .xlsx"
    )
    with path.open("rb") as file:
        if file.read(len(_CFB_MAGIC)) == _CFB_MAGIC:
            raise InputError(
                f"{path.name}: the workbook is password-protected (or an old .xls renamed)"
                " — remove the password (File > Info > Protect Workbook) and save again as .xlsx"
            )
    raw: RawSheets = {}
    # openpyxl raises anything from BadZipFile and KeyError to XML parse errors on a
    # damaged file; whichever it is, the user's remedy is the same. Only library calls
    # are inside these ``try`` blocks, so a bug of ours still shows as one.
    check_zip(path)  # its limits, before any XML is parsed
    try:
        # data_only: a cell with a formula (=IF(...)) is read as the value it shows.
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(unreadable) from exc
    try:
        titles = tuple(workbook.sheetnames)
        for worksheet in workbook.worksheets:
            key = header_key(worksheet.title)
            if key in keys and key not in raw:
                raw[key] = (worksheet.title, list(sheet_rows(worksheet, path)))
    except InputError:
        raise  # a limit, at its cell
    except Exception as exc:
        raise InputError(unreadable) from exc
    finally:
        workbook.close()
    return titles, raw
