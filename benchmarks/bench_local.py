"""The local stages alone: compose against raw Pillow, and exporting 10,000 variants.

    python benchmarks/bench_local.py MASTERS_DIR   # or as part of bench.py

    python benchmarks/bench_local.py MASTERS_DIR --variants 1000 --runs 1   # quicker

Compose: every image placement (12 sizes) from each master, as the pipeline does it
(``_compose_from``: one task per master, which is decoded once), against raw Pillow
doing only the unavoidable part of the same job: decode the master once, cover-crop
resize to each size with the same filter, draw the same three lines of copy (headline,
CTA, disclaimer) on a panel, encode in the format and settings compose chose (PNG at
``compose._PNG_LEVELS[0]``, baseline optimized JPEG), write the file. Both on one core,
then on both cores (a process per core).

Export: ``--variants`` (10,000) ads, each pointing at its own composed creative (real
distinct files: each master x placement x a numbered headline, composed with their
thumbnails as a run makes them), three ways, each in a child process so its peak
memory (ru_maxrss) is its own: adloom's export with the thumbnails compose made;
the same export when every creative must be decoded again for its thumbnail (what
every export did before thumbnails came from compose); and raw openpyxl writing the
same rows (the same text values, write-only) and the same thumbnail images.
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
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.utils import get_column_letter
from PIL import Image, ImageDraw, ImageOps

from adloom.brief.placements import builtin_placements
from adloom.creative import compose as compose_module
from adloom.creative import typeset
from adloom.creative.compose import AdCopy
from adloom.delivery.export import THUMB_COL, _row_values
from adloom.model import BrandKit, Creative, Placement
from adloom.run.pipeline import _compose_from, _Placed

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
MASTERS = 12  # x 12 placements = 144 ads per pass
RUNS = 3  # each pass timed this many times, the fastest kept
PLACEMENTS = [p for p in builtin_placements().values() if not p.text_only]
COPY = AdCopy("Lighter every mile", "Shop now", "Offer valid while stocks last.", "en")
VARIANTS = 10_000


def compose_master(master: Path, out: Path, copies: Sequence[AdCopy] = (COPY,)) -> list[Creative]:
    placed = [
        _Placed(copy, p, out / p.id / f"{master.stem}-{i}", draft=False, out=out)
        for i, copy in enumerate(copies)
        for p in PLACEMENTS
    ]
    return _compose_from(master, BrandKit(), placed)


def raw_master(master: Path, targets: Sequence[tuple[Placement, Path]]) -> list[Path]:
    """Decode once; per size: cover-crop resize, draw the copy, encode as compose chose."""
    written = []
    bold, regular = typeset.noto(bold=True), typeset.noto(bold=False)
    with Image.open(master) as image:
        image.load()
        rgb = image.convert("RGB")
        for placement, like in targets:
            w, h = placement.width, placement.height
            fitted = ImageOps.fit(rgb, (w, h), Image.Resampling.LANCZOS)
            draw = ImageDraw.Draw(fitted)
            draw.rectangle((0, int(h * 0.6), w, h), fill="#1F3A93")
            size = max(12, h // 12)
            draw.text((w // 20, int(h * 0.7)), COPY.headline, font=typeset.font(bold, size))
            draw.text((w // 20, int(h * 0.82)), COPY.cta, font=typeset.font(bold, size * 2 // 3))
            draw.text(
                (w // 20, int(h * 0.92)), COPY.disclaimer, font=typeset.font(regular, size // 2)
            )
            buffer = io.BytesIO()
            if like.suffix == ".png":
                fitted.save(buffer, "PNG", compress_level=compose_module._PNG_LEVELS[0])
            else:
                fitted.save(buffer, "JPEG", quality=85, optimize=True)
            path = like.with_name(like.stem + ".raw" + like.suffix)
            path.write_bytes(buffer.getvalue())
            written.append(path)
    return written


def _raw_task(args: tuple[Path, list[tuple[Placement, Path]]]) -> list[Path]:
    return raw_master(*args)


def _compose_task(args: tuple[Path, Path]) -> list[Creative]:
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
        (m, [(p, c.path) for p, c in zip(PLACEMENTS, creatives, strict=True)])
        for m, creatives in zip(masters, made, strict=True)
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


def distinct_creatives(masters: Sequence[Path], out: Path, variants: int) -> list[Creative]:
    """``variants`` real, distinct creatives: masters x placements x numbered headlines,
    composed (with their thumbnails) as a run composes them, on both cores."""
    per_copy = len(masters) * len(PLACEMENTS)
    copies = [
        AdCopy(f"Lighter every mile, no. {i}", COPY.cta, COPY.disclaimer, COPY.language)
        for i in range(-(-variants // per_copy))
    ]
    with ProcessPoolExecutor(2) as pool:
        jobs = [pool.submit(compose_master, m, out, copies) for m in masters]
        made = [c for job in jobs for c in job.result()]
    return made[:variants]


def export_child(mode: str, listing: Path, out: Path) -> None:
    """In a child process: one way of writing the workbook of the listed creatives."""
    sys.path.insert(0, str(ROOT / "tests"))
    from adloom.delivery.export import export_workbook
    from factories import make_ad, make_campaign, make_summary

    rows = json.loads(listing.read_text())
    creatives = [
        Creative(Path(r["path"]), r["width"], r["height"], r["bytes"],
                 thumb=Path(r["thumb"]) if mode == "adloom" else None)
        for r in rows
    ]  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    campaign = make_campaign(out, placement_ids=("meta_feed",))
    template = make_ad(campaign, out, with_creative=False)
    ads = [
        replace(template, spec=replace(template.spec, name=f"bench_ad_{i:05d}", variant=i),
                creative=creative)
        for i, creative in enumerate(creatives)
    ]  # fmt: skip
    values = [_row_values(ad, campaign, out, ()) for ad in ads] if mode == "openpyxl" else []
    before = rss_mb()
    started = time.perf_counter()
    cpu = time.process_time()
    if mode == "openpyxl":
        raw_openpyxl(values, [Path(r["thumb"]) for r in rows], out / "raw.xlsx")
    else:
        export_workbook(ads, make_summary(ads, out), campaign, out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "variants": len(ads), "export_s": seconds,
                      "cpu_s": time.process_time() - cpu,
                      "rss_before_mb": before, "peak_rss_mb": peak}))  # fmt: skip


def raw_openpyxl(rows: Sequence[Sequence[object]], thumbs: Sequence[Path], path: Path) -> None:
    """The least a workbook of these rows takes: write-only, the same values in the same
    columns, each row's thumbnail anchored in it; no styles, checks or other sheets."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Variants")
    for row, (values, thumb) in enumerate(zip(rows, thumbs, strict=True), start=2):
        ws.append(list(values))
        image = SheetImage(str(thumb))
        image.anchor = f"{get_column_letter(THUMB_COL)}{row}"
        ws.add_image(image)
    wb.save(path)


def export_all(masters: Sequence[Path], out: Path, variants: int) -> dict[str, dict[str, float]]:
    made = distinct_creatives(masters, out / "creatives", variants)
    listing = out / "creatives.json"
    listing.write_text(json.dumps([
        {"path": str(c.path), "width": c.width, "height": c.height, "bytes": c.bytes,
         "thumb": str(c.thumb)}
        for c in made
    ]))  # fmt: skip
    results = {}
    for mode in ("adloom", "decode again", "openpyxl"):
        folder = out / mode.replace(" ", "-")
        folder.mkdir()
        done = subprocess.run(
            [sys.executable, __file__, "--export-child", mode, str(listing), str(folder)],
            check=True, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(HERE)])},
        )  # fmt: skip
        results[mode] = json.loads(done.stdout.splitlines()[-1])
    results["ratios"] = {
        "adloom / openpyxl": results["adloom"]["cpu_s"] / results["openpyxl"]["cpu_s"],
        "decode again / adloom": results["decode again"]["cpu_s"] / results["adloom"]["cpu_s"],
    }
    return results


def measure(masters: Sequence[Path], variants: int = VARIANTS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="adloom-bench-local-") as tmp:
        out = Path(tmp)
        composed = compose_vs_pillow(masters, out / "compose")
        exported = export_all(list(masters)[:MASTERS], out / "export", variants)
    return {"compose": composed, "export": exported}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("masters", nargs="?", type=Path)
    parser.add_argument("--variants", type=int, default=VARIANTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--export-child", nargs=3)
    args = parser.parse_args()
    RUNS = args.runs
    if args.export_child:
        mode, listing, out = args.export_child
        export_child(mode, Path(listing), Path(out))
    else:
        print(json.dumps(measure(sorted(args.masters.rglob("*.png")), args.variants), indent=2))
