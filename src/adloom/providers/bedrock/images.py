"""Master images through InvokeModel: one adapter per request format.

Each adapter sends only what its model accepts (sizes, seed range, prompt length,
enums) and reads the model's answer, including its ways of saying "filtered":

- ``titan-image`` (Titan Image Generator v2) and ``nova-canvas`` share Amazon's
  ``TEXT_IMAGE`` body and ``{"images": [...], "error": ...}`` answer; they differ in
  sizes (Titan: a fixed list; Nova: any multiple of 16 within limits), seed range
  and prompt length.
- ``stability`` (SD3.5 Large, Stable Image Core, Stable Image Ultra): an
  ``aspect_ratio`` enum instead of sizes, and ``finish_reasons`` for filtering.
- ``stability-outpaint`` (``StabilityOutpaint``): not a generation model but an edit of
  a master, extended by pixels on each side; answered like ``stability``.

A prompt the service filters raises ``ValidationException`` before any image is
made; ``client.translate`` turns that into a per-variant ``filtered`` failure.

``RemoveBackground`` is no master adapter: Stability's remove-background model (one of
its image services) takes a brief's packshot and answers it with a transparent
background, once per packshot (``CutoutJob``); it answers like the Stability models.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image, UnidentifiedImageError

from adloom.aspects import nearest_aspect, parse_ratio, scaled_extension
from adloom.errors import ModelAccessError
from adloom.model import ImageJob, OutpaintJob
from adloom.registry import ModelInfo


@dataclass(frozen=True)
class ImageCall:
    body: dict[str, Any]
    width: int  # the size asked for; 0 when the model sizes the image by aspect ratio
    height: int


@dataclass(frozen=True)
class Answer:
    """What an image model returned: the first image (base64), or why there is none."""

    image_b64: str = ""
    filtered: str = ""  # the model's reason, when it filtered the output


def fit_words(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-")


class ImageAdapter(ABC):
    family: ClassVar[str]
    prompt_max: ClassVar[int]  # characters, for the prompt and the negative prompt
    seed_min: ClassVar[int] = 0
    seed_max: ClassVar[int]
    # Whether "no text" belongs in the prompt too. Amazon's models read negation
    # words in the prompt as asking for the thing, so theirs go only in negativeText.
    negation_in_prompt: ClassVar[bool] = False

    def seed(self, seed: int) -> int:
        """The job's seed mapped into the model's range, deterministically."""
        return self.seed_min + seed % (self.seed_max - self.seed_min + 1)

    @abstractmethod
    def build(self, job: ImageJob, prompt: str, negative: str, quality: str) -> ImageCall:
        """The InvokeModel body for ``job``."""

    @abstractmethod
    def answer(self, payload: Mapping[str, Any]) -> Answer:
        """The image, or the filter reason, in the model's answer."""


def _nearest(ratio: float, sizes: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The size closest in aspect (log scale), then the largest of equally close ones."""
    return min(sizes, key=lambda s: (round(abs(math.log(s[0] / s[1] / ratio)), 6), -s[0] * s[1]))


class _AmazonImage(ImageAdapter):
    """Titan Image Generator v2 and Nova Canvas: the shared TEXT_IMAGE request."""

    @abstractmethod
    def size(self, job: ImageJob) -> tuple[int, int]:
        """Width and height the model accepts, closest to the job's aspect."""

    def build(self, job: ImageJob, prompt: str, negative: str, quality: str) -> ImageCall:
        width, height = self.size(job)
        body = {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {
                "text": fit_words(prompt, self.prompt_max),
                "negativeText": fit_words(negative, self.prompt_max),
            },
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "width": width,
                "height": height,
                "cfgScale": 8.0,
                "seed": self.seed(job.seed),
                "quality": quality,
            },
        }
        return ImageCall(body, width, height)

    def answer(self, payload: Mapping[str, Any]) -> Answer:
        images = payload.get("images") or []
        error = payload.get("error")
        if images:
            return Answer(image_b64=str(images[0]))
        return Answer(filtered=str(error or "the model returned no image"))


class TitanImage(_AmazonImage):
    family = "titan-image"
    prompt_max = 512
    seed_max = 2_147_483_646
    # Titan Image Generator accepts only these sizes (width, height), per the AWS
    # model-parameters page; those up to 768x768 are billed at the 512x512 price.
    SIZES: ClassVar[tuple[tuple[int, int], ...]] = (
        (1024, 1024), (768, 768), (512, 512),
        (768, 1152), (384, 576), (1152, 768), (576, 384),
        (768, 1280), (384, 640), (1280, 768), (640, 384),
        (896, 1152), (448, 576), (1152, 896), (576, 448),
        (768, 1408), (384, 704), (1408, 768), (704, 384),
        (640, 1408), (320, 704), (1408, 640), (704, 320),
        (1152, 640), (1173, 640),
    )  # fmt: skip

    def size(self, job: ImageJob) -> tuple[int, int]:
        return _nearest(parse_ratio(job.aspect), self.SIZES)


class NovaCanvas(_AmazonImage):
    family = "nova-canvas"
    prompt_max = 1024
    seed_max = 858_993_459
    SIDE_MIN, SIDE_MAX, STEP = 320, 4096, 16
    MAX_RATIO = 4.0  # sides within 1:4 .. 4:1
    MAX_PIXELS = 4_194_304  # exclusive: "the total pixel count must be less than"

    def size(self, job: ImageJob) -> tuple[int, int]:
        ratio = min(max(job.width / job.height, 1 / self.MAX_RATIO), self.MAX_RATIO)
        long_side = max(job.width, job.height, self.SIDE_MIN)
        # Keep the job's long side, raise the short side to the minimum if needed,
        # then snap both to multiples of 16 within the pixel budget.
        width, height = (
            (long_side, long_side / ratio) if ratio >= 1 else (long_side * ratio, long_side)
        )
        scale = max(1.0, self.SIDE_MIN / min(width, height))
        scale = min(scale, math.sqrt((self.MAX_PIXELS - 1) / (width * height)))
        return self._snap(width * scale), self._snap(height * scale)

    def _snap(self, side: float) -> int:
        snapped = int(side // self.STEP) * self.STEP
        return min(max(snapped, self.SIDE_MIN), self.SIDE_MAX)


class StabilityImage(ImageAdapter):
    family = "stability"
    prompt_max = 10_000
    seed_min = 1  # 0 asks for a random seed, which would make reruns differ
    seed_max = 4_294_967_294
    negation_in_prompt = True
    ASPECTS: ClassVar[tuple[str, ...]] = (
        "16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21",
    )  # fmt: skip

    def build(self, job: ImageJob, prompt: str, negative: str, quality: str) -> ImageCall:
        aspect = job.aspect
        if aspect not in self.ASPECTS:
            aspect = nearest_aspect(parse_ratio(aspect), self.ASPECTS)
        body = {
            "prompt": fit_words(prompt, self.prompt_max),
            "negative_prompt": fit_words(negative, self.prompt_max),
            "mode": "text-to-image",
            "aspect_ratio": aspect,
            "seed": self.seed(job.seed),
            "output_format": "png",  # lossless: the master is recomposed many times
        }
        return ImageCall(body, 0, 0)

    def answer(self, payload: Mapping[str, Any]) -> Answer:
        return _stability_answer(payload)


def _stability_answer(payload: Mapping[str, Any]) -> Answer:
    """A Stability answer: ``finish_reasons`` say why an image was filtered."""
    reasons = [r for r in payload.get("finish_reasons") or [] if r]
    images = payload.get("images") or []
    if reasons:
        return Answer(filtered=str(reasons[0]))
    if images:
        return Answer(image_b64=str(images[0]))
    return Answer(filtered="the model returned no image")


class RemoveBackground:
    """Stability's remove-background model: ``{"image": <base64>, "output_format"}``.

    Its limits (Stability's API reference, as republished in public code; docs/bedrock.md):
    a JPEG, PNG or WebP image, every side at least 64 px, 4,096 to 9,437,184 pixels, its
    aspect within 1:2.5 and 2.5:1. A larger packshot is scaled down to the pixel limit
    (scaling is all the product may undergo); a packshot of another shape is refused."""

    family = "stability-remove-background"
    SIDE_MIN = 64
    PIXELS_MAX = 9_437_184
    RATIO_MAX = 2.5
    SENT_AS = ("PNG", "JPEG", "WEBP")

    def body(self, path: Path) -> dict[str, Any]:
        """The request body for the packshot at ``path``; ValueError says why none can be
        sent (its shape or size), for the brief's cell."""
        with Image.open(path, formats=self.SENT_AS) as image:
            width, height = image.size
            if max(width, height) > self.RATIO_MAX * min(width, height):
                raise ValueError(
                    f"is {width}×{height} px: Bedrock's remove-background model takes shapes"
                    f" from 1:{self.RATIO_MAX} to {self.RATIO_MAX}:1"
                )
            if min(width, height) < self.SIDE_MIN:
                raise ValueError(
                    f"is {width}×{height} px: Bedrock's remove-background model needs every"
                    f" side at least {self.SIDE_MIN} px"
                )
            if image.format in self.SENT_AS and width * height <= self.PIXELS_MAX:
                data = path.read_bytes()
            else:  # too many pixels (or a format it does not take): scaled, sent as PNG
                scale = min(1.0, math.sqrt(self.PIXELS_MAX / (width * height)))
                size = (max(1, int(width * scale)), max(1, int(height * scale)))
                buffer = io.BytesIO()
                image.convert("RGBA" if "A" in image.getbands() else "RGB").resize(
                    size, Image.Resampling.LANCZOS
                ).save(buffer, "PNG")
                data = buffer.getvalue()
        # PNG: lossless, and it keeps the alpha the model answers with.
        return {"image": base64.b64encode(data).decode("ascii"), "output_format": "png"}

    def answer(self, payload: Mapping[str, Any]) -> Answer:
        return _stability_answer(payload)


EDITORS: dict[str, RemoveBackground] = {RemoveBackground.family: RemoveBackground()}

ADAPTERS: dict[str, ImageAdapter] = {
    a.family: a for a in (TitanImage(), NovaCanvas(), StabilityImage())
}


def editor_for(info: ModelInfo) -> RemoveBackground:
    """The remove-background model's request format."""
    editor = EDITORS.get(info.family)
    if editor is None:
        raise ModelAccessError(
            f'model "{info.id}" (family "{info.family}") cannot remove a background.',
            hint=f"Background removal families adloom knows: {', '.join(sorted(EDITORS))}.",
        )
    return editor


def reader_for(info: ModelInfo) -> ImageAdapter | RemoveBackground:
    """Whoever reads ``info``'s answers: a master adapter or the remove-background model."""
    return EDITORS.get(info.family) or adapter_for(info)


def adapter_for(info: ModelInfo) -> ImageAdapter:
    adapter = ADAPTERS.get(info.family)
    if info.family in EDITORS:
        raise ModelAccessError(
            f'image model "{info.id}" removes backgrounds from packshots; it draws no masters.',
            hint="Choose an image model that generates pictures (`adloom models`); adloom"
            " uses this one by itself for a product_image on a busy background.",
        )
    if adapter is None:
        raise ModelAccessError(
            f'image model "{info.id}" has family "{info.family}", which adloom cannot call.',
            hint=f"Image families adloom knows: {', '.join(sorted(ADAPTERS))}.",
        )
    return adapter


@dataclass(frozen=True)
class Decoded:
    data: bytes
    width: int
    height: int
    format: str


def transparent(data: bytes) -> bool:
    """Whether an image's alpha makes any of it see-through (a cut-out's background)."""
    with Image.open(io.BytesIO(data)) as image:
        if "A" not in image.getbands() and "transparency" not in image.info:
            return False
        low, _ = image.convert("RGBA").getchannel("A").getextrema()
        return isinstance(low, int) and low < 255


def decode(image_b64: str) -> Decoded:
    """The image bytes, checked to be a whole PNG or JPEG; ValueError if not."""
    try:
        data = base64.b64decode(image_b64, validate=True)
        with Image.open(io.BytesIO(data)) as im:
            size, fmt = im.size, str(im.format)
            im.verify()  # checksums and structure, without keeping the pixels
    except (binascii.Error, UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(f"the model returned data that is not a readable image ({exc})") from None
    if fmt not in ("PNG", "JPEG"):
        raise ValueError(f"the model returned a {fmt} image, not PNG or JPEG")
    return Decoded(data, size[0], size[1], fmt)


class StabilityOutpaint:
    """``stability.stable-outpaint-v1:0`` (Stability AI Image Services): the source
    picture and the pixels to add on each side. Limits as Stability publishes them
    (docs/bedrock.md, *Outpaint*): each side of the source at least 64 px, 0–2000 px
    added per side, prompt at most 10,000 characters, seed 0–4,294,967,294."""

    family = "stability-outpaint"
    EXTEND_MAX = 2000
    SIDE_MIN = 64
    prompt_max = StabilityImage.prompt_max
    # Seeds and answers as Stability's generation models take and give them.
    _STABILITY = StabilityImage()

    def seed(self, seed: int) -> int:
        return self._STABILITY.seed(seed)

    def answer(self, payload: Mapping[str, Any]) -> Answer:
        return self._STABILITY.answer(payload)

    def build(self, job: OutpaintJob, prompt: str) -> tuple[dict[str, Any], tuple[int, int]]:
        """The InvokeModel body (its ``image`` the source's digest and sent size, filled
        in by ``send``) and the size the source is sent at."""
        w, h, (left, right, up, down) = scaled_extension(
            job.width, job.height, job.aspects, self.EXTEND_MAX, self.SIDE_MIN
        )
        body = {
            "image": f"sha256:{job.digest}@{w}x{h}",
            "left": left,
            "right": right,
            "up": up,
            "down": down,
            "prompt": fit_words(prompt, self.prompt_max),
            "seed": self.seed(job.master.seed),
            "output_format": "png",  # lossless: every placement of it is cut from it
        }
        return body, (w, h)


OUTPAINT = StabilityOutpaint()


def sent_body(body: Mapping[str, Any], picture: Image.Image) -> dict[str, Any]:
    """``body`` with its ``image`` as the service takes it: the pixels, base64 PNG."""
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=1)
    return {**body, "image": base64.b64encode(buffer.getvalue()).decode("ascii")}
