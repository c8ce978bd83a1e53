"""focal: where the subject of a master is, so a crop to another shape keeps it in frame.

A cover crop keeps the whole of the master along one axis and cuts the other; which part
of the cut axis survives used to be the middle, which loses a subject standing near an
edge (a 9:16 story cut from a square master keeps only its middle 56%; a 728x90 banner a
thin strip). Here the surviving window is the one holding the most *edge energy*: the
subject of an ad picture is where the picture changes (its outline and texture), while
backdrops are flat or smoothly graded. Pillow only, no new dependency:

1. the master reduced to at most ``_SIDE`` px on its long side, in grey: a subject is large,
   fine detail does not move the window, and this keeps the routine to about a millisecond;
2. ``ImageFilter.FIND_EDGES`` (a 3x3 Laplacian): near 0 on flat and graded areas; the
   frame's outermost pixels are zeroed, since Pillow copies them unfiltered;
3. a Gaussian blur spreads the outline over the subject's body, so a window that cuts the
   subject in half scores lower than one that holds all of it;
4. averaged into one profile along the cut axis; the crop window slides along it and the
   window with the most energy wins. Near-ties (within ``_TIE``) go to the window nearest
   the centre, so an evenly busy picture, or a flat one, is cut in the middle as before.
"""

from __future__ import annotations

from array import array

from PIL import Image, ImageFilter

CropBox = tuple[float, float, float, float]  # x0, y0, x1, y1 in master pixels

_SIDE = 128
_BLUR = 2.0  # px at _SIDE
_TIE = 0.02


def _profile(image: Image.Image, along_x: bool) -> list[float]:
    """Edge energy per column (``along_x``) or row of a reduced grey copy of ``image``."""
    scale = _SIDE / max(image.size)
    size = (max(3, round(image.width * scale)), max(3, round(image.height * scale)))
    grey = image.convert("L").resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    edges = grey.filter(ImageFilter.FIND_EDGES)
    w, h = edges.size
    for strip in ((0, 0, w, 1), (0, h - 1, w, h), (0, 0, 1, h), (w - 1, 0, w, h)):
        edges.paste(0, strip)
    energy = edges.filter(ImageFilter.GaussianBlur(_BLUR)).convert("F")
    line = energy.resize((w, 1) if along_x else (1, h), Image.Resampling.BOX)
    return list(array("f", line.tobytes()))  # mode F: native 32-bit floats


def _best_start(profile: list[float], window: int) -> int | None:
    """Start of the ``window``-long run of ``profile`` with the most energy (ties: central).

    None when the centre is among the best: the caller then cuts exactly the middle, as a
    whole-pixel start at this reduced size would shift it by a pixel or two of the master.
    """
    sums = [0.0]
    for value in profile:
        sums.append(sums[-1] + value)
    starts = range(len(profile) - window + 1)
    energy = [sums[s + window] - sums[s] for s in starts]
    centre = (len(profile) - window) / 2
    top = max(energy)
    best = [s for s in starts if energy[s] >= (1 - _TIE) * top]
    if top <= 0 or any(abs(s - centre) < 1 for s in best):
        return None
    return min(best, key=lambda s: abs(s - centre))


def crop_box(image: Image.Image, width: int, height: int) -> CropBox:
    """The part of ``image`` that covers ``width`` x ``height`` and keeps its subject."""
    scale = max(width / image.width, height / image.height)
    crop_w, crop_h = width / scale, height / scale
    along_x = image.width - crop_w > 0.5  # which axis is cut (at most one is)
    if not along_x and image.height - crop_h <= 0.5:
        return (0.0, 0.0, float(image.width), float(image.height))
    profile = _profile(image, along_x)
    full, kept = (image.width, crop_w) if along_x else (image.height, crop_h)
    window = max(1, min(len(profile), round(kept / full * len(profile))))
    best = _best_start(profile, window)
    if best is None:
        start = (full - kept) / 2
    else:
        start = min(max(0.0, best * full / len(profile)), full - kept)
    if along_x:
        y0 = (image.height - crop_h) / 2
        return (start, y0, start + crop_w, y0 + crop_h)
    x0 = (image.width - crop_w) / 2
    return (x0, start, x0 + crop_w, start + crop_h)


# The subject's extent along an axis: where the edge energy is at least this share of its
# peak. An outline's two sides are the peaks of an object's profile and its inside
# stays well above this, while a flat or softly graded backdrop stays near 0.
_SUBJECT = 0.5


def _extent(profile: list[float], full: int) -> tuple[float, float] | None:
    top = max(profile, default=0.0)
    if top <= 0:
        return None
    above = [i for i, value in enumerate(profile) if value >= _SUBJECT * top]
    step = full / len(profile)
    return above[0] * step, (above[-1] + 1) * step


def subject_box(image: Image.Image) -> CropBox | None:
    """The box holding the picture's subject (its edge energy), in master pixels; None
    for a picture with no subject to find (flat)."""
    across = _extent(_profile(image, True), image.width)
    down = _extent(_profile(image, False), image.height)
    if across is None or down is None:
        return None
    return (across[0], down[0], across[1], down[1])
