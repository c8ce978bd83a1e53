"""Stability's outpaint on the fake (``stability.stable-outpaint-v1:0``): the body checked
as the service checks it, the answer the source picture actually extended.

What it accepts (docs/bedrock.md, *Outpaint*; Stability's published parameters, as the
registry's sources say): ``image`` (base64 of a PNG, JPEG or WebP, each side at least
64 px), ``left``/``right``/``up``/``down`` (0-2000 px, at least one above 0), ``prompt``
(at most 10,000 characters), ``creativity`` (0-1), ``seed`` (0-4,294,967,294) and
``output_format`` (jpeg, png, webp); nothing else. Offered in US regions only: elsewhere
the model id is refused as Bedrock refuses a model a region does not have.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageStat, UnidentifiedImageError

from .errors import ServiceError, invalid

REGIONS = ("us-east-1", "us-east-2", "us-west-2")
FIELDS = {"image", "left", "right", "up", "down", "prompt", "creativity", "seed", "output_format"}
SIDES = ("left", "right", "up", "down")
EXTEND_MAX = 2000
SIDE_MIN = 64
FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


def _malformed(problem: str) -> ServiceError:
    return invalid(f"Malformed input request: {problem}, please reformat your input and try again.")


@dataclass(frozen=True)
class Outpaint:
    picture: Image.Image
    sides: tuple[int, int, int, int]  # left, right, up, down
    prompt: str
    seed: int
    format: str


def _int(body: Mapping[str, Any], key: str, lo: int, hi: int) -> int:
    value = body.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _malformed(f"#/{key}: expected type: Integer, found: {type(value).__name__}")
    if not lo <= value <= hi:
        raise _malformed(f"#/{key}: {value} is not in the range {lo}..{hi}")
    return value


def _picture(value: Any) -> Image.Image:
    if not isinstance(value, str) or not value:
        raise _malformed("#/image: expected type: String")
    try:
        data = base64.b64decode(value, validate=True)
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            image.load()
            picture = image.convert("RGB")
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError):
        raise invalid("The provided image is not a valid PNG, JPEG or WebP image.") from None
    if fmt not in FORMATS.values():
        raise invalid(f"The provided image format {fmt} is not supported: use PNG, JPEG or WebP.")
    if min(picture.size) < SIDE_MIN:
        raise invalid(
            f"The image is {picture.width}x{picture.height}: every side must be at least "
            f"{SIDE_MIN} pixels."
        )
    return picture


def checked(body: Any, region: str) -> Outpaint:
    """The request, valid in ``region``, or the error the service answers."""
    if region not in REGIONS:
        raise invalid("The provided model identifier is invalid.")
    if not isinstance(body, Mapping):
        raise _malformed("#: expected type: JSONObject")
    extra = sorted(set(body) - FIELDS)
    if extra:
        raise _malformed(f"#: extraneous key [{extra[0]}] is not permitted")
    if "image" not in body:
        raise _malformed("#: required key [image] not found")
    sides = tuple(_int(body, side, 0, EXTEND_MAX) for side in SIDES)
    if not any(sides):
        raise invalid("At least one of left, right, up or down must be greater than 0.")
    prompt = body.get("prompt", "")
    if not isinstance(prompt, str) or len(prompt) > 10_000:
        raise _malformed("#/prompt: expected a String of maxLength: 10000")
    creativity = body.get("creativity", 0.5)
    if not isinstance(creativity, int | float) or isinstance(creativity, bool):
        raise _malformed("#/creativity: expected type: Number")
    if not 0 <= creativity <= 1:
        raise _malformed(f"#/creativity: {creativity} is not in the range 0..1")
    seed = _int(body, "seed", 0, 4_294_967_294)
    fmt = body.get("output_format", "png")
    if fmt not in FORMATS:
        raise _malformed(f"#/output_format: {fmt} is not a valid enum value")
    left, right, up, down = sides
    return Outpaint(_picture(body["image"]), (left, right, up, down), prompt, seed, fmt)


def extended(request: Outpaint) -> str:
    """The picture extended by the pixels asked for, the new area in its mean colour
    (a backdrop with nothing in it), base64 in the asked format."""
    left, right, up, down = request.sides
    picture = request.picture
    mean = tuple(round(v) for v in ImageStat.Stat(picture).mean[:3])
    size = (picture.width + left + right, picture.height + up + down)
    canvas = Image.new("RGB", size, mean)  # type: ignore[arg-type]
    canvas.paste(picture, (left, up))
    buffer = io.BytesIO()
    canvas.save(buffer, FORMATS[request.format])
    return base64.b64encode(buffer.getvalue()).decode()
