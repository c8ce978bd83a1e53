"""The local stages alone: compose against raw Pillow, and exporting 10,000 variants.

    python benchmarks/bench_local.py MASTERS_DIR   # or as part of bench.py

Compose: every image placement (11 sizes) from each master, as the pipeline does it
(``_compose_from``: one task per master, which is decoded once), against raw Pillow
doing only the unavoidable part of the same job: decode the master once, cover-crop
resize to each size with the same filter, encode in the format and settings compose
chose, write the file. Both on one core, then on both cores (a process per core).

Export: 10,000 variants pointing at the composed creatives, in a child process so
its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from PIL import Image, ImageOps

from adloom.brief.placements import builtin_placements
from adloom.creative.compose import AdCopy
from adloom.model import BrandKit, Creative, Placement
from adloom.run.pipeline import _compose_from, _Placed

ROOT = Path(__file__).resolve().parents[1]
MASTERS = 12  # x 11 placements = 132 ads per pass
RUNS = 3  # each pass timed this many times, the fastest kept
PLACEMENTS = [p for p in builtin_placements().values() if not p.text_only]
COPY = AdCopy("Lighter every mile", "Shop now", "Offer valid while stocks last.", "en")
VARIANTS = 10_000


def compose_master(master: Path, out: Path) -> list[Path]:
    placed = [_Placed(COPY, p, out / p.id / master.stem, draft=False) for p in PLACEMENTS]
    return [c.path for c in _compose_from(master, BrandKit(), placed)]


def raw_master(master: Path, targets: Sequence[tuple[Placement, Path]]) -> list[Path]:
    """Decode once; per size: cover-crop resize, encode as compose chose, write."""
    written = []
    with Image.open(master) as image:
        image.load()
        rgb = image.convert("RGB")
        for placement, like in targets:
            fitted = ImageOps.fit(
                rgb, (placement.width, placement.height), Image.Resampling.LANCZOS
            )
            buffer = io.BytesIO()
            if like.suffix == ".png":
                fitted.save(buffer, "PNG", compress_level=9)
            else:
                fitted.save(buffer, "JPEG", quality=85, optimize=True, progressive=True)
            path = like.with_name(like.stem + ".raw" + like.suffix)
            path.write_bytes(buffer.getvalue())
            written.append(path)
    return written


def _raw_task(args: tuple[Path, list[tuple[Placement, Path]]]) -> list[Path]:
    return raw_master(*args)


def _compose_task(args: tuple[Path, Path]) -> list[Path]:
    return compose_master(*args)


def _warm_up() -> None:
    """Load fonts and codecs once per process, as a long run has, before timing."""
    with tempfile.TemporaryDirectory() as tmp:
        master = Path(tmp) / "warm.png"
        Image.new("RGB", (256, 256), "#1F3A93").save(master)
        compose_master(master, Path(tmp))


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings: other load on a shared machine only adds time."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def compose_vs_pillow(masters: Sequence[Path], out: Path) -> dict[str, float]:
    masters = list(masters)[:MASTERS]
    n = len(masters) * len(PLACEMENTS)
    _warm_up()
    made = [compose_master(m, out) for m in masters]  # what raw Pillow is to match
    targets = [
        (m, list(zip(PLACEMENTS, paths, strict=True)))
        for m, paths in zip(masters, made, strict=True)
    ]
    jobs = [(m, out) for m in masters]
    compose_1 = best_of(RUNS, lambda: [_compose_task(job) for job in jobs])
    raw_1 = best_of(RUNS, lambda: [_raw_task(t) for t in targets])
    with ProcessPoolExecutor(2, initializer=_warm_up) as pool:
        list(pool.map(_raw_task, targets[:2]))  # start both workers before timing
        compose_2 = best_of(RUNS, lambda: list(pool.map(_compose_task, jobs)))
        raw_2 = best_of(RUNS, lambda: list(pool.map(_raw_task, targets)))
    return {
        "ads": n,
        "compose_per_s_1core": n / compose_1,
        "raw_per_s_1core": n / raw_1,
        "compose_per_s_2cores": n / compose_2,
        "raw_per_s_2cores": n / raw_2,
        "ratio_1core": compose_1 / raw_1,
        "ratio_2cores": compose_2 / raw_2,
        "speedup_2cores": compose_1 / compose_2,
    }


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def export_child(creatives: Path, out: Path) -> None:
    """In a child process: export VARIANTS ads over the composed creatives; print numbers."""
    sys.path.insert(0, str(ROOT / "tests"))
    from adloom.delivery.export import export_workbook
    from factories import make_ad, make_campaign, make_summary

    out.mkdir(parents=True, exist_ok=True)
    campaign = make_campaign(out, placement_ids=("meta_feed",))
    files = sorted(creatives.rglob("*.jpg")) + sorted(creatives.rglob("*.png"))
    files = [f for f in files if ".raw." not in f.name]
    template = make_ad(campaign, out, with_creative=False)
    ads = []
    for i in range(VARIANTS):
        f = files[i % len(files)]
        with Image.open(f) as im:
            w, h = im.size
        spec = replace(template.spec, name=f"bench_ad_{i:05d}", variant=i)
        ads.append(replace(template, spec=spec, creative=Creative(f, w, h, f.stat().st_size)))
    before = rss_mb()
    started = time.perf_counter()
    export_workbook(ads, make_summary(ads, out), campaign, out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"variants": VARIANTS, "creative_files": len(files), "export_s": seconds,
                      "rss_before_mb": before, "peak_rss_mb": peak}))  # fmt: skip


def export_10k(creatives: Path, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--export-child", str(creatives), str(out)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
    )
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def measure(masters: Sequence[Path]) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="adloom-bench-local-") as tmp:
        out = Path(tmp)
        composed = compose_vs_pillow(masters, out / "creatives")
        exported = export_10k(out / "creatives", out / "export")
    return {"compose": composed, "export": exported}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("masters", nargs="?", type=Path)
    parser.add_argument("--export-child", nargs=2, type=Path)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child)
    else:
        print(json.dumps(measure(sorted(args.masters.rglob("*.png"))), indent=2))
