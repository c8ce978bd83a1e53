"""Outpaint: the fit decision, the fake's outpaint model, and runs that extend masters.

The fake answers ``stability.stable-outpaint-v1:0`` over real HTTP and refuses what the
service refuses; runs go through the real CLI (draft offline, Bedrock on the fake) and
their creatives are measured, not trusted.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image, ImageDraw

from adloom.aspects import extension, scaled_extension
from adloom.creative import fit, focal
from adloom.model import Shape
from fakebedrock import FakeBedrock
from test_bedrock_fake import call, invoke_path

OUTPAINT = "stability.stable-outpaint-v1:0"


def png(size: tuple[int, int], fmt: str = "PNG") -> str:
    image = Image.new("RGB", size, (30, 120, 200))
    ImageDraw.Draw(image).ellipse((size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2), "red")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def body(**extra: Any) -> dict[str, Any]:
    return {"image": png((200, 100)), "left": 50, "right": 30, "output_format": "png"} | extra


# ---------------------------------------------------------------- geometry and decision


def test_extension_covers_every_shape_and_stays_within_the_service_limits() -> None:
    assert extension(1024, 1024, [728 / 90]) == (3630, 3630, 0, 0)
    assert extension(1200, 800, [1.0]) == (0, 0, 200, 200)
    # A mix of wider and taller shapes extends both ways.
    left, right, up, down = extension(1000, 1000, [2.0, 0.5])
    assert (left + right, up + down) == (1000, 1000)
    w, h, sides = scaled_extension(1024, 1024, [728 / 90], 2000, 64)
    assert max(sides) <= 2000
    assert min(w, h) >= 64
    assert (w + sides[0] + sides[1]) / h == pytest.approx(728 / 90, rel=0.01)


def _ball(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    image = Image.new("RGB", size, (200, 220, 240))
    ImageDraw.Draw(image).ellipse(box, fill=(180, 40, 40))
    return image


def test_auto_extends_where_the_crop_cuts_the_subject_or_loses_too_much() -> None:
    small = _ball((1200, 800), (500, 300, 700, 500))  # a small subject in the middle
    wide = _ball((1200, 800), (100, 300, 1100, 500))  # a subject across the frame
    square = Shape("sq", 1080, 1080, "auto")
    assert not fit.cut(small, 1080, 1080)  # the crop keeps the ball whole
    assert fit.cut(wide, 1080, 1080)  # any square crop cuts it
    assert fit.cut(small, 728, 90)  # keeps under half of the picture
    assert fit.to_extend(wide, [square]) == (square,)
    assert fit.to_extend(wide, [Shape("sq", 1080, 1080, "crop")]) == ()
    assert fit.to_extend(wide, [Shape("sq", 1080, 1080, "pad")]) == ()
    assert fit.to_extend(small, [Shape("sq", 1080, 1080, "outpaint")]) != ()
    assert fit.to_extend(small, [Shape("same", 600, 400, "outpaint")]) == ()  # nothing cut
    box = focal.subject_box(wide)
    assert box is not None
    assert box[0] < 120
    assert box[2] > 1080
    assert focal.subject_box(Image.new("RGB", (300, 200), "white")) is None


# ---------------------------------------------------------------- the fake's model


def test_fake_outpaint_extends_by_the_pixels_asked(fake_bedrock: FakeBedrock) -> None:
    status, _, answer = call(fake_bedrock, invoke_path(OUTPAINT), body(up=20, seed=7))
    assert status == 200, answer
    assert answer["finish_reasons"] == [None]
    with Image.open(io.BytesIO(base64.b64decode(answer["images"][0]))) as out:
        assert out.format == "PNG"
        assert out.size == (200 + 50 + 30, 100 + 20)
        source = Image.open(io.BytesIO(base64.b64decode(png((200, 100)))))
        kept = out.convert("RGB").crop((50, 20, 250, 120))
        assert kept.tobytes() == source.convert("RGB").tobytes()
    for fmt, name in (("jpeg", "JPEG"), ("webp", "WEBP")):
        _, _, answer = call(
            fake_bedrock, invoke_path(OUTPAINT), body(image=png((80, 64), name), output_format=fmt)
        )
        assert Image.open(io.BytesIO(base64.b64decode(answer["images"][0]))).format == name


@pytest.mark.parametrize(
    ("changed", "says"),
    [
        ({"left": 0, "right": 0}, "At least one of left, right, up or down"),
        ({"left": 2001}, "#/left: 2001 is not in the range 0..2000"),
        ({"down": -1}, "#/down: -1 is not in the range 0..2000"),
        ({"up": 1.5}, "#/up: expected type: Integer"),
        ({"prompt": "x" * 10_001}, "#/prompt"),
        ({"creativity": 1.5}, "#/creativity: 1.5 is not in the range 0..1"),
        ({"seed": 4_294_967_295}, "#/seed"),
        ({"output_format": "gif"}, "#/output_format: gif is not a valid enum value"),
        ({"style": "cinematic"}, "extraneous key [style]"),
        ({"image": png((63, 200))}, "at least 64 pixels"),
        ({"image": png((100, 100), "GIF")}, "format GIF is not supported"),
        ({"image": "not base64!"}, "not a valid PNG, JPEG or WebP"),
    ],
)
def test_fake_outpaint_refuses_as_bedrock_does(
    fake_bedrock: FakeBedrock, changed: dict[str, Any], says: str
) -> None:
    status, code, answer = call(fake_bedrock, invoke_path(OUTPAINT), body(**changed))
    assert (status, code) == (400, "ValidationException")
    assert says in answer["message"]


def test_fake_outpaint_is_offered_in_us_regions_only(fake_bedrock: FakeBedrock) -> None:
    for region in ("us-east-1", "us-east-2", "us-west-2"):
        assert call(fake_bedrock, invoke_path(OUTPAINT), body(), region=region)[0] == 200
    status, code, answer = call(fake_bedrock, invoke_path(OUTPAINT), body(), region="eu-west-1")
    assert (status, code) == (400, "ValidationException")
    assert answer["message"] == "The provided model identifier is invalid."
