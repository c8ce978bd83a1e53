"""What each way a Bedrock call can fail becomes: retry, fail one variant, or stop (exit 3).

The fake answers with the service's error codes and messages over HTTP; botocore
parses them as it would in production (and, configured with max_attempts=1, never
retries them itself: each failure reaches the fake exactly once).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adloom.errors import CredentialsError, ExitCode, ModelAccessError, ProviderError
from adloom.providers import ProviderConfig
from adloom.providers.base import RequestFailed, TransientError
from adloom.providers.bedrock import BedrockProvider, Timeouts
from adloom.registry import load_registry
from conftest import FAKE_KEY_ID, FAKE_SECRET
from fakebedrock import FakeBedrock, Fault
from test_bedrock_provider import HAIKU45, NOVA_LITE, TITAN, copy_job, image_job, provider


def send_text(model: str = HAIKU45, **config: object) -> object:
    p = provider(**config)
    return p.send(p.text_request(copy_job(model)))


@pytest.mark.parametrize(
    ("kind", "throttled"),
    [("throttle", True), ("not_ready", False), ("unavailable", False), ("internal", False),
     ("timeout", False)],
)  # fmt: skip
def test_transient_failures_are_retried_by_the_engine_not_botocore(
    fake_bedrock: FakeBedrock, kind: str, throttled: bool
) -> None:
    fake_bedrock.behaviour.faults = [Fault(kind, count=1)]
    with pytest.raises(TransientError) as exc:
        send_text()
    assert exc.value.throttled is throttled
    assert len(fake_bedrock.calls("converse")) == 1  # botocore did not retry
    assert send_text().status == "ok"  # type: ignore[attr-defined]


def test_token_quota_throttle_is_a_throttle(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.quotas = {"amazon.nova-lite-v1:0": 60}  # far below one request
    with pytest.raises(TransientError, match="Too many tokens") as exc:
        send_text(NOVA_LITE)
    assert exc.value.throttled


def test_hung_connection_times_out_as_transient(fake_bedrock: FakeBedrock) -> None:
    # The hang outlasts any wait but the client's: had it waited on, the answer would come
    # (no error). The fake's stop ends the hang, so it never holds the suite.
    fake_bedrock.behaviour.faults = [Fault("hang", count=1, seconds=120)]
    p = BedrockProvider(
        ProviderConfig(registry=load_registry()), timeouts=Timeouts(connect=1, text=0.3)
    )
    with pytest.raises(TransientError, match="no answer"):
        p.send(p.text_request(copy_job()))


def test_timeouts_come_from_settings() -> None:
    timeouts = Timeouts.from_settings({"bedrock.text_timeout": "12", "bedrock.image_timeout": "90"})
    assert (timeouts.connect, timeouts.text, timeouts.image) == (10.0, 12.0, 90.0)
    config = BedrockProvider(ProviderConfig(registry=load_registry())).clients
    assert config.timeouts == Timeouts()


def test_access_denied_stops_the_run_with_what_to_do(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.access_denied = ["anthropic.claude-haiku-4-5-20251001-v1:0"]
    with pytest.raises(ModelAccessError) as exc:
        send_text()
    assert exc.value.exit_code == ExitCode.PROVIDER
    assert f'"{HAIKU45}"' in exc.value.message
    assert "region us-east-1" in exc.value.message
    assert "Enable model access for anthropic.claude-haiku-4-5" in (exc.value.hint or "")


def test_on_demand_refusal_suggests_the_inference_profile(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    # A registry entry that (wrongly) says the base id works on demand: the service
    # refuses, and the message names the profile ids to use instead.
    entry = load_registry().get(HAIKU45).model_dump(mode="json")
    entry["on_demand"] = True
    reg = load_registry().merged({"models": [entry]}, "test")
    p = BedrockProvider(ProviderConfig(registry=reg))
    base = HAIKU45.removeprefix("us.")
    with pytest.raises(ModelAccessError, match="on-demand throughput") as exc:
        p.send(p.text_request(copy_job(base)))
    assert f"e.g. us.{base}" in (exc.value.hint or "")
    assert f"global.{base}" in (exc.value.hint or "")


def test_retired_and_missing_models(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.retired = ["amazon.nova-lite-v1:0"]
    with pytest.raises(ModelAccessError, match="end of life") as exc:
        send_text(NOVA_LITE)
    assert "current text model" in (exc.value.hint or "")
    fake_bedrock.behaviour.retired = []
    fake_bedrock.behaviour.not_in_region = ["amazon.nova-lite-v1:0"]
    with pytest.raises(ModelAccessError, match="not available in region us-east-1") as exc:
        send_text(NOVA_LITE)
    assert "--region" in (exc.value.hint or "")


def test_quota_and_model_errors(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.faults = [Fault("quota", op="invoke"), Fault("model_error")]
    p = provider()
    with pytest.raises(ProviderError, match="service quota") as quota:
        p.send(p.image_request(image_job(TITAN, "1:1")))
    assert not isinstance(quota.value, ModelAccessError)
    with pytest.raises(RequestFailed, match="failed to answer"):
        send_text()


def test_expired_credentials_stop_the_run(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.expired_keys = [fake_bedrock.key]
    with pytest.raises(CredentialsError, match="ExpiredTokenException"):
        send_text()


def test_no_credentials_names_the_draft_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest points config files at nothing and disables instance metadata.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    p = BedrockProvider(ProviderConfig(registry=load_registry()))
    with pytest.raises(CredentialsError) as exc:
        p.check()
    assert exc.value.exit_code == ExitCode.PROVIDER
    assert "No AWS credentials found" in exc.value.message
    assert "--provider draft" in (exc.value.hint or "")


def test_unknown_profile_and_missing_region(monkeypatch: pytest.MonkeyPatch) -> None:
    p = BedrockProvider(ProviderConfig(registry=load_registry(), profile="nope"))
    with pytest.raises(CredentialsError, match='profile "nope" not found'):
        p.check()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with pytest.raises(ProviderError, match="No AWS region") as exc:
        BedrockProvider(ProviderConfig(registry=load_registry())).check()
    assert "--region" in (exc.value.hint or "")


def test_profile_and_region_come_from_the_aws_config(
    fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("[profile marketing]\nregion = eu-west-1\n")
    credentials.write_text(f"[marketing]\naws_access_key_id = {fake_bedrock.key}\n"
                           "aws_secret_access_key = from-file\n")  # fmt: skip
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    p = provider(profile="marketing")
    p.check()
    assert p.clients.credential_method() == "shared-credentials-file"
    assert p.send(p.text_request(copy_job("amazon.nova-lite-v1:0"))).status == "ok"
    assert fake_bedrock.requests[-1].region == "eu-west-1"
    # --region wins over the profile's.
    p = provider(profile="marketing", region="us-west-2")
    p.send(p.text_request(copy_job("amazon.nova-lite-v1:0")))
    assert fake_bedrock.requests[-1].region == "us-west-2"


def test_endpoint_comes_only_from_the_environment(fake_bedrock: FakeBedrock) -> None:
    # Every request above reached the fake through AWS_ENDPOINT_URL_BEDROCK_RUNTIME; the
    # client config carries no endpoint of its own.
    p = provider()
    client = p.clients.runtime("text")
    assert client.meta.endpoint_url == fake_bedrock.url
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert config.max_pool_connections >= 64
    assert config.read_timeout == 60
    assert p.clients.runtime("image").meta.config.read_timeout == 300


def test_error_bodies_keep_no_secrets(fake_bedrock: FakeBedrock) -> None:
    send_text()
    dumped = json.dumps([r.__dict__ for r in fake_bedrock.requests])
    assert FAKE_SECRET not in dumped
    assert "Signature=" not in dumped
