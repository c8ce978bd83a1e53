"""Judge requests (adloom's ``--score``): recognised by their schema, answered with a
valid rating, and their image blocks checked the way Converse checks them.

Converse image blocks (API_runtime_ImageBlock): format png | jpeg | gif | webp, the bytes
base64 on the wire, each image at most 3.75 MB and 8,000 px a side, at most 20 images
per request (docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html).
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from typing import Any

from PIL import Image

from .errors import invalid

RUBRIC = ("message_clear", "fits_audience", "brand_voice", "call_to_action",
          "copy_and_picture", "policy_risk")  # fmt: skip
MAX_IMAGE_BYTES = 3_750_000
MAX_IMAGE_SIDE = 8000
MAX_IMAGES = 20
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}


def is_judge(schema: Mapping[str, Any]) -> bool:
    required = schema.get("required") or []
    return "overall" in required and "policy_issues" in required


def check_images(body: Mapping[str, Any]) -> tuple[int, int]:
    """(image blocks in ``body``, their input tokens), each block checked; a
    ValidationException if one is wrong. Tokens as Anthropic documents them: width x
    height / 750, at most ~1,600 (larger images are scaled down)."""
    count = tokens = 0
    for i, message in enumerate(body.get("messages") or []):
        for j, block in enumerate(message["content"]):
            if "image" in block:
                count += 1
                width, height = _check_image(block["image"], f"messages.{i}.content.{j}.image")
                tokens += min(1600, width * height // 750 + 1)
    if count > MAX_IMAGES:
        raise invalid(f"Too many images: {count} (at most {MAX_IMAGES} per request).")
    return count, tokens


def _check_image(image: Mapping[str, Any], where: str) -> tuple[int, int]:
    fmt = image.get("format")
    if fmt not in _PIL_FORMATS:
        raise invalid(f"{where}.format: '{fmt}' is not one of png, jpeg, gif, webp.")
    raw = image.get("source", {}).get("bytes")
    try:
        data = base64.b64decode(raw or "", validate=True)
    except (binascii.Error, TypeError):
        raise invalid(f"{where}.source.bytes is not valid base64.") from None
    if not data:
        raise invalid(f"{where}.source.bytes is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        raise invalid(f"{where}: the image is {len(data)} bytes; at most 3.75 MB.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            real, size = img.format, img.size
    except OSError:
        raise invalid(f"{where}: Could not process image: the bytes are not an image.") from None
    if real != _PIL_FORMATS[fmt]:
        raise invalid(f"{where}: the image's format is {real}, not the {fmt} it says.")
    if max(size) > MAX_IMAGE_SIDE:
        raise invalid(f"{where}: the image is {size[0]}x{size[1]} px; at most 8000 a side.")
    return size


def rating(user: str, breaks: list[str], images: int, schema: Mapping[str, Any]) -> dict[str, Any]:
    """A valid rating; the brand policies listed in the prompt that contain one of
    ``breaks`` are reported broken (a test scripts what the judge 'sees'). Asked for
    ``alt_text``, it describes the attached creative from the prompt's product and
    headline, as a model would, at whatever length (a long one is the caller's to cut);
    with no creative attached, an empty string."""
    policies = [
        line[2:]
        for line in user.split("Brand policies:", 1)[-1].splitlines()
        if line.startswith("- ")
    ]
    broken = [p for p in policies if any(b.lower() in p.lower() for b in breaks)]
    seen = "the picture and the copy" if images else "the copy"
    out: dict[str, Any] = {
        name: {
            "score": 4 if name != "policy_risk" or not broken else 2,
            "why": f"Judged on {seen}: {name.replace('_', ' ')} is fine.",
        }
        for name in RUBRIC
    }
    out["overall"] = 3.5 if broken else 4.0
    out["policy_issues"] = [f'breaks "{p}"' for p in broken]
    if "alt_text" in (schema.get("properties") or {}):
        out["alt_text"] = _described(user) if images else ""
    return out


def _described(user: str) -> str:
    said = dict(
        line.split(": ", 1) for line in user.splitlines() if ": " in line and line[0] != "-"
    )
    product, headline = said.get("Product", "the product"), said.get("headline", "")
    return (
        f"{product} shown in a bright studio scene, the headline “{headline}” set in bold"
        " type at the top, and a call-to-action button below it"
    )
