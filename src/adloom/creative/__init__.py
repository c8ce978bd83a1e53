"""Creatives: composing generated images and copy into sized ad pictures.

compose  compose: a creative per ad and size, from the art and the copy
layout   where headline, body, call to action and logo go on a canvas
typeset  fitting text into boxes: fonts, wrapping, line breaking, missing glyphs
checks   measures of a composed creative (contrast, fit, safe zones)
focal    the crop that keeps an image's subject in each aspect
"""

__all__ = [
    "checks",
    "compose",
    "focal",
    "layout",
    "typeset",
]
