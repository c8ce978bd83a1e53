"""Encoder settings by measurement: what each costs and saves on real composed creatives.

    python benchmarks/bench_encoders.py

The canvases are what compose hands its encoder: every image placement (11 sizes)
composed from 6 draft masters (flat art: the PNG path) and 6 photo-like ones (noise
under a blurred gradient: the JPEG path), copy drawn. Each is encoded with every
candidate setting of its format; the median CPU time (the machine is shared: wall
time would measure the other jobs) over 3 encodes and the total bytes
are printed per kind of image, with how many files would exceed the placement's cap.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from adloom.creative import compose as compose_module
from adloom.model import Placement

sys.path.insert(0, str(Path(__file__).parent))
from bench_checks import BRAND, COPY, PLACEMENTS, masters

RUNS = 3
PNG = {f"PNG level {level}": {"compress_level": level} for level in (1, 3, 6, 9)}
JPEG = {
    "JPEG q90 baseline": {"optimize": False, "progressive": False},
    "JPEG q90 baseline optimized": {"optimize": True, "progressive": False},
    "JPEG q90 progressive optimized": {"optimize": True, "progressive": True},
}


def canvases() -> list[tuple[str, Placement, Image.Image]]:
    """(kind, placement, the pixels compose encodes) for every master x placement."""
    caught: list[Image.Image] = []
    encode = compose_module._encode

    def catch(
        image: Image.Image, cap: int, *, lossless: bool = False, xmp: bytes = b""
    ) -> tuple[bytes, str, str | None]:
        caught.append(image.copy())
        return encode(image, cap, lossless=lossless, xmp=xmp)

    compose_module._encode = catch  # type: ignore[assignment]
    out: list[tuple[str, Placement, Image.Image]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i, master in enumerate(masters()):
                kind = "flat art" if i < 6 else "photo-like"
                for placement in PLACEMENTS:
                    compose_module.compose(
                        master, COPY, BRAND, placement, Path(tmp) / f"{i}-{placement.id}",
                        draft=False,
                    )  # fmt: skip
                    out.append((kind, placement, caught.pop()))
    finally:
        compose_module._encode = encode  # type: ignore[assignment]
    return out


def timed(fn: Callable[[], bytes]) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(RUNS):
        started = time.process_time()
        size = len(fn())
        times.append(time.process_time() - started)
    return statistics.median(times), size


def _save(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def main() -> None:
    made = canvases()
    print(
        "| image kind | setting | CPU ms per creative (median of 3) | KB per creative | over cap |"
    )
    print("|---|---|---:|---:|---:|")
    for kind, settings, fmt, extra in (
        ("flat art", PNG, "PNG", {"optimize": False}),
        ("photo-like", JPEG, "JPEG", {"quality": 90, "subsampling": "4:4:4"}),
    ):
        items = [(p, im) for k, p, im in made if k == kind]
        for label, options in settings.items():
            ms, total, over = 0.0, 0, 0
            for placement, image in items:
                seconds, size = timed(partial(_save, image, fmt, **extra, **options))
                ms += 1000 * seconds
                total += size
                over += size > placement.max_kb * 1024
            n = len(items)
            print(f"| {kind} | {label} | {ms / n:.1f} | {total / n / 1024:.1f} | {over} |")


if __name__ == "__main__":
    main()
