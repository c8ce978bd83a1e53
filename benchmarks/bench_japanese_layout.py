"""Japanese layout: what breaking lines between BudouX phrases costs.

    PYTHONPATH=src python benchmarks/bench_japanese_layout.py

Lays out 20 different Japanese ads (headline, CTA, a two-sentence disclaimer) on every
built-in image placement, after a warm-up, and prints the fastest of 3 passes per
layout. Run it with another checkout's ``src`` on PYTHONPATH to compare.
"""

from __future__ import annotations

import time

from adloom.brief.placements import builtin_placements
from adloom.creative.layout import AdCopy, plan_layout
from adloom.model import BrandKit

PLACEMENTS = [p for p in builtin_placements().values() if not p.text_only]
COPIES = [
    AdCopy(
        f"注ぐだけで、カフェの味のアイスコーヒー{i}。",
        "購入する",
        "18時間かけてじっくり抽出。1本でグラス12杯分、砂糖は使っていません。",
        "ja",
    )
    for i in range(20)
]


def main() -> None:
    for copy in COPIES[:2]:  # fonts loaded, caches warm
        for placement in PLACEMENTS:
            plan_layout(copy, BrandKit(), placement)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for copy in COPIES:
            for placement in PLACEMENTS:
                plan_layout(copy, BrandKit(), placement)
        best = min(best, time.perf_counter() - start)
    per = best / (len(COPIES) * len(PLACEMENTS)) * 1000
    print(f"{per:.2f} ms per Japanese layout ({len(PLACEMENTS)} placements x {len(COPIES)} ads)")


if __name__ == "__main__":
    main()
