"""The platforms' bulk-import files, written to ``exports/`` from the platform table
(``copy.platforms``: each upload's file name, columns and rows).

- ``google-ads-editor.csv``: the responsive search ads, one row each, in the columns
  Google Ads Editor imports (File > Import > From file).
- ``meta-bulk.csv`` and ``meta-images/``: the Meta (Facebook/Instagram) image ads, one
  row each, in the columns of Ads Manager's bulk import sheet, with every creative the
  sheet names in ``meta-images/`` beside it (``Image File Name``: the creative's name
  with a tag of its content, so that a name always means one image).
- ``microsoft-ads-bulk.csv`` and ``yahoo-search-ads.csv``: the responsive search ads of
  Microsoft's and Yahoo! JAPAN's placements, in their own bulk formats.
- ``yahoo-display-upload-sheet.csv``, ``line-upload-sheet.csv``,
  ``tiktok-upload-sheet.csv``: upload sheets (no bulk format of the platform's), each
  with its images in a folder beside it, kept in step as Meta's are.

The sheet and its images are replaced so that they agree at every instant, however a
run is killed: new images are added under new names, the sheet is renamed into place
(the one moment it changes), and only then are the images it no longer names removed.
Which names an export may leave behind is written first (``STAGED``), so a run killed
before the sheet changed has its extra images removed by the next export.

Only ads that came out (status ``ok``) are exported; after a review, only approved
ones (the caller passes those). Every file is rewritten every time, with a header
row even when empty, so a stale file from an earlier round never lingers.

The files are UTF-8 with a byte-order mark: Google Ads Editor reads UTF-8 and UTF-16,
and the mark is what makes Excel (where people check such files first) read Japanese
correctly instead of guessing a legacy code page. Every text cell that a spreadsheet
would run as a formula is neutralised (``cells.neutralise``). Formats and sources are
in docs/output.md.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path

from adloom import safepath
from adloom.copy.platforms import Upload, uploads, uploads_of
from adloom.delivery.cells import neutralise
from adloom.model import Ad, Campaign
from adloom.outdir import Deliverable

EXPORTS_DIR = "exports"
ENCODING = "utf-8-sig"


def staged_name(upload: Upload) -> str:
    """In exports/: the image names an export of ``upload`` under way may leave behind."""
    return f".{upload.images}.staged"


def _names(upload: Upload) -> tuple[str, ...]:
    images = (
        (f"{EXPORTS_DIR}/{upload.images}/*", f"{EXPORTS_DIR}/{staged_name(upload)}")
        if upload.images
        else ()
    )
    return (f"{EXPORTS_DIR}/{upload.file}", *images)


UPLOADS = Deliverable(
    "the platforms' upload files", tuple(name for u in uploads() for name in _names(u))
)


def exported(ads: Iterable[Ad], campaign: Campaign) -> dict[Upload, list[tuple[Ad, Sequence[str]]]]:
    """Each upload file's ads among ``ads``, with their rows (every file, even empty)."""
    found: dict[Upload, list[tuple[Ad, Sequence[str]]]] = {u: [] for u in uploads()}
    # A candidate (not among the best --keep of its slot) is never uploaded.
    for ad in ads:
        if ad.status != "ok" or ad.candidate:
            continue
        for upload in uploads_of(ad.spec.placement):
            row = upload.row(ad, campaign)
            if row is not None:
                found[upload].append((ad, row))
    return found


def export_platforms(ads: Sequence[Ad], campaign: Campaign, out: Path) -> dict[str, Path]:
    """Write every platform's upload files under ``exports/`` (with their images);
    return each CSV's path by file name."""
    folder = out / EXPORTS_DIR
    written = {}
    for upload, rows in exported(ads, campaign).items():
        if upload.images:
            written[upload.file] = _replace_with_images(out, folder, upload, rows)
        else:
            lines = [*upload.preamble, *(row for _, row in rows)]
            written[upload.file] = _write_csv(out, folder / upload.file, upload.columns, lines)
    return written


def _replace_with_images(
    out: Path, folder: Path, upload: Upload, rows: Sequence[tuple[Ad, Sequence[str]]]
) -> Path:
    """Write ``upload``'s file and its images so that they agree at every instant: the
    images the file will name are added first, the file is renamed into place, and only
    then are the images it no longer names removed (module docstring)."""
    column = upload.columns.index(upload.image_column)
    images = {c.path: _image_name(c.path) for ad, _ in rows if (c := ad.creative) is not None}
    staged = folder / staged_name(upload)
    # Every image adloom may have left there: what the file names, and what an export
    # killed before replacing the file had staged.
    earlier = _image_names(folder / upload.file, upload.image_column) | _listed(staged)
    now = set(images.values())
    safepath.write_bytes(out, staged, "\n".join(sorted(earlier | now)).encode())
    _stage_images(out, folder / upload.images, images)
    lines = [*upload.preamble, *(_tagged(ad, row, column, images) for ad, row in rows)]
    written = _write_csv(out, folder / upload.file, upload.columns, lines)
    for name in earlier - now:
        safepath.remove(out, folder / upload.images / name)
    safepath.remove(out, staged)
    return written


def _tagged(ad: Ad, row: Sequence[str], column: int, images: Mapping[Path, str]) -> list[str]:
    """``row`` naming the ad's image by its content-tagged name."""
    tagged = list(row)
    if ad.creative is not None:
        tagged[column] = images[ad.creative.path]
    return tagged


def _image_names(bulk: Path, column: str) -> set[str]:
    """The images an earlier file named: the files adloom put beside it."""
    try:
        with bulk.open(encoding=ENCODING, newline="") as file:
            names = {row.get(column) or "" for row in csv.DictReader(file)}
    except (OSError, csv.Error, UnicodeDecodeError):
        return set()
    return _plain(names)


def _listed(staged: Path) -> set[str]:
    try:
        return _plain(set(staged.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError):
        return set()


def _plain(names: set[str]) -> set[str]:
    """Bare file names only: a name read back never leads out of meta-images/."""
    return {name for name in names if name and Path(name).name == name}


def _image_name(creative: Path) -> str:
    """The creative's name tagged with its content: an image under this name is this
    image, so a sheet naming it never meets another ad's later version of it."""
    digest = hashlib.sha256(creative.read_bytes()).hexdigest()[:10]
    return f"{creative.stem}-{digest}{creative.suffix}"


def _stage_images(out: Path, folder: Path, images: Mapping[Path, str]) -> None:
    """Put each creative in ``folder`` under its tagged name: a hard link where the file
    system allows (no extra space), a copy elsewhere. A name already there holds the
    same image, so it is kept; nothing is replaced or removed here."""
    safepath.make_dirs(out, folder)
    for source, name in images.items():
        target = folder / name
        if target.is_file() and not target.is_symlink():
            continue
        safepath.write_with(out, target, partial(_link_or_copy, source))


def _link_or_copy(source: Path, tmp: Path) -> None:
    try:
        os.link(source, tmp)
    except OSError:  # another device, or a file system without hard links
        shutil.copy2(source, tmp)


def _write_csv(out: Path, path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    # Written next to it, then renamed: an import never reads half a file.
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding=ENCODING, newline="") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            writer.writerows([neutralise(value) for value in row] for row in rows)

    return safepath.write_with(out, path, write)
