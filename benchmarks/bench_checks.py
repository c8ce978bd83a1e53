"""The creative checks' cost per creative against the whole compose time.

    python benchmarks/bench_checks.py

Composes every image placement (11 sizes) from 12 masters — 6 procedural draft masters
and 6 photo-like ones (noise under a blurred gradient: the worst case for the focal
point's edge map and the contrast percentiles) — with a headline, CTA and disclaimer,
on one core, as the pipeline does (one decoded master per batch). The time of the
checks' three steps — ``focal.crop_box`` (content-aware crop), ``checks.legible``
(contrast measured and repaired) and ``measures.report`` (safe zone, sizes, text share)
— is summed by wrapping them with a timer; compose's total is timed around each call.
The fastest of 3 passes is kept.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter

from adloom.brief.placements import builtin_placements
from adloom.creative import checks, focal, measures
from adloom.creative.compose import AdCopy, compose
from adloom.model import BrandKit
from adloom.providers.draft_art import draft_master

PLACEMENTS = [p for p in builtin_placements().values() if not p.text_only]
COPY = AdCopy("Lighter every mile", "Shop now", "Offer valid while stocks last.", "en")
BRAND = BrandKit()
RUNS = 3


def masters() -> list[Image.Image]:
    out = []
    for seed in range(6):
        data = draft_master(BRAND, 1024, 1024, seed, "bench")
        out.append(Image.open(io.BytesIO(data)).convert("RGB"))
    for seed in range(6):
        noise = Image.merge("RGB", [Image.effect_noise((1024, 1024), 40 + 10 * seed)] * 3)
        ramp = Image.linear_gradient("L").resize((1024, 1024)).convert("RGB")
        out.append(Image.blend(noise, ramp.filter(ImageFilter.GaussianBlur(8)), 0.6))
    return out


class Timer:
    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


def one_pass(images: list[Image.Image], out: Path) -> tuple[float, float, int]:
    timer = Timer()
    saved = focal.crop_box, checks.legible, measures.report
    focal.crop_box, checks.legible, measures.report = (timer.wrap(f) for f in saved)
    total, n = 0.0, 0
    try:
        for i, image in enumerate(images):
            for placement in PLACEMENTS:
                start = time.perf_counter()
                compose(image, COPY, BRAND, placement, out / f"{i}-{placement.id}", draft=False)
                total += time.perf_counter() - start
                n += 1
    finally:
        focal.crop_box, checks.legible, measures.report = saved
    return total, timer.seconds, n


def main() -> None:
    images = masters()
    with tempfile.TemporaryDirectory() as tmp:
        best = min((one_pass(images, Path(tmp)) for _ in range(RUNS)), key=lambda r: r[0])
    total, spent, n = best
    rest = total - spent
    print(f"creatives: {n} ({len(images)} masters x {len(PLACEMENTS)} placements)")
    print(f"compose per creative, checks included: {1000 * total / n:.1f} ms")
    print(f"checks per creative: {1000 * spent / n:.2f} ms")
    print(f"compose without the checks: {1000 * rest / n:.1f} ms")
    print(f"checks added to compose: {100 * spent / rest:.1f}%")


if __name__ == "__main__":
    main()
