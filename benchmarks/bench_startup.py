"""Start-up: `adloom --version` and `adloom validate` against a bare interpreter.

    python benchmarks/bench_startup.py                       # this tree
    python benchmarks/bench_startup.py --before OLD/src      # and another, interleaved

Each command runs as a fresh ``python -m adloom ...`` (``PYTHONPATH`` = the source
tree), ``--runs`` times; the runs of the trees compared are interleaved (A, B, A, B,
...) so load on a shared machine falls on both alike. Printed: the median wall time
and the median CPU time (user + system, from ``os.wait4``) of each, and their ratio
to ``python -c pass``. CPU time is what to read on a busy machine: wall time there
measures the other jobs too. ``python -X importtime -m adloom --version`` shows which
modules a command loads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], src: Path | None) -> tuple[float, float]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--before", type=Path, help="another source tree, e.g. main's")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from briefs import write_brief

    with tempfile.TemporaryDirectory() as tmp:
        brief = write_brief(Path(tmp) / "brief.xlsx")
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], False),
            "adloom --version": ([sys.executable, "-m", "adloom", "--version"], True),
            "adloom validate": ([sys.executable, "-m", "adloom", "validate", str(brief)], True),
        }
        trees = {"after": args.src, **({"before": args.before} if args.before else {})}
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.runs):
            for label, (argv, needs_src) in commands.items():
                for tree, src in trees.items():
                    if not needs_src and tree != "after":
                        continue
                    samples.setdefault((label, tree), []).append(
                        timed(argv, src if needs_src else None)
                    )
    base = samples[("python -c pass", "after")]
    base_wall = statistics.median(w for w, _ in base)
    base_cpu = statistics.median(c for _, c in base)
    print(f"median of {args.runs} runs each, interleaved")
    print("| command | tree | wall ms | CPU ms | wall / python -c pass | CPU / python -c pass |")
    print("|---|---|---:|---:|---:|---:|")
    for (label, tree), runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        shown = "" if label == "python -c pass" else tree
        print(
            f"| {label} | {shown} | {1000 * wall:.0f} | {1000 * cpu:.0f} | "
            f"{wall / base_wall:.1f}x | {cpu / base_cpu:.1f}x |"
        )


if __name__ == "__main__":
    main()
