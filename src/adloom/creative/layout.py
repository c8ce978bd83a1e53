"""layout: where the panel, logo, button and every line of text go on one placement.

``plan_layout`` is pure (apart from reading font files): at which size, in which
colour — and what did not fit (``Layout.issues``). ``adloom.creative.compose`` paints it.

Layout by aspect ratio:

- row (aspect >= 3; 728x90, 320x50, 970x250): logo left, headline centre on a brand
  panel, CTA button right; the disclaimer, if any, under the headline.
- stack (up to 1.5; 1:1, 4:5, 9:16, 300x250, and skyscrapers at <= 0.5): logo at the
  top of the image, a brand panel at the bottom with headline, CTA and disclaimer.
- side (1.5 to 3; 1.91:1): a brand panel on the left with the copy, the image on the right.

Text is planned on an opaque brand-colour panel or button: the brand text colour where
it reaches WCAG 4.5:1 on that colour, black or white otherwise. That is an assumption
about pixels; ``adloom.creative.checks`` measures the composed image and repairs what it finds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from PIL import ImageColor

from adloom.creative import typeset
from adloom.creative.typeset import Box, Fit, HAlign, TextBlock
from adloom.model import BrandKit, Placement

RGB = tuple[int, int, int]
Role = Literal["headline", "cta", "disclaimer", "draft"]
Edge = Literal["top", "left", "right"]

BLACK: RGB = (0, 0, 0)
WHITE: RGB = (255, 255, 255)
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text


@dataclass(frozen=True)
class AdCopy:
    """What goes on the image."""

    headline: str
    cta: str
    disclaimer: str
    language: str  # "en", "ja", ...


@dataclass(frozen=True)
class Panel:
    """An opaque area copy sits on, fading into the image beyond the listed edges."""

    box: Box
    color: RGB
    fades: tuple[tuple[Edge, int], ...] = ()  # (edge, how many px the fade reaches)


@dataclass(frozen=True)
class Chip:
    """A rounded rectangle: the CTA button, or the backing of the DRAFT tag."""

    box: Box
    color: RGB
    opacity: float = 1.0


@dataclass(frozen=True)
class TextElement:
    role: Role
    box: Box  # the room the element was given; its glyphs (block.ink) lie inside it
    block: TextBlock
    color: RGB


@dataclass(frozen=True)
class Tag:
    """The DRAFT marker: a translucent chip in a corner with its label."""

    chip: Chip
    text: TextElement


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    safe: Box  # copy, button and logo stay inside (margins, Stories UI bands)
    panels: tuple[Panel, ...]
    logo: Box | None
    button: Chip | None
    texts: tuple[TextElement, ...]  # headline, cta, disclaimer (those that fit)
    tag: Tag | None
    issues: tuple[str, ...]
    # Where the brand's product stands (a brief's product_image), clear of copy, logo,
    # button and tag; None without a product or where there is no room.
    product: Box | None = None

    def text(self, role: Role) -> TextElement | None:
        return next((t for t in self.texts if t.role == role), None)


# ---------------------------------------------------------------- colour


def parse_color(value: str) -> RGB:
    r, g, b = ImageColor.getrgb(value)[:3]
    return (r, g, b)


def luminance(color: RGB) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable_color(text: RGB, background: RGB) -> RGB:
    """``text`` if it is legible on ``background`` (>= 4.5:1), else black or white."""
    if contrast_ratio(text, background) >= MIN_CONTRAST:
        return text
    return max(BLACK, WHITE, key=lambda c: contrast_ratio(c, background))


# ---------------------------------------------------------------- layout


def safe_zone(placement: Placement) -> Box:
    """Where copy, logo and button may go: all but the bands the platform's UI covers
    or its crop may cut away."""
    top = math.ceil(placement.safe_top * placement.height)
    bottom = placement.height - math.ceil(placement.safe_bottom * placement.height)
    left = math.ceil(placement.safe_left * placement.width)
    right = placement.width - math.ceil(placement.safe_right * placement.width)
    return Box(left, top, right, bottom)


@dataclass(frozen=True)
class _Sizes:
    """Font size range of one element, px: start large, shrink down to the legible minimum."""

    largest: int
    smallest: int


def _px(value: float, floor: int = 9) -> int:
    return max(floor, round(value))


@dataclass(frozen=True)
class _Button:
    """A fitted CTA label and the padding around it."""

    text: Fit
    pad_x: int
    pad_y: int

    @staticmethod
    def room(size: int) -> tuple[int, int, int]:
        """(pad x, pad y, line height) at a font size. The line is taller than the type so
        accents and descenders fit, and every button of a size has the same height."""
        return round(0.9 * size), round(0.45 * size), round(1.25 * size)

    @property
    def width(self) -> int:
        return self.text.width + 2 * self.pad_x

    @property
    def height(self) -> int:
        return self.room(self.text.size)[2] + 2 * self.pad_y


class _Planner:
    """Builds one Layout; collects the issues found on the way."""

    def __init__(
        self,
        copy: AdCopy,
        brand: BrandKit,
        placement: Placement,
        logo_size: tuple[int, int] | None,
        product_aspect: float | None = None,
    ) -> None:
        self.placement = placement
        self.product_aspect = product_aspect
        self.product_room: Box | None = None  # set by the family, cut clear of the tag
        self.w, self.h = placement.width, placement.height
        self.short = min(self.w, self.h)
        self.logo_size = logo_size
        self.issues: list[str] = []
        self.cjk_language = copy.language.split("-")[0].lower() in ("ja", "zh", "ko")

        margin = max(3, round(0.045 * self.short))
        # Wide banners get proportionally wider side margins, or copy touches the edges.
        margin_x = max(margin, round(0.02 * self.w)) if placement.aspect >= 3 else margin
        zone = safe_zone(placement)
        top, bottom = max(margin, zone.y0), min(self.h - margin, zone.y1)
        left, right = max(margin_x, zone.x0), min(self.w - margin_x, zone.x1)
        self.safe = Box(left, top, right, bottom)
        self.margin_x = margin_x

        self.primary = parse_color(brand.primary_color)
        self.secondary = parse_color(brand.secondary_color)
        text = parse_color(brand.text_color)
        self.ink = readable_color(text, self.primary)
        self.cta_ink = readable_color(text, self.secondary)

        brand_font = brand.font
        if brand_font is not None:
            problem = typeset.font_problem(brand_font)
            if problem:
                self.issues.append(
                    f"brand font {brand_font} cannot be read ({problem}); used Noto Sans CJK JP"
                )
                brand_font = None
        self.brand_font = brand_font

        self.headline = self._run("headline", copy.headline)
        self.cta = self._run("cta", copy.cta)
        self.disclaimer = self._run("disclaimer", copy.disclaimer)

        self.panels: list[Panel] = []
        self.texts: list[TextElement] = []
        self.logo: Box | None = None
        self.button: Chip | None = None
        self.tag: Tag | None = None

    # -- text helpers

    def _run(self, role: Role, text: str) -> typeset.Run | None:
        if not text.strip():
            return None
        fallback = typeset.noto(bold=role != "disclaimer")
        run = typeset.choose_font(text, self.brand_font, fallback)
        if run.missing:
            chars = ", ".join(f'"{c}" (U+{ord(c):04X})' for c in run.missing)
            self.issues.append(f"{role} has characters no font can draw: {chars}")
        return run if run.text else None

    def _line_height(self, role: Role, run: typeset.Run) -> float:
        # Japanese needs more air between lines than Latin display type.
        cjk = self.cjk_language or typeset.has_cjk(run.text)
        if role == "headline":
            return 1.35 if cjk else 1.15
        return 1.4 if cjk else 1.25

    def _too_long(
        self,
        role: Role,
        run: typeset.Run,
        *,
        width: int,
        height: int,
        size: int,
        max_lines: int | None,
    ) -> None:
        n = typeset.capacity(
            run.text,
            run.font,
            width,
            height,
            size,
            line_height=self._line_height(role, run),
            max_lines=max_lines,
        )
        advice = f"shorten it to about {n} characters" if n else "there is no room for it"
        self.issues.append(f"{role} does not fit {self.placement.id} at {size} px — {advice}")

    def _fit(
        self,
        role: Role,
        run: typeset.Run,
        width: int,
        height: int,
        sizes: _Sizes,
    ) -> Fit | None:
        fitted = typeset.fit(
            run.text,
            run.font,
            width,
            height,
            typeset.sizes(sizes.largest, sizes.smallest),
            line_height=self._line_height(role, run),
            balance=role != "disclaimer",  # small print fills its lines; display type balances
        )
        if fitted is None:
            self._too_long(
                role, run, width=width, height=height, size=sizes.smallest, max_lines=None
            )
        return fitted

    def _add_text(
        self, role: Role, fitted: Fit, room: Box, halign: HAlign, color: RGB
    ) -> TextBlock:
        block = fitted.place(room, halign, "middle")
        self.texts.append(TextElement(role, room, block, color))
        return block

    # -- button and logo

    def _button(self, max_width: int, max_height: int, sizes: _Sizes) -> _Button | None:
        """The CTA at the largest size whose padded button fits the given room."""
        run = self.cta
        if run is None:
            return None
        for size in typeset.sizes(sizes.largest, sizes.smallest):
            pad_x, pad_y, line = _Button.room(size)
            if line + 2 * pad_y > max_height:
                continue
            fitted = typeset.fit(
                run.text, run.font, max_width - 2 * pad_x, line, [size], max_lines=1
            )
            if fitted is not None:
                return _Button(fitted, pad_x, pad_y)
        pad_x, _, line = _Button.room(sizes.smallest)
        self._too_long(
            "cta",
            run,
            width=max_width - 2 * pad_x,
            height=line,
            size=sizes.smallest,
            max_lines=1,
        )
        return None

    def _place_button(self, button: _Button, x0: int, y0: int) -> Box:
        box = Box(x0, y0, x0 + button.width, y0 + button.height)
        self.button = Chip(box, self.secondary)
        inner = Box(
            box.x0 + button.pad_x,
            box.y0 + button.pad_y,
            box.x1 - button.pad_x,
            box.y1 - button.pad_y,
        )
        self._add_text("cta", button.text, inner, "center", self.cta_ink)
        return box

    def _logo_box(self, max_width: int, max_height: int) -> tuple[int, int] | None:
        if self.logo_size is None or max_width <= 0 or max_height <= 0:
            return None
        w, h = self.logo_size
        scale = min(max_width / w, max_height / h)
        return max(1, round(w * scale)), max(1, round(h * scale))

    # -- families

    def row(self) -> None:
        """Leaderboards and billboards: logo | headline (+ disclaimer) | button."""
        s, h, w = self.safe, self.h, self.w
        gap = max(4, round(0.12 * s.height), round(0.015 * w))
        left, right = s.x0, s.x1

        logo = self._logo_box(round(0.2 * w), round(0.72 * s.height))
        if logo is not None:
            lw, lh = logo
            y0 = s.y0 + (s.height - lh) // 2
            self.logo = Box(s.x0, y0, s.x0 + lw, y0 + lh)
            left = self.logo.x1 + gap

        button = self._button(
            round(0.28 * w), round(0.72 * s.height), _Sizes(_px(min(0.24 * h, 0.03 * w)), 9)
        )
        if button is not None:
            y0 = s.y0 + (s.height - button.height) // 2
            right = self._place_button(button, s.x1 - button.width, y0).x0 - gap
        if self.product_aspect is not None:
            slot = min(round(self.product_aspect * s.height), round(0.18 * w))
            self.product_room = Box(right - slot, s.y0, right, s.y1)
            right -= slot + gap

        column = Box(left, s.y0, right, s.y1)
        disclaimer = None
        if self.disclaimer is not None:
            disclaimer = self._fit(
                "disclaimer",
                self.disclaimer,
                column.width,
                round(0.3 * s.height),
                _Sizes(_px(0.07 * h), 9),
            )
        small_gap = round(0.3 * gap)
        headline_room = s.height - (disclaimer.height + small_gap if disclaimer else 0)
        headline = None
        if self.headline is not None:
            headline = self._fit(
                "headline",
                self.headline,
                column.width,
                headline_room,
                _Sizes(_px(min(0.4 * h, 0.05 * w)), _px(0.028 * self.short)),
            )
        # Headline and disclaimer are centred together as one group in the column.
        group = (headline.height if headline else 0) + (disclaimer.height if disclaimer else 0)
        if headline and disclaimer:
            group += small_gap
        y = s.y0 + (s.height - group) // 2
        if headline is not None:
            room = Box(column.x0, y, column.x1, y + headline.height)
            self._add_text("headline", headline, room, "center", self.ink)
            y = room.y1 + small_gap
        if disclaimer is not None:
            room = Box(column.x0, y, column.x1, y + disclaimer.height)
            self._add_text("disclaimer", disclaimer, room, "center", self.ink)
        if self.texts:
            fade = round(0.05 * w)
            band = Box(max(0, column.x0 - gap // 2), 0, min(w, column.x1 + gap // 2), h)
            self.panels.append(Panel(band, self.primary, (("left", fade), ("right", fade))))

    def stack(self) -> None:
        """Squares, portraits, Stories and skyscrapers: logo on top, copy panel at the bottom."""
        s, w, h = self.safe, self.w, self.h
        tall = self.placement.aspect <= 0.5
        # Skyscrapers are sized by their narrow width, the rest by the short side.
        u = w if tall else self.short
        gap = max(4, round(0.035 * u))
        halign: HAlign = "center" if tall else "left"

        top = s.y0
        logo = self._logo_box(
            round((0.6 if tall else 0.4) * s.width), round((0.2 if tall else 0.11) * u)
        )
        if logo is not None:
            lw, lh = logo
            x0 = s.x0 + (s.width - lw) // 2 if tall else s.x0
            self.logo = Box(x0, s.y0, x0 + lw, s.y0 + lh)
            top = self.logo.y1 + gap

        if tall:
            headline_sizes = _Sizes(_px(0.14 * w), 9)
            cta_sizes = _Sizes(_px(0.075 * w), 9)
            disclaimer_sizes = _Sizes(_px(0.05 * w), 9)
        else:
            headline_sizes = _Sizes(_px(0.085 * u), _px(0.03 * u))
            cta_sizes = _Sizes(_px(0.046 * u), _px(0.022 * u))
            disclaimer_sizes = _Sizes(_px(0.022 * u), _px(0.016 * u))

        y = s.y1  # fill upwards: disclaimer, button, headline
        if self.disclaimer is not None:
            fitted = self._fit(
                "disclaimer", self.disclaimer, s.width, round(0.14 * s.height), disclaimer_sizes
            )
            if fitted is not None:
                room = Box(s.x0, y - fitted.height, s.x1, y)
                y = self._add_text("disclaimer", fitted, room, halign, self.ink).ink.y0 - gap // 2
        button = self._button(
            s.width if tall else round(0.7 * s.width), round(0.12 * s.height), cta_sizes
        )
        if button is not None:
            x0 = s.x0 + (s.width - button.width) // 2 if tall else s.x0
            y = self._place_button(button, x0, y - button.height).y0 - round(1.3 * gap)
        if self.headline is not None:
            height = min(round((0.45 if tall else 0.38) * s.height), y - top)
            fitted = self._fit("headline", self.headline, s.width, height, headline_sizes)
            if fitted is not None:
                room = Box(s.x0, y - fitted.height, s.x1, y)
                y = self._add_text("headline", fitted, room, halign, self.ink).ink.y0
        if self.texts:
            panel = Box(0, max(0, y - gap), w, h)
            self.panels.append(Panel(panel, self.primary, (("top", round(0.16 * h)),)))
        # The product stands on the panel, between the logo and the copy.
        floor = max(0, y - gap) if self.texts else s.y1
        self.product_room = Box(s.x0, top, s.x1, floor)

    def side(self) -> None:
        """Landscape cards (1.91:1): copy panel on the left, image on the right."""
        s, w, h = self.safe, self.w, self.h
        u = h
        gap = max(4, round(0.04 * u))
        panel_w = round(0.5 * w)
        # The panel's inner gutter is the margin, however far a crop moves the outer edge in.
        column = Box(s.x0, s.y0, panel_w - self.margin_x, s.y1)

        top = column.y0
        logo = self._logo_box(round(0.6 * column.width), round(0.12 * u))
        if logo is not None:
            lw, lh = logo
            self.logo = Box(column.x0, column.y0, column.x0 + lw, column.y0 + lh)
            top = self.logo.y1 + gap

        bottom = column.y1
        if self.disclaimer is not None:
            fitted = self._fit(
                "disclaimer",
                self.disclaimer,
                column.width,
                round(0.2 * column.height),
                _Sizes(_px(0.026 * u), _px(0.018 * u)),
            )
            if fitted is not None:
                room = Box(column.x0, column.y1 - fitted.height, column.x1, column.y1)
                bottom = self._add_text("disclaimer", fitted, room, "left", self.ink).ink.y0 - gap

        button = self._button(column.width, round(0.16 * h), _Sizes(_px(0.045 * u), _px(0.024 * u)))
        button_h = button.height + gap if button else 0
        headline = None
        if self.headline is not None:
            headline = self._fit(
                "headline",
                self.headline,
                column.width,
                bottom - top - button_h,
                _Sizes(_px(0.09 * u), _px(0.028 * u)),
            )
        # Headline and button are centred as a group between the logo and the small print.
        group = (headline.height if headline else 0) + button_h
        y = top + (bottom - top - group) // 2
        if headline is not None:
            room = Box(column.x0, y, column.x1, y + headline.height)
            y = self._add_text("headline", headline, room, "left", self.ink).ink.y1 + gap
        if button is not None:
            self._place_button(button, column.x0, y)
        if self.texts:
            self.panels.append(
                Panel(Box(0, 0, panel_w, h), self.primary, (("right", round(0.1 * w)),))
            )
        self.product_room = Box(panel_w + round(0.05 * w), s.y0, s.x1, s.y1)

    def draft_tag(self) -> None:
        """A small "DRAFT" chip in the top-right corner, over everything else."""
        size = max(8, round(0.02 * self.short))
        pad_x, pad_y = round(0.5 * size), round(0.35 * size)
        fitted = typeset.fit("DRAFT", typeset.noto(bold=True), self.w, self.h, [size])
        if fitted is None:  # a canvas too small even for the tag: nothing to mark
            return
        offset = max(2, round(0.012 * self.short))
        box = Box(
            self.w - offset - fitted.width - 2 * pad_x,
            offset,
            self.w - offset,
            offset + fitted.height + 2 * pad_y,
        )
        inner = Box(box.x0 + pad_x, box.y0 + pad_y, box.x1 - pad_x, box.y1 - pad_y)
        text = TextElement("draft", inner, fitted.place(inner, "center"), WHITE)
        self.tag = Tag(Chip(box, BLACK, opacity=0.6), text)

    def product(self) -> Box | None:
        """The product's room: the family's, below the DRAFT tag, at least 8 px a side."""
        room = self.product_room
        if self.product_aspect is None or room is None:
            return None
        if (
            self.tag is not None
            and self.tag.chip.box.x1 > room.x0
            and room.x1 > self.tag.chip.box.x0
        ):
            room = Box(room.x0, max(room.y0, self.tag.chip.box.y1 + 2), room.x1, room.y1)
        if room.width < 8 or room.height < 8:
            self.issues.append("no room for the product on this placement; ad made without it")
            return None
        return room

    def layout(self) -> Layout:
        product = self.product()
        return Layout(
            self.w,
            self.h,
            self.safe,
            tuple(self.panels),
            self.logo,
            self.button,
            tuple(self.texts),
            self.tag,
            tuple(self.issues),
            product,
        )


def plan_layout(
    copy: AdCopy,
    brand: BrandKit,
    placement: Placement,
    *,
    logo_size: tuple[int, int] | None = None,
    draft: bool = False,
    product_aspect: float | None = None,
) -> Layout:
    """Where everything goes on one placement; pure apart from reading font files.

    ``logo_size`` is the logo's pixel size (its aspect ratio decides the box), None for
    no logo; ``product_aspect`` (width / height of the cut-out product) reserves room
    for the product (``Layout.product``). Elements that cannot fit are left out and
    explained in ``Layout.issues``.
    """
    planner = _Planner(copy, brand, placement, logo_size, product_aspect)
    if placement.aspect >= 3:
        planner.row()
    elif placement.aspect >= 1.5:
        planner.side()
    else:
        planner.stack()
    if draft:
        planner.draft_tag()
    return planner.layout()
