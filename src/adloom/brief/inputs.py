"""Limits on what adloom reads: workbooks, CSV files, logos and fonts.

Every limit is checked before the expensive step it guards: a workbook's zip
directory before any XML is parsed, an image's header before its pixels are
decoded, a CSV's size before it is read. A file over a limit is refused with an
``InputError`` naming the file (or cell), the limit and what was found; nothing
allocates in proportion to what a hostile file claims. docs/brief-format.md lists
the limits.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from adloom.errors import InputError
from adloom.providers.pictures import MAX_IMAGE_BYTES, decode_problem, size_text

MAX_FILE_BYTES = 50 * 2**20  # a workbook or CSV on disk
# A zip member's size is the size zipfile stops reading at (it never inflates more
# than the directory says), so checking the directory bounds what is parsed.
MAX_UNZIPPED_BYTES = 200 * 2**20  # all members of a workbook together
MAX_RATIO = 100  # unzipped:zipped for a member over RATIO_FROM bytes: empty-row bombs
RATIO_FROM = 4 * 2**20
MAX_MEMBERS = 10_000
MAX_ROWS = 100_000  # rows holding text, per sheet
EXCEL_ROWS = 1_048_576  # no sheet row lies below this; a file claiming one is forged
MAX_COLUMNS = 100  # columns read per row (A to CV); later columns are not read
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")  # recognised by content, never by the name
MAX_FONT_BYTES = 64 * 2**20  # the largest CJK collections are ~30 MB
# The first four bytes of a font: TrueType (1.0, or Apple's "true"), OpenType with CFF
# outlines ("OTTO"), a collection ("ttcf"). WOFF and others are refused.
_FONT_MAGIC = frozenset({b"\x00\x01\x00\x00", b"true", b"OTTO", b"ttcf"})

# C0 controls but tab, LF and CR; DEL; C1 controls. Invisible in a sheet, refused by
# ad platforms, and a NUL ends strings in C libraries: never ad copy.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_file_size(path: Path, limit: int = MAX_FILE_BYTES) -> None:
    size = path.stat().st_size
    if size > limit:
        raise InputError(
            f"{path.name}: {size_text(size)} is over the {size_text(limit)} limit for this file"
            " — split it or remove what it does not need"
        )


def check_zip(path: Path) -> None:
    """The workbook's zip directory within limits; damage is left to the workbook reader."""
    check_file_size(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: the reader says the workbook is unreadable
    if len(members) > MAX_MEMBERS:
        raise InputError(
            f"{path.name}: {len(members):,} parts is over the {MAX_MEMBERS:,} limit"
            " — save it again from Excel without what it does not need"
        )
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED_BYTES:
        raise InputError(
            f"{path.name}: unzipped, the workbook holds {size_text(total)}, over the"
            f" {size_text(MAX_UNZIPPED_BYTES)} limit — delete unused rows, columns and sheets"
            " (select them, Delete) and save again"
        )
    for m in members:
        if m.file_size > RATIO_FROM and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise InputError(
                f"{path.name}: part {m.filename} unzips {m.file_size // max(m.compress_size, 1):,}"
                f" times larger than stored (limit {MAX_RATIO}), as a mass of empty rows does"
                " — delete the unused rows below the data and save again"
            )


def _check_cell(where: str, value: str) -> None:
    """A text cell within Excel's length and free of control characters."""
    if len(value) > MAX_CELL_CHARS:
        raise InputError(
            f"{where}: {len(value):,} characters is over Excel's {MAX_CELL_CHARS:,} per cell"
            " — shorten it"
        )
    control = _CONTROL.search(value)
    if control:
        raise InputError(
            f"{where}: holds the control character U+{ord(control.group()):04X} at position"
            f" {control.start() + 1} — retype the text, or paste it as plain text"
        )


def _check_row(title: str, number: int, values: Sequence[object]) -> None:
    if number > MAX_ROWS:
        raise InputError(
            f"{title}!{number}: the sheet has text below row {MAX_ROWS:,}, the limit"
            " — split the brief into several files"
        )
    for column, value in enumerate(values):
        if isinstance(value, str):
            _check_cell(f"{title}!{get_column_letter(column + 1)}{number}", value)


def sheet_rows(sheet: object, path: Path) -> Iterator[tuple[object, ...]]:
    """A sheet's rows from row 1, values only, at most ``MAX_COLUMNS`` wide; every
    text cell checked; ``InputError`` past the row limits. ``sheet`` comes from a
    workbook ``open_workbook`` (or ``load_workbook(read_only=True)``) opened."""
    if not isinstance(sheet, ReadOnlyWorksheet):
        title = getattr(sheet, "title", "?")
        raise InputError(f'{path.name}: sheet "{title}" is not a sheet of cells (a chart?)')
    # Some writers store a wrong used range, which read-only mode would trust and cut
    # rows short by (or, claiming A1:XFD1048576, pad every row to 16,384 cells).
    sheet.reset_dimensions()
    # The stubs alias iter_rows to Worksheet's, whose self type is Worksheet.
    rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)  # type: ignore[misc]
    for number, values in enumerate(rows, start=1):
        if number > EXCEL_ROWS:  # openpyxl fills the gap up to a forged row number
            raise InputError(
                f"{path.name}: sheet {sheet.title} has rows below row {EXCEL_ROWS:,}, Excel's"
                " last — the file is damaged or forged; save it again from Excel"
            )
        if values.count(None) < len(values):  # in C: a million empty rows stay quick
            _check_row(sheet.title, number, values)
        yield values


@contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def csv_rows(path: Path, encoding: str = "utf-8-sig", delimiter: str = ",") -> list[list[str]]:
    """A CSV's rows (UTF-8 unless told) within the limits; ``UnicodeDecodeError``/
    ``csv.Error`` pass on."""
    check_file_size(path)
    rows: list[list[str]] = []
    # The file's own cap bounds a field; _check_cell then names an overlong one at its
    # cell, where the csv module would only say "field larger than field limit".
    with _field_limit(MAX_FILE_BYTES), path.open(encoding=encoding, newline="") as file:
        for number, row in enumerate(csv.reader(file, delimiter=delimiter), start=1):
            if any(row):
                _check_row(path.name, number, row)
            rows.append(row)
    return rows


def image_problem(path: Path, what: str) -> str | None:
    """Why ``path`` is not a PNG, JPEG or WebP image within the size and pixel limits
    that decodes (None if it is one).

    The format is recognised from the content, so an EPS or SVG named ``.png`` never
    reaches a decoder that would run it; the pixel count is checked before decoding."""
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return f"{what} is {size_text(size)}, over the {size_text(MAX_IMAGE_BYTES)} limit"
    advice = " — use a PNG (a transparent background works best) or a JPEG"
    return decode_problem(path, what, IMAGE_FORMATS, advice)


def font_problem(path: Path, what: str) -> str | None:
    """Why ``path`` is not a TrueType/OpenType font or collection (by its first bytes)
    within the size limit; None if it is one."""
    size = path.stat().st_size
    if size > MAX_FONT_BYTES:
        return f"{what} is {size_text(size)}, over the {size_text(MAX_FONT_BYTES)} limit"
    with path.open("rb") as file:
        magic = file.read(4)
    if magic not in _FONT_MAGIC:
        return (
            f"{what} is not a TrueType or OpenType font by its content"
            " — use a .ttf, .otf or .ttc font file"
        )
    return None


def signing_algorithm(key_pem: bytes) -> bytes:
    """The C2PA signing algorithm for a private key (PEM)."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: b"es256", 384: b"es384", 521: b"es512"}[key.curve.key_size]
    if isinstance(key, rsa.RSAPrivateKey):
        return b"ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return b"ed25519"
    raise ValueError(f"a {type(key).__name__} cannot sign C2PA manifests")


def signing_problem(cert: Path, key: Path) -> str | None:
    """Why ``cert`` (PEM chain) and ``key`` (PEM private key) cannot sign (None: they can)."""
    try:
        signing_algorithm(key.read_bytes())
        if b"-----BEGIN CERTIFICATE-----" not in cert.read_bytes():
            return f"{cert.name} holds no PEM certificate"
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return f"{key.name} is not an unencrypted PEM private key adloom can sign with ({exc})"
    return None
