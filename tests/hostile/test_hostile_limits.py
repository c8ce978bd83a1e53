"""Inputs have limits: hostile workbooks, CSV files, logos and fonts are refused
before adloom allocates in proportion to what they claim (exit 2, the file, sheet
or cell named), and nothing is written anywhere.

The hostile files are built for real: an openpyxl brief whose Briefs sheet XML is
then replaced in the zip, so a bomb stays small on disk and quick to make.
"""

from __future__ import annotations

import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import pytest
from hostile_checks import refused

from adloom.brief.inputs import MAX_CELL_CHARS, MAX_ROWS
from adloom.brief.read import read_campaign
from adloom.model import Campaign
from briefs import write_brief, write_csv_brief
from test_cli import run_cli

BRIEFS_XML = "xl/worksheets/sheet2.xml"  # write_brief: Campaign is sheet1, Briefs sheet2
_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_HEADER_ROW = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>product</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>message</t></is></c></row>'
)


def row(number: int, *cells: str) -> bytes:
    inner = "".join(
        f'<c r="{col}{number}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
        for col, text in zip("ABC", cells, strict=False)
    )
    return f'<row r="{number}">{inner}</row>'.encode()


def with_briefs_xml(tmp_path: Path, chunks: Iterable[bytes], *, level: int = 6) -> Path:
    """A real brief whose Briefs sheet is replaced by ``chunks`` (streamed, compressed)."""
    source = write_brief(tmp_path / "source.xlsx")
    path = tmp_path / "brief.xlsx"
    with (
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as new,
    ):
        for item in old.infolist():
            if item.filename != BRIEFS_XML:
                new.writestr(item.filename, old.read(item.filename))
        with new.open(BRIEFS_XML, "w", force_zip64=True) as sheet:
            for chunk in chunks:
                sheet.write(chunk)
    source.unlink()
    return path


def sheet(*rows: bytes, dimension: str = "A1:C2") -> Iterable[bytes]:
    yield _HEAD + f'<dimension ref="{dimension}"/><sheetData>'.encode()
    yield from rows
    yield b"</sheetData></worksheet>"


def read_measured(path: Path) -> tuple[Campaign, int]:
    """The brief at ``path``, and the most memory Python held while reading it."""
    tracemalloc.start()
    try:
        return read_campaign(path), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_empty_row_bomb_is_refused_by_its_unzipped_size(tmp_path: Path) -> None:
    empty = b"<row></row>" * 100_000
    bomb = sheet(_HEADER_ROW, row(2, "b1", "Cold brew", "Fast"), *[empty] * 200)
    path = with_briefs_xml(tmp_path, bomb, level=1)
    assert path.stat().st_size < 2 * 2**20  # small on disk, over 200 MB unzipped
    stderr = refused(tmp_path, "run", path)
    assert "brief.xlsx: unzipped, the workbook holds" in stderr
    assert "over the 200.0 MB limit" in stderr


def test_a_highly_compressed_part_is_refused(tmp_path: Path) -> None:
    rows = sheet(_HEADER_ROW, row(2, "b1", "Cold brew", "Fast"), b"<row></row>" * 500_000)
    stderr = refused(tmp_path, "run", with_briefs_xml(tmp_path, rows, level=9))
    assert f"part {BRIEFS_XML} unzips" in stderr
    assert "(limit 100)" in stderr


def test_forged_dimension_does_not_pad_rows(tmp_path: Path) -> None:
    """A sheet claiming A1:XFD1048576 is read by its real rows, not 16,384 x 1M cells."""
    rows = sheet(_HEADER_ROW, row(2, "b1", "Cold brew", "Fast"), dimension="A1:XFD1048576")
    path = with_briefs_xml(tmp_path, rows)
    campaign, peak = read_measured(path)
    assert [b.id for b in campaign.briefs] == ["b1"]
    assert peak < 50 * 2**20


def test_values_in_column_xfd_on_many_rows_are_not_padded(tmp_path: Path) -> None:
    far = (
        f'<row r="{n}"><c r="XFD{n}" t="inlineStr"><is><t>x</t></is></c></row>'.encode()
        for n in range(3, 10_003)
    )
    path = with_briefs_xml(tmp_path, sheet(_HEADER_ROW, row(2, "b1", "Cold brew", "Fast"), *far))
    campaign, peak = read_measured(path)
    assert [b.id for b in campaign.briefs] == ["b1"]
    assert peak < 100 * 2**20  # 10,000 rows x 16,384 cells would be gigabytes


def test_text_below_the_row_limit_is_refused_at_its_row(tmp_path: Path) -> None:
    far = MAX_ROWS + 1
    rows = sheet(_HEADER_ROW, row(2, "b1", "Cold brew", "Fast"), row(far, "b2", "Tea", "Hot"))
    stderr = refused(tmp_path, "run", with_briefs_xml(tmp_path, rows))
    assert f"Briefs!{far}: the sheet has text below row {MAX_ROWS:,}" in stderr


def test_a_row_number_past_excel_is_refused(tmp_path: Path) -> None:
    rows = sheet(_HEADER_ROW, row(2, "b1", "Cold brew", "Fast"), b'<row r="99999999999"/>')
    stderr = refused(tmp_path, "run", with_briefs_xml(tmp_path, rows))
    assert "brief.xlsx: sheet Briefs has rows below row 1,048,576, Excel's last" in stderr


def test_a_cell_over_excels_length_is_refused_at_the_cell(tmp_path: Path) -> None:
    # Written into the XML: openpyxl itself cuts what it writes at Excel's limit.
    long = "a" * (MAX_CELL_CHARS + 1)
    rows = sheet(_HEADER_ROW, row(2, "b1", "Cold brew", long))
    stderr = refused(tmp_path, "run", with_briefs_xml(tmp_path, rows))
    assert f"Briefs!C2: {MAX_CELL_CHARS + 1:,} characters is over Excel's 32,767 per cell" in stderr


@pytest.mark.parametrize(
    ("reference", "name"),
    [("&#x7F;", "U+007F"), ("&#x85;", "U+0085"), ("&#x9B;", "U+009B")],  # 9B: a C1 CSI
)
def test_control_characters_in_a_workbook_cell_are_refused_at_the_cell(
    tmp_path: Path, reference: str, name: str
) -> None:
    # XML 1.0 cannot hold C0 controls (a parser refuses the file), but DEL and C1 it can.
    rows = sheet(_HEADER_ROW, row(2, "b1", f"Cold{reference}brew", "Fast"))
    stderr = refused(tmp_path, "run", with_briefs_xml(tmp_path, rows))
    assert f"Briefs!B2: holds the control character {name}" in stderr
    assert "at position 5" in stderr


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x7f", "\x85"])
def test_control_characters_in_a_csv_are_refused_at_the_cell(tmp_path: Path, char: str) -> None:
    path = write_csv_brief(
        tmp_path / "brief.csv", [{"id": "b1", "product": "P", "message": f"a{char}"}]
    )
    stderr = refused(tmp_path, "run", path, "--set", "name=N", "--set", "brand=B")
    assert f"brief.csv!C2: holds the control character U+{ord(char):04X} at position 2" in stderr


def test_tabs_and_line_breaks_are_text(tmp_path: Path) -> None:
    brief = {"id": "b1", "product": "P", "message": "one\ttwo\r\nthree"}
    path = write_csv_brief(tmp_path / "brief.csv", [brief])
    campaign = read_campaign(path, {"name": "N", "brand": "B"})
    assert campaign.briefs[0].message == "one\ttwo\nthree"


def test_a_csv_field_over_the_cell_limit_is_named(tmp_path: Path) -> None:
    long = "b" * (MAX_CELL_CHARS * 3)
    path = write_csv_brief(tmp_path / "brief.csv", [{"id": "b1", "product": "P", "message": long}])
    stderr = refused(tmp_path, "run", path, "--set", "name=N", "--set", "brand=B")
    assert "brief.csv!C2: 98,301 characters is over Excel's 32,767 per cell" in stderr


@pytest.mark.parametrize("name", ["brief.csv", "brief.xlsx"])
def test_a_huge_brief_file_is_refused_unread(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with path.open("wb") as file:
        file.truncate(51 * 2**20)  # sparse: no disk used, nothing to read
    stderr = refused(tmp_path, "run", path)
    assert f"{name}: 51.0 MB is over the 50.0 MB limit for this file" in stderr


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_header(width: int, height: int) -> bytes:
    """A PNG claiming ``width`` x ``height`` with almost no pixel data: small on disk,
    a bomb if decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def branded(tmp_path: Path, **brand: str) -> Path:
    return write_brief(tmp_path / "brief.xlsx", brand=brand)


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n(x) print\nshowpage\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # Over adloom's pixel limit: refused from the header, before decoding.
        (png_header(10_000, 5_000), "is 10000 x 5000 pixels, over the 40,000,000-pixel limit"),
        # Past Pillow's own bomb limit: its error becomes a message at the cell.
        (png_header(100_000, 100_000), "is too large to decode"),
        # An EPS named .png never reaches a PostScript interpreter: not a format we open.
        (EPS, "is not a readable PNG, JPEG, WEBP image"),
    ],
)
def test_hostile_logos_are_refused_at_their_cell(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "logo.png").write_bytes(content)
    stderr = refused(tmp_path, "run", branded(tmp_path, logo="logo.png"))
    assert f'Brand!B1: logo "logo.png" {message}' in stderr
    assert "Warning" not in stderr


def test_a_huge_logo_file_is_refused_unread(tmp_path: Path) -> None:
    with (tmp_path / "logo.png").open("wb") as file:
        file.truncate(21 * 2**20)
    stderr = refused(tmp_path, "run", branded(tmp_path, logo="logo.png"))
    assert 'Brand!B1: logo "logo.png" is 21.0 MB, over the 20.0 MB limit' in stderr


def test_a_font_is_recognised_by_content(tmp_path: Path) -> None:
    (tmp_path / "brand.ttf").write_bytes(png_header(10, 10))
    stderr = refused(tmp_path, "run", branded(tmp_path, font="brand.ttf"))
    assert 'Brand!B1: font "brand.ttf" is not a TrueType or OpenType font by its content' in stderr


def test_a_huge_font_is_refused_unread(tmp_path: Path) -> None:
    with (tmp_path / "brand.otf").open("wb") as file:
        file.write(b"OTTO")
        file.truncate(65 * 2**20)
    stderr = refused(tmp_path, "run", branded(tmp_path, font="brand.otf"))
    assert 'Brand!B1: font "brand.otf" is 65.0 MB, over the 64.0 MB limit' in stderr


@pytest.mark.parametrize("command", ["validate", "lint", "review"])
def test_every_workbook_reader_applies_the_limits(tmp_path: Path, command: str) -> None:
    empty = b"<row></row>" * 100_000
    bomb = sheet(_HEADER_ROW, *[empty] * 200)
    path = with_briefs_xml(tmp_path, bomb, level=1)
    before = sorted(tmp_path.rglob("*"))
    code, _, stderr = run_cli(command, path)
    assert code == 2, stderr
    assert "brief.xlsx: unzipped, the workbook holds" in stderr
    assert sorted(tmp_path.rglob("*")) == before
