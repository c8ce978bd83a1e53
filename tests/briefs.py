"""Build real brief files for tests.

    from briefs import write_brief, write_csv_brief   # tests/ is on sys.path under pytest

    path = write_brief(
        tmp_path / "brief.xlsx",
        campaign={"name": "Spring", "brand": "Lumen", "provider": "draft"},
        briefs=[{"id": "b1", "product": "Cold brew", "message": "Fast"}],
    )

Values are written as given (str, int, float, dates), so tests can also check how
numbers and dates in cells are read. Keys of the brief, audience and placement dicts
become the header row, in order of first appearance.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

MINIMAL_CAMPAIGN = {"name": "Test Campaign", "brand": "Test Brand", "provider": "draft"}
MINIMAL_BRIEF = {"id": "b1", "product": "Cold brew", "message": "Café-strength in 30 seconds"}


def write_brief(
    path: Path,
    campaign: Mapping[str, Any] | None = MINIMAL_CAMPAIGN,
    briefs: Sequence[Mapping[str, Any]] = (MINIMAL_BRIEF,),
    *,
    audiences: Mapping[str, str] | None = None,
    brand: Mapping[str, Any] | None = None,
    placements: Sequence[Mapping[str, Any]] | None = None,
    glossary: Sequence[Mapping[str, Any]] | None = None,
    sheet_names: Mapping[str, str] | None = None,
) -> Path:
    """Write an .xlsx brief and return its path.

    campaign, brand: ``setting | value`` rows (the Campaign sheet gets a header row);
        None leaves the sheet out.
    briefs, placements, glossary: one dict per row.
    audiences: audience id -> description.
    sheet_names: rename sheets, e.g. ``{"Briefs": "BRIEFS"}`` or ``{"Campaign": "Settings"}``.
    """
    sheets = ("Campaign", "Briefs", "Audiences", "Brand", "Placements", "Glossary")
    names = {sheet: sheet for sheet in sheets} | dict(sheet_names or {})
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])  # the default sheet; ours get named
    if campaign is not None:
        sheet = workbook.create_sheet(names["Campaign"])
        sheet.append(["setting", "value"])
        for key, value in campaign.items():
            sheet.append([key, value])
    _table(workbook, names["Briefs"], briefs)
    if audiences is not None:
        _table(
            workbook,
            names["Audiences"],
            [{"id": key, "description": value} for key, value in audiences.items()],
        )
    if brand is not None:
        sheet = workbook.create_sheet(names["Brand"])
        for key, value in brand.items():
            sheet.append([key, value])
    if placements is not None:
        _table(workbook, names["Placements"], placements)
    if glossary is not None:
        _table(workbook, names["Glossary"], glossary)
    workbook.save(path)
    return path


def write_csv_brief(
    path: Path, briefs: Sequence[Mapping[str, Any]] = (MINIMAL_BRIEF,), *, encoding: str = "utf-8"
) -> Path:
    """Write a Briefs-only .csv (``utf-8-sig`` is what Excel's "CSV UTF-8" writes)."""
    header = _header(briefs)
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows([row.get(key, "") for key in header] for row in briefs)
    return path


def _header(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def _table(workbook: Workbook, title: str, rows: Sequence[Mapping[str, Any]]) -> None:
    sheet = workbook.create_sheet(title)
    header = _header(rows)
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append([row.get(key) for key in header])


def with_excel_extension(workbook: Path, to: Path, sheets: str = "xl/worksheets/sheet") -> Path:
    """``workbook`` copied to ``to`` with what Excel writes for newer data validations:
    an extension list (x14) that openpyxl does not keep, in each sheet whose part name
    starts with ``sheets``."""
    ext = (
        b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"'
        b' xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        b'<x14:dataValidations count="0"/></ext></extLst></worksheet>'
    )
    with zipfile.ZipFile(workbook) as src, zipfile.ZipFile(to, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith(sheets):
                data = data.replace(b"</worksheet>", ext)
            dst.writestr(item, data)
    return to
