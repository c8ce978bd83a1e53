"""The benchmark scripts still run against today's code (on a tiny size; nothing timed).

Their figures are in benchmarks/README.md; these only keep the scripts from rotting
(bench_local.py once failed for months after a compose type gained a field).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adloom.brief.placements import builtin_placements
from briefs import write_brief

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        check=False, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=900,
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
    result = json.loads(
        bench("benchmarks/bench_local.py", str(masters), "--variants", "30", "--runs", "1")
    )
    image_placements = [p for p in builtin_placements().values() if not p.text_only]
    assert result["compose"]["ads"] == 2 * len(image_placements)
    assert {m: result["export"][m]["variants"] for m in ("adloom", "decode again", "openpyxl")} \
        == {"adloom": 30, "decode again": 30, "openpyxl": 30}  # fmt: skip
    assert "| flat art | PNG level 6 |" in bench("benchmarks/bench_encoders.py")
