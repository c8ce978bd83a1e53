"""Cell-level reading of spreadsheets, shared by every reader of one.

A brief (``read``), a reviewed workbook (``workbook``, for ``review`` and ``lint``) are
all read here the same way: opened within the input limits of ``adloom.brief.inputs``, each
cell as the text a person sees in it (``3`` not ``3.0``), sheet and header names
compared ignoring case, spaces, ``_`` and ``-``, and every place named as an Excel
cell reference (``Briefs!C7``). What the cells *mean* is the caller's business.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from adloom.brief.inputs import check_zip, csv_rows, sheet_rows
from adloom.errors import InputError, Problem
from adloom.values import Range, kind_of, parse

BRIEF_SHEETS = ("campaign", "briefs", "audiences", "brand", "placements", "glossary")
# An encrypted .xlsx is not a zip but an OLE compound file, as is an old binary .xls.
_CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
# What a formula cell caches when its formula failed; never copy worth shipping.
_EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!"}
)

Rows = tuple[tuple[int, tuple[str, ...]], ...]  # (row number, texts from column A)


def _shown_text(value: object) -> str:
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
        texts = [_shown_text(value) for value in values]
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
    kind = kind_of(path)
    if kind == "folder":
        raise InputError(f"{path}: is a folder — pass the .xlsx or .csv brief inside it")
    if kind != "file":
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
    # openpyxl warns that it "will remove" Excel's data-validation extension: reading
    # removes nothing, and the warning would only alarm the user.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Data Validation extension", UserWarning)
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


# ---------------------------------------------------------------- cell values

_LIST_SEP = re.compile(r"[,;\n]")
# Numbers in cells before each field's own range check: finite, of sane size.
_ANY_WHOLE = Range(-(10**15), 10**15, whole=True)
_ANY_NUMBER = Range(-1e15, 1e15)


def names(fields: str, **aliases: str) -> dict[str, str]:
    """Normalised header or setting name -> the field it fills."""
    return {field: field for field in fields.split()} | aliases


def list_items(text: str, separator: re.Pattern[str] = _LIST_SEP) -> tuple[str, ...]:
    """A list cell: items in order, stripped, blanks and repeats dropped."""
    return tuple(dict.fromkeys(item.strip() for item in separator.split(text) if item.strip()))


def cell_int(text: str) -> int | None:
    number = parse(text, _ANY_WHOLE)  # "3", "3.0" and "3e0" all mean 3
    return None if isinstance(number, str) else int(number)


def cell_float(text: str) -> float | None:
    # No thousands separators: "12,50" means 12.50 in much of Europe, 1250 elsewhere.
    number = parse(text.removeprefix("$"), _ANY_NUMBER)
    return None if isinstance(number, str) else number


def quoted(items: Iterable[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


# ---------------------------------------------------------------- sheet shapes, checked


@dataclass(frozen=True)
class Pair:
    """One ``setting | value`` row."""

    key: str  # as written
    value: str
    key_ref: str  # "Campaign!A3"
    value_ref: str  # "Campaign!B3"


@dataclass(frozen=True)
class FieldTable(Table):
    """A sheet with a header row of known fields: ``columns`` by field, and the
    unknown headers as written, in sheet order."""

    extra: Mapping[str, int] = field(default_factory=dict)


class Checker:
    """Reads sheets of known shapes, collecting problems instead of stopping at the first."""

    def __init__(self, problems: Iterable[Problem] = ()) -> None:
        self.problems: list[Problem] = list(problems)

    def error(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def warn(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message, warning=True))

    def pairs(self, sheet: Sheet) -> list[Pair]:
        """The ``setting | value`` rows of a sheet; its ``setting | value`` header is optional."""
        rows = list(sheet.rows)
        if rows and [header_key(text) for text in rows[0][1][:2]] == ["setting", "value"]:
            rows = rows[1:]
        pairs: list[Pair] = []
        seen: dict[str, str] = {}
        for number, cells in rows:
            key = cells[0]
            if not key:  # a value or a note without a setting name: nothing to apply
                continue
            value = cells[1] if len(cells) > 1 else ""
            pair = Pair(key, value, sheet.ref(0, number), sheet.ref(1, number))
            if header_key(key) in seen:
                self.error(
                    pair.key_ref,
                    f'setting "{key}" is given twice (also {seen[header_key(key)]}) — keep one',
                )
                continue
            seen[header_key(key)] = pair.key_ref
            pairs.append(pair)
        return pairs

    def table(
        self, sheet: Sheet, known: Mapping[str, str], required: Iterable[str], unknown: str
    ) -> FieldTable:
        """The sheet's first non-empty row is its header; ``unknown`` says what happens
        to columns adloom does not know."""
        if not sheet.rows:
            self.error(sheet.title, "the sheet is empty — put the column names in row 1")
            return FieldTable(sheet.title, {}, ())
        header_row, header = sheet.rows[0]
        columns: dict[str, int] = {}
        extra: dict[str, int] = {}
        for index, text in enumerate(header):
            if not text:
                continue
            field = known.get(header_key(text))
            where = sheet.ref(index, header_row)
            if field is None:
                self.warn(where, f'unknown column "{text}" — {unknown}')
                extra.setdefault(text, index)
            elif field in columns:
                other = sheet.ref(columns[field], header_row)
                self.error(where, f'column "{text}" repeats {other} ({field}) — remove one')
            else:
                columns[field] = index
        for field in required:
            if field not in columns:
                # A misspelt header is the usual cause: point at it.
                close = difflib.get_close_matches(field, [header_key(t) for t in extra], n=1)
                typo = next((t for t in extra if close and header_key(t) == close[0]), None)
                fix = (
                    f'rename column "{typo}" ({sheet.ref(extra[typo], header_row)}) to "{field}"'
                    if typo
                    else "add it to the header row"
                )
                self.error(
                    f"{sheet.title}!{header_row}", f'missing required column "{field}" — {fix}'
                )
        data = sheet.rows[1:]
        headless = sorted(
            {
                index
                for _, cells in data
                for index, text in enumerate(cells)
                if text and (index >= len(header) or not header[index])
            }
        )
        for index in headless:
            self.warn(
                sheet.ref(index, header_row),
                "this column has values but no header — they are ignored; give it a name",
            )
        return FieldTable(sheet.title, columns, data, header_row, extra)
