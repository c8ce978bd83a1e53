"""Numbers are numbers: nan, inf, negative, zero and 400-digit values in options and
settings are refused before any request (exit 2, the option or cell named), as are a
model file that is not an object, a region that is not one and a missing folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_checks import refused

from briefs import write_brief
from fakebedrock import FakeBedrock
from test_cli import run_cli


@pytest.fixture
def bedrock_brief(tmp_path: Path, fake_bedrock: FakeBedrock) -> Path:
    campaign = {"name": "Numbers", "brand": "Lumen", "provider": "bedrock"}
    return write_brief(tmp_path / "brief.xlsx", campaign=campaign)


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "-inf", "1e309", "9" * 400])
def test_max_cost_must_be_a_finite_amount(
    value: str, bedrock_brief: Path, fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    stderr = refused(tmp_path, "run", bedrock_brief, f"--max-cost={value}")
    assert "--max-cost" in stderr
    assert fake_bedrock.requests == []  # nothing spent


@pytest.mark.parametrize("value", ["nan", "-1", "1e309", "9" * 400])
def test_max_cost_usd_setting_is_refused_at_its_place(value: str, tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx")
    stderr = refused(tmp_path, "run", brief, "--set", f"max_cost_usd={value}")
    assert "--set max_cost_usd: max_cost_usd" in stderr


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e309", "1" * 400, "ten"])
@pytest.mark.parametrize("name", ["text", "image", "connect"])
def test_timeouts_are_positive_finite_seconds(
    name: str, value: str, bedrock_brief: Path, fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    key = f"bedrock.{name}_timeout"
    stderr = refused(tmp_path, "run", bedrock_brief, "--set", f"{key}={value}")
    assert f"setting {key}" in stderr
    assert fake_bedrock.requests == []


@pytest.mark.parametrize("value", ["1" * 400, "0", "-5", "nan", "1.5", "1e309"])
def test_quotas_are_sane_whole_numbers(value: str, tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx")
    key = "quota.amazon.titan-image-generator-v2:0.ipm"
    stderr = refused(tmp_path, "run", brief, "--set", f"{key}={value}")
    assert f"--set {key}: {key} =" in stderr


@pytest.mark.parametrize("value", ["nan", "-0.1", "1.5", "inf"])
def test_temperature_between_0_and_1(value: str, tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx")
    stderr = refused(tmp_path, "run", brief, f"--temperature={value}")
    assert "temperature" in stderr


@pytest.mark.parametrize("value", ["1" * 400, "nan", "2.5"])
def test_variants_cell_with_hostile_numbers(value: str, tmp_path: Path) -> None:
    campaign = {"name": "N", "brand": "B", "provider": "draft", "variants": value}
    brief = write_brief(tmp_path / "brief.xlsx", campaign=campaign)
    stderr = refused(tmp_path, "run", brief)
    assert "Campaign!B5: variants" in stderr


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        '["models"]',
        '{"models": {"id": "x"}}',
        '{"models": ["x"]}',
        '{"defaults": []}',
        '{"defaults": {"bedrock": "x"}}',
    ],
)
def test_models_file_must_be_a_model_object(content: str, tmp_path: Path) -> None:
    models = tmp_path / "models.json"
    models.write_text(content)
    brief = write_brief(tmp_path / "brief.xlsx")
    stderr = refused(tmp_path, "run", brief, "--models", models)
    assert str(models) in stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [("input_per_m", float("nan")), ("output_per_m", -1), ("tpm", 10**400), ("ipm", -5)],
)
def test_models_file_numbers_must_be_sane(field: str, value: float, tmp_path: Path) -> None:
    entry = {"id": "acme.text-v1:0", "provider": "bedrock", "kind": "text", "family": "nova"}
    models = tmp_path / "models.json"
    models.write_text(json.dumps({"models": [{**entry, field: value}]}))
    brief = write_brief(tmp_path / "brief.xlsx")
    stderr = refused(tmp_path, "run", brief, "--models", models)
    assert f"models[0] (acme.text-v1:0): {field}" in stderr


@pytest.mark.parametrize(
    "region", ["nowhere", "us-east", "US-EAST-1", "us-east-1/../x", "us-east-1.evil.com", ""]
)
def test_region_must_look_like_a_region(region: str, tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx")
    stderr = refused(tmp_path, "run", brief, "--region", region)
    assert "--region" in stderr


@pytest.mark.parametrize("command", ["models", "doctor"])
def test_region_is_checked_by_every_command(command: str, tmp_path: Path) -> None:
    code, _, stderr = run_cli(command, "--region", "moon-base-alpha")
    assert code == 2
    assert '--region "moon-base-alpha": not an AWS region name' in stderr


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "us-isob-east-1"])
def test_real_region_names_pass(region: str, tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx")
    code, _, stderr = run_cli(
        "run", brief, "--region", region, "--out", tmp_path / "out", "--set", "placements=meta_feed"
    )
    assert code == 0, stderr


def test_templates_folder_must_exist(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx")
    stderr = refused(tmp_path, "run", brief, "--templates", tmp_path / "no-such")
    assert f'--templates "{tmp_path / "no-such"}": does not exist' in stderr
    stderr = refused(tmp_path, "run", brief, "--templates", brief)
    assert "is not a folder" in stderr


def test_plan_names_an_unknown_provider(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx")
    code, stdout, stderr = run_cli("plan", brief, "--provider", "xyz")
    assert code == 2
    assert stdout == ""
    assert 'unknown provider "xyz"' in stderr


def test_version_needs_no_command() -> None:
    from adloom import __version__

    code, stdout, _ = run_cli("--version")
    assert code == 0
    assert stdout.strip() == f"adloom {__version__}"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"profile_prices": {"global": {"input_per_m": float("nan"), "output_per_m": 1}}},
         "profile_prices.global.input_per_m"),
        ({"profile_prices": {"global": {"input_per_m": 1, "output_per_m": -5}}},
         "profile_prices.global.output_per_m"),
        ({"profile_prices": {"global": {"input_per_m": 1, "output_per_m": 10**400}}},
         "profile_prices.global.output_per_m"),
        ({"profile_prices": {"mars": {"input_per_m": 1, "output_per_m": 1}}},
         "profile_prices names mars"),
        ({"api": "grpc"}, "api"),
    ],
)  # fmt: skip
def test_models_file_profile_prices_and_api_must_be_sane(
    extra: dict[str, object], named: str, tmp_path: Path
) -> None:
    entry = {"id": "acme.text-v1:0", "provider": "bedrock", "kind": "text", "family": "nova",
             "profiles": ["us", "global"]}  # fmt: skip
    models = tmp_path / "models.json"
    models.write_text(json.dumps({"models": [{**entry, **extra}]}))
    brief = write_brief(tmp_path / "brief.xlsx")
    stderr = refused(tmp_path, "run", brief, "--models", models)
    assert "models[0] (acme.text-v1:0): " in stderr
    assert named in stderr
