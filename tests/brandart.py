"""Pictures a brand supplies, drawn for tests: own photos and product packshots.

from brandart import photo, packshot, mixed_brief   # tests/ is on sys.path
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from briefs import write_brief

PLACEMENTS = "meta_feed, meta_story, display_300x250, display_728x90, linkedin_single"


def photo(path: Path, size: tuple[int, int], subject: tuple[int, int, int, int]) -> Path:
    """A photo: a graded sky with a red ball at ``subject`` (its box, px)."""
    image = Image.new("RGB", size, (200, 220, 240))
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        draw.line((0, y, size[0], y), fill=(200 - y * 60 // size[1], 220, 240))
    draw.ellipse(subject, fill=(180, 40, 40), outline=(90, 20, 20), width=6)
    image.save(path)
    return path


def packshot(path: Path, *, background: tuple[int, int, int] | None = None) -> Path:
    """A coffee bag with a white label: transparent around it (``background`` None, PNG)
    or on a plain background of that colour (JPEG-free PNG, so pixels are known)."""
    fill = (0, 0, 0, 0) if background is None else (*background, 255)
    image = Image.new("RGBA", (400, 600), fill)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((60, 40, 340, 580), radius=40, fill=(120, 70, 30, 255))
    draw.rectangle((100, 200, 300, 350), fill=(250, 250, 250, 255))  # a label, inside
    draw.text((120, 260), "LUMEN", fill=(20, 20, 20, 255))
    (image if background is None else image.convert("RGB")).save(path)
    return path


def busy_packshot(path: Path) -> Path:
    """The coffee bag photographed in a scene: the same bag on a noisy background that
    neither transparency nor a plain-colour flood can remove."""
    rng = np.random.default_rng(7)
    scene = Image.fromarray(rng.integers(0, 255, (600, 400, 3), dtype=np.uint8), "RGB")
    draw = ImageDraw.Draw(scene)
    draw.rounded_rectangle((60, 40, 340, 580), radius=40, fill=(120, 70, 30))
    draw.rectangle((100, 200, 300, 350), fill=(250, 250, 250))
    draw.text((120, 260), "LUMEN", fill=(20, 20, 20))
    scene.save(path)
    return path


def mixed_brief(folder: Path, provider: str = "draft", **campaign: object) -> Path:
    """A campaign of the three kinds of brief: own photos, a packshot on generated
    scenes, and fully generated."""
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    photo(folder / "photos" / "hero.jpg", (1200, 800), (850, 250, 1100, 600))
    photo(folder / "photos" / "tall.png", (600, 1000), (150, 300, 450, 700))
    packshot(folder / "bag.png")
    settings = {"name": "Mix", "brand": "Lumen", "provider": provider, "variants": 2,
                "placements": PLACEMENTS} | campaign  # fmt: skip
    return write_brief(
        folder / "brief.xlsx",
        campaign=settings,
        briefs=[
            {"id": "own", "product": "Cold brew", "message": "Café-strength", "images": "photos"},
            {
                "id": "pack",
                "product": "Coffee bag",
                "message": "Roasted Monday",
                "product_image": "bag.png",
            },
            {"id": "gen", "product": "Mug", "message": "Keeps it hot"},
        ],
    )
