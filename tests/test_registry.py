import json
from datetime import date
from pathlib import Path

import pytest

from adloom.errors import InputError, ModelAccessError
from adloom.registry import base_id, load_registry


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
