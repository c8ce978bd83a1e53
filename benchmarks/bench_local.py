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

Export: ``--variants`` (10,000) ads, each pointing at its own creative file, three
ways, each in a child process so its peak memory (ru_maxrss) is its own: adloom's
export with the thumbnails compose made; the same export when every creative must be
decoded again for its thumbnail (what every export did before thumbnails came from
compose); and raw openpyxl writing the same rows (the same text values, write-only)
and the same thumbnail images. ``--repeat`` times each way that often, interleaved;
``--src`` runs the two adloom ways from another source tree too (before and after).

The creatives are distinct files, not a few reused (an export that reads 132 files for
10,000 rows measures the wrong thing), made cheaply and once: every master x image
placement is composed for real (copy, checks, thumbnail), then each variant is such a
composition with its own number stamped on, encoded by compose's own encoder within
the placement's cap, its thumbnail made from those pixels as a compose worker makes
it. They are kept in ``CACHE`` by masters, for the next run.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
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
from PIL import Image, ImageDraw, ImageFont, ImageOps

from adloom.brief.placements import builtin_placements
from adloom.creative import compose as compose_module
from adloom.creative import typeset
from adloom.creative.compose import AdCopy
from adloom.delivery import thumbs
from adloom.delivery.export import THUMB_COL
from adloom.model import BrandKit, Creative, Placement
from adloom.run.pipeline import _compose_from, _Placed

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
MASTERS = 12  # x 12 placements = 144 ads per pass
RUNS = 3  # each pass timed this many times, the fastest kept
PLACEMENTS = [p for p in builtin_placements().values() if not p.text_only]
COPY = AdCopy("Lighter every mile", "Shop now", "Offer valid while stocks last.", "en")
VARIANTS = 10_000
REPEAT = 1
# Distinct creatives, made once per masters and count (``distinct_creatives``).
CACHE = Path(tempfile.gettempdir()) / "adloom-bench-creatives"
_CACHE_VERSION = "1"  # bump when the way they are made changes


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


def _stamped(task: tuple[Creative, Placement, list[tuple[int, Path]]]) -> list[Creative]:
    """In a worker: one composed creative, decoded once, as many distinct files as it
    has numbers, each with its number drawn on, encoded as compose encodes, its
    thumbnail made from the pixels in hand."""
    base, placement, numbered = task
    made = []
    font = ImageFont.load_default(size=max(12, placement.height // 10))
    with Image.open(base.path) as image:
        image.load()
        pixels = image.convert("RGB")
    for number, stem in numbered:
        canvas = pixels.copy()
        draw = ImageDraw.Draw(canvas)
        draw.rectangle((0, 0, placement.width // 3, placement.height // 8), fill="#FFFFFF")
        draw.text((4, 2), f"no. {number}", font=font, fill="#111111")
        data, ext, _ = compose_module._encode(canvas, placement.max_kb * 1024)
        path = stem.with_suffix(ext)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        thumb = thumbs.write(stem.parents[2], thumbs.digest(data), canvas)
        made.append(replace(base, path=path, bytes=len(data), thumb=thumb))
    return made


def _private(folder: Path) -> Path:
    """``folder``, made if need be, refused unless it is this user's alone: the cache
    lives in the shared temporary folder and holds pickles."""
    folder.mkdir(mode=0o700, exist_ok=True)
    st = folder.lstat()
    if not folder.is_dir() or folder.is_symlink() or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise SystemExit(f"{folder}: not a folder of this user's alone; remove it or set TMPDIR")
    return folder


def distinct_creatives(masters: Sequence[Path], variants: int) -> list[Creative]:
    """``variants`` distinct creatives with their thumbnails, made as the module's
    docstring says, on both cores, once: kept in ``CACHE`` for the same masters."""
    key = hashlib.sha256(_CACHE_VERSION.encode())
    for master in masters:
        key.update(hashlib.sha256(master.read_bytes()).digest())
    folder = _private(CACHE) / key.hexdigest()[:16]
    listing = folder / "creatives.pickle"
    if listing.is_file():
        # Only this user can have written it (``_private``), so unpickling it is safe.
        cached: list[Creative] = pickle.loads(listing.read_bytes())[:variants]  # noqa: S301
        if len(cached) == variants and all(
            c.path.is_file() and c.thumb and c.thumb.is_file() for c in cached
        ):
            return cached  # the first n of a larger set are those a set of n would be
    with ProcessPoolExecutor(2) as pool:
        bases = [c for made in pool.map(compose_master, masters, [folder / "bases"] * len(masters))
                 for c in made]  # fmt: skip
        places = [p for _ in masters for p in PLACEMENTS]
        tasks = [
            (base, place, [(n, folder / "creatives" / place.id / f"v{n:05d}")
                           for n in range(i, variants, len(bases))])
            for i, (base, place) in enumerate(zip(bases, places, strict=True))
        ]  # fmt: skip
        by_base = list(pool.map(_stamped, tasks))
    made = [by_base[n % len(bases)][n // len(bases)] for n in range(variants)]
    listing.write_bytes(pickle.dumps(made))
    return made


def export_child(mode: str, listing: Path, out: Path) -> None:
    """In a child process: one way of writing the workbook of the listed creatives."""
    sys.path.insert(0, str(ROOT / "tests"))
    from adloom.delivery.export import export_workbook
    from factories import make_ad, make_campaign, make_summary

    # Written by ``export_all`` into its own temporary folder (mode 0700).
    made: list[Creative] = pickle.loads(listing.read_bytes())  # noqa: S301
    out.mkdir(parents=True, exist_ok=True)
    campaign = make_campaign(out, placement_ids=("meta_feed",))
    template = make_ad(campaign, out, with_creative=False)
    ads = [
        replace(template, spec=replace(template.spec, name=f"bench_ad_{i:05d}", variant=i),
                creative=creative if mode != "decode again" else replace(creative, thumb=None))
        for i, creative in enumerate(made)
    ]  # fmt: skip
    values: list[list[object]] = []
    if mode == "openpyxl":  # the rows as the export computes them (not timed)
        from adloom.delivery.export import _row_values
        from adloom.delivery.present import Links

        link = Links(out)
        values = [list(_row_values(ad, campaign, link, ())) for ad in ads]
    before = rss_mb()
    started = time.perf_counter()
    cpu = time.process_time()
    if mode == "openpyxl":
        raw_openpyxl(values, [c.thumb for c in made if c.thumb], out / "raw.xlsx")
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


MODES = ("adloom", "decode again", "openpyxl")


def export_all(
    masters: Sequence[Path],
    out: Path,
    variants: int,
    *,
    modes: Sequence[str] = MODES,
    repeat: int = REPEAT,
    before: Path | None = None,
) -> dict[str, Any]:
    """Each of ``modes`` ``repeat`` times, interleaved; with ``before`` (another source
    tree) its two adloom ways too. Per way: every timing and the median's row."""
    made = distinct_creatives(masters, variants)
    listing = out / "creatives.pickle"
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_bytes(pickle.dumps(made))
    ways = [(mode, ROOT / "src") for mode in modes]
    if before is not None:
        ways += [(f"{mode} (before)", before) for mode in modes if mode != "openpyxl"]
    timings: dict[str, list[dict[str, Any]]] = {way: [] for way, _ in ways}
    for turn in range(repeat):
        for way, src in ways:
            folder = out / f"{way.replace(' (before)', '-before').replace(' ', '-')}-{turn}"
            done = subprocess.run(
                [sys.executable, __file__, "--export-child", way.removesuffix(" (before)"),
                 str(listing), str(folder)],
                check=True, stdout=subprocess.PIPE, text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(HERE)])},
            )  # fmt: skip
            timings[way].append(json.loads(done.stdout.splitlines()[-1]))
    results: dict[str, Any] = {
        way: {**sorted(runs, key=lambda r: r["cpu_s"])[len(runs) // 2],
              "cpu_s_all": [r["cpu_s"] for r in runs]}
        for way, runs in timings.items()
    }  # fmt: skip
    cpu = {way: r["cpu_s"] for way, r in results.items()}
    results["ratios"] = {
        f"{a} / {b}": cpu[a] / cpu[b]
        for a, b in [("adloom", "openpyxl"), ("decode again", "adloom"),
                     ("adloom (before)", "openpyxl"), ("adloom (before)", "adloom")]
        if a in cpu and b in cpu
    }  # fmt: skip
    return results


def measure(
    masters: Sequence[Path],
    variants: int = VARIANTS,
    *,
    compose: bool = True,
    modes: Sequence[str] = MODES,
    repeat: int = REPEAT,
    before: Path | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="adloom-bench-local-") as tmp:
        out = Path(tmp)
        composed = compose_vs_pillow(masters, out / "compose") if compose else {}
        exported = export_all(list(masters)[:MASTERS], out / "export", variants,
                              modes=modes, repeat=repeat, before=before)  # fmt: skip
    return {"compose": composed, "export": exported}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("masters", nargs="?", type=Path)
    parser.add_argument("--variants", type=int, default=VARIANTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--export-only", action="store_true", help="skip compose vs Pillow")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--repeat", type=int, default=REPEAT, help="timings of each way")
    parser.add_argument("--src", type=Path, help="another adloom source tree (before)")
    parser.add_argument("--export-child", nargs=3)
    args = parser.parse_args()
    RUNS = args.runs
    if args.export_child:
        mode, listing, out = args.export_child
        export_child(mode, Path(listing), Path(out))
    else:
        found = measure(sorted(args.masters.rglob("*.png")), args.variants,
                        compose=not args.export_only, modes=args.modes, repeat=args.repeat,
                        before=args.src)  # fmt: skip
        print(json.dumps(found, indent=2))
