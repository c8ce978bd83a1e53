"""Hostile brand pictures: a brief's ``images`` and ``product_image`` cells must not read
outside the workbook's folder (unless given an absolute path), nor hand a decoder a
file that is not the picture its name claims, nor a pixel bomb. Each is refused at its
cell (exit 2) before any request or file is made."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from victims import refused_before_anything

from brandart import photo
from briefs import MINIMAL_CAMPAIGN, write_brief


def _png_bomb(path: Path, side: int = 20_000) -> Path:
    """A valid PNG header claiming side x side pixels (400 M): decoded, it would take GBs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


def _refused(folder: Path, column: str, value: str, where: str) -> str:
    brief = write_brief(
        folder / "brief.xlsx",
        {**MINIMAL_CAMPAIGN, "placements": "meta_feed"},
        [{"id": "b1", "product": "P", "message": "M", column: value}],
    )
    return refused_before_anything(brief, where)


@pytest.mark.parametrize("column", ["images", "product_image"])
def test_dot_dot_out_of_the_workbooks_folder(tmp_path: Path, column: str) -> None:
    photo(tmp_path / "secret.png", (64, 64), (8, 8, 40, 40))
    (tmp_path / "brief").mkdir()
    err = _refused(tmp_path / "brief", column, "../secret.png", r"Briefs!D2: .*leads out of")
    assert "give an absolute path" in err


def test_a_link_in_a_photo_folder_pointing_out(tmp_path: Path) -> None:
    secret = photo(tmp_path / "secret.png", (64, 64), (8, 8, 40, 40))
    shots = tmp_path / "brief" / "shots"
    shots.mkdir(parents=True)
    os.symlink(secret, shots / "a.png")
    _refused(tmp_path / "brief", "images", "shots", r"Briefs!D2: .*a\.png links out of the folder")


@pytest.mark.parametrize("column", ["images", "product_image"])
def test_a_postscript_file_named_png(tmp_path: Path, column: str) -> None:
    (tmp_path / "brief").mkdir()
    (tmp_path / "brief" / "x.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 1 1\n")
    _refused(tmp_path / "brief", column, "x.png", r"Briefs!D2: .*is not a readable PNG, JPEG")


@pytest.mark.parametrize("column", ["images", "product_image"])
def test_a_pixel_bomb(tmp_path: Path, column: str) -> None:
    (tmp_path / "brief").mkdir()
    _png_bomb(tmp_path / "brief" / "big.png")
    _refused(tmp_path / "brief", column, "big.png", r"Briefs!D2: .*(pixel limit|too large)")


def test_a_packshot_whose_cut_out_leaves_nothing(tmp_path: Path) -> None:
    """A fully transparent packshot: nothing to set, refused before any request."""
    folder = tmp_path / "brief"
    folder.mkdir()
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(folder / "empty.png")
    _refused(folder, "product_image", "empty.png", r"Briefs!D2: .*nothing is left of the packshot")
