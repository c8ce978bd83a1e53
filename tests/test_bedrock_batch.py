"""Bedrock batch jobs: settings, batch-compatible copy bodies, and the answers read back.

Real parts: S3 is moto's standalone server over HTTP (boto3 reaches it through
``AWS_ENDPOINT_URL_S3``), the answers in a job's output are written by the fake
Bedrock's own Converse logic, and on-demand sends go to the fake over HTTP.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from adloom.errors import ExitCode, InputError, ProviderError
from adloom.providers import ProviderConfig
from adloom.providers.base import Request, Submitted
from adloom.providers.bedrock import BedrockProvider
from adloom.providers.bedrock.batch import BedrockBatches
from adloom.registry import load_registry
from fakebedrock import FakeBedrock
from fakebedrock.behaviour import Behaviour, State
from fakebedrock.runtime import converse
from test_bedrock_provider import copy_job, registry

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

NOVA_LITE = "amazon.nova-lite-v1:0"  # structured output by a forced tool on demand
NOVA_PRO = "amazon.nova-pro-v1:0"  # has flex and latency-optimized inference
HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # native structured output
COHERE = "cohere.command-r-v1:0"  # not offered in batch
ROLE = "arn:aws:iam::123456789012:role/adloom-batch"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(moto_url: str, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket in the moto S3 (the fake Bedrock's credentials and region)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_url)
    name = f"adloom-{secrets.token_hex(6)}"
    s3_client().create_bucket(Bucket=name)
    return name


def s3_client() -> S3Client:
    return boto3.client("s3")


def settings(bucket: str, **more: str) -> dict[str, str]:
    return {"batch.s3_uri": f"s3://{bucket}/adloom/runs", "batch.role_arn": ROLE, **more}


def provider(settings: dict[str, str], **config: Any) -> BedrockProvider:
    cells = {key: f"Campaign!B{row}" for row, key in enumerate(sorted(settings), 7)}
    return BedrockProvider(
        ProviderConfig(registry=registry(), batch=True, settings=settings, cells=cells, **config)
    )


def objects(bucket: str) -> list[str]:
    listed = s3_client().list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


# ------------------------------------------------------------------ copy bodies


def test_tool_model_batch_body_has_no_tool_config_and_is_valid_on_demand(
    fake_bedrock: FakeBedrock,
) -> None:
    """Converse batch jobs refuse toolConfig: a tool-mode model asks in the prompt, and
    the same body still answers on-demand (a record the job missed goes that way)."""
    bedrock = provider({})
    request = bedrock.text_request(copy_job(NOVA_LITE))
    assert "toolConfig" not in request.body
    assert "JSON" in request.body["messages"][0]["content"][0]["text"]
    response = bedrock.send(request)
    assert response.status == "ok", response.error
    assert response.output["headline"]
    on_demand = BedrockProvider(ProviderConfig(registry=registry()))
    assert "toolConfig" in on_demand.text_request(copy_job(NOVA_LITE)).body


def test_batch_body_leaves_out_what_only_on_demand_takes() -> None:
    """No service tier, no latency option, no cache point; priced at the default tier."""
    bedrock = provider({}, tier="flex", latency="optimized")
    request = bedrock.text_request(copy_job(NOVA_PRO))
    body = request.body
    assert not {"serviceTier", "performanceConfig", "toolConfig"} & set(body)
    assert all("cachePoint" not in block for block in body["system"])
    info = registry().get(NOVA_PRO)
    assert request.max_cost_usd == pytest.approx(
        info.text_cost(request.input_tokens, request.max_tokens)
    )


def test_native_model_keeps_its_json_schema_in_batch() -> None:
    body = provider({}).text_request(copy_job(HAIKU45)).body
    assert body["outputConfig"]["textFormat"]["type"] == "json_schema"
    assert all("cachePoint" not in block for block in body["system"])


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"batch.s3_uri": ""}, "batch.s3_uri is not set"),
        ({"batch.s3_uri": "https://bucket/x"}, 'Campaign!B8: batch.s3_uri "https://bucket/x"'),
        ({"batch.s3_uri": "s3://Bad_Bucket/x"}, "batch.s3_uri"),
        ({"batch.s3_uri": "s3://bucket/a b"}, "not an S3 folder"),
        ({"batch.role_arn": ""}, "batch.role_arn is not set"),
        ({"batch.role_arn": "arn:aws:iam::123:role/x"}, 'Campaign!B7: batch.role_arn "arn:'),
        ({"batch.timeout_hours": "12"}, 'batch.timeout_hours "12": out of range'),
        ({"batch.timeout_hours": "nan"}, "batch.timeout_hours"),
        ({"batch.kms_key": "my key"}, 'batch.kms_key "my key": not a KMS key'),
    ],
)
def test_missing_or_malformed_settings_stop_before_anything_is_uploaded(
    bucket: str, change: dict[str, str], named: str
) -> None:
    given = {**settings(bucket), **change}
    with pytest.raises(InputError) as caught:
        provider(given).batches()
    assert named in str(caught.value)
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert objects(bucket) == []


def test_a_setting_given_with_set_is_named_so(bucket: str) -> None:
    config = ProviderConfig(
        registry=registry(), batch=True, settings=settings(bucket, **{"batch.kms_key": "x y"})
    )
    with pytest.raises(InputError, match=r'--set batch\.kms_key: batch\.kms_key "x y"'):
        BedrockProvider(config).batches()


def test_guardrails_are_refused_for_batch_jobs(bucket: str) -> None:
    with pytest.raises(InputError, match="--guardrail"):
        provider(settings(bucket), guardrail="abc123:1").batches()


def test_good_settings_are_read() -> None:
    given = settings("my-bucket", **{"batch.timeout_hours": "72", "batch.kms_key": "alias/adloom"})
    batches = provider(given).batches()
    assert isinstance(batches, BedrockBatches)
    s = batches.settings
    assert (s.bucket, s.prefix, s.role_arn, s.timeout_hours, s.kms_key) == (
        "my-bucket", "adloom/runs", ROLE, 72, "alias/adloom"
    )  # fmt: skip
    assert provider(given).batches() is not batches  # one a provider, cached
    bedrock = provider(given)
    assert bedrock.batches() is bedrock.batches()


# ------------------------------------------------------------------ limits and prices


def test_limits_and_worst_cost_come_from_the_registry() -> None:
    batches = provider(settings("my-bucket")).batches()
    limits = batches.limits(HAIKU45)
    info = registry().get(HAIKU45)
    assert limits is not None
    assert (limits.min_records, limits.max_records, limits.max_bytes) == (100, 50_000, 1024**3)
    assert batches.limits(COHERE) is None
    request = provider({}).text_request(copy_job(HAIKU45))
    worst = batches.worst_cost(request)
    expected = request.input_tokens * 0.50 + request.max_tokens * 2.50
    assert worst == pytest.approx(expected / 1e6)
    assert (info.batch_input_per_m, info.batch_output_per_m) == (0.50, 2.50)
    assert worst == pytest.approx(info.text_cost(request.input_tokens, request.max_tokens) / 2)


def test_a_model_offered_in_batch_without_a_batch_price_is_refused() -> None:
    entry = load_registry().get(NOVA_LITE).model_dump(mode="json")
    del entry["batch_input_per_m"]
    with pytest.raises(InputError, match=r"amazon.nova-lite-v1:0\): .*batch_input_per_m"):
        load_registry().merged({"models": [entry]}, "mine.json")


# ------------------------------------------------------------------ answers


def model_output(request: Request, behaviour: Behaviour | None = None) -> dict[str, Any]:
    """What the model answers to ``request``: the fake runtime's own Converse logic."""
    return converse(State(behaviour), request.model, request.body, "us-east-1")


def write_output(bucket: str, job: Submitted, lines: list[str], name: str = "in.jsonl") -> None:
    job_folder = job.output_uri.removeprefix(f"s3://{bucket}/") + "abc123def456/"
    body = "\n".join(lines).encode() + b"\n"
    s3_client().put_object(Bucket=bucket, Key=f"{job_folder}{name}.out", Body=body)
    s3_client().put_object(Bucket=bucket, Key=f"{job_folder}manifest.json.out", Body=b"{}")


def requests(count: int, model: str = HAIKU45) -> list[Request]:
    bedrock = provider({})
    return [bedrock.text_request(copy_job(model, product=f"Kettle {n}")) for n in range(count)]


def submitted(bucket: str) -> Submitted:
    folder = f"s3://{bucket}/adloom/runs/job-1"
    job_arn = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123def456"
    return Submitted(job_arn, f"{folder}/input/job-1.jsonl", f"{folder}/output/")


def line(request: Request, **fields: Any) -> str:
    return json.dumps({"recordId": request.key, "modelInput": request.body, **fields})


def test_answers_join_shuffled_output_validate_and_price_at_batch_prices(bucket: str) -> None:
    asked = requests(6)
    good, malformed, bad_request, throttled, failed, missing = asked
    output = [
        line(good, modelOutput=model_output(good)),
        line(malformed, modelOutput=model_output(malformed, Behaviour(malformed=1))),
        line(bad_request, error={"errorCode": 400, "errorMessage": "Malformed input request"}),
        line(throttled, error={"errorCode": 429, "errorMessage": "Too many requests"}),
        line(failed, error={"errorCode": 500, "errorMessage": "Internal error"}),
    ]
    random.Random(7).shuffle(output)  # noqa: S311 - an order, not a secret
    job = submitted(bucket)
    write_output(bucket, job, output)
    batches = provider(settings(bucket)).batches()
    got = {a.key: a for a in batches.answers(job, {r.key: r for r in asked})}

    assert set(got) == {r.key for r in asked} - {missing.key}
    answer = got[good.key].response
    assert answer is not None
    assert answer.status == "ok", answer.error
    info = registry().get(HAIKU45)
    usage = answer.usage
    assert usage.cost_usd == pytest.approx(
        (usage.input_tokens * info.batch_input_per_m + usage.output_tokens * 2.50) / 1e6
    )
    assert usage.cost_usd > 0
    spoiled = got[malformed.key].response
    assert spoiled is not None
    assert spoiled.status == "failed"
    assert spoiled.error
    assert got[bad_request.key].retry is False
    assert "400: Malformed input request" in got[bad_request.key].error
    assert got[throttled.key].retry is True
    assert got[failed.key].retry is True
    assert batches.skipped == []


def test_lines_that_are_not_answers_are_skipped_with_a_note(bucket: str) -> None:
    (asked,) = requests(1, NOVA_LITE)
    stranger = json.dumps({"recordId": "f" * 64, "modelOutput": model_output(asked)})
    job = submitted(bucket)
    write_output(
        bucket, job, ["{not json", stranger, "", line(asked, modelOutput=model_output(asked))]
    )
    batches = provider(settings(bucket)).batches()
    got = list(batches.answers(job, {asked.key: asked}))
    assert [a.key for a in got] == [asked.key]
    response = got[0].response
    assert response is not None
    assert response.status == "ok", response.error
    assert len(batches.skipped) == 2
    assert batches.skipped[0].endswith("in.jsonl.out line 1: not JSON")
    assert "line 2: record id 'fff" in batches.skipped[1]


def test_a_missing_bucket_is_named_with_the_setting(bucket: str) -> None:
    given = settings("adloom-no-such-bucket")
    batches = provider(given).batches()
    job = submitted("adloom-no-such-bucket")
    with pytest.raises(ProviderError) as caught:
        list(batches.answers(job, {}))
    assert caught.value.exit_code == ExitCode.PROVIDER
    assert 'S3 bucket "adloom-no-such-bucket" does not exist (batch.s3_uri, Campaign!B8)' in str(
        caught.value
    )
    assert "fix batch.s3_uri" in (caught.value.hint or "")
