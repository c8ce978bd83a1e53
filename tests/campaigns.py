"""Campaign objects built directly, for tests of the stages after `read`."""

from __future__ import annotations

from pathlib import Path

from adloom.brief.placements import builtin_placements
from adloom.model import Audience, BrandKit, Brief, Campaign, Settings


def make_campaign(
    *,
    briefs: list[Brief] | None = None,
    placements: tuple[str, ...] = ("meta_feed", "meta_story", "display_300x250"),
    languages: tuple[str, ...] = ("en",),
    variants: int = 2,
    provider: str = "draft",
    **settings: object,
) -> Campaign:
    briefs = briefs or [
        Brief(
            id="cold-brew",
            product="Cold Brew Kit",
            message="Smooth coffee, zero effort",
            audiences=("commuters",),
            benefits=("Brews overnight", "Half the acidity"),
            cta="Shop now",
            landing_url="https://example.com/cold-brew",
        )
    ]
    audiences = {a: Audience(a, f"{a} audience") for b in briefs for a in b.audiences}
    return Campaign(
        settings=Settings(
            name="Spring Launch",
            brand="Lumen",
            languages=languages,
            variants=variants,
            placements=placements,
            provider=provider,
            **settings,  # type: ignore[arg-type]
        ),
        briefs=tuple(briefs),
        audiences=audiences,
        brand=BrandKit(),
        placements=builtin_placements(),
        source=Path("brief.xlsx"),
    )
