"""The judge's cost per 1,000 ads, per judge model (``--score``).

    python benchmarks/bench_judge.py

Measured: the example campaign (80 ads: 4 products x 2 languages x 2 variants x 5
image placements) runs on the fake Bedrock, then runs again into the same folder with
``--score``: copy and images come from the journal, so the second run's tokens are the
judge's alone (Claude Haiku 4.5, which sees each composed creative). The fake counts
tokens as adloom's estimate does (~3.5 Latin characters a token) and an image as
Anthropic documents (width x height / 750, at most ~1,600 a side's worth).

Per model: ``adloom plan --score``'s estimate (``score.estimate``: the copy at the
placements' limits, the creative at the placement's size where the model takes images,
every answer at the 1,000-token cap) priced at the registry's on-demand prices, and
the same input with the measured output tokens per ad: the expected cost.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from adloom.brief.read import read_campaign  # noqa: E402
from adloom.cli import main  # noqa: E402 - tests/ must be on the path first
from adloom.console import Env  # noqa: E402
from adloom.registry import load_registry  # noqa: E402
from adloom.run.plan import make_plan  # noqa: E402
from adloom.run.score import estimate  # noqa: E402
from fakebedrock import FakeBedrock  # noqa: E402

BRIEF = ROOT / "campaigns" / "spring-launch.xlsx"
FAST = ("--set", "quota.stability.stable-image-core-v1:1.ipm=100000", "--set", "variants=2")


def _run(out: Path, *extra: str) -> dict[str, object]:
    stdout = io.StringIO()
    argv = ["run", str(BRIEF), "--provider", "bedrock", "--out", str(out), "--json",
            *FAST, *extra]  # fmt: skip
    main(argv, env=Env(stdout=stdout, stderr=io.StringIO()))
    result: dict[str, object] = json.loads(stdout.getvalue())
    return result


def measured() -> tuple[int, float, float]:
    """(ads, input tokens per ad, output tokens per ad) of the judge on the fake."""
    with FakeBedrock() as fake, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            AWS_ACCESS_KEY_ID="AKIAFAKEBENCH",
            AWS_SECRET_ACCESS_KEY="fake-secret-never-sent",  # noqa: S106 - a dummy for the fake
            AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake.url,
            AWS_ENDPOINT_URL_BEDROCK=fake.url, AWS_ENDPOINT_URL_SERVICE_QUOTAS=fake.url,
        )  # fmt: skip
        out = Path(tmp) / "out"
        _run(out)
        scored = _run(out, "--score")
    tokens = scored["tokens"]
    ads = int(scored["variants"])  # type: ignore[call-overload]
    assert isinstance(tokens, dict)
    return ads, tokens["input"] / ads, tokens["output"] / ads


def main_() -> None:
    ads, tin, tout = measured()
    print(f"measured on the fake: {ads} ads, {tin:,.0f} input / {tout:,.0f} output tokens per ad")
    registry = load_registry()
    campaign = read_campaign(BRIEF, {"variants": "2"})
    plan = make_plan(campaign, registry, "bedrock")
    print("| judge model | sees | input tokens/ad (est.) | at most $/1,000 | expected $/1,000 |")
    print("|---|---|---|---|---|")
    for info in registry.models.values():
        if info.provider != "bedrock" or info.kind != "text":
            continue
        est = estimate(plan, registry, "bedrock", info.id)
        per_ad = int(est["input_tokens"]) / len(plan.ads)  # type: ignore[call-overload]
        worst = float(est["cost_usd_max"]) / len(plan.ads) * 1000  # type: ignore[arg-type]
        expected = info.text_cost(round(per_ad * 1000), round(tout * 1000))
        seen = "yes" if info.image_input else "copy only"
        print(f"| {info.id} | {seen} | {per_ad:,.0f} | ${worst:.2f} | ${expected:.2f} |")


if __name__ == "__main__":
    main_()
