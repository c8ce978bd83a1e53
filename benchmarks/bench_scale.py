"""A draft campaign at scale: about 100, 1,000, 5,000 and 20,000 ads, offline.

    python benchmarks/bench_scale.py                    # 108, 1,026, 5,022 and 19,980 ads
    python benchmarks/bench_scale.py --ads 100 1000     # some of them
    python benchmarks/bench_scale.py --ads 54 --json    # one brief; what the smoke test runs

Each size is a brief of N products x 3 audiences x 3 variants x 6 placements (54 ads a
product), drafted (no model, no network) by ``python -m adloom run BRIEF --out OUT
--json`` in a child process, then run again into the same folder (the rerun). The
child runs adloom's own CLI with timers around the stages (``--child``), so the phase
times are the run's, not a re-implementation's:

- start: interpreter start-up, reading the brief, planning, the journal opened;
- generate+compose: copy and masters, composition overlapping them (worker processes);
- collect: waiting for the last compositions and journalling them;
- preview, workbook, bulk files: the deliverables.

CPU seconds are the child's and its reaped workers' (``os.wait4``); peak memory is the
largest sum of RSS over the child's process tree, sampled every 0.1 s from /proc; the
out folder's size is counted in allocated blocks, so hard links count once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLACEMENTS = "meta_feed,meta_story,linkedin_single,display_300x250,display_728x90,x_card"
ADS_PER_PRODUCT = 3 * 3 * 6  # audiences x variants x placements
SIZES = (108, 1026, 5022, 19980)
PHASES = ("start", "generate+compose", "collect", "preview", "workbook", "bulk files")


def write_campaign(path: Path, ads: int) -> int:
    """A brief of about ``ads`` ads (whole products); returns the exact count."""
    sys.path.insert(0, str(ROOT / "tests"))
    from briefs import write_brief

    products = max(1, round(ads / ADS_PER_PRODUCT))
    briefs = [
        {"id": f"p{i}", "product": f"Product {i} blend", "audience": "a1,a2,a3",
         "message": f"Fresh roast number {i}, delivered weekly", "cta": "Shop now",
         "benefits": "Roasted to order;Free shipping;Direct trade",
         "landing_url": f"https://example.com/p{i}"}
        for i in range(products)
    ]  # fmt: skip
    campaign = {"name": "Scale Test", "brand": "Lumen", "variants": "3",
                "placements": PLACEMENTS, "provider": "draft"}  # fmt: skip
    write_brief(path, campaign=campaign, briefs=briefs,
                audiences={"a1": "x", "a2": "y", "a3": "z"})  # fmt: skip
    return products * ADS_PER_PRODUCT


# ---------------------------------------------------------------- in the child


def child(times_file: Path, argv: list[str]) -> int:
    """Run adloom's CLI with a clock around each stage; write the phase times."""
    started = time.perf_counter()
    marks: dict[str, float] = {}

    from adloom.cli import main
    from adloom.run import pipeline

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            marks.setdefault(f"{name}:start", t0 - started)
            try:
                return fn(*args, **kwargs)
            finally:
                marks[name] = marks.get(name, 0.0) + time.perf_counter() - t0

        return wrapper

    pipeline.generate = timed("generate+compose", pipeline.generate)
    pipeline._Assembler.ads = timed("collect", pipeline._Assembler.ads)  # type: ignore[method-assign]
    pipeline.render_preview = timed("preview", pipeline.render_preview)
    pipeline.export_workbook = timed("workbook", pipeline.export_workbook)
    pipeline.export_platforms = timed("bulk files", pipeline.export_platforms)
    code = main(argv)
    marks["start"] = marks.get("generate+compose:start", 0.0)
    marks["total_in_process"] = time.perf_counter() - started
    times_file.write_text(json.dumps(marks))
    return code


# ---------------------------------------------------------------- in the parent


def _tree_rss_kb(root: int) -> int:
    """The RSS of ``root`` and every descendant, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def folder_bytes(folder: Path) -> int:
    """Allocated bytes under ``folder``, each inode once (hard links are not copies)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def run_once(brief: Path, out: Path, src: Path) -> dict[str, Any]:
    """One ``adloom run`` in a child: wall, CPU, peak tree RSS, phases, its summary."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        times_file = Path(tmp.name)
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, __file__, "--child", str(times_file), "--",
            "run", str(brief), "--out", str(out), "--json"]  # fmt: skip
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.1):
            peak = max(peak, _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"adloom run exited {proc.returncode}")
    phases = json.loads(times_file.read_text())
    times_file.unlink()
    summary = json.loads(stdout)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_tree_rss_mb": peak / 1024,
        "phases_s": {p: phases.get(p, 0.0) for p in PHASES},
        "ads": summary["variants"],
        "creatives": summary["creatives"],
    }


def measure(ads: int, src: Path, keep: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="adloom-bench-scale-") as tmp:
        folder = keep or Path(tmp)
        brief, out = folder / "scale.xlsx", folder / "out"
        exact = write_campaign(brief, ads)
        first = run_once(brief, out, src)
        size = folder_bytes(out)
        rerun = run_once(brief, out, src)
    return {
        "ads": exact,
        "first": first,
        "rerun": rerun,
        "out_mb": size / 1e6,
        "rerun_share": rerun["wall_s"] / first["wall_s"],
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    head = ("| ads | wall s | " + " | ".join(PHASES) + " | CPU s | CPU ms/ad | peak tree RSS MB"
            " | out MB | rerun s | rerun share |")  # fmt: skip
    lines = [head, "|" + "---:|" * (len(PHASES) + 8)]
    for r in rows:
        f = r["first"]
        phases = " | ".join(f"{f['phases_s'][p]:.1f}" for p in PHASES)
        lines.append(
            f"| {r['ads']:,} | {f['wall_s']:.1f} | {phases} | {f['cpu_s']:.0f} | "
            f"{1000 * f['cpu_s'] / r['ads']:.0f} | {f['peak_tree_rss_mb']:.0f} | "
            f"{r['out_mb']:.0f} | {r['rerun']['wall_s']:.1f} | {100 * r['rerun_share']:.1f}% |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ads", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="adloom's source tree")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    rows = []
    for ads in args.ads:
        rows.append(measure(ads, args.src))
        if not args.json:
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(json.dumps(rows, indent=2) if args.json else table(rows))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(Path(sys.argv[2]), sys.argv[4:]))
    main()
