"""The registry as it is (issue 16, point 6), against the fake Bedrock over HTTP.

Newer Claude models reachable through Converse are in the registry and the fake's
catalogue; a model served only through Bedrock's Anthropic Messages endpoint is listed
with why adloom cannot use it and refused before any call; models past their end of
life stay only to explain a refusal: hidden from ``adloom models`` unless ``--all``,
never offered as an alternative.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from adloom.errors import ExitCode
from adloom.providers.bedrock.lifecycle import alternatives
from adloom.registry import load_registry
from briefs import write_brief
from conftest import point_at
from fakebedrock import FakeBedrock
from fakebedrock.catalogue import MODELS
from test_cli import run_cli
from test_cli import run_json as adloom

SONNET46 = "anthropic.claude-sonnet-4-6"
OPUS45 = "anthropic.claude-opus-4-5-20251101-v1:0"
OPUS46 = "anthropic.claude-opus-4-6-v1"
OPUS47 = "anthropic.claude-opus-4-7"  # Messages API only
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
RETIRED = ("anthropic.claude-3-5-haiku-20241022-v1:0", "amazon.titan-image-generator-v2:0")


def campaign(tmp_path: Path) -> Path:
    return write_brief(
        tmp_path / "brief.xlsx",
        campaign={"name": "Models", "brand": "Lumen", "provider": "bedrock",
                  "languages": "en", "placements": "google_rsa", "variants": 1},
        briefs=[{"id": "p1", "product": "Cold brew", "message": "Fast coffee",
                 "landing_url": "https://example.com/p1"}],
    )  # fmt: skip


def test_new_models_are_in_the_registry_and_the_fakes_catalogue() -> None:
    registry = load_registry()
    for model in (SONNET46, OPUS45, OPUS46, OPUS47):
        info = registry.get(model)
        assert MODELS[model].api == info.api
        assert {"id", "price"} <= set(info.sources)  # each fact with where it was read
        assert set(info.profiles) == set(MODELS[model].profiles) or info.api == "messages"
    # Every shipped Bedrock model says where its facts come from.
    assert all(m.sources for m in registry.models.values() if m.provider == "bedrock")
    assert registry.get(OPUS46).lifecycle.status == "active"
    assert registry.get(OPUS47).unreachable()
    assert not registry.get(OPUS46).unreachable()


@pytest.mark.parametrize(
    "case",
    [
        (OPUS46, "eu-west-1", f"eu.{OPUS46}"),
        (SONNET46, "ap-northeast-1", f"jp.{SONNET46}"),
        (OPUS45, "us-east-1", f"us.{OPUS45}"),
    ],
)
def test_a_new_claude_model_writes_copy_through_its_regions_profile(
    fake_bedrock: FakeBedrock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str, str],
) -> None:
    model, region, sent = case
    point_at(monkeypatch, fake_bedrock, region)
    code, summary, text = adloom("run", str(campaign(tmp_path)), "--json",
                                 "--text-model", model, "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == ExitCode.OK, text
    assert summary["failed"] == 0
    assert {r.model for r in fake_bedrock.calls("converse")} == {sent}


def test_a_model_served_outside_converse_is_refused_before_any_call(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    code, _, text = adloom("run", str(campaign(tmp_path)), "--text-model", OPUS47,
                           "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == ExitCode.PROVIDER
    assert f'model "{OPUS47}" cannot be used by adloom' in text
    assert "Anthropic Messages API endpoint" in text
    assert OPUS47 not in text.split("hint:")[1]  # the hint offers others
    assert fake_bedrock.requests == []
    code, _, text = adloom("plan", str(campaign(tmp_path)), "--set", f"text_model={OPUS47}")
    assert code == ExitCode.PROVIDER
    assert "Anthropic Messages API endpoint" in text


def test_the_fake_refuses_converse_for_a_messages_only_model(fake_bedrock: FakeBedrock) -> None:
    client = boto3.session.Session().client("bedrock-runtime")
    with pytest.raises(ClientError) as raised:
        client.converse(
            modelId=f"us.{OPUS47}", messages=[{"role": "user", "content": [{"text": "Hi"}]}]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "not supported by the Converse API" in str(raised.value)


def test_doctor_says_why_a_messages_only_model_cannot_be_used(fake_bedrock: FakeBedrock) -> None:
    code, _, text = adloom("doctor", "--text-model", OPUS47)
    assert code == ExitCode.PROVIDER
    assert f"FAIL {OPUS47}: " in text
    assert "Anthropic Messages API endpoint" in text
    assert fake_bedrock.calls("converse") == []
    code, report, text = adloom("models", "--check", "--json")
    assert code == ExitCode.OK, text
    row = next(r for r in report["models"] if r["id"] == OPUS47)
    assert "adloom cannot use it" in row["note"]


def test_models_hides_retired_models_unless_all() -> None:
    code, stdout, _ = run_cli("models", "--json")
    assert code == ExitCode.OK
    listed = {r["id"]: r for r in json.loads(stdout)}
    assert not set(RETIRED) & set(listed)
    assert listed[OPUS47]["api"] == "messages"
    assert "Messages API" in listed[OPUS47]["unusable"]
    assert listed[HAIKU]["profile_prices"]["global"]["input_per_m"] == 1.0
    code, stdout, _ = run_cli("models", "--json", "--all")
    assert set(RETIRED) <= {r["id"] for r in json.loads(stdout)}
    code, stdout, _ = run_cli("models")
    assert "Messages API only" in stdout
    assert not any(model in stdout for model in RETIRED)


def test_alternatives_never_name_a_retired_or_unreachable_model() -> None:
    registry = load_registry()
    offered = alternatives(registry, "text", date(2026, 12, 7), HAIKU)
    assert offered
    assert not set(offered) & {OPUS47, *RETIRED}
    for model in registry.models:
        for kind in ("text", "image"):
            offered = alternatives(registry, kind, date(2026, 12, 7), model)
            assert not set(offered) & {OPUS47, *RETIRED}
