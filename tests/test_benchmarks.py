"""The benchmark scripts still run against today's code (on a tiny size; nothing timed).

Their figures are in benchmarks/README.md; these only keep the scripts from rotting
(bench_local.py once failed for months after a compose type gained a field).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from adloom.brief.placements import builtin_placements
from adloom.delivery import thumbs
from adloom.model import Creative
from briefs import write_brief

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def bench(*args: str, tmp: Path | None = None) -> str:
    """Run a benchmark script; ``tmp``: its temporary folder (where caches go)."""
    env = {**ENV, "TMPDIR": str(tmp)} if tmp else ENV
    done = subprocess.run(
        [sys.executable, *args],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_scale_run_measures_a_first_run_and_its_rerun() -> None:
    (row,) = json.loads(bench("benchmarks/bench_scale.py", "--ads", "54", "--json"))
    assert row["ads"] == row["first"]["ads"] == row["rerun"]["ads"] == 54
    assert row["first"]["creatives"] == 54
    assert row["first"]["cpu_s"] > 0
    assert row["first"]["peak_tree_rss_mb"] > 0
    assert row["out_mb"] > 0
    assert row["rerun_share"] > 0
    assert row["first"]["phases_s"]["workbook"] > 0


def test_the_start_up_benchmark_runs() -> None:
    table = bench("benchmarks/bench_startup.py", "--runs", "1")
    assert "| adloom --version |" in table
    assert "| adloom validate |" in table


@pytest.mark.slow
def test_the_local_stages_and_encoder_benchmarks_run(tmp_path: Path) -> None:
    masters = tmp_path / "masters"
    masters.mkdir()
    brief = write_brief(tmp_path / "brief.xlsx")
    bench("-m", "adloom", "run", str(brief), "--out", str(tmp_path / "out"), "--json")
    for master in sorted((tmp_path / "out" / "masters").rglob("*.png"))[:2]:
        (masters / master.name).write_bytes(master.read_bytes())
    temp = tmp_path / "temp"
    temp.mkdir()
    result = json.loads(
        bench(
            "benchmarks/bench_local.py", str(masters), "--variants", "30", "--runs", "1", tmp=temp
        )
    )
    image_placements = [p for p in builtin_placements().values() if not p.text_only]
    assert result["compose"]["ads"] == 2 * len(image_placements)
    assert {m: result["export"][m]["variants"] for m in ("adloom", "decode again", "openpyxl")} \
        == {"adloom": 30, "decode again": 30, "openpyxl": 30}  # fmt: skip
    # The export ran over 30 distinct creatives, each a real image of its placement's
    # size with its own thumbnail, kept in the benchmark's cache for the next run.
    (listing,) = (temp / "adloom-bench-creatives").glob("*/creatives.pickle")
    made: list[Creative] = pickle.loads(listing.read_bytes())  # noqa: S301 - written just now
    assert len(made) == 30
    assert len({hashlib.sha256(c.path.read_bytes()).digest() for c in made}) == 30
    assert len({c.thumb for c in made}) == 30
    sizes = {(p.width, p.height) for p in image_placements}
    for creative in made:
        with Image.open(creative.path) as image:
            assert image.size == (creative.width, creative.height) in sizes
        assert creative.thumb is not None
        with Image.open(creative.thumb) as thumb:
            assert max(thumb.size) <= thumbs.THUMB_PX
    assert "| flat art | PNG level 6 |" in bench("benchmarks/bench_encoders.py")
