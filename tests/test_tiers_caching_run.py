"""Service tiers and prompt caching through ``adloom run``/``plan`` against the fake Bedrock.

A campaign of 40 products x 5 variants of a Google search ad (200 copy requests, no
images) with a long brand voice: the system prompt every request shares is long
enough to cache, so the fake reports cache writes and reads, and the run costs less
than the same campaign without caching.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from adloom.engine.journal import Journal
from adloom.errors import ExitCode
from adloom.registry import load_registry
from briefs import write_brief
from fakebedrock import FakeBedrock
from test_cli import run_json as adloom

NOVA_LITE = "amazon.nova-lite-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
# A brand guide as agencies write them: long, and the same for every ad of the campaign.
VOICE = " ".join(
    f"Rule {i}: speak to the reader as a knowledgeable friend, never as a salesperson; "
    "prefer concrete everyday benefits over abstract claims."
    for i in range(1, 41)
)


def campaign(tmp_path: Path, products: int = 40, variants: int = 5) -> Path:
    return write_brief(
        tmp_path / "brief.xlsx",
        campaign={"name": "Cache Test", "brand": "Lumen", "provider": "bedrock",
                  "languages": "en", "placements": "google_rsa", "variants": variants},
        briefs=[{"id": f"p{i:02d}", "product": f"Product {i}", "message": f"Message {i}",
                 "landing_url": f"https://example.com/p{i}"} for i in range(products)],
        brand={"voice": VOICE},
    )  # fmt: skip


def rows(out: Path) -> list[dict[str, Any]]:
    journal = Journal(out)
    try:
        return list(journal.rows())
    finally:
        journal.close()


def no_caching(tmp_path: Path, model: str) -> Path:
    """A user registry file with ``model`` marked as not caching."""
    entry = load_registry().get(model).model_dump(mode="json") | {"prompt_caching": False}
    path = tmp_path / "no-cache.json"
    path.write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    return path


@pytest.mark.slow  # three runs of 200 requests: the size is the point
def test_a_200_request_campaign_caches_its_shared_prompt(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    brief = campaign(tmp_path)
    base = ("run", str(brief), "--json", "--set", f"text_model={NOVA_LITE}")
    code, cached, _ = adloom(*base, "--out", str(tmp_path / "cached"))
    assert code == ExitCode.OK
    calls = fake_bedrock.calls("converse")
    assert len(calls) == cached["model_calls"]["text"] >= 200
    assert all(c.body["system"][-1] == {"cachePoint": {"type": "default"}} for c in calls)
    cache = cached["prompt_cache"]
    # One write of the shared prefix; every later request reads it.
    assert cache["write_tokens"] > 1000
    assert cache["read_tokens"] == cache["write_tokens"] * (len(calls) - 1)
    assert cache["saved_usd"] > 0
    journal = rows(tmp_path / "cached")
    assert sum(r["cache_read_tokens"] for r in journal) == cache["read_tokens"]

    code, plain, _ = adloom(
        *base, "--out", str(tmp_path / "plain"), "--models", str(no_caching(tmp_path, NOVA_LITE))
    )
    assert code == ExitCode.OK
    assert plain["prompt_cache"] == {"read_tokens": 0, "write_tokens": 0, "saved_usd": 0}
    assert cached["cost_usd"] < plain["cost_usd"]
    assert plain["cost_usd"] - cached["cost_usd"] == pytest.approx(cache["saved_usd"], rel=0.02)

    # A rerun sends nothing: the requests (cache point and all) are byte-identical.
    sent = len(fake_bedrock.requests)
    code, again, _ = adloom(*base, "--out", str(tmp_path / "cached"))
    assert code == ExitCode.OK
    assert again["model_calls"] == {"text": 0, "image": 0}
    assert again["cache_hits"] == cached["model_calls"]["text"]
    assert len(fake_bedrock.requests) == sent


def test_summary_shows_the_cache(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    brief = campaign(tmp_path, products=2, variants=2)
    code, _, text = adloom(
        "run", str(brief), "--set", f"text_model={NOVA_LITE}", "--out", str(tmp_path / "o")
    )
    assert code == ExitCode.OK
    assert "Prompt cache:" in text
    assert "input tokens read" in text


def test_flex_is_sent_journalled_and_priced(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    brief = campaign(tmp_path, products=3, variants=2)
    out = tmp_path / "flex"
    code, summary, _ = adloom(
        "run", str(brief), "--json", "--tier", "flex", "--set", f"text_model={NOVA_PRO}",
        "--out", str(out),
    )  # fmt: skip
    assert code == ExitCode.OK
    calls = fake_bedrock.calls("converse")
    assert calls
    assert all(c.body["serviceTier"] == {"type": "flex"} for c in calls)
    assert summary["tiers"] == {"flex": len(calls)}
    info = load_registry().get(NOVA_PRO)
    journal = rows(out)
    assert {r["service_tier"] for r in journal} == {"flex"}

    def priced(tier: str) -> float:
        return sum(
            info.text_cost(
                r["input_tokens"], r["output_tokens"], tier=tier,
                cache_read=r["cache_read_tokens"], cache_write=r["cache_write_tokens"],
            )
            for r in journal
        )  # fmt: skip

    assert summary["cost_usd"] == pytest.approx(priced("flex"), abs=1e-6)
    # Flex halves Nova Pro's token prices (cache reads and writes keep their own prices).
    assert summary["cost_usd"] < 0.75 * priced("default")


def test_the_tier_served_prices_the_answer(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    """Asked priority, served default (the fake scripted so): journalled and priced default."""
    fake_bedrock.behaviour.serve_tier = "default"
    brief = campaign(tmp_path, products=2, variants=1)
    out = tmp_path / "priority"
    code, summary, _ = adloom(
        "run", str(brief), "--json", "--set", "tier=priority", "--set",
        f"text_model={NOVA_PRO}", "--out", str(out),
    )  # fmt: skip
    assert code == ExitCode.OK
    assert all(
        c.body["serviceTier"] == {"type": "priority"} for c in fake_bedrock.calls("converse")
    )
    assert summary["tiers"] == {"default": 2}
    info = load_registry().get(NOVA_PRO)
    expected = sum(
        info.text_cost(r["input_tokens"], r["output_tokens"], cache_read=r["cache_read_tokens"],
                       cache_write=r["cache_write_tokens"])
        for r in rows(out)
    )  # fmt: skip
    assert summary["cost_usd"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("how", [("--tier", "flex"), ("--set", "tier=flex")])
def test_an_unsupported_tier_is_refused_before_any_call(
    fake_bedrock: FakeBedrock, tmp_path: Path, how: tuple[str, str]
) -> None:
    brief = campaign(tmp_path, products=2, variants=1)
    code, _, text = adloom(
        "run", str(brief), *how, "--set", f"text_model={NOVA_LITE}", "--out", str(tmp_path / "o")
    )
    assert code == ExitCode.BAD_INPUT
    assert f'model "{NOVA_LITE}" does not offer the flex service tier' in text
    assert NOVA_PRO in text  # the models that do
    assert fake_bedrock.requests == []


def test_a_tier_setting_that_is_not_a_tier_is_refused_at_its_cell(tmp_path: Path) -> None:
    brief = campaign(tmp_path, products=1, variants=1)
    code, _, text = adloom("plan", str(brief), "--set", "tier=cheap")
    assert code == ExitCode.BAD_INPUT
    assert 'tier "cheap" is not a Bedrock service tier' in text
    code, _, text = adloom("plan", str(brief), "--tier", "cheap")
    assert code == ExitCode.BAD_INPUT


def test_plan_shows_the_cost_per_tier(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    brief = campaign(tmp_path, products=4, variants=2)
    code, report, _ = adloom("plan", str(brief), "--json", "--set", f"text_model={NOVA_PRO}")
    assert code == ExitCode.OK
    by_tier = report["cost_usd_max_by_tier"]
    assert set(by_tier) == {"default", "flex", "priority"}
    assert by_tier["flex"] < by_tier["default"] == report["cost_usd_max"] < by_tier["priority"]
    assert report["prompt_cache_tokens"] > 0
    code, _, text = adloom("plan", str(brief), "--tier", "flex", "--set", f"text_model={NOVA_PRO}")
    assert code == ExitCode.OK
    assert f"flex ${by_tier['flex']:.4f}" in text
    # A model with one tier shows no per-tier line.
    code, report, _ = adloom("plan", str(brief), "--json", "--set", f"text_model={NOVA_LITE}")
    assert report["cost_usd_max_by_tier"] == {"default": report["cost_usd_max"]}
    # plan never calls a model (it may ask the control plane for lifecycle)
    assert fake_bedrock.calls("converse") == fake_bedrock.calls("invoke") == []


def test_a_journal_of_the_previous_schema_is_reused_by_a_rerun(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """A run, its journal taken back to the schema before migrations; the rerun
    upgrades it and sends nothing."""
    brief = campaign(tmp_path, products=2, variants=2)
    argv = ("run", str(brief), "--json", "--set", f"text_model={NOVA_LITE}", "--out",
            str(tmp_path / "o"))  # fmt: skip
    code, first, _ = adloom(*argv)
    assert code == ExitCode.OK
    db = sqlite3.connect(tmp_path / "o" / "journal.sqlite")
    for column in ("service_tier", "cache_read_tokens", "cache_write_tokens", "cache_saved_usd"):
        db.execute(f"ALTER TABLE requests DROP COLUMN {column}")
    db.execute("PRAGMA user_version = 0")
    db.commit()
    db.close()
    sent = len(fake_bedrock.requests)
    code, again, _ = adloom(*argv)
    assert code == ExitCode.OK
    assert again["model_calls"] == {"text": 0, "image": 0}
    assert again["cache_hits"] == first["model_calls"]["text"]
    assert len(fake_bedrock.requests) == sent
