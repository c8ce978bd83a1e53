"""The export workbook (``variants.xlsx``): one row per ad for review, and a run summary.

Sheet ``Variants`` is what a team works in: copy, links, a thumbnail of every creative,
an Approved/Rejected drop-down and a notes column for the next round. The brief's own
unknown columns follow ours, so nothing the user had is dropped. Sheet ``Search ads``
holds every headline, description and path of the responsive search ads. Sheet
``Summary`` holds the run's counts and costs, the brief's path and the review round.
The layout is documented in ``docs/output.md``.

A hidden ``generated`` column keeps, per ad, a fingerprint of each piece of copy as
adloom wrote it (and where the copy came from): ``adloom review`` compares the cells
with it to tell copy a reviewer edited by hand (docs/review.md).

The workbook is written in openpyxl's write-only (streaming) mode: rows go to disk as
they are made, so a 10,000-ad campaign costs little memory. Streaming still supports
everything used here (images, validation, filter, frozen header), with one rule:
column widths and the frozen pane are written before the first row, so they are set
first. Every text cell goes through ``cells.set_text_cell``: copy from a model or a
brief is never taken for a formula.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, WriteOnlyCell
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, OneCellAnchor
from openpyxl.drawing.xdr import XDRPositiveSize2D
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image

from adloom import __version__, rsa, safepath
from adloom.cells import cell_text, set_text_cell
from adloom.errors import MachineError
from adloom.model import Ad, Campaign, Creative, RunSummary
from adloom.render import (
    STATUSES,
    models_used,
    problems,
    provider_label,
    providers_used,
    relative_link,
    utc_stamp,
)

WORKBOOK_FILE = "variants.xlsx"
THUMBS_DIR = "thumbs"
VARIANTS_SHEET = "Variants"
SEARCH_SHEET = "Search ads"
SUMMARY_SHEET = "Summary"
APPROVAL_CHOICES = ("Approved", "Rejected")

# Thumbnails fit a square box; rows are made tall enough for the box plus a margin.
THUMB_PX = 96
THUMB_PAD_PX = 4
ROW_HEIGHT_PT = (THUMB_PX + 2 * THUMB_PAD_PX) * 0.75  # Excel row heights are in points
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


@dataclass(frozen=True)
class Column:
    name: str
    width: float  # Excel character units
    wrap: bool = False


# The order is part of the contract (docs/output.md): tools read these by header name,
# people by position.
COLUMNS = (
    Column("ad_name", 44),
    Column("brief_id", 16),
    Column("audience", 14),
    Column("language", 9),
    Column("placement", 18),
    Column("variant", 8),
    Column("headline", 32, wrap=True),
    Column("body", 48, wrap=True),
    Column("cta", 16, wrap=True),
    Column("disclaimer", 28, wrap=True),
    Column("landing_url", 40),
    Column("image", 40),
    Column("status", 10),
    Column("issues", 40, wrap=True),
    Column("provider", 34, wrap=True),
    Column("approval", 12),
    Column("notes", 32, wrap=True),
    Column("round", 7),
    Column("changed", 12),
    Column("thumbnail", (THUMB_PX + 2 * THUMB_PAD_PX) / 7),  # ~7 px per character unit
    Column("generated", 12),  # hidden: what adloom wrote, for `adloom review`
    # What adloom.checks measured on the creative (docs/output.md).
    Column("contrast", 10),
    Column("legibility", 14),
    Column("safe_zone", 16, wrap=True),
    Column("text_px", 9),
    Column("text_share", 11),
    Column("crop", 20),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
APPROVAL_COL = get_column_letter(COLUMN_NAMES.index("approval") + 1)
STATUS_INDEX = COLUMN_NAMES.index("status")
THUMB_COL = COLUMN_NAMES.index("thumbnail") + 1
GENERATED_COL = get_column_letter(COLUMN_NAMES.index("generated") + 1)
EXTRA_WIDTH = 18

# Sheet "Search ads": one row per responsive search ad, every slot in its own column.
SEARCH_SLOTS = (
    *(f"headline {i}" for i in range(1, rsa.MAX_HEADLINES + 1)),
    *(f"description {i}" for i in range(1, rsa.MAX_DESCRIPTIONS + 1)),
    "path 1",
    "path 2",
)
SEARCH_COLUMNS = (
    Column("ad_name", 44),
    Column("brief_id", 16),
    Column("audience", 14),
    Column("language", 9),
    Column("variant", 8),
    Column("status", 10),
    Column("final_url", 40),
    *(Column(slot, 34 if slot.startswith("headline") else 48, wrap=True) for slot in SEARCH_SLOTS),
    Column("pins", 28, wrap=True),
)
SEARCH_STATUS_INDEX = [c.name for c in SEARCH_COLUMNS].index("status")


# ---------------------------------------------------------------- what adloom wrote


def copy_fields(ad: Ad) -> dict[str, str]:
    """The copy of ``ad`` a reviewer can edit, by field: a search ad's every slot
    (sheet Search ads), else headline, body and cta (sheet Variants)."""
    if ad.copy.search is not None:
        return rsa.fields(ad.copy.search)
    return {"headline": ad.copy.headline, "body": ad.copy.body, "cta": ad.copy.cta}


def fingerprint(text: str) -> str:
    """A short hash of ``text`` as a cell gives it back (line breaks, edge spaces aside)."""
    return hashlib.sha256(cell_text(text).strip().encode("utf-8")).hexdigest()[:12]


def generated_state(ad: Ad) -> dict[str, object]:
    """The hidden ``generated`` cell: fingerprints of the copy, its pins and its origin."""
    state: dict[str, object] = {
        "copy": {field: fingerprint(text) for field, text in copy_fields(ad).items() if text},
        "provider": ad.provider,
        "draft": ad.draft,
        "text_model": ad.copy.model,
        "image_model": ad.image.model if ad.image else "",
    }
    if ad.copy.search is not None:
        state["pins"] = rsa.pins(ad.copy.search)
    return state


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
    # Streaming sheets carry Worksheet's layout attributes and methods (openpyxl copies
    # them over); the helpers are typed with Worksheet because the stubs declare them there.
    wb = Workbook(write_only=True)
    _write_variants(wb.create_sheet(VARIANTS_SHEET), ads, campaign, out)
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
    path = out / name
    # Saved next to it, then renamed: an interrupted export never leaves half a workbook.
    # A workbook open in Excel on Windows cannot be replaced: a MachineError says so.
    safepath.write_with(out, path, wb.save)
    return path


# ---------------------------------------------------------------- Variants


def _headers(campaign: Campaign) -> list[str]:
    # A brief column that happens to share one of our names (say "notes") is kept
    # under a prefix: two columns with one header would confuse whoever reads it back.
    ours = {n.casefold() for n in COLUMN_NAMES}
    extra = [f"brief.{c}" if c.casefold() in ours else c for c in campaign.extra_columns]
    return [*COLUMN_NAMES, *extra]


def _row_values(ad: Ad, campaign: Campaign, out: Path) -> list[str | int | float]:
    spec = ad.spec
    return [
        spec.name,
        spec.brief.id,
        spec.audience,
        spec.language,
        spec.placement.id,
        spec.variant,
        ad.copy.headline,
        ad.copy.body,
        ad.copy.cta,
        ad.disclaimer,
        spec.landing_url,
        relative_link(ad.creative.path, out) if ad.creative else "",
        ad.status,
        "; ".join(problems(ad)),
        provider_label(ad),
        ad.review.approval,  # the reviewer's; empty until a review round carries it over
        ad.review.notes,
        ad.review.round,
        ad.review.change,
        "",  # thumbnail: an image over the cell
        json.dumps(generated_state(ad), ensure_ascii=False, sort_keys=True),
        *check_values(ad.creative),
        *(spec.brief.extra.get(c, "") for c in campaign.extra_columns),
    ]


def check_values(creative: Creative | None) -> list[str | int | float]:
    """The checks' columns: contrast (the worst line's ratio), legibility, safe zone,
    smallest text px, text share and crop box; empty for an ad without them."""
    checks = creative.checks if creative else None
    if checks is None:
        return ["", "", "", "", "", ""]
    if checks.contrast < checks.contrast_needed:
        legibility = f"unreadable (needs {checks.contrast_needed:g}:1)"
    elif checks.repaired:
        legibility = f"repaired ({checks.repaired})"
    else:
        legibility = "ok"
    return [
        checks.contrast,
        legibility,
        f"outside: {', '.join(checks.outside_safe)}" if checks.outside_safe else "ok",
        checks.text_px,
        checks.text_share,
        ",".join(map(str, checks.crop)) if checks.crop else "",
    ]


def _cell(ws: Worksheet, value: str | int | float, alignment: Alignment) -> Cell:
    cell = WriteOnlyCell(ws)
    if isinstance(value, str):
        if value:  # an empty cell stays truly empty (None), only styled
            set_text_cell(cell, value)
    else:
        cell.value = value
    cell.alignment = alignment
    return cell


def _write_variants(ws: Worksheet, ads: Sequence[Ad], campaign: Campaign, out: Path) -> None:
    headers = _headers(campaign)
    widths = [c.width for c in COLUMNS] + [EXTRA_WIDTH] * len(campaign.extra_columns)
    _layout(ws, widths)
    # The reviewer's view stays the same; `adloom review` reads the column by its header.
    ws.column_dimensions[GENERATED_COL].hidden = True
    _header(ws, headers)

    alignments = [_WRAP if c.wrap else _TOP for c in COLUMNS] + [_WRAP] * len(
        campaign.extra_columns
    )
    thumbnails = _Thumbnails(out)
    for row, ad in enumerate(ads, start=2):
        # Row heights, like widths, must be known before the row is streamed.
        ws.row_dimensions[row].height = ROW_HEIGHT_PT
        cells = [
            _cell(ws, value, align)
            for value, align in zip(_row_values(ad, campaign, out), alignments, strict=True)
        ]
        cells[STATUS_INDEX].font = _STATUS_FONTS[ad.status]
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
    """One small JPEG per creative file under ``out/thumbs/``, made once and reused.

    A thumbnail newer than its creative is kept from an earlier export, so a rerun
    only pays for creatives that changed.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.made: dict[Path, Path | None] = {}

    def get(self, creative: Creative) -> Path | None:
        if creative.path not in self.made:
            self.made[creative.path] = self._make(creative.path)
        return self.made[creative.path]

    def _target(self, source: Path) -> Path:
        rel = relative_link(source, self.out)
        if rel.startswith("../"):  # a creative outside the out folder: a stable unique name
            rel = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:20]
        return (self.out / THUMBS_DIR / rel).with_suffix(".jpg")

    def _make(self, source: Path) -> Path | None:
        target = self._target(source)
        try:
            if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
                return target
            with Image.open(source) as img:
                # JPEG decodes straight at 1/2..1/8 scale: far cheaper than full size.
                img.draft("RGB", (THUMB_PX, THUMB_PX))
                img.thumbnail((THUMB_PX, THUMB_PX))
                flat = _on_white(img)
            safepath.write_with(self.out, target, lambda tmp: flat.save(tmp, "JPEG", quality=80))
        except (OSError, MachineError):
            # A missing or unreadable creative costs its thumbnail, not the export;
            # the image column and the preview still point at it.
            return None
        return target


def _on_white(img: Image.Image) -> Image.Image:
    """JPEG has no alpha: composite transparent creatives onto white, as a page shows them."""
    if img.mode in ("RGBA", "LA", "P", "PA"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


# ---------------------------------------------------------------- Search ads


def _write_search_ads(ws: Worksheet, ads: Sequence[Ad]) -> None:
    """Every slot of each search ad in its own cell, where a reviewer edits them."""
    _layout(ws, [c.width for c in SEARCH_COLUMNS])
    _header(ws, [c.name for c in SEARCH_COLUMNS])
    alignments = [_WRAP if c.wrap else _TOP for c in SEARCH_COLUMNS]
    for ad in ads:
        spec = ad.spec
        search = ad.copy.search
        slots: Mapping[str, str] = rsa.fields(search) if search else {}
        values: list[str | int] = [
            spec.name,
            spec.brief.id,
            spec.audience,
            spec.language,
            spec.variant,
            ad.status,
            spec.landing_url,
            *(slots.get(slot, "") for slot in SEARCH_SLOTS),
            rsa.pins_text(search) if search else "",
        ]
        cells = [_cell(ws, v, a) for v, a in zip(values, alignments, strict=True)]
        cells[SEARCH_STATUS_INDEX].font = _STATUS_FONTS[ad.status]
        ws.append(cells)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SEARCH_COLUMNS))}{len(ads) + 1}"


# ---------------------------------------------------------------- Summary


def brief_path(campaign: Campaign, out: Path) -> str:
    """The brief's path as the Summary sheet records it: relative to the workbook's
    folder, so a project moved as a whole still finds it; absolute across drives."""
    try:
        return Path(os.path.relpath(campaign.source.resolve(), out.resolve())).as_posix()
    except ValueError:  # Windows: brief and output on different drives
        return str(campaign.source.resolve())


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
    by_status = ", ".join(
        f"{n} {s}" for s in STATUSES if (n := sum(1 for a in ads if a.status == s))
    )
    rows: list[tuple[str, str | int | float]] = [
        ("Campaign", campaign.settings.name),
        ("Brand", campaign.settings.brand),
        ("Brief file", campaign.source.name),
        ("Brief path", brief_path(campaign, out)),
        ("Round", round_number),
        ("Provider", providers_used(ads, campaign)),
        ("Text model", text_model),
        ("Image model", image_model),
        ("Ads", len(ads)),
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
