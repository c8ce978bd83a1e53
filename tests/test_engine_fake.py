"""The engine through the real Bedrock provider and boto3, against the fake over HTTP.

Throttle storms, 5xx bursts, model timeouts, a hung connection, the budget, reruns
and edited briefs: each a whole ``adloom run`` (or the same wiring with fast retries,
where the test would otherwise wait for real back-off), counted at the fake.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from adloom.brief.read import read_campaign
from adloom.cli import main
from adloom.console import Env, Tracker
from adloom.engine import Quotas, RetryPolicy
from adloom.engine.journal import Journal
from adloom.model import RunSummary
from adloom.providers import ProviderConfig, make_provider
from adloom.registry import load_registry
from adloom.run.pipeline import RunOptions, run_plan
from adloom.run.plan import make_plan
from briefs import write_brief
from conftest import user_environ
from fakebedrock import FakeBedrock, Fault

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
IMAGE = "stability.stable-image-core-v1:1"  # the registry's default
# The registry's quotas are an account's defaults (Stable Image Core: 30 images a
# minute); tests run with quotas that take milliseconds, unless they are about quotas.
QUICK = {f"quota.us.{HAIKU}.tpm": "50000000", f"quota.{IMAGE}.ipm": "600000"}
FAST = RetryPolicy(max_attempts=8, base_s=0.005, cap_s=0.05)
BRIEFS = [
    {"id": "b1", "product": "Cold brew", "message": "Fast coffee"},
    {"id": "b2", "product": "Tea kit", "message": "Slow tea"},
]
# 2 briefs x 2 variants: 8 copy requests (2 copy formats) and 4 master images (1:1: the
# 300x250 banner shares the feed's master, within the crop bound, aspects.CROP_BOUND).
TEXT_REQUESTS, IMAGE_REQUESTS = 8, 4


def brief(tmp_path: Path, briefs: list[dict[str, str]] = BRIEFS, **settings: Any) -> Path:
    campaign = {
        "name": "Fake Run",
        "brand": "Lumen",
        "provider": "bedrock",
        "variants": 2,
        "placements": "meta_feed, display_300x250",
        **QUICK,
        **settings,
    }
    return write_brief(tmp_path / "brief.xlsx", campaign=campaign, briefs=briefs)


def cli(*args: str | Path) -> tuple[int, dict[str, Any], str]:
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ=user_environ())
    code = main(["run", *map(str, args), "--json"], env=env)
    assert isinstance(env.stdout, io.StringIO)
    assert isinstance(env.stderr, io.StringIO)
    out = env.stdout.getvalue()
    return code, json.loads(out) if out else {}, env.stderr.getvalue()


def run_fast(path: Path, out: Path, settings: dict[str, str] | None = None) -> RunSummary:
    """What ``adloom run`` wires up, with retries milliseconds apart instead of seconds."""
    campaign = read_campaign(path, settings or {})
    registry = load_registry()
    config = ProviderConfig(registry=registry, settings=dict(campaign.settings.extra))
    provider = make_provider("bedrock", config)
    options = RunOptions(
        out=out, retry=FAST, quotas=Quotas(registry, campaign.settings.extra), workers=1
    )
    return run_plan(
        make_plan(campaign, registry, "bedrock"), provider, options, Tracker(None, print)
    )


def answered(fake: FakeBedrock) -> int:
    return sum(1 for r in fake.requests if r.op in ("converse", "invoke") and r.status == 200)


def test_throttle_storm_is_ridden_out(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.behaviour.faults = [Fault("throttle", count=25)]  # most first attempts
    summary = run_fast(brief(tmp_path), tmp_path / "out")
    assert summary.failed == 0
    assert summary.creatives == 8
    assert answered(fake_bedrock) == TEXT_REQUESTS + IMAGE_REQUESTS
    rows = list(Journal(tmp_path / "out").rows())
    assert sum(r["attempts"] - 1 for r in rows) == 25  # every throttle was retried
    assert all(r["status"] == "ok" for r in rows)


def test_a_quota_lower_than_configured_is_learned(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    # The account allows a tenth of what the settings claim, with almost no burst:
    # the service answers "Too many tokens" until the pacer has slowed down.
    fake_bedrock.behaviour.quotas = {HAIKU: 240_000}
    fake_bedrock.behaviour.burst_seconds = 0.5
    path = brief(tmp_path, **{f"quota.us.{HAIKU}.tpm": "2400000"})
    summary = run_fast(path, tmp_path / "out")
    assert summary.failed == 0
    assert answered(fake_bedrock) == TEXT_REQUESTS + IMAGE_REQUESTS


def test_5xx_bursts_and_model_timeouts_are_retried(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.faults = [
        Fault("unavailable", count=4),
        Fault("internal", count=3),
        Fault("timeout", count=3, op="converse"),
        Fault("not_ready", count=2, op="invoke"),
    ]
    summary = run_fast(brief(tmp_path), tmp_path / "out")
    assert summary.failed == 0
    assert answered(fake_bedrock) == TEXT_REQUESTS + IMAGE_REQUESTS
    errors = [
        e for r in Journal(tmp_path / "out").rows() for e in json.loads(r["attempt_errors"] or "[]")
    ]
    assert sum("ModelTimeoutException" in e for e in errors) == 3
    assert sum("ServiceUnavailableException" in e for e in errors) == 4


def test_a_hung_connection_times_out_and_is_retried(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.faults = [Fault("hang", count=1, op="converse", seconds=20)]
    path = brief(tmp_path, **{"bedrock.text_timeout": "0.5"})
    summary = run_fast(path, tmp_path / "out")
    assert summary.failed == 0
    rows = list(Journal(tmp_path / "out").rows())
    assert any("Read timeout" in (r["attempt_errors"] or "") for r in rows)


def test_validation_and_access_errors_are_not_retried(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.access_denied = [HAIKU]
    code, _, err = cli(brief(tmp_path), "--out", tmp_path / "out", "--concurrency", "1")
    assert code == 3
    assert "Enable model access" in err
    assert len(fake_bedrock.calls("converse")) == 1


def test_rerun_makes_no_calls_and_an_edited_brief_resends_only_what_changed(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, first, err = cli(brief(tmp_path), "--out", out)
    assert code == 0, err
    assert first["model_calls"] == {"text": TEXT_REQUESTS, "image": IMAGE_REQUESTS}
    sent = len(fake_bedrock.requests)

    code, again, _ = cli(brief(tmp_path), "--out", out)
    assert code == 0
    assert again["model_calls"] == {"text": 0, "image": 0}
    assert again["cache_hits"] == TEXT_REQUESTS + IMAGE_REQUESTS
    assert len(fake_bedrock.requests) == sent  # not one request reached the service

    edited = [BRIEFS[0], {**BRIEFS[1], "message": "Slow tea, now iced"}]
    code, changed, _ = cli(brief(tmp_path, edited), "--out", out)
    assert code == 0
    # Only b2's copy and images mention its message: half of each.
    assert changed["model_calls"] == {"text": TEXT_REQUESTS // 2, "image": IMAGE_REQUESTS // 2}
    assert changed["cache_hits"] == (TEXT_REQUESTS + IMAGE_REQUESTS) // 2
    new = fake_bedrock.requests[sent:]
    assert all("now iced" in json.dumps(r.body) for r in new)


def test_budget_runs_out_mid_run_then_a_bigger_one_finishes(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, summary, err = cli(brief(tmp_path), "--out", out, "--max-cost", "0.1")
    assert code == 1, err
    assert 0 < summary["cost_usd"] <= 0.1
    assert summary["not_generated"] > 0
    assert summary["not_generated_cost_usd"] > 0
    assert "budget" in summary["warnings"][0]
    paid = answered(fake_bedrock)
    assert paid < TEXT_REQUESTS + IMAGE_REQUESTS

    code, rest, _ = cli(brief(tmp_path), "--out", out, "--max-cost", "1")
    assert code == 0
    assert rest["cache_hits"] == paid
    assert answered(fake_bedrock) == TEXT_REQUESTS + IMAGE_REQUESTS  # nothing paid twice


@pytest.mark.parametrize("value", ["fast", "0"])
def test_a_bad_quota_setting_is_a_usage_error(tmp_path: Path, value: str) -> None:
    code, _, err = cli(brief(tmp_path), "--set", f"quota.{HAIKU}.tpm={value}")
    assert code == 2
    assert f"--set quota.{HAIKU}.tpm" in err
