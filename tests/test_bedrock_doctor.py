"""``adloom doctor`` and ``adloom models --check`` against the fake control plane."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from adloom.cli import main
from adloom.console import Env
from adloom.errors import ExitCode
from conftest import FAKE_SECRET, user_environ
from fakebedrock import FakeBedrock

HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
STABLE_CORE = "stability.stable-image-core-v1:1"


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), env=Env(stdout=out, stderr=err, environ=user_environ()))
    return code, out.getvalue(), err.getvalue()


def test_doctor_passes_and_never_shows_a_secret(fake_bedrock: FakeBedrock) -> None:
    code, out, err = cli("doctor")
    assert code == ExitCode.OK, err
    assert "region: us-east-1" in out
    assert "credentials: found (source: env)" in out
    # The default text model is named by its base id: checked through the us. profile.
    assert f"{HAIKU45}: answers (a 1-token Converse call) via us.{HAIKU45}" in out
    assert f"{STABLE_CORE}: offered and enabled (active)" in out
    assert fake_bedrock.key not in out + err
    assert FAKE_SECRET not in out + err
    # The text check is one Converse call of one token; images cost nothing to check.
    (probe,) = fake_bedrock.calls("converse")
    assert probe.model == f"us.{HAIKU45}"
    assert probe.body["inferenceConfig"] == {"maxTokens": 1}
    assert fake_bedrock.calls("invoke") == []
    # Each model's lifecycle was asked of the control plane.
    asked = {r.model for r in fake_bedrock.calls("get_foundation_model")}
    assert {HAIKU45, STABLE_CORE} <= asked


def test_doctor_failures_say_what_to_do(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.access_denied = [STABLE_CORE]
    fake_bedrock.behaviour.lifecycle = {
        NOVA_LITE: {"status": "LEGACY", "endOfLifeTime": "2026-01-15"}
    }
    code, out, err = cli("doctor", "--text-model", NOVA_LITE, "--json")
    assert code == ExitCode.PROVIDER
    report = json.loads(out)
    assert report["ok"] is False
    checks = {c["name"]: c for c in report["checks"]}
    assert checks[NOVA_LITE]["ok"] is False
    assert "end of life on Bedrock on 2026-01-15" in checks[NOVA_LITE]["detail"]
    assert "active text model" in checks[NOVA_LITE]["hint"]
    stability = checks[STABLE_CORE]
    assert stability["ok"] is False
    assert "Enable model access" in stability["hint"]
    assert "2 check(s) failed" in err
    assert fake_bedrock.calls("converse") == []  # a model past its end of life is not probed


def test_doctor_without_credentials(
    fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    code, out, _ = cli("doctor")
    assert code == ExitCode.PROVIDER
    assert "FAIL credentials: No AWS credentials found" in out
    assert "--provider draft" in out
    assert fake_bedrock.requests == []


def test_doctor_reads_the_models_of_a_brief(fake_bedrock: FakeBedrock, tmp_path: Any) -> None:
    from pathlib import Path

    brief = Path(__file__).resolve().parents[1] / "campaigns" / "spring-launch.xlsx"
    code, out, err = cli("doctor", str(brief), "--set", "text_model=amazon.nova-lite-v1:0")
    assert code == ExitCode.OK, err
    assert "amazon.nova-lite-v1:0: answers" in out


def test_models_check_lists_what_this_account_can_use(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.access_denied = ["amazon.nova-canvas-v1:0", "amazon.nova-pro-v1:0"]
    fake_bedrock.behaviour.not_in_region = ["cohere.command-r-v1:0"]
    code, out, err = cli("models", "--check", "--json")
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert report["region"] == "us-east-1"
    rows = {r["id"]: r for r in report["models"]}
    haiku = rows[HAIKU45]
    assert haiku["ids"][0] == f"us.{HAIKU45}"  # profile ids only: no base id to call
    assert HAIKU45 not in haiku["ids"]
    assert "inference profile ids only" in haiku["note"]
    nova = rows["amazon.nova-lite-v1:0"]
    assert nova["ids"][0] == "amazon.nova-lite-v1:0"
    assert nova["authorized"] == "yes"
    assert rows["amazon.nova-pro-v1:0"]["authorized"] == "no"
    assert "enable model access" in rows["amazon.nova-pro-v1:0"]["note"]
    assert rows["cohere.command-r-v1:0"]["offered"] is False
    # Past its registry end of life: asked about only with --all.
    assert "amazon.nova-canvas-v1:0" not in rows
    code, out, err = cli("models", "--check", "--json", "--all")
    assert code == ExitCode.OK, err
    canvas = next(r for r in json.loads(out)["models"] if r["id"] == "amazon.nova-canvas-v1:0")
    assert canvas["authorized"] == "no"
    assert canvas["lifecycle"] == "legacy (EOL 2026-09-30)"
    assert "draft-copy" not in rows  # only the bedrock models are asked about
    listed = [r.op for r in fake_bedrock.requests]
    assert listed.count("list_inference_profiles") > 1  # every page was read


def test_models_check_table(fake_bedrock: FakeBedrock) -> None:
    code, out, _ = cli("models", "--check")
    assert code == ExitCode.OK
    assert "Models in us-east-1 for this account" in out
    assert f"us.{HAIKU45}" in out


def test_models_check_needs_credentials(
    fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    code, _, err = cli("models", "--check")
    assert code == ExitCode.PROVIDER
    assert "--provider draft" in err
