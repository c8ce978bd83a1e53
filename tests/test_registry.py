import json
from datetime import date
from pathlib import Path

import pytest

from adloom.errors import InputError, ModelAccessError
from adloom.registry import base_id, load_registry, worst_text_cost


def test_profile_ids_resolve_to_base_entry() -> None:
    reg = load_registry()
    assert base_id("us.anthropic.claude-haiku-4-5-20251001-v1:0") == (
        "anthropic.claude-haiku-4-5-20251001-v1:0"
    )
    info = reg.get("global.anthropic.claude-haiku-4-5-20251001-v1:0")
    assert info.kind == "text"
    assert info.structured_output == "native"


def test_unknown_model_suggests_close_ids() -> None:
    with pytest.raises(ModelAccessError, match="nova-lite") as exc:
        load_registry().get("amazon.nova-lit-v1:0", where="Campaign!B6")
    assert exc.value.message.startswith("Campaign!B6:")


def test_kind_mismatch_is_reported() -> None:
    with pytest.raises(ModelAccessError, match="image model, not a text model"):
        load_registry().get("amazon.titan-image-generator-v2:0", kind="text")


def test_user_file_adds_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"models": [
        {"id": "acme.writer-v1", "provider": "bedrock", "kind": "text", "family": "nova",
         "structured_output": "tool", "input_per_m": 1, "output_per_m": 2},
        {"id": "amazon.nova-micro-v1:0", "provider": "bedrock", "kind": "text",
         "family": "nova", "input_per_m": 9, "output_per_m": 9,
         "lifecycle": {"status": "active", "eol_date": "2026-01-01"}},
    ]}))  # fmt: skip
    reg = load_registry([path])
    assert reg.get("acme.writer-v1").text_cost(1_000_000, 0) == 1.0
    micro = reg.get("amazon.nova-micro-v1:0")
    assert micro.input_per_m == 9
    assert micro.lifecycle.status_on(date(2026, 11, 29)) == "retired"


def test_bad_user_file_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"models": [{"id": "x", "provider": "bedrock", "kind": "video"}]}))
    with pytest.raises(InputError, match=r"models\[0\] \(x\)"):
        load_registry([path])


def test_tier_and_cache_prices() -> None:
    registry = load_registry()
    pro = registry.get("amazon.nova-pro-v1:0")
    lite = registry.get("us.amazon.nova-lite-v1:0")
    assert pro.tiers() == ["default", "flex", "priority"]
    assert lite.tiers() == ["default"]
    flex = pro.service_tiers["flex"]
    assert pro.text_cost(1_000_000, 0, tier="flex") == flex.input_per_m < pro.input_per_m
    assert pro.text_cost(0, 1_000_000, tier="unknown") == pro.output_per_m
    # Cached input at its own prices, the rest at the input price.
    cost = lite.text_cost(100, 0, cache_read=1000, cache_write=2000)
    assert cost == pytest.approx(
        (100 * lite.input_per_m + 1000 * lite.cache_read_per_m + 2000 * lite.cache_write_per_m)
        / 1e6
    )
    haiku = registry.get("us.anthropic.claude-haiku-4-5-20251001-v1:0")
    # The worst case of a cached request: its prefix written, at the dearer write price.
    worst = worst_text_cost(haiku, 5000, 100, cache_tokens=4500)
    assert worst == pytest.approx(haiku.text_cost(500, 100, cache_write=4500))
    assert worst > haiku.text_cost(5000, 100)


def test_lifecycle_dates_from_the_aws_model_cards() -> None:
    reg = load_registry()
    day = date(2026, 12, 1)
    titan = reg.get("amazon.titan-image-generator-v2:0").lifecycle
    assert titan.eol_date == date(2026, 6, 30)
    assert titan.status_on(day) == "retired"
    haiku35 = reg.get("anthropic.claude-3-5-haiku-20241022-v1:0").lifecycle
    assert haiku35.eol_date == date(2026, 6, 19)
    assert haiku35.status_on(day) == "retired"


def test_defaults_are_active_and_have_a_request_format() -> None:
    from adloom.providers.bedrock.images import adapter_for

    reg = load_registry()
    day = date(2026, 12, 1)
    for kind in ("text", "image"):
        info = reg.get(reg.default("bedrock", kind), kind=kind)
        assert info.lifecycle.status_on(day) == "active", kind
    adapter_for(reg.get(reg.default("bedrock", "image")))  # raises for an unknown family


def test_public_extended_access_is_part_of_the_lifecycle(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    entry = {"id": "acme.old-v1", "provider": "bedrock", "kind": "text", "family": "nova",
             "lifecycle": {"status": "legacy", "legacy_date": "2026-01-01",
                           "public_extended_access_date": "2026-04-01",
                           "eol_date": "2027-01-01"}}  # fmt: skip
    path.write_text(json.dumps({"models": [entry]}))
    life = load_registry([path]).get("acme.old-v1").lifecycle
    assert life.public_extended_access_date == date(2026, 4, 1)
    assert life.status_on(date(2026, 12, 1)) == "legacy"
