"""compose: master image + copy + brand kit -> one finished ad image per placement size.

Steps, so tests can check each without the others:

- ``adloom.creative.layout.plan_layout`` (pure): where the panel, logo, button and every line of
  text go, at which size, in which colour — and what did not fit.
- ``adloom.creative.focal``: which part of the master the placement keeps (its subject in frame).
- ``compose``: crops the master there, paints the layout up to the text, has
  ``adloom.creative.checks`` measure (and repair) what the text will sit on, draws the text, and
  writes a file within the placement's size cap. The checks travel with the Creative.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter
from PIL.PngImagePlugin import PngInfo

from adloom import safepath
from adloom.brief.inputs import IMAGE_FORMATS
from adloom.creative import checks, focal, measures, product, provenance, typeset
from adloom.creative.layout import (
    RGB,
    AdCopy,
    Chip,
    Layout,
    Panel,
    TextElement,
    contrast_ratio,
    parse_color,
    plan_layout,
    readable_color,
)
from adloom.creative.typeset import Box
from adloom.model import AdSpec, BrandKit, Creative, Placement
from adloom.outdir import Deliverable

# Re-exported: what callers of compose (tests, benchmarks) took from here before the split.
__all__ = [
    "AdCopy",
    "Layout",
    "TextElement",
    "compose",
    "contrast_ratio",
    "parse_color",
    "plan_layout",
    "readable_color",
]

# JPEG attempts in order until the file is under the cap. 4:4:4 keeps coloured text
# edges crisp; once the cap bites, 4:2:0 (a quarter of the colour data) comes before
# quality drops far.
_JPEG_LADDER: tuple[tuple[int, str], ...] = (
    (90, "4:4:4"),
    (85, "4:4:4"),
    (80, "4:2:0"),
    (70, "4:2:0"),
    (60, "4:2:0"),
    (50, "4:2:0"),
    (40, "4:2:0"),
    (30, "4:2:0"),
    (20, "4:2:0"),
)
# Art with at most this many distinct colours (no photo behind it) is "flat": PNG keeps
# its text sharp and is usually smaller than JPEG.
_FLAT_COLORS = 4096
# zlib levels tried in order for flat art: the cheap one, then the smallest, before JPEG.
_PNG_LEVELS = (6, 9)


# ---------------------------------------------------------------- painting


def _flat(image: Image.Image, fill: RGB) -> Image.Image:
    """``image`` as RGB, any transparency laid on ``fill``."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, fill)
        flat.paste(rgba, mask=rgba)
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def _cover(
    image: Image.Image, width: int, height: int, fill: RGB
) -> tuple[Image.Image, focal.CropBox]:
    """Scale to cover width x height, cropped around the subject (``adloom.creative.focal``), in one
    resample; and the crop box used, in master pixels."""
    image = _flat(image, fill)
    box = focal.crop_box(image, width, height)
    if width > box[2] - box[0]:
        # Enlarging: bicubic is as sharp as Lanczos here, rings less and is ~40% faster.
        return image.resize((width, height), Image.Resampling.BICUBIC, box=box), box
    # reducing_gap: a cheap integer reduce() first makes large downscales several times
    # faster with no visible difference from a full Lanczos.
    resized = image.resize((width, height), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    return resized, box


# ``fit: pad``: the backdrop's blur, as a share of the placement's short side: the
# picture's own colours around it, with no detail to compete with the whole picture.
_PAD_BLUR = 0.06


def _pad(
    image: Image.Image, width: int, height: int, fill: RGB
) -> tuple[Image.Image, focal.CropBox]:
    """``fit: pad``: the whole picture, scaled to fit inside width x height and centred on
    a blurred cover of itself (no model); the box kept is all of it."""
    image = _flat(image, fill)
    backdrop, _ = _cover(image, width, height, fill)
    backdrop = backdrop.filter(ImageFilter.GaussianBlur(_PAD_BLUR * min(width, height)))
    scale = min(width / image.width, height / image.height)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    whole = image.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    backdrop.paste(whole, ((width - w) // 2, (height - h) // 2))
    return backdrop, (0.0, 0.0, float(image.width), float(image.height))


def _ramp(length: int) -> list[int]:
    """Opacity 0 -> 255 with a smoothstep ease, so a panel melts into the picture."""
    out = []
    for i in range(length):
        t = (i + 0.5) / length
        out.append(round(255 * t * t * (3 - 2 * t)))
    return out


def _paint_panel(canvas: Image.Image, panel: Panel) -> None:
    box = panel.box
    canvas.paste(panel.color, box.tuple())
    for edge, reach in panel.fades:
        ramp = _ramp(reach)  # far from the panel -> next to it; clipped at the canvas edge
        if edge == "top":
            band = Box(box.x0, max(0, box.y0 - reach), box.x1, box.y0)
            values = ramp[reach - band.height :]
            strip = Image.frombytes("L", (1, len(values)), bytes(values))
        elif edge == "left":
            band = Box(max(0, box.x0 - reach), box.y0, box.x0, box.y1)
            values = ramp[reach - band.width :]
            strip = Image.frombytes("L", (len(values), 1), bytes(values))
        else:
            band = Box(box.x1, box.y0, min(canvas.width, box.x1 + reach), box.y1)
            values = ramp[::-1][: band.width]
            strip = Image.frombytes("L", (len(values), 1), bytes(values))
        if band.width > 0 and band.height > 0:
            mask = strip.resize((band.width, band.height), Image.Resampling.NEAREST)
            canvas.paste(panel.color, band.tuple(), mask)


def _paint_chip(canvas: Image.Image, chip: Chip) -> None:
    box = chip.box
    # Pillow's rounded_rectangle is not anti-aliased: draw the mask at 4x and average down.
    big = Image.new("L", (box.width * 4, box.height * 4), 0)
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, big.width - 1, big.height - 1),
        radius=big.height // 2,
        fill=round(255 * chip.opacity),
    )
    canvas.paste(chip.color, box.tuple(), big.reduce(4))


def _paint_text(draw: ImageDraw.ImageDraw, element: TextElement) -> None:
    block = element.block
    face = typeset.font(block.font, block.size)
    for line in block.lines:
        draw.text((line.x, line.y), line.text, font=face, fill=element.color, anchor="ls")


def _paint_under(canvas: Image.Image, layout: Layout, logo: Image.Image | None) -> None:
    """Everything the text sits on: panels, logo and button (``canvas`` is changed in place)."""
    for panel in layout.panels:
        _paint_panel(canvas, panel)
    if layout.logo is not None and logo is not None:
        box = layout.logo
        fitted = logo.resize((box.width, box.height), Image.Resampling.LANCZOS)
        canvas.paste(fitted, (box.x0, box.y0), fitted)
    if layout.button is not None:
        _paint_chip(canvas, layout.button)


def _paint_texts(canvas: Image.Image, layout: Layout) -> None:
    draw = ImageDraw.Draw(canvas)
    for element in layout.texts:
        _paint_text(draw, element)
    if layout.tag is not None:  # last: the DRAFT tag may overlap anything
        _paint_chip(canvas, layout.tag.chip)
        _paint_text(draw, layout.tag.text)


# ---------------------------------------------------------------- files


@lru_cache(maxsize=4)
def _master(path: Path, mtime_ns: int) -> Image.Image:
    """A decoded master, kept for the next placements and languages composed from it:
    decoding a 1024 px PNG costs more than composing a small banner."""
    with Image.open(path) as image:
        image.load()
        return image


@lru_cache(maxsize=16)
def _logo(path: Path, mtime_ns: int) -> Image.Image:
    """The brand logo as RGBA, decoded once per file version and reused for every ad.
    Only the formats the brief reader accepted: a file swapped since is not decoded."""
    with Image.open(path, formats=IMAGE_FORMATS) as image:
        return image.convert("RGBA")


def _encode(
    image: Image.Image, cap_bytes: int, *, lossless: bool = False, xmp: bytes = b""
) -> tuple[bytes, str, str | None]:
    """(file bytes, extension, issue): PNG for flat art under the cap, else stepped JPEG.
    ``lossless`` tries PNG first for any picture (a brand's product, kept exact); ``xmp``
    is the metadata packet either format carries (``adloom.creative.provenance``).

    Settings by measurement (benchmarks/bench_encoders.py, benchmarks/README.md): zlib
    level 6 costs a fraction of level 9 for files a few percent larger, so 9 is tried
    only when 6 misses the cap; baseline optimized JPEG costs half of progressive for
    files about 2% larger, and decodes faster.
    """
    if lossless or image.getcolors(_FLAT_COLORS) is not None:
        info = PngInfo()
        if xmp:
            info.add_itxt(provenance.PNG_KEY, xmp.decode("utf-8"))
        for level in _PNG_LEVELS:
            buffer = io.BytesIO()
            image.save(buffer, "PNG", optimize=False, compress_level=level, pnginfo=info)
            if buffer.tell() <= cap_bytes:
                return buffer.getvalue(), ".png", None
    data = b""
    for quality, subsampling in _JPEG_LADDER:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, subsampling=subsampling, optimize=True, xmp=xmp)
        data = buffer.getvalue()
        if len(data) <= cap_bytes:
            return data, ".jpg", None
    issue = (
        f"file is {math.ceil(len(data) / 1024)} KB, over the {cap_bytes // 1024} KB cap even at "
        f"JPEG quality {_JPEG_LADDER[-1][0]}"
    )
    return data, ".jpg", issue


CREATIVES_DIR = "creatives"
# One finished image per ad, by placement: ``creatives/<placement>/<ad name>.png|.jpg``.
CREATIVES = Deliverable(
    "composed creatives", (f"{CREATIVES_DIR}/*/*.png", f"{CREATIVES_DIR}/*/*.jpg")
)


def creative_stem(out: Path, spec: AdSpec) -> Path:
    """Where ``spec``'s creative goes, without its extension (``_write`` adds it)."""
    return out / CREATIVES_DIR / spec.placement.id / spec.name


def _write(out: Path, stem: Path, data: bytes, ext: str) -> Path:
    # not with_suffix: names may contain dots; written then renamed, so a killed run
    # never leaves a half-written ad behind
    path = safepath.write_bytes(out, stem.parent / (stem.name + ext), data)
    _remove_other(out, stem, ext)
    return path


def _remove_other(out: Path, stem: Path, ext: str) -> None:
    """A rerun may switch PNG <-> JPEG; the other file would be a stale duplicate."""
    for other in (".png", ".jpg"):
        if other != ext:
            safepath.remove(out, stem.parent / (stem.name + other))


@dataclass(frozen=True)
class Composed:
    """A composed ad, and what another placement of the same pixels needs to share it."""

    creative: Creative
    layout: Layout  # as drawn (after the checks' repairs)
    measured: tuple[checks.Measured, ...]
    crop: tuple[int, int, int, int] | None
    input_issues: tuple[str, ...]  # the logo's or the packshot's, whatever the placement
    product_aspect: float | None  # the packshot's cut-out, width / height
    product: tuple[int, int, int, int] | None  # where it stands, px
    encode_issue: str | None  # over the cap even at the lowest quality; None: within it
    # The pixels written (for the workbook's thumbnail, made from them: delivery.thumbs)
    # and the SHA-256 of the file's bytes; None once the thumbnail is made.
    canvas: Image.Image | None
    content: str


def twin_key(copy: AdCopy, placement: Placement, draft: bool) -> Hashable:
    """Equal for two ads of one master whose files are byte for byte the same: the same
    copy, the same placement shape (the layout, crop and checks depend on nothing else
    of it but its name) and the same size cap."""
    shape = (
        placement.width,
        placement.height,
        placement.safe_top,
        placement.safe_bottom,
        placement.safe_left,
        placement.safe_right,
    )
    return (copy, draft, shape, placement.max_kb, checks.min_text_px(placement))


def compose(
    master: Path | Image.Image | None,
    copy: AdCopy,
    brand: BrandKit,
    placement: Placement,
    out_stem: Path,
    *,
    draft: bool,
    out: Path | None = None,
    packshot: Path | None = None,
    source_type: str = "",
    signing: tuple[Path, Path] | None = None,
    model: str = "",
    pad: bool = False,
    edits: Sequence[str] = (),
) -> Creative:
    """Compose one finished ad and write it next to ``out_stem`` (.png or .jpg), which
    must lie in ``out`` (the out folder; by default the folder of ``out_stem``).

    ``master`` is an image file, an already opened image (cheaper when one master serves
    many placements; it is not modified), or None for a flat brand-colour background.
    ``packshot`` is the brand's product image, cut out (``adloom.creative.product``) and
    set where the layout reserves room, its pixels only scaled; such a creative is a
    PNG when the placement's cap allows, so they stay exact. ``source_type`` is the
    IPTC DigitalSourceType term written into the file's XMP ("" writes none).
    ``signing`` (certificate chain, private key; PEM files) adds a C2PA manifest naming
    ``model`` as the picture's maker, ``edits`` (what other models did to the picture
    before compose: a cut-out, an outpaint) and compose's steps. ``pad`` sets the whole master
    on its blurred edges instead of cutting it (``fit: pad``).
    """
    return composed(
        master,
        copy,
        brand,
        placement,
        out_stem,
        draft=draft,
        out=out,
        packshot=packshot,
        source_type=source_type,
        signing=signing,
        model=model,
        pad=pad,
        edits=edits,
    ).creative


def composed(
    master: Path | Image.Image | None,
    copy: AdCopy,
    brand: BrandKit,
    placement: Placement,
    out_stem: Path,
    *,
    draft: bool,
    out: Path | None = None,
    packshot: Path | None = None,
    source_type: str = "",
    signing: tuple[Path, Path] | None = None,
    model: str = "",
    pad: bool = False,
    edits: Sequence[str] = (),
) -> Composed:
    """``compose``, keeping what ``compose_twin`` needs."""
    primary = parse_color(brand.primary_color)
    size = (placement.width, placement.height)
    crop = None
    if master is None:
        canvas = Image.new("RGB", size, primary)
    else:
        image = master if isinstance(master, Image.Image) else _master(master, _mtime(master))
        canvas, box = (_pad if pad else _cover)(image, *size, primary)
        crop = (round(box[0]), round(box[1]), round(box[2]), round(box[3]))

    logo, logo_issues = _brand_logo(brand)
    cut, cut_issues = _cutout(packshot)
    aspect = cut.width / cut.height if cut else None
    layout = plan_layout(
        copy,
        brand,
        placement,
        logo_size=logo.size if logo else None,
        draft=draft,
        product_aspect=aspect,
    )
    _paint_under(canvas, layout, logo)
    placed = None
    if cut is not None and layout.product is not None:
        placed = product.place(canvas, cut, layout.product).tuple()
    drawn, measured = checks.legible(canvas, layout, brand, placement)
    _paint_texts(canvas, drawn)
    found, problems = measures.report(drawn, placement, measured, crop, placed)

    xmp = provenance.xmp(source_type) if source_type else b""
    data, ext, encode_issue = _encode(
        canvas, placement.max_kb * 1024, lossless=placed is not None, xmp=xmp
    )
    input_issues = (*logo_issues, *cut_issues)
    issues = [*input_issues, *layout.issues, *problems]
    if encode_issue:
        issues.append(f"{encode_issue} of {placement.id}")
    if signing is not None and source_type:
        steps = [
            *edits,
            *([("padded" if pad else "cropped") + " to the placement"] if crop else []),
            *(["the brand's product image placed, scaled only"] if placed else []),
            "headline, button and logo set by adloom",
        ]
        data = provenance.sign(
            data,
            ext,
            cert=signing[0],
            key=signing[1],
            source_type=source_type,
            model=model,
            steps=steps,
            title=out_stem.name + ext,
        )
        if len(data) > placement.max_kb * 1024:
            encode_issue = f"signed, the file is over the {placement.max_kb} KB cap"
            issues.append(f"{encode_issue} of {placement.id}")
    path = _write(out or out_stem.parent, out_stem, data, ext)
    creative = Creative(path, *canvas.size, len(data), tuple(issues), found)
    content = hashlib.sha256(data).hexdigest()
    return Composed(
        creative, drawn, measured, crop, input_issues, aspect, placed, encode_issue, canvas, content
    )


def compose_twin(
    first: Composed,
    copy: AdCopy,
    brand: BrandKit,
    placement: Placement,
    out_stem: Path,
    *,
    draft: bool,
    out: Path,
) -> Creative:
    """The ad ``placement`` would get when ``first`` (of the same master) has the same
    ``twin_key``: its file is ``first``'s, linked under its own name (nothing composed
    or encoded again); its issues and checks are its own, naming its placement."""
    logo, _ = _brand_logo(brand)
    layout = plan_layout(
        copy,
        brand,
        placement,
        logo_size=logo.size if logo else None,
        draft=draft,
        product_aspect=first.product_aspect,
    )
    found, problems = measures.report(
        first.layout, placement, first.measured, first.crop, first.product
    )
    issues = [*first.input_issues, *layout.issues, *problems]
    if first.encode_issue:
        issues.append(f"{first.encode_issue} of {placement.id}")
    source = first.creative.path
    path = out_stem.parent / (out_stem.name + source.suffix)
    safepath.link(out, source, path)
    _remove_other(out, out_stem, source.suffix)
    c = first.creative
    return Creative(path, c.width, c.height, c.bytes, tuple(issues), found, c.thumb)


def _brand_logo(brand: BrandKit) -> tuple[Image.Image | None, tuple[str, ...]]:
    if brand.logo is None:
        return None, ()
    try:
        return _logo(brand.logo, _mtime(brand.logo)), ()
    except (OSError, ValueError) as exc:
        return None, (f"logo {brand.logo} cannot be read ({exc}); ad made without it",)


def _cutout(packshot: Path | None) -> tuple[Image.Image | None, tuple[str, ...]]:
    if packshot is None:
        return None, ()
    try:
        return product.cutout(packshot), ()
    except (OSError, ValueError) as exc:
        return None, (f"product image {packshot} cannot be used ({exc}); ad made without it",)


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns
