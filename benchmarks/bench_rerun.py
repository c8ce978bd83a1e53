"""Whole-pipeline rerun: a 1,080-ad draft campaign run twice into the same out dir.

    python benchmarks/bench_rerun.py

The second run finds every answer in the journal and every composed file with
unchanged inputs, so it redoes no generation and no composition.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from briefs import write_brief

PLACEMENTS = "meta_feed,meta_story,linkedin_single,display_300x250,display_728x90,x_card"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        brief, out = Path(tmp) / "big.xlsx", Path(tmp) / "out"
        briefs = [
            {"id": f"p{i}", "product": f"Product {i} blend", "audience": "a1,a2,a3",
             "message": f"Fresh roast number {i}, delivered weekly", "cta": "Shop now",
             "benefits": "Roasted to order;Free shipping;Direct trade",
             "landing_url": f"https://example.com/p{i}"}
            for i in range(20)
        ]  # fmt: skip
        campaign = {"name": "Big Test", "brand": "Lumen", "variants": "3",
                    "placements": PLACEMENTS, "provider": "draft"}  # fmt: skip
        write_brief(brief, campaign=campaign, briefs=briefs,
                    audiences={"a1": "x", "a2": "y", "a3": "z"})  # fmt: skip
        times = []
        for _ in range(2):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "adloom", "run", str(brief), "--out", str(out), "--json"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
            summary = json.loads(proc.stdout)
        print(f"ads {summary['variants']}, creatives {summary['creatives']}")
        print(f"first run {times[0]:.1f} s, rerun {times[1]:.1f} s "
              f"({100 * times[1] / times[0]:.1f}% of the first)")  # fmt: skip


if __name__ == "__main__":
    main()
