"""The platforms' bulk-import files, written to ``exports/`` from the platform table
(``copy.platforms``: each upload's file name, columns and rows).

- ``google-ads-editor.csv``: the responsive search ads, one row each, in the columns
  Google Ads Editor imports (File > Import > From file).
- ``meta-bulk.csv`` and ``meta-images/``: the Meta (Facebook/Instagram) image ads, one
  row each, in the columns of Ads Manager's bulk import sheet, with every creative the
  sheet names in ``meta-images/`` beside it (``Image File Name`` is its file name).

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
import os
import shutil
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path

from adloom import safepath
from adloom.copy.platforms import Upload, uploads, uploads_of
from adloom.delivery.cells import neutralise
from adloom.model import Ad, Campaign, Creative
from adloom.outdir import Deliverable

EXPORTS_DIR = "exports"
ENCODING = "utf-8-sig"


def _names(upload: Upload) -> tuple[str, ...]:
    images = (f"{EXPORTS_DIR}/{upload.images}/*",) if upload.images else ()
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
        path = folder / upload.file
        if upload.images:
            earlier = _image_names(path, upload.image_column)  # before the file is replaced
            creatives = [ad.creative for ad, _ in rows if ad.creative is not None]
            _stage_images(out, folder / upload.images, creatives, earlier)
        lines = [*upload.preamble, *(row for _, row in rows)]
        written[upload.file] = _write_csv(out, path, upload.columns, lines)
    return written


def _image_names(bulk: Path, column: str) -> set[str]:
    """The images an earlier file named: the files adloom put beside it."""
    try:
        with bulk.open(encoding=ENCODING, newline="") as file:
            names = {row.get(column) or "" for row in csv.DictReader(file)}
    except (OSError, csv.Error, UnicodeDecodeError):
        return set()
    return {name for name in names if name and Path(name).name == name}


def _stage_images(
    out: Path, folder: Path, creatives: Sequence[Creative], written: set[str]
) -> None:
    """Put ``creatives`` in ``folder``: hard links where the file system allows (no extra
    space), copies elsewhere; names are ad names, so they never clash. Images an earlier
    export put there and this one does not name are removed, nothing else: a file the
    user keeps there stays."""
    safepath.make_dirs(out, folder)
    for name in written - {c.path.name for c in creatives}:
        safepath.remove(out, folder / name)
    for creative in creatives:
        source, target = creative.path, folder / creative.path.name
        safepath.remove(out, target)  # a link to last round's creative, or a stale copy
        try:
            os.link(source, target)
        except OSError:  # another device, or a file system without hard links
            safepath.write_with(out, target, partial(shutil.copy2, source))


def _write_csv(out: Path, path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    # Written next to it, then renamed: an import never reads half a file.
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding=ENCODING, newline="") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            writer.writerows([neutralise(value) for value in row] for row in rows)

    return safepath.write_with(out, path, write)
