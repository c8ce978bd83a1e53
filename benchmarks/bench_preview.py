"""The preview of a big text-only run: 50,000 ads, as one brief and as 50 briefs.

    python benchmarks/bench_preview.py [ADS]

Renders with ``render_preview`` (the ads built with the tests' factories, no model,
no images) and prints the time, the number of pages and the largest page: what a
reviewer's browser has to open. Before the preview was split into pages, the same
run wrote one index.html of about 234 MB.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from adloom.delivery.render import render_preview  # noqa: E402  # after the path to the factories
from factories import TEXT_AD, make_ad, make_brief, make_campaign, make_summary  # noqa: E402


def measure(ads_total: int, briefs_total: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="adloom-bench-preview-") as tmp:
        folder = Path(tmp)
        briefs = [make_brief(f"brief-{b}", f"Product {b}", row=b + 2) for b in range(briefs_total)]
        campaign = make_campaign(folder, briefs, placement_ids=(TEXT_AD.id,))
        out = folder / "out"
        ads = []
        for brief in briefs:
            ad = make_ad(campaign, out, brief=brief, placement=TEXT_AD.id)
            ads += [
                replace(ad, spec=replace(ad.spec, name=f"{brief.id}_{i:05d}", variant=i))
                for i in range(ads_total // briefs_total)
            ]
        started = time.perf_counter()
        render_preview(ads, make_summary(ads, out), campaign, out)
        seconds = time.perf_counter() - started
        sizes = [p.stat().st_size for p in (out / "preview").glob("*.html")]
        return {
            "ads": len(ads),
            "briefs": briefs_total,
            "seconds": round(seconds, 2),
            "pages": len(sizes),
            "largest_page_mb": round(max(sizes) / 1e6, 3),
            "index_mb": round((out / "index.html").stat().st_size / 1e6, 3),
        }


if __name__ == "__main__":
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    print(json.dumps([measure(total, 1), measure(total, 50)], indent=2))
