"""Draw the example campaign's product packshot: ``brand/house-blend.png``.

A stand-in for the photo a brand's studio would supply: a kraft coffee bag with the
Lumen label, on a transparent background (a PNG with alpha, the packshot adloom cuts
out most simply). Called by ``build_spring_launch.py``.
"""

from __future__ import annotations

from pathlib import Path

from noto_cjk_sans_jp_bold import FONT_PATH
from PIL import Image, ImageDraw, ImageFilter, ImageFont

KRAFT = (196, 154, 108, 255)
KRAFT_DARK = (160, 118, 78, 255)
ESPRESSO = (59, 36, 24, 255)
AMBER = (232, 163, 61, 255)
CREAM = (255, 246, 233, 255)


def build_packshot(path: Path) -> None:
    """Drawn at 4x and scaled down for smooth edges; 600 x 800 px when done."""
    scale = 4
    width, height = 600 * scale, 800 * scale
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    s = scale
    # The bag: a body with a folded, crimped top and a gusset shadow down one side.
    draw.rounded_rectangle((90 * s, 150 * s, 510 * s, 780 * s), radius=30 * s, fill=KRAFT)
    draw.rectangle((110 * s, 80 * s, 490 * s, 170 * s), fill=KRAFT_DARK)
    for x in range(110, 490, 20):
        draw.line((x * s, 80 * s, x * s, 170 * s), fill=KRAFT, width=3 * s)
    gusset = Image.new("L", (width, height), 0)
    ImageDraw.Draw(gusset).rectangle((440 * s, 170 * s, 505 * s, 770 * s), fill=70)
    image.paste((0, 0, 0, 255), (0, 0), gusset.filter(ImageFilter.GaussianBlur(12 * s)))
    # The label: cream panel, the sun and bean mark, the wordmark and the blend.
    draw.rounded_rectangle((150 * s, 290 * s, 450 * s, 640 * s), radius=18 * s, fill=CREAM)
    draw.ellipse((255 * s, 320 * s, 345 * s, 410 * s), fill=AMBER)
    draw.ellipse((282 * s, 340 * s, 318 * s, 392 * s), fill=ESPRESSO)
    big = ImageFont.truetype(str(FONT_PATH), 62 * s)
    small = ImageFont.truetype(str(FONT_PATH), 26 * s)
    draw.text((300 * s, 470 * s), "LUMEN", font=big, fill=ESPRESSO, anchor="mm")
    draw.text((300 * s, 535 * s), "HOUSE BLEND", font=small, fill=AMBER, anchor="mm")
    draw.text((300 * s, 590 * s), "whole beans · 250 g", font=small, fill=ESPRESSO, anchor="mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.resize((width // s, height // s), Image.Resampling.LANCZOS).save(path, optimize=True)
