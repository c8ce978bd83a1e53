"""The export workbook (``variants.xlsx``): one row per ad for review, and a run summary.

Sheet ``Variants`` is what a team works in: copy, links, a thumbnail of every creative,
an Approved/Rejected drop-down and a notes column for the next round. The brief's own
unknown columns follow ours, so nothing the user had is dropped. Sheet ``Search ads``
holds every headline, description and path of the responsive search ads. Sheet
``Summary`` holds the run's counts and costs, the brief's path and the review round.
The layout is documented in ``docs/output.md``; its sheets, columns and the hidden
``generated`` fingerprints are defined once in ``adloom.delivery.workbook``, the codec that
``review`` and ``lint`` read the workbook back with. This module lays it out.

The workbook is written in openpyxl's write-only (streaming) mode: rows go to disk as
they are made, so a 10,000-ad campaign costs little memory. Streaming still supports
everything used here (images, validation, filter, frozen header), with one rule:
column widths and the frozen pane are written before the first row, so they are set
first. Every text cell goes through ``cells.set_text_cell``: copy from a model or a
brief is never taken for a formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from weakref import WeakKeyDictionary

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, WriteOnlyCell
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, OneCellAnchor
from openpyxl.drawing.xdr import XDRPositiveSize2D
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from adloom import __version__, safepath
from adloom.copy import rsa
from adloom.delivery import thumbs
from adloom.delivery.cells import set_text_cell
from adloom.delivery.present import (
    ai_label,
    alt_text,
    models_used,
    problems,
    provider_label,
    providers_used,
    relative_link,
    status_counts,
    utc_stamp,
)
from adloom.delivery.workbook import (
    APPROVAL_CHOICES,
    BRIEF_FILE,
    BRIEF_PATH,
    CANDIDATES_SHEET,
    CHECK_COLUMNS,
    COLUMN_NAMES,
    COLUMNS,
    PROVIDER,
    ROUND,
    SEARCH_COLUMN_NAMES,
    SEARCH_COLUMNS,
    SEARCH_SHEET,
    SEARCH_SLOTS,
    SUMMARY_SHEET,
    THUMB_PAD_PX,
    VARIANTS_SHEET,
    WORKBOOK_FILE,
    Value,
    brief_headers,
    brief_path,
    generated_cell,
    in_order,
    reasons_cell,
)
from adloom.model import Ad, Campaign, Creative, RunSummary

# Rows are made tall enough for the thumbnail's box plus a margin.
ROW_HEIGHT_PT = (thumbs.THUMB_PX + 2 * THUMB_PAD_PX) * 0.75  # Excel row heights are in points
EMU_PER_PX = 9525  # drawing offsets are in EMU: 914,400 per inch, 96 px per inch


def _font(color: str = "000000", *, bold: bool = False) -> Font:
    # Name and size spelled out: a Font without them falls back to the viewer's
    # default face (a serif in LibreOffice) instead of the workbook's Calibri.
    return Font(name="Calibri", size=11, color=color, bold=bold)


_HEADER_FONT = _font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8EBF1")
_TOP = Alignment(vertical="top")
_WRAP = Alignment(vertical="top", wrap_text=True)
# Summary values sit next to their labels; numbers would otherwise hug the far edge.
_VALUE = Alignment(horizontal="left", vertical="top", wrap_text=True)
_STATUS_FONTS = {
    "ok": _font("1A7F37"),
    "flagged": _font("B45309", bold=True),
    "failed": _font("C0262D", bold=True),
    "blocked": _font("7B2BA8", bold=True),
    "filtered": _font("A15C00", bold=True),
    "skipped": _font("5D6675"),
}


APPROVAL_COL = get_column_letter(COLUMN_NAMES.index("approval") + 1)
STATUS_INDEX = COLUMN_NAMES.index("status")
THUMB_COL = COLUMN_NAMES.index("thumbnail") + 1
GENERATED_COL = get_column_letter(COLUMN_NAMES.index("generated") + 1)
EXTRA_WIDTH = 18

SEARCH_STATUS_INDEX = SEARCH_COLUMN_NAMES.index("status")


def export_workbook(
    ads: Sequence[Ad],
    summary: RunSummary,
    campaign: Campaign,
    out: Path,
    *,
    generated_at: datetime | None = None,
    name: str = WORKBOOK_FILE,
    round_number: int = 1,
) -> Path:
    """Write ``out/<name>`` (and its thumbnails under ``out/thumbs/``); return its path.

    ``round_number``: the review round the workbook is (``adloom review`` writes 2, 3, ...).
    """
    safepath.make_dirs(out, out)
    path = out / name
    # Refused (a link planted there) before a streaming sheet is opened: one left open by
    # the refusal prints openpyxl's traceback when it is collected.
    safepath.inside(out, path)
    # Streaming sheets carry Worksheet's layout attributes and methods (openpyxl copies
    # them over); the helpers are typed with Worksheet because the stubs declare them there.
    wb = Workbook(write_only=True)
    delivered = [a for a in ads if not a.candidate]
    _write_variants(wb.create_sheet(VARIANTS_SHEET), delivered, campaign, out)
    candidates = [a for a in ads if a.candidate]
    if candidates:
        _write_variants(wb.create_sheet(CANDIDATES_SHEET), candidates, campaign, out)
    # Every search ad's slots, candidates' too: a promoted candidate keeps all of them.
    search_ads = [a for a in ads if a.spec.placement.limits.responsive]
    if search_ads:
        _write_search_ads(wb.create_sheet(SEARCH_SHEET), search_ads)
    _write_summary(
        wb.create_sheet(SUMMARY_SHEET),
        ads,
        summary,
        campaign,
        generated_at or datetime.now(UTC),
        out=out,
        round_number=round_number,
    )
    # Saved next to it, then renamed: an interrupted export never leaves half a workbook.
    # A workbook open in Excel on Windows cannot be replaced: a MachineError says so.
    safepath.write_with(out, path, wb.save)
    return path


# ---------------------------------------------------------------- Variants


def _row_values(ad: Ad, campaign: Campaign, out: Path, more: Sequence[str]) -> list[Value]:
    spec = ad.spec
    checks = _check_cells(ad)
    ours: dict[str, Value] = {
        "ad_name": spec.name,
        "brief_id": spec.brief.id,
        "audience": spec.audience,
        "language": spec.language,
        "placement": spec.placement.id,
        "variant": spec.variant,
        "headline": ad.copy.headline,
        "body": ad.copy.body,
        "cta": ad.copy.cta,
        "disclaimer": ad.disclaimer,
        "landing_url": spec.landing_url,
        "image": relative_link(ad.creative.path, out) if ad.creative else "",
        "status": ad.status,
        "issues": "; ".join(problems(ad)),
        "provider": provider_label(ad),
        "approval": ad.review.approval,  # the reviewer's; empty until a round carries it over
        "notes": ad.review.notes,
        "round": ad.review.round,
        "changed": ad.review.change,
        "thumbnail": "",  # an image over the cell
        "generated": generated_cell(ad),
        **{name: checks.get(name, "") for name in CHECK_COLUMNS},
        "score": ad.score.overall if ad.score else "",
        "score_reasons": reasons_cell(ad.score),
        "ai_generated": ai_label(ad),
        "alt_text": alt_text(ad),
    }
    extra = [spec.brief.extra.get(c, "") for c in campaign.extra_columns]
    return [*in_order(ours, COLUMN_NAMES), *(checks.get(c, "") for c in more), *extra]


def _check_cells(ad: Ad) -> dict[str, Value]:
    """The creative checks' workbook cells by column name (none for an ad without them)."""
    checks = ad.creative.checks if ad.creative else None
    return checks.cells() if checks else {}


def _more_check_columns(ads: Sequence[Ad]) -> list[str]:
    """Columns of checks the workbook has no fixed place for, in the checks' order:
    after the known columns, before the brief's own."""
    return list(dict.fromkeys(c for a in ads for c in _check_cells(a) if c not in COLUMN_NAMES))


def _cell(
    ws: Worksheet, value: str | int | float, alignment: Alignment, font: Font | None = None
) -> Cell:
    cell = WriteOnlyCell(ws)
    # First: set_text_cell may add to it. (_style: openpyxl's StyleArray, not in its stubs.)
    cell._style = copy(_style(ws, alignment, font))  # type: ignore[attr-defined]
    if isinstance(value, str):
        if value:  # an empty cell stays truly empty (None), only styled
            set_text_cell(cell, value)
    else:
        cell.value = value
    return cell


# A style's place in its workbook, found once: assigning a style object to a cell makes
# openpyxl hash it, and everything in it, to find that place (a quarter of the export's
# time before). Keyed by workbook (weakly) and by the module's own style constants.
_STYLES: WeakKeyDictionary[Workbook, dict[tuple[int, int], StyleArray]] = WeakKeyDictionary()


def _style(ws: Worksheet, alignment: Alignment, font: Font | None) -> StyleArray:
    known = _STYLES.setdefault(cast(Workbook, ws.parent), {})
    key = (id(alignment), id(font))
    if key not in known:
        cell = WriteOnlyCell(ws)
        cell.alignment = alignment
        if font is not None:
            cell.font = font
        known[key] = cell._style  # type: ignore[attr-defined]
    return known[key]


def _write_variants(
    ws: Worksheet,
    ads: Sequence[Ad],
    campaign: Campaign,
    out: Path,
) -> None:
    """Sheet Variants, or sheet Candidates (the same columns)."""
    more = _more_check_columns(ads)
    headers = [*COLUMN_NAMES, *more, *brief_headers(campaign)]
    widths = [c.width for c in COLUMNS] + [EXTRA_WIDTH] * (len(more) + len(campaign.extra_columns))
    _layout(ws, widths)
    # The reviewer's view stays the same; `adloom review` reads the column by its header.
    ws.column_dimensions[GENERATED_COL].hidden = True
    _header(ws, headers)

    alignments = [_WRAP if c.wrap else _TOP for c in COLUMNS] + [_TOP] * len(more)
    alignments += [_WRAP] * len(campaign.extra_columns)
    thumbnails = _Thumbnails(out)
    for row, ad in enumerate(ads, start=2):
        # Row heights, like widths, must be known before the row is streamed.
        ws.row_dimensions[row].height = ROW_HEIGHT_PT
        cells = [
            _cell(ws, value, align, _STATUS_FONTS[ad.status] if i == STATUS_INDEX else None)
            for i, (value, align) in enumerate(
                zip(_row_values(ad, campaign, out, more), alignments, strict=True)
            )
        ]
        ws.append(cells)
        thumb = thumbnails.get(ad.creative) if ad.creative else None
        if thumb:
            ws.add_image(_anchored(thumb, THUMB_COL, row))

    last_row = len(ads) + 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last_row}"
    if ads:
        _add_approval(ws, f"{APPROVAL_COL}2:{APPROVAL_COL}{last_row}")


def _layout(ws: Worksheet, widths: Sequence[float]) -> None:
    """Column widths and the frozen header row: streamed before any row, so set first."""
    for index, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"


def _header(ws: Worksheet, names: Sequence[str]) -> None:
    header_cells = []
    for name in names:
        cell = _cell(ws, name, _TOP)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        header_cells.append(cell)
    ws.append(header_cells)


def _add_approval(ws: Worksheet, cells: str) -> None:
    """The Approved/Rejected drop-down, empty by default, coloured once chosen."""
    choices = ",".join(APPROVAL_CHOICES)
    # showDropDown=True would *hide* the arrow (an inverted flag in the file format).
    validation = DataValidation(
        type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=True
    )
    validation.error = f"Choose {' or '.join(APPROVAL_CHOICES)}, or leave the cell empty."
    validation.errorTitle = "Approval"
    validation.add(cells)
    ws.data_validations.append(validation)
    for choice, color in zip(APPROVAL_CHOICES, ("E6F4EA", "FDEAEA"), strict=True):
        ws.conditional_formatting.add(
            cells,
            Rule(
                type="cellIs",
                operator="equal",
                formula=[f'"{choice}"'],
                dxf=DifferentialStyle(fill=PatternFill(bgColor=color)),
            ),
        )


def _anchored(thumb: Path, col: int, row: int) -> SheetImage:
    # A str path, not a Path: openpyxl then closes the file after reading its size,
    # instead of holding one open file per row until the workbook is saved.
    image = SheetImage(str(thumb))
    pad = THUMB_PAD_PX * EMU_PER_PX
    image.anchor = OneCellAnchor(
        _from=AnchorMarker(col=col - 1, colOff=pad, row=row - 1, rowOff=pad),
        ext=XDRPositiveSize2D(image.width * EMU_PER_PX, image.height * EMU_PER_PX),
    )
    return image


class _Thumbnails:
    """The thumbnail of each creative: the one compose made with it, else the one its
    content already has (``delivery.thumbs``), else one made now."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.found: dict[Path, Path | None] = {}

    def get(self, creative: Creative) -> Path | None:
        if creative.thumb is not None and creative.thumb.is_file():
            return creative.thumb
        if creative.path not in self.found:
            self.found[creative.path] = thumbs.of_file(self.out, creative.path)
        return self.found[creative.path]


# ---------------------------------------------------------------- Search ads


def _write_search_ads(ws: Worksheet, ads: Sequence[Ad]) -> None:
    """Every slot of each search ad in its own cell, where a reviewer edits them."""
    _layout(ws, [c.width for c in SEARCH_COLUMNS])
    _header(ws, SEARCH_COLUMN_NAMES)
    alignments = [_WRAP if c.wrap else _TOP for c in SEARCH_COLUMNS]
    for ad in ads:
        spec = ad.spec
        search = ad.copy.search
        slots: Mapping[str, str] = rsa.fields(search) if search else {}
        fields: dict[str, Value] = {
            "ad_name": spec.name,
            "brief_id": spec.brief.id,
            "audience": spec.audience,
            "language": spec.language,
            "variant": spec.variant,
            "status": ad.status,
            "final_url": spec.landing_url,
            **{slot: slots.get(slot, "") for slot in SEARCH_SLOTS},
            "pins": rsa.pins_text(search) if search else "",
        }
        values = in_order(fields, SEARCH_COLUMN_NAMES)
        status = _STATUS_FONTS[ad.status]
        cells = [
            _cell(ws, v, a, status if i == SEARCH_STATUS_INDEX else None)
            for i, (v, a) in enumerate(zip(values, alignments, strict=True))
        ]
        ws.append(cells)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SEARCH_COLUMNS))}{len(ads) + 1}"


# ---------------------------------------------------------------- Summary


def _write_summary(
    ws: Worksheet,
    ads: Sequence[Ad],
    summary: RunSummary,
    campaign: Campaign,
    generated_at: datetime,
    *,
    out: Path,
    round_number: int,
) -> None:
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 90
    text_model, image_model = models_used(ads)
    drafts = sum(1 for a in ads if a.draft)
    candidates = sum(1 for a in ads if a.candidate)
    by_status = ", ".join(f"{n} {s}" for s, n in status_counts(ads).items())
    rows: list[tuple[str, str | int | float]] = [
        ("Campaign", campaign.settings.name),
        ("Brand", campaign.settings.brand),
        (BRIEF_FILE, campaign.source.name),
        (BRIEF_PATH, brief_path(campaign, out)),
        (ROUND, round_number),
        (PROVIDER, providers_used(ads, campaign)),
        ("Text model", text_model),
        ("Image model", image_model),
        ("Ads", len(ads)),
        *([("Candidates", candidates)] if candidates else []),  # with --keep
        ("Ads by status", by_status),
        ("Creatives", summary.creatives),
        ("Failed", summary.failed),
        ("Flagged", summary.flagged),
        ("Cache hits", summary.cache_hits),
        ("Model calls (text)", summary.model_calls_text),
        ("Model calls (image)", summary.model_calls_image),
        ("Input tokens", summary.input_tokens),
        ("Output tokens", summary.output_tokens),
        # float(): a free run may report an int 0, which would get the count format.
        ("Cost (USD)", float(summary.cost_usd)),
        ("Not generated", summary.not_generated),
        ("Not generated cost (USD)", float(summary.not_generated_cost_usd)),
        ("Generated at (UTC)", utc_stamp(generated_at)),
        ("adloom version", __version__),
        (
            "Draft",
            f"DRAFT: {drafts} of {len(ads)} ads were made offline without a model "
            "(draft provider). Not for publishing."
            if drafts
            else "No",
        ),
        *(("Warning", w) for w in summary.warnings),
    ]
    for label, value in rows:
        key = _cell(ws, label, _TOP)
        key.font = _HEADER_FONT
        cell = _cell(ws, value, _VALUE)
        if isinstance(value, float):
            cell.number_format = "0.0000"
        elif isinstance(value, int):
            cell.number_format = "#,##0"
        ws.append([key, cell])
