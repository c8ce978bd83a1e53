"""The account's applied quotas (Service Quotas) pace the run, over HTTP to the fake.

The fake lists Bedrock's quotas the way an account does (both generations of names,
per-day, latency-optimized, batch and 1M-context quotas among them, in pages of
four); the tests set the applied value of one and watch it reach the pacer, the
run's summary and ``adloom doctor``, and what happens when it cannot be read.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from adloom.brief.read import read_campaign
from adloom.cli import main
from adloom.console import Env
from adloom.engine import Engine, Quotas
from adloom.engine.journal import Journal
from adloom.errors import ExitCode
from adloom.providers import ProviderConfig, make_provider
from adloom.providers.bedrock.account_quotas import match, parse
from adloom.registry import load_registry
from adloom.run.plan import make_plan
from briefs import write_brief
from conftest import user_environ
from fakebedrock import FakeBedrock
from fakebedrock.quotas import PAGE, applied, name_for

HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
TEXT = f"us.{HAIKU45}"  # the default text model: a cross-region profile
IMAGE = "stability.stable-image-core-v1:1"  # the default image model
REGISTRY_TPM = 400_000  # the registry's default for Claude Haiku 4.5
ACCOUNT_TPM = 123_000  # what the fake's account applies instead, in these tests
DENIED = "could not read this account's Bedrock quotas"


def brief(tmp_path: Path) -> Path:
    campaign = {
        "name": "Quota Run",
        "brand": "Lumen",
        "provider": "bedrock",
        "variants": 1,
        "languages": "en",
        "placements": "meta_feed",
        # Images are paced at their images-per-minute quota: lifted so the test does
        # not wait (and to show a setting next to an account quota in the summary).
        f"quota.{IMAGE}.ipm": "100000",
    }
    return write_brief(tmp_path / "brief.xlsx", campaign=campaign)


def cli(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], env=Env(stdout=out, stderr=err, environ=user_environ()))
    return code, out.getvalue(), err.getvalue()


def run_json(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli("run", brief(tmp_path), "--out", tmp_path / "out", "--json", *args)
    return code, json.loads(out) if out else {}, err


def quota_of(summary: dict[str, Any], model: str) -> dict[str, Any]:
    (found,) = [q for q in summary["quotas"] if q["model"] == model]
    return found


# ---------------------------------------------------------------- names to model ids


def test_quota_names_map_to_model_ids_by_scope_and_display_name() -> None:
    registry = load_registry()
    listed = applied(FakeBedrock().state)  # the fake account's whole list, both generations
    models = [
        (TEXT, "text"),
        (f"global.{HAIKU45}", "text"),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "text"),  # "On-demand InvokeModel ..."
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "text"),  # "... Sonnet 4.5 V1"
        ("amazon.nova-lite-v1:0", "text"),
        (IMAGE, "image"),
    ]
    found = match(listed, registry, models)
    for model, kind in models:
        unit = "ipm" if kind == "image" else "tpm"
        expected = name_for(model)
        assert found[model][unit].name == expected, model
    # Requests per minute were removed in 2026: never read, not even the ones still listed.
    assert all(set(units) <= {"tpm", "ipm"} for units in found.values())
    assert found["amazon.nova-lite-v1:0"]["tpm"].name == name_for("amazon.nova-lite-v1:0")
    # The 1M-context quota (7 tokens) is another quota: never taken for Sonnet 4.5.
    assert found["us.anthropic.claude-sonnet-4-5-20250929-v1:0"]["tpm"].per_minute == 400_000


@pytest.mark.parametrize(
    "name",
    [
        "On-demand latency-optimized model inference tokens per minute for Amazon Nova Pro",
        "Model invocation max tokens per day for Anthropic Claude Haiku 4.5",
        "Batch inference job size (in GB) for Nova Lite V1",
        "Global cross-region model inference tokens per day for Anthropic Claude Haiku 4.5",
        # Removed in 2026: tokens and images per minute are what limit a run.
        "On-demand model inference requests per minute for Amazon Nova Lite",
        "Cross-Region InvokeModel requests per minute for Anthropic Claude 3.5 Haiku",
    ],
)
def test_quotas_that_do_not_pace_inference_are_ignored(name: str) -> None:
    assert parse(name) is None


def test_a_model_without_quota_names_keeps_its_registry_default() -> None:
    entry = {"id": "acme.model-v1:0", "provider": "bedrock", "kind": "text", "family": "anthropic"}
    registry = load_registry().merged({"models": [entry]}, "test")
    listed = [("On-demand model inference tokens per minute for acme.model", 9.0)]
    assert match(listed, registry, [("acme.model-v1:0", "text")]) == {}


# ---------------------------------------------------------------- the pacer


def test_the_engine_paces_at_the_accounts_quota(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.behaviour.service_quotas[name_for(TEXT)] = ACCOUNT_TPM
    campaign = read_campaign(brief(tmp_path), {})
    registry = load_registry()
    provider = make_provider("bedrock", ProviderConfig(registry=registry))
    plan = make_plan(campaign, registry, "bedrock")
    account = provider.account_quotas([(provider.sent_id(plan.text_model, "text"), "text")])
    assert account.warnings == ()
    engine = Engine(
        provider, Journal(tmp_path), run_id="r", quotas=Quotas(registry, account=account)
    )
    engine.run([provider.text_request(plan.copy_jobs[0])], lambda _outcome: None)
    (pace,) = engine.paces
    assert (pace.model, pace.quota_per_min) == (TEXT, ACCOUNT_TPM)
    assert ACCOUNT_TPM != REGISTRY_TPM == registry.get(TEXT).tpm


def test_run_summary_names_each_quota_and_its_source(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.service_quotas[name_for(TEXT)] = ACCOUNT_TPM
    code, summary, err = run_json(tmp_path)
    assert code == ExitCode.OK, err
    assert quota_of(summary, TEXT) == {
        "model": TEXT,
        "unit": "tpm",
        "per_minute": ACCOUNT_TPM,
        "source": "account",
        "detail": "Cross-region model inference tokens per minute for Anthropic Claude Haiku 4.5",
    }
    image = quota_of(summary, IMAGE)
    assert (image["per_minute"], image["source"]) == (100_000, "setting")
    # The whole list was read, page by page (the fake answers four quotas a page).
    pages = fake_bedrock.calls("list_service_quotas")
    assert len(pages) == -(-len(applied(fake_bedrock.state)) // PAGE) > 1
    assert [p.body.get("NextToken") for p in pages[:3]] == [None, "4", "8"]
    assert all(p.body["ServiceCode"] == "bedrock" and p.body["MaxResults"] == 100 for p in pages)
    assert DENIED not in err


def test_the_summary_line_shows_the_accounts_quota(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.service_quotas[name_for(TEXT)] = ACCOUNT_TPM
    code, out, err = cli("run", brief(tmp_path), "--out", tmp_path / "out")
    assert code == ExitCode.OK, err
    assert (
        f"Quota {TEXT}: 123,000 tokens/min (account: Cross-region model inference tokens "
        "per minute for Anthropic Claude Haiku 4.5)"
    ) in out
    assert f"Quota {IMAGE}: 100,000 images/min (set by Campaign!" in out


def test_a_quota_setting_wins_over_the_account(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.behaviour.service_quotas[name_for(TEXT)] = ACCOUNT_TPM
    code, summary, err = run_json(tmp_path, "--set", f"quota.{HAIKU45}.tpm=77000")
    assert code == ExitCode.OK, err
    assert quota_of(summary, TEXT) == {
        "model": TEXT,
        "unit": "tpm",
        "per_minute": 77_000,
        "source": "setting",
        "detail": f"--set quota.{HAIKU45}.tpm",
    }


def test_with_every_quota_set_the_account_is_not_asked(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.service_quotas_denied = True  # would warn, if asked
    code, summary, err = run_json(tmp_path, "--set", f"quota.{TEXT}.tpm=90000")
    assert code == ExitCode.OK, err
    assert fake_bedrock.calls("list_service_quotas") == []
    assert DENIED not in err
    assert [q["source"] for q in summary["quotas"]] == ["setting", "setting"]


# ---------------------------------------------------------------- denied, cached


def test_denied_falls_back_to_registry_defaults_with_one_warning(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.service_quotas_denied = True
    code, summary, err = run_json(tmp_path)
    assert code == ExitCode.OK, err
    assert err.count(DENIED) == 1
    assert "servicequotas:ListServiceQuotas is not allowed" in err
    assert quota_of(summary, TEXT) == {
        "model": TEXT,
        "unit": "tpm",
        "per_minute": REGISTRY_TPM,
        "source": "registry",
        "detail": "registry default",
    }
    assert len(fake_bedrock.calls("converse")) == 1  # the run itself went ahead
    # A denial is not cached: the next run asks again, and says so again.
    code, _, err = run_json(tmp_path)
    assert err.count(DENIED) == 1
    assert len(fake_bedrock.calls("list_service_quotas")) == 2


def test_unreachable_service_quotas_warns_once(
    fake_bedrock: FakeBedrock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A port nothing listens on: the connection is refused at once.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", "http://127.0.0.1:9")
    code, summary, err = run_json(tmp_path)
    assert code == ExitCode.OK, err
    assert err.count(DENIED) == 1
    assert "could not be reached" in err
    assert quota_of(summary, TEXT)["source"] == "registry"


def test_the_answer_is_cached_for_a_day(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.behaviour.service_quotas[name_for(TEXT)] = ACCOUNT_TPM
    run_json(tmp_path)
    asked = len(fake_bedrock.calls("list_service_quotas"))
    assert asked > 1
    code, summary, err = run_json(tmp_path, "--fresh")
    assert code == ExitCode.OK, err
    assert len(fake_bedrock.calls("list_service_quotas")) == asked  # not asked again
    assert quota_of(summary, TEXT)["per_minute"] == ACCOUNT_TPM
    cached = (Path(user_environ()["XDG_CACHE_HOME"]) / "adloom").glob("service-quotas.*.json")
    assert [p.name for p in cached] == ["service-quotas.bedrock.us-east-1.default.json"]


def test_a_zero_quota_is_said_and_not_paced_at(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.behaviour.service_quotas[name_for(TEXT)] = 0
    code, summary, err = run_json(tmp_path)
    assert code == ExitCode.OK, err
    assert err.count("is 0 in us-east-1") == 1
    assert quota_of(summary, TEXT)["source"] == "registry"


# ---------------------------------------------------------------- doctor


def test_doctor_prints_the_applied_quotas(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.service_quotas[name_for(TEXT)] = ACCOUNT_TPM
    fake_bedrock.behaviour.service_quotas[name_for(IMAGE)] = 12
    code, out, err = cli("doctor")
    assert code == ExitCode.OK, err
    assert (
        f"quota {TEXT}: 123,000 tokens/min (account: Cross-region model inference tokens "
        "per minute for Anthropic Claude Haiku 4.5)"
    ) in out
    assert (
        f"quota {IMAGE}: 12 images/min (account: On-demand model inference images per "
        "minute for Stability.ai Stable Image Core)"
    ) in out
    code, out, err = cli("doctor", "--json")
    quotas = {q["model"]: q for q in json.loads(out)["quotas"]}
    assert (quotas[TEXT]["per_minute"], quotas[TEXT]["source"]) == (ACCOUNT_TPM, "account")


def test_doctor_without_the_permission_says_so_once(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.service_quotas_denied = True
    code, out, err = cli("doctor")
    assert code == ExitCode.OK, err  # quotas are optional: the checks still pass
    assert err.count(DENIED) == 1
    assert f"quota {TEXT}: 400,000 tokens/min (from the registry default)" in out
