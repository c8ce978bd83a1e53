"""Stability's image services on the fake: remove-background, strict about its body.

``stability.stable-image-remove-background-v1:0`` takes ``{"image": <base64>,
"output_format"?: "png"|"webp"}`` and nothing else; the image must be a JPEG, PNG or
WebP with every side at least 64 px, 4,096 to 9,437,184 pixels, its aspect within
1:2.5 and 2.5:1 (Stability's API reference as republished in public code; AWS's
"Stability AI Image Services" page; docs/bedrock.md). The services run in US regions
only: elsewhere the model id is unknown, as the service says it.

The answer is the Stability models' ``{"seeds", "finish_reasons", "images"}`` with a
real RGBA image of the input's size: its own pixels where the "foreground" is (the
pixels least like the border's median colour, and a centred ellipse), fully
transparent elsewhere, so a test can check that exactly those pixels reach a creative.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from .behaviour import State
from .errors import ServiceError, invalid

REGIONS = ("us-east-1", "us-east-2", "us-west-2")
SIDE_MIN = 64
PIXELS_MIN, PIXELS_MAX = 4_096, 9_437_184
RATIO_MAX = 2.5
FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
OUTPUT_FORMATS = ("png", "webp")


def _malformed(problem: str) -> ServiceError:
    return invalid(f"Malformed input request: {problem}, please reformat your input and try again.")


def _image(body: Mapping[str, Any]) -> Image.Image:
    """The body's image, decoded, within the service's limits."""
    encoded = body["image"]
    if not isinstance(encoded, str) or not encoded:
        raise _malformed("#/image: expected type: String")
    try:
        data = base64.b64decode(encoded, validate=True)
        image = Image.open(io.BytesIO(data))
        image.load()
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError):
        raise invalid("The image could not be decoded: send a base64 JPEG, PNG or WebP.") from None
    if image.format not in FORMATS:
        raise invalid(f"The image format {image.format} is not supported: use jpeg, png or webp.")
    w, h = image.size
    if min(w, h) < SIDE_MIN:
        raise invalid(f"The image's sides must be at least {SIDE_MIN} pixels; got {w}x{h}.")
    if not PIXELS_MIN <= w * h <= PIXELS_MAX:
        raise invalid(
            f"The image must have between {PIXELS_MIN:,} and {PIXELS_MAX:,} pixels; got {w * h:,}."
        )
    if max(w, h) > RATIO_MAX * min(w, h):
        raise invalid(f"The aspect ratio must be between 1:{RATIO_MAX} and {RATIO_MAX}:1.")
    return image


def remove_background(state: State, body: Any, region: str) -> dict[str, Any]:
    """The answer, or the ServiceError the service gives; ``Behaviour.opaque_cutouts``
    and ``corrupt_cutouts`` script a model that answers badly."""
    if region not in REGIONS:
        raise invalid("The provided model identifier is invalid.")
    if not isinstance(body, Mapping):
        raise _malformed("#: expected type: JSONObject")
    extra = sorted(set(body) - {"image", "output_format"})
    if extra:
        raise _malformed(f"#: extraneous key [{extra[0]}] is not permitted")
    if "image" not in body:
        raise _malformed("#: required key [image] not found")
    fmt = body.get("output_format", "png")
    if fmt not in OUTPUT_FORMATS:
        raise _malformed(f"#/output_format: {fmt} is not a valid enum value")
    image = _image(body)
    b = state.behaviour
    cut = image.convert("RGB") if state.first("opaque", b.opaque_cutouts) else cut_out(image)
    buffer = io.BytesIO()
    if fmt == "webp":
        cut.save(buffer, "WEBP", lossless=True)
    else:
        cut.save(buffer, "PNG")
    data = buffer.getvalue()
    if state.first("corrupt-cutout", b.corrupt_cutouts):
        data = data[: len(data) // 3]  # a truncated file: decodes as nothing
    return {"seeds": [0], "finish_reasons": [None], "images": [base64.b64encode(data).decode()]}


def cut_out(image: Image.Image) -> Image.Image:
    """The fake's segmentation: a centred ellipse, less what is close to the border's
    median colour; the kept pixels are the input's own."""
    rgb = image.convert("RGB")
    pixels = np.asarray(rgb).astype(np.float32)
    edge = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    far = np.linalg.norm(pixels - np.median(edge, axis=0), axis=2) > 24
    ellipse = Image.new("L", rgb.size, 0)
    w, h = rgb.size
    ImageDraw.Draw(ellipse).ellipse((w // 6, h // 8, 5 * w // 6, 7 * h // 8), fill=255)
    keep = far & (np.asarray(ellipse) == 255)
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(np.where(keep, 255, 0).astype(np.uint8), "L"))
    return rgba


# Image-service family -> its handler (``runtime.invoke`` sends such models' bodies here).
EDITS: dict[str, Callable[[State, Any, str], dict[str, Any]]] = {
    "stability-remove-background": remove_background,
}
