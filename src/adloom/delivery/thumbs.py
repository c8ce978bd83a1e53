"""The workbook's thumbnails: one small JPEG per distinct creative, named by its content.

The compose worker makes a creative's thumbnail from the pixels compose has just
encoded (``run.pipeline._compose_from``, in parallel), so the export only points at it.
A creative the export did not see composed (reused from the journal, or kept by a review
round) is found by the hash of its file: an unchanged creative finds the thumbnail an
earlier run made, and identical creatives share one. Only when none is there is the
file decoded again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

from adloom import safepath
from adloom.errors import MachineError
from adloom.outdir import Deliverable

THUMBS_DIR = "thumbs"
# One small JPEG per distinct creative, named by the hash of its bytes (``path_for``).
THUMBS = Deliverable("workbook thumbnails", (f"{THUMBS_DIR}/*.jpg",))
# Thumbnails fit a square box; the workbook's thumbnail column is sized to it.
THUMB_PX = 96
_QUALITY = 80


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_for(out: Path, content: str) -> Path:
    """Where the thumbnail of a creative whose bytes hash to ``content`` is kept."""
    return out / THUMBS_DIR / f"{content[:32]}.jpg"


def shrink(image: Image.Image) -> Image.Image:
    """``image`` fitted into the thumbnail box (never enlarged), flattened onto white
    (JPEG has no alpha; a page shows a transparent creative on white)."""
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    width, height = image.size
    scale = min(THUMB_PX / width, THUMB_PX / height, 1.0)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def write(out: Path, content: str, image: Image.Image) -> Path:
    """The thumbnail of ``image`` (a creative whose bytes hash to ``content``), made
    unless one is there already."""
    target = path_for(out, content)
    if not target.is_file():
        small = shrink(image)
        safepath.write_with(out, target, lambda tmp: small.save(tmp, "JPEG", quality=_QUALITY))
    return target


def of_file(out: Path, source: Path) -> Path | None:
    """The thumbnail of the creative file ``source``: found by its content, else made.
    None when the file cannot be read: that costs the workbook a thumbnail, not the
    export (the image column and the preview still point at it)."""
    try:
        content = digest(source.read_bytes())
        target = path_for(out, content)
        if target.is_file():
            return target
        with Image.open(source) as image:
            # JPEG decodes straight at 1/2..1/8 scale: far cheaper than full size.
            image.draft("RGB", (THUMB_PX, THUMB_PX))
            return write(out, content, image)
    except (OSError, MachineError):
        return None
