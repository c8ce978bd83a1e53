"""``results.json``: the joined counts ``adloom results`` found, for the next round.

One object: the reports read (file, platform, rows, matched), and per ad name its
summed impressions, clicks, conversions and cost. ``adloom run --learn-from`` and a
review round read it back; everything else (rates, verdicts, the guide) is computed
from it again, so the file holds nothing that could drift from the statistics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from adloom import safepath
from adloom.errors import InputError
from adloom.outdir import Deliverable
from adloom.results.stats import Counts

RESULTS_FILE = "results.json"
STORED = Deliverable("the results' counts (adloom results)", (RESULTS_FILE,))
VERSION = 1


def write_results(
    out: Path, counts: Mapping[str, Counts], reports: Sequence[Mapping[str, Any]]
) -> Path:
    data = {
        "version": VERSION,
        "reports": list(reports),
        "ads": {
            name: {
                "impressions": c.impressions,
                "clicks": c.clicks,
                "conversions": c.conversions,
                "cost": c.cost,
            }
            for name, c in counts.items()
        },
    }
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    return safepath.write_bytes(out, out / RESULTS_FILE, text.encode("utf-8"))


def has_results(out: Path) -> bool:
    return (out / RESULTS_FILE).is_file()


def read_results(out: Path) -> dict[str, Counts]:
    """The counts per ad ``adloom results`` stored in ``out``."""
    path = out / RESULTS_FILE
    if not path.is_file():
        raise InputError(
            f"{out}: no {RESULTS_FILE} — read the platforms' reports into it first:"
            f" adloom results {out} REPORT.csv"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ads = data["ads"]
        return {
            str(name): Counts(
                int(c["impressions"]), int(c["clicks"]), float(c["conversions"]), float(c["cost"])
            )
            for name, c in ads.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{path}: not a results file adloom wrote — run adloom results {out} REPORT again"
        ) from exc
