"""Spreadsheet safety: no cell adloom writes is ever taken for a formula.

Copy comes from a model and from the user's brief, so any of it can start with
``=``, ``+``, ``-`` or ``@`` (or a tab/CR), which Excel, LibreOffice and Google
Sheets would run as a formula (OWASP "CSV injection"). Every writer goes through
this module: ``set_text_cell`` for openpyxl cells, ``neutralise`` for CSV fields.
"""

from __future__ import annotations

import re
from copy import copy

from openpyxl.cell.cell import Cell

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# The XML 1.0 control characters an xlsx cannot hold (the same set openpyxl rejects with
# IllegalCharacterError). A stray one in model output must not fail the whole export.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would read as a formula with an apostrophe (CSV).

    OWASP's CSV-injection advice; Excel, LibreOffice and Google Sheets all show the
    text without the quote. Numbers pass through: ``-3`` is a number, not a formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def cell_text(value: str) -> str:
    """``value`` as a workbook cell holds it, and as any reader gets it back.

    Cells break lines with LF; XML parsers turn a bare CR into LF on reading anyway,
    and the control characters an xlsx cannot hold are dropped.
    """
    return _ILLEGAL_XML.sub("", value).replace("\r\n", "\n").replace("\r", "\n")


def set_text_cell(cell: Cell, value: str) -> None:
    """Store ``value`` as literal text, whatever it starts with.

    openpyxl infers the type from the value: a str starting with ``=`` becomes a
    formula and ``#N/A`` an error value. Forcing the type back to a string after the
    assignment writes the exact text; ``quotePrefix`` is Excel's own "typed with a
    leading apostrophe" flag, so the text also stays text when a reviewer edits the
    cell, and the apostrophe is not shown.
    """
    cell.value = cell_text(value)
    cell.data_type = "s"
    if value.startswith(FORMULA_PREFIXES):
        # Its own style first: the export streams every cell of a column with one
        # shared style object, which the flag must not change for the others.
        cell._style = copy(cell._style)  # type: ignore[attr-defined]  # openpyxl's StyleArray
        cell.quotePrefix = True
