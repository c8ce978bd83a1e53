"""Model lifecycle from the fake control plane, and inference profiles from the region.

Every test runs the real CLI over HTTP against the fake Bedrock; the fake's
lifecycle is scripted per model, and its request log says which models were
called and whether the control plane was asked.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from adloom.cli import main
from adloom.console import Env
from adloom.errors import ExitCode
from adloom.registry import load_registry
from briefs import write_brief
from conftest import user_environ
from fakebedrock import FakeBedrock
from fakebedrock.catalogue import resolve
from fakebedrock.control import lifecycle
from fakebedrock.quotas import name_for

ROOT = Path(__file__).resolve().parents[1]
BRIEF = ROOT / "campaigns" / "spring-launch.xlsx"
HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA2_LITE = "amazon.nova-2-lite-v1:0"
STABLE_CORE = "stability.stable-image-core-v1:1"
SMALL = ("--set", "variants=1", "--set", "languages=en", "--set", "placements=meta_feed")
RUNTIME = ("converse", "invoke")
ONE_BRIEF = {"id": "b1", "product": "Cold brew", "message": "Fast coffee"}


@pytest.fixture(autouse=True)
def _images_unpaced(fake_bedrock: FakeBedrock) -> None:
    """The default image model's images-per-minute quota lifted in the account (its
    Service Quotas value beats the registry's) and in the user's registry file (for runs
    that cannot ask the account); not with --set: the example brief runs with none. The
    tests do not wait on pacing (30 images a minute by default)."""
    fake_bedrock.behaviour.service_quotas[name_for(STABLE_CORE)] = 100_000
    entry = load_registry().get(STABLE_CORE).model_dump(mode="json")
    entry["ipm"] = 100_000
    path = Path(user_environ()["XDG_CONFIG_HOME"]) / "adloom" / "models.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"models": [entry]}), encoding="utf-8")


def cli(*args: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(args), env=Env(stdout=stdout, stderr=stderr, environ=user_environ()))
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def run(out: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    return cli("run", str(BRIEF), "--provider", "bedrock", "--out", str(out), "--json", *args)


def model_calls(fake: FakeBedrock) -> list[str]:
    return [r.model for r in fake.requests if r.op in RUNTIME]


def test_example_brief_calls_only_active_models(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    # Its models and languages as shipped; fewer ads, which are not the point.
    code, summary, err = run(
        tmp_path / "out", "--set", "variants=1", "--set", "placements=meta_feed"
    )
    assert code == ExitCode.OK, err
    assert summary["failed"] == 0
    called = set(model_calls(fake_bedrock))
    assert called == {f"us.{HAIKU45}", STABLE_CORE}
    for model in called:
        spec, _profile = resolve(model)
        assert spec is not None
        life = lifecycle(fake_bedrock.state, spec)
        assert life["status"] == "ACTIVE", model
        assert "endOfLifeTime" not in life, model
    # The control plane was asked for both models before the first model call.
    ops = [r.op for r in fake_bedrock.requests]
    first_call = min(ops.index(op) for op in RUNTIME)
    asked = [r.model for r in fake_bedrock.requests[:first_call]]
    assert {HAIKU45, STABLE_CORE} <= set(asked)
    # The one thing said: which inference profile the default text model goes through.
    assert err.count("warning:") == 1
    assert f'model "{HAIKU45}" is served through inference profiles only: using us.' in err


def test_past_end_of_life_in_the_service_is_refused_before_any_call(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    # Active in the registry, past its end of life in the service: the service wins.
    assert load_registry().get(HAIKU45).lifecycle.status == "active"
    fake_bedrock.behaviour.lifecycle = {
        HAIKU45: {"status": "LEGACY", "legacyTime": "2026-05-01", "endOfLifeTime": "2026-11-01"}
    }
    code, _, err = run(tmp_path / "out", *SMALL)
    assert code == ExitCode.PROVIDER
    assert f'model "{HAIKU45}" reached its end of life on Bedrock on 2026-11-01' in err
    assert "Choose an active text model, e.g. --text-model" in err
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in err  # active in the registry
    assert model_calls(fake_bedrock) == []


def test_legacy_model_runs_with_one_warning(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.behaviour.lifecycle = {
        STABLE_CORE: {"status": "LEGACY", "legacyTime": "2026-08-01",
                      "publicExtendedAccessTime": "2026-11-01", "endOfLifeTime": "2027-02-01"}
    }  # fmt: skip
    code, summary, err = run(tmp_path / "out", *SMALL)
    assert code == ExitCode.OK, err
    assert summary["failed"] == 0
    assert err.count("is legacy on Bedrock") == 1
    assert f'model "{STABLE_CORE}" is legacy on Bedrock (end of life 2027-02-01' in err
    assert "in public extended access since 2026-11-01: prices are higher" in err
    assert STABLE_CORE in model_calls(fake_bedrock)


def test_denied_control_plane_falls_back_to_the_registry_with_one_warning(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.control_denied = True
    code, _, err = run(tmp_path / "out", *SMALL)
    assert code == ExitCode.OK, err
    assert err.count("could not ask Bedrock for model lifecycle") == 1
    assert "AccessDeniedException" in err
    assert "Allow bedrock:GetFoundationModel" in err
    asked = fake_bedrock.calls("get_foundation_model")
    assert [r.status for r in asked] == [403]  # asked once, then the registry is used
    assert model_calls(fake_bedrock)


def test_second_run_within_a_day_uses_the_cached_lifecycle(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    code, _, err = run(tmp_path / "out", *SMALL)
    assert code == ExitCode.OK, err
    assert len(fake_bedrock.calls("get_foundation_model")) == 2
    fake_bedrock.reset(fake_bedrock.behaviour)  # requests forgotten, quotas kept
    code, _, err = run(tmp_path / "again", *SMALL)
    assert code == ExitCode.OK, err
    assert fake_bedrock.calls("get_foundation_model") == []
    assert model_calls(fake_bedrock)
    # Answers are kept per region: another region asks again.
    fake_bedrock.reset(fake_bedrock.behaviour)  # requests forgotten, quotas kept
    code, _, err = run(tmp_path / "west", *SMALL, "--region", "us-west-2")
    assert code == ExitCode.OK, err
    assert len(fake_bedrock.calls("get_foundation_model")) == 2


@pytest.mark.parametrize(
    ("region", "sent"),
    [("ap-northeast-1", f"jp.{HAIKU45}"), ("ap-southeast-2", f"au.{HAIKU45}"),
     ("eu-west-1", f"eu.{HAIKU45}"), ("ap-south-1", f"apac.{HAIKU45}")],
)  # fmt: skip
def test_profile_is_picked_from_the_region(
    fake_bedrock: FakeBedrock, tmp_path: Path, region: str, sent: str
) -> None:
    code, _, err = run(tmp_path / "out", *SMALL, "--region", region)
    assert code == ExitCode.OK, err
    assert {r.model for r in fake_bedrock.calls("converse")} == {sent}
    assert {r.region for r in fake_bedrock.calls("converse")} == {region}
    assert err.count(f"using {sent} for region {region}") == 1


def test_no_geography_fits_falls_back_to_global_and_says_so(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    # Nova 2 Lite has us./eu./jp./global. profiles: nothing fits Sydney but global.
    code, _, err = run(
        tmp_path / "out", *SMALL, "--text-model", NOVA2_LITE, "--region", "ap-southeast-2"
    )
    assert code == ExitCode.OK, err
    assert {r.model for r in fake_bedrock.calls("converse")} == {f"global.{NOVA2_LITE}"}
    assert "processed in any commercial AWS region" in err


def test_profile_setting_forces_one_or_is_refused(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    code, _, err = run(tmp_path / "out", *SMALL, "--set", "profile=global")
    assert code == ExitCode.OK, err
    assert {r.model for r in fake_bedrock.calls("converse")} == {f"global.{HAIKU45}"}
    assert 'unknown setting "profile"' not in err
    fake_bedrock.reset(fake_bedrock.behaviour)  # requests forgotten, quotas kept
    code, _, err = run(
        tmp_path / "apac", *SMALL, "--text-model", NOVA2_LITE, "--set", "profile=apac"
    )
    assert code == ExitCode.BAD_INPUT
    assert (
        f'--set profile: profile "apac": model "{NOVA2_LITE}" has no apac. inference profile' in err
    )
    assert "Its profiles: us, eu, jp, global" in err
    assert fake_bedrock.requests == []
    code, _, err = run(tmp_path / "bad", *SMALL, "--set", "profile=mars")
    assert code == ExitCode.BAD_INPUT
    assert "not an inference profile geography" in err


def test_plan_asks_the_control_plane_too(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.lifecycle = {
        HAIKU45: {"status": "LEGACY", "endOfLifeTime": "2026-10-01"}
    }
    code, _, err = cli("plan", str(BRIEF), "--provider", "bedrock", "--json")
    assert code == ExitCode.PROVIDER
    assert "end of life on Bedrock on 2026-10-01" in err
    assert model_calls(fake_bedrock) == []


def test_plan_without_aws_setup_uses_the_registry_and_says_so(
    fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    code, report, err = cli("plan", str(BRIEF), "--provider", "bedrock", "--json")
    assert code == ExitCode.OK, err
    assert report["cost_usd_max"] > 0
    assert err.count("could not ask Bedrock for model lifecycle") == 1
    assert fake_bedrock.requests == []


def test_profile_in_the_campaign_sheet_is_refused_at_its_cell(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    settings = {"name": "Sheet", "brand": "Lumen", "provider": "bedrock", "variants": 1,
                "placements": "meta_feed", "text_model": NOVA2_LITE, "Profile": "au"}  # fmt: skip
    brief = write_brief(tmp_path / "brief.xlsx", campaign=settings, briefs=[ONE_BRIEF])
    code, _, err = cli("run", str(brief), "--out", str(tmp_path / "out"))
    assert code == ExitCode.BAD_INPUT
    assert f'Campaign!B8: profile "au": model "{NOVA2_LITE}" has no au. inference profile' in err
    assert 'unknown setting "Profile"' not in err
    assert fake_bedrock.requests == []
