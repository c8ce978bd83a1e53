"""An image someone else made, opened safely: the logo in a brief, a master a provider
plugin answered. Its format is recognised from the content (an EPS or SVG named
``.png`` never reaches a decoder that would run it), its byte size and pixel count are
checked before its pixels are decoded, and then it must decode whole. Here, beside
the providers whose answers it checks (``guard``); reading a brief uses it too."""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

MAX_IMAGE_BYTES = 20 * 2**20
MAX_IMAGE_PIXELS = 40_000_000  # e.g. 8000 x 5000; a logo or a master is far smaller


def size_text(n: float) -> str:
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n:,.0f} bytes"


def data_problem(data: bytes, what: str, formats: Sequence[str]) -> str | None:
    """Why ``data`` is not an image in one of ``formats`` within the limits that decodes
    (None if it is one)."""
    if len(data) > MAX_IMAGE_BYTES:
        return f"{what} is {size_text(len(data))}, over the {size_text(MAX_IMAGE_BYTES)} limit"
    return decode_problem(io.BytesIO(data), what, formats, "")


def decode_problem(
    source: Path | IO[bytes], what: str, formats: Sequence[str], advice: str
) -> str | None:
    """Why ``source`` does not decode as one of ``formats`` within the pixel limit;
    ``advice`` is added to the message for content that is not such an image."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own pixel limit; here any bomb is an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=tuple(formats)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    return (
                        f"{what} is {width} x {height} pixels, over the"
                        f" {MAX_IMAGE_PIXELS:,}-pixel limit — scale it down"
                    )
                image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        return f"{what} is too large to decode ({exc}) — scale it down"
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's errors for bad content
        return f"{what} is not a readable {', '.join(formats)} image ({exc}){advice}"
    return None


def edge_connected(near: np.ndarray) -> np.ndarray:
    """The ``near`` pixels connected to the image's edge (4-neighbour flood fill)."""
    reached = np.zeros_like(near)
    reached[0], reached[-1], reached[:, 0], reached[:, -1] = (
        near[0],
        near[-1],
        near[:, 0],
        near[:, -1],
    )
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= near
        if np.array_equal(grown, reached):
            return reached
        reached = grown
