"""Spreadsheet safety: no cell adloom writes is ever taken for a formula."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would read as a formula with an apostrophe.

    OWASP's CSV-injection advice; Excel, LibreOffice and Google Sheets all show the
    text without the quote.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
