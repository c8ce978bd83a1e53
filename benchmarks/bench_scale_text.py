"""A 50,000-ad text-only campaign, run end to end offline: wall time and peak memory.

    python benchmarks/bench_scale_text.py [--ads N] [--src DIR] [--trace]

Writes a brief of N briefs (one search ad each: placement ``google_rsa``, one
audience, one language, one variant; provider ``draft``, so nothing is paid and no
network is used), then runs ``python -m adloom run BRIEF --out OUT --json`` as a child
process with ``PYTHONPATH=DIR`` (default: this checkout's ``src``; point it at another
checkout's ``src`` to measure that code, e.g. main's, for a before/after pair).

Reported: wall time and CPU seconds (user + system, ``os.wait4``); the peak RSS of
the process tree, sampled every 0.1 s from ``/proc`` (every descendant's VmRSS
summed) and the child's own high-water mark (``os.wait4``'s ru_maxrss); the preview
it wrote (files, the largest page, the index pages). ``--trace`` runs the same
command in-process under ``tracemalloc`` instead and prints where the traced peak
was spent (top allocation sites at the moment the traced memory was highest,
sampled every 0.5 s), so the numbers say what holds the memory, not only how much.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
PLACEMENT = "google_rsa"
T = TypeVar("T")


def write_brief(path: Path, count: int) -> Path:
    """``count`` briefs of one search ad each, in a write-only workbook (fast to write)."""
    book = Workbook(write_only=True)
    campaign = book.create_sheet("Campaign")
    campaign.append(["setting", "value"])
    for row in (
        ("name", "Scale test"),
        ("brand", "Lumen Coffee"),
        ("languages", "en"),
        ("variants", 1),
        ("placements", PLACEMENT),
        ("provider", "draft"),
    ):
        campaign.append(row)
    briefs = book.create_sheet("Briefs")
    briefs.append(["id", "product", "message", "landing_url"])
    for n in range(count):
        briefs.append(
            [
                f"b{n:05d}",
                f"Lumen blend {n}",
                "Café-strength iced coffee at home in 30 seconds",
                f"https://lumencoffee.example/p/{n}",
            ]
        )
    book.save(path)
    return path


def _tree_rss(root: int) -> int:
    """The RSS of ``root`` and every descendant, in bytes (0 once it is gone)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            pages = int(Path(entry.path, "statm").read_text().split()[1])
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[int(entry.name)] = pages * os.sysconf("SC_PAGE_SIZE")
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == pid]
        tree.update(kids)
        frontier += kids
    return sum(rss.get(p, 0) for p in tree)


def measure(brief: Path, out: Path, src: Path) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(src))
    command = [sys.executable, "-m", "adloom", "run", str(brief), "--out", str(out), "--json"]
    logs = out.parent
    started = time.perf_counter()
    with (logs / "stdout").open("wb") as stdout, (logs / "stderr").open("wb") as stderr:
        child = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
    ended: list[tuple[int, int, object]] = []
    # wait4 in a thread (it reaps the child and gives its own peak) while this one samples.
    waiter = threading.Thread(target=lambda: ended.append(os.wait4(child.pid, 0)))
    waiter.start()
    peak = 0
    while waiter.is_alive():
        peak = max(peak, _tree_rss(child.pid))
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    _, status, usage = ended[0]
    code = os.waitstatus_to_exitcode(status)
    text = (logs / "stdout").read_text(encoding="utf-8")
    summary = json.loads(text) if text.strip().startswith("{") else {}
    pages = sorted((out / "preview").glob("*.html"))
    index_pages = [out / "index.html", *out.glob("index-*.html")]
    return {
        "code": code,
        "error": (logs / "stderr").read_text(encoding="utf-8")[-500:] if code > 1 else "",
        "ads": summary.get("variants"),
        "seconds": round(seconds, 1),
        # CPU is what the run costs on a busy machine, where wall time is mostly waiting.
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),  # type: ignore[attr-defined]
        "peak_tree_rss_mb": round(peak / 2**20),
        "child_maxrss_mb": round(usage.ru_maxrss / 1024),  # type: ignore[attr-defined]
        "preview_files": len(pages),
        "largest_page_mb": round(max((p.stat().st_size for p in pages), default=0) / 1e6, 3),
        "index_pages": len([p for p in index_pages if p.exists()]),
        "largest_index_mb": round(
            max((p.stat().st_size for p in index_pages if p.exists()), default=0) / 1e6, 3
        ),
    }


def traced(run: Callable[[], T], every: float, top: int) -> tuple[T, dict[str, object]]:
    """``run()`` under tracemalloc: its result, the traced peak (over what was traced
    before it) and the ``top`` allocation sites when the traced memory was highest
    (sampled every ``every`` seconds). Shared with bench_preview.py."""
    tracemalloc.start(1)
    base, _ = tracemalloc.get_traced_memory()
    best: list[object] = [0, None]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            current, _ = tracemalloc.get_traced_memory()
            if current > int(best[0]):  # type: ignore[call-overload]
                best[:] = [current, tracemalloc.take_snapshot()]

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = run()
    finally:
        done.set()
        sampler.join()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    snapshot = best[1]
    stats = snapshot.statistics("lineno")[:top] if snapshot is not None else []  # type: ignore[attr-defined]
    return result, {
        "traced_peak_mb": round((peak - base) / 2**20),
        "sampled_at_mb": round(int(best[0]) / 2**20),  # type: ignore[call-overload]
        "top": [f"{s.size / 2**20:8.1f} MB  {s.count:>9,}  {s.traceback}" for s in stats],
    }


def trace(brief: Path, out: Path) -> dict[str, object]:
    """The same run in this process, traced: where its memory peak was spent."""
    from adloom.cli import main
    from adloom.console import Env

    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ={})
    command = ["run", str(brief), "--out", str(out), "--json"]
    code, memory = traced(lambda: main(command, env=env), every=0.5, top=15)
    return {"code": code, **memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ads", type=int, default=50_000)
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="adloom-bench-scale-") as tmp:
        brief = write_brief(Path(tmp) / "brief.xlsx", args.ads)
        out = Path(tmp) / "out"
        if args.trace:
            sys.path.insert(0, str(args.src))
            result = trace(brief, out)
        else:
            result = measure(brief, out, args.src.resolve())
    print(json.dumps({"src": str(args.src), **result}, indent=2))


if __name__ == "__main__":
    main()
