"""Prices by the id actually sent (issue 16, point 4).

For Claude Haiku 4.5 and Sonnet 4.5 (and later Claude models) a geographic inference
profile (``us.``, ``eu.``, ``jp.``, ...) costs about 10% more than ``global.``. The
registry prices each profile family; the budget, the journal, the summary and ``plan``
price the id the request went out with. Against the fake Bedrock over HTTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adloom.engine.journal import Journal
from adloom.errors import ExitCode, InputError
from adloom.registry import load_registry, worst_text_cost
from briefs import write_brief
from fakebedrock import FakeBedrock
from test_cli import run_json as adloom

HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def campaign(tmp_path: Path, products: int = 2) -> Path:
    """Search ads only (copy, no images): every cost is a Claude Haiku 4.5 answer's."""
    return write_brief(
        tmp_path / "brief.xlsx",
        campaign={"name": "Profiles", "brand": "Lumen", "provider": "bedrock",
                  "languages": "en", "placements": "google_rsa", "variants": 1},
        briefs=[{"id": f"p{i}", "product": f"Product {i}", "message": f"Message {i}",
                 "landing_url": f"https://example.com/p{i}"} for i in range(products)],
    )  # fmt: skip


def journal_rows(out: Path) -> list[dict[str, Any]]:
    journal = Journal(out)
    try:
        return list(journal.rows())
    finally:
        journal.close()


def test_the_registry_prices_each_profile_family() -> None:
    registry = load_registry()
    for model, (global_in, global_out) in ((HAIKU45, (1.0, 5.0)), (SONNET45, (3.0, 15.0))):
        cheap = registry.get(f"global.{model}")
        assert (cheap.input_per_m, cheap.output_per_m) == (global_in, global_out)
        for prefix in ("us", "eu", "jp", "au", "apac"):
            geo = registry.get(f"{prefix}.{model}")
            assert geo.input_per_m == pytest.approx(1.1 * global_in)
            assert geo.output_per_m == pytest.approx(1.1 * global_out)
            assert geo.cache_write_per_m == pytest.approx(1.1 * cheap.cache_write_per_m)
        assert registry.get(model).profile_prices["global"].source  # where it was read


def test_a_price_for_a_profile_the_model_lacks_is_refused() -> None:
    entry = load_registry().get(HAIKU45).model_dump(mode="json")
    entry["profile_prices"] = {"ca": {"input_per_m": 1, "output_per_m": 5}}
    with pytest.raises(InputError, match="profile_prices names ca, not among its profiles"):
        load_registry().merged({"models": [entry]}, "user.json")


def test_the_journal_prices_a_us_answer_above_a_global_one(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    brief = campaign(tmp_path)
    registry = load_registry()
    costs = {}
    for prefix in ("us", "global"):
        out = tmp_path / prefix
        code, summary, text = adloom(
            "run", str(brief), "--json", "--set", f"profile={prefix}", "--out", str(out)
        )
        assert code == ExitCode.OK, text
        rows = journal_rows(out)
        assert rows
        assert {r["model"] for r in rows} == {f"{prefix}.{HAIKU45}"}
        info = registry.get(f"{prefix}.{HAIKU45}")
        for r in rows:  # each answer at its own profile's price
            assert r["cost_usd"] == pytest.approx(
                info.text_cost(r["input_tokens"], r["output_tokens"],
                               cache_read=r["cache_read_tokens"],
                               cache_write=r["cache_write_tokens"]), abs=1e-9
            )  # fmt: skip
        assert summary["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows), abs=1e-6)
        costs[prefix] = (summary["cost_usd"], sum(r["input_tokens"] for r in rows))
    # The same requests (the fake answers the same tokens): 10% more through us.
    assert costs["us"][1] == costs["global"][1]
    assert costs["us"][0] == pytest.approx(1.1 * costs["global"][0], rel=1e-6)


def test_the_budget_reserves_at_the_geographic_price(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """One copy request; a budget between its worst case through global. and through us.:
    through us. it is never sent, through global. it is."""
    brief = campaign(tmp_path, products=1)
    worst = {}
    for prefix in ("us", "global"):
        code, report, text = adloom("plan", str(brief), "--json", "--set", f"profile={prefix}")
        assert code == ExitCode.OK, text
        sent = report["models"]["text_sent"]
        assert sent == f"{prefix}.{HAIKU45}"
        tokens = report["tokens"]
        worst[prefix] = worst_text_cost(
            load_registry().get(sent), tokens["input"], tokens["output_max"]
        )
        assert report["cost_usd_max"] == pytest.approx(worst[prefix], abs=1e-4)
    assert worst["us"] == pytest.approx(1.1 * worst["global"])
    budget = f"{(worst['us'] + worst['global']) / 2:.6f}"
    base = ("run", str(brief), "--json", "--max-cost", budget)
    code, summary, text = adloom(*base, "--set", "profile=us", "--out", str(tmp_path / "us"))
    assert summary["model_calls"]["text"] == 0, text
    assert summary["not_generated"] == 1
    assert fake_bedrock.calls("converse") == []
    code, summary, text = adloom(*base, "--set", "profile=global", "--out", str(tmp_path / "g"))
    assert code == ExitCode.OK, text
    assert summary["model_calls"]["text"] == 1
    assert summary["not_generated"] == 0


def test_plan_shows_the_cheaper_global_option_with_a_residency_note(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    brief = campaign(tmp_path)
    code, report, _ = adloom("plan", str(brief), "--json")  # us-east-1: the us. profile
    assert code == ExitCode.OK
    assert report["models"]["text_sent"] == f"us.{HAIKU45}"
    option = report["global_option"]
    assert option["id"] == f"global.{HAIKU45}"
    assert option["cost_usd_max"] < report["cost_usd_max"]
    assert option["saves_usd"] == pytest.approx(
        report["cost_usd_max"] - option["cost_usd_max"], abs=1e-4
    )
    assert "any commercial AWS Region, not only in the US" in option["note"]
    code, _, text = adloom("plan", str(brief))
    assert f"Through global.{HAIKU45} instead of us.{HAIKU45}" in text
    assert "--set profile=global" in text
    # Already global, or a model without a cheaper global profile: nothing offered.
    code, report, _ = adloom("plan", str(brief), "--json", "--set", "profile=global")
    assert report["global_option"] == {}
    code, report, _ = adloom(
        "plan", str(brief), "--json", "--set", "text_model=amazon.nova-lite-v1:0"
    )
    assert report["global_option"] == {}
    assert fake_bedrock.calls("converse") == []
