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
