"""Reading a big report back: ``adloom results`` at the row limit.

    python benchmarks/bench_results.py [ROWS] [ADS]

Writes a Meta Ads Manager export of ROWS rows (default 99,000: the 100,000-row limit
of any input, less the header) for ADS ads (default 600) broken down by day, then
times and measures (tracemalloc peak) reading it, joining it to the ads and judging
every slot and dimension, as ``adloom results`` does (time in one pass, the memory
peak in a second). No run is needed: the ads are
built in memory as the workbook would give them.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from adloom.results.analysis import analyse  # noqa: E402
from adloom.results.join import AdInfo, join  # noqa: E402
from adloom.results.reports import read_report  # noqa: E402
from reports import meta_csv  # noqa: E402  # the tests' report builder


def _ad(i: int, name: str) -> AdInfo:
    dims = {
        "brief": f"b{i // 30}",
        "audience": "general",
        "language": "en",
        "placement": "meta_feed",
        "variant": f"v{i % 30 + 1}",
        "copy_length": ("short", "medium", "long")[i % 3],
        "cta": "Shop now",
    }
    return AdInfo(name, dims, "Headline", "Body", "Shop now", None)


def measure(rows: int, ads_total: int) -> dict[str, float]:
    names = [f"spring_b{i // 30}_general_en_meta_feed_v{i % 30 + 1}" for i in range(ads_total)]
    ads = {name: _ad(i, name) for i, name in enumerate(names)}
    with tempfile.TemporaryDirectory(prefix="adloom-bench-results-") as tmp:
        path = meta_csv(
            Path(tmp) / "meta.csv",
            [(names[r % ads_total], 1000 + r % 700, 20 + r % 37, r % 5, 12.5) for r in range(rows)],
        )
        size = path.stat().st_size
        started = time.perf_counter()
        report = read_report(path)
        read_s = time.perf_counter() - started
        joined = join([report], ads)
        analysis = analyse(ads, joined.counts)
        total_s = time.perf_counter() - started
        tracemalloc.start()  # a second pass for memory: tracing slows Python several-fold
        analyse(ads, join([read_report(path)], ads).counts)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {
        "rows": rows,
        "ads": ads_total,
        "file_mb": round(size / 2**20, 1),
        "read_s": round(read_s, 2),
        "read_join_judge_s": round(total_s, 2),
        "peak_mb": round(peak / 2**20, 1),
        "matched": joined.matched,
        "slots": len(analysis.slots),
    }


if __name__ == "__main__":
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 99_000
    ads = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    print(json.dumps(measure(rows, ads), indent=1))
