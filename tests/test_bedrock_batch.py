"""Bedrock batch jobs: settings, batch-compatible copy bodies, jobs and their answers.

Real parts: S3 is moto's standalone server over HTTP (the ``s3`` fixtures; boto3
reaches it through ``AWS_ENDPOINT_URL_S3``), the batch control plane and the jobs
are the fake Bedrock's (records answered by its own Converse logic, outputs written
back to the moto S3), and on-demand sends go to the fake over HTTP.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from typing import Any

import pytest

from adloom.errors import ExitCode, InputError, ProviderError
from adloom.providers import ProviderConfig
from adloom.providers.base import (
    BatchAnswer,
    BatchLimits,
    BatchProgress,
    BatchSubmission,
    Request,
    Submitted,
)
from adloom.providers.bedrock import BedrockProvider
from adloom.providers.bedrock.batch import BedrockBatches
from adloom.providers.bedrock.text import required_fields
from adloom.registry import base_id, load_registry
from fakebedrock import FakeBedrock
from fakebedrock.behaviour import Behaviour, State
from fakebedrock.runtime import converse
from s3server import S3Bucket
from test_bedrock_provider import copy_job, registry
from test_rsa import PINNED
from test_rsa import job as rsa_job

NOVA_LITE = "amazon.nova-lite-v1:0"  # structured output by a forced tool on demand
NOVA_PRO = "amazon.nova-pro-v1:0"  # has flex and latency-optimized inference
HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # native structured output
COHERE = "cohere.command-r-v1:0"  # not offered in batch
ROLE = "arn:aws:iam::123456789012:role/adloom-batch"
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def settings(bucket: str, **more: str) -> dict[str, str]:
    return {"batch.s3_uri": f"s3://{bucket}/adloom/runs", "batch.role_arn": ROLE, **more}


def provider(settings: dict[str, str], **config: Any) -> BedrockProvider:
    cells = {key: f"Campaign!B{row}" for row, key in enumerate(sorted(settings), 7)}
    return BedrockProvider(
        ProviderConfig(registry=registry(), batch=True, settings=settings, cells=cells, **config)
    )


def batches_of(s3: S3Bucket, **more: str) -> BedrockBatches:
    return provider(settings(s3.name, **more)).batches()


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


def test_a_native_model_asks_in_the_prompt_in_batch_unless_told_native() -> None:
    """batch.structured_output: prompt by default (AWS's pages disagree on whether a
    batch record takes outputConfig), native when asked; anything else is refused."""
    body = provider({}).text_request(copy_job(HAIKU45)).body
    assert "outputConfig" not in body
    assert "JSON" in body["messages"][0]["content"][0]["text"]
    native = provider({"batch.structured_output": "native"}).text_request(copy_job(HAIKU45))
    assert native.body["outputConfig"]["textFormat"]["type"] == "json_schema"
    assert all("cachePoint" not in block for block in native.body["system"])
    with pytest.raises(InputError, match=r"batch.structured_output \"tools\" is not one of"):
        provider({"batch.structured_output": "tools"})


def test_a_responsive_search_ad_for_batch_asks_in_the_prompt(fake_bedrock: FakeBedrock) -> None:
    rsa = replace(rsa_job(PINNED, provider="bedrock"), model=NOVA_LITE)
    bedrock = provider({})
    request = bedrock.text_request(rsa)
    assert "toolConfig" not in request.body
    assert required_fields(request.body) == ("headlines", "descriptions")
    assert "headlines: exactly 12" in request.body["messages"][0]["content"][0]["text"]
    response = bedrock.send(request)  # valid on demand too
    assert response.status == "ok", response.error
    assert len(response.output["headlines"]) == 12


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
    s3: S3Bucket, change: dict[str, str], named: str
) -> None:
    given = {**settings(s3.name), **change}
    with pytest.raises(InputError) as caught:
        provider(given).batches()
    assert named in str(caught.value)
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert s3.keys() == []


def test_a_setting_given_with_set_is_named_so() -> None:
    config = ProviderConfig(
        registry=registry(), batch=True, settings=settings("my-bucket", **{"batch.kms_key": "x y"})
    )
    with pytest.raises(InputError, match=r'--set batch\.kms_key: batch\.kms_key "x y"'):
        BedrockProvider(config).batches()


def test_guardrails_are_refused_for_batch_jobs() -> None:
    with pytest.raises(InputError, match="--guardrail"):
        provider(settings("my-bucket"), guardrail="abc123:1").batches()


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
    # The registry's 1,024 MB, within Bedrock's input file limit of 10^9 bytes ("1 GB").
    assert (limits.min_records, limits.max_records, limits.max_bytes) == (100, 50_000, 10**9)
    assert batches.limits(COHERE) is None
    request = provider({}).text_request(copy_job(HAIKU45))
    worst = batches.worst_cost(request)
    expected = request.input_tokens * 0.50 + request.max_tokens * 2.50
    assert worst == pytest.approx(expected / 1e6)
    assert (info.batch_input_per_m, info.batch_output_per_m) == (0.50, 2.50)
    # Half the on-demand price through global. (geographic profiles cost 10% more).
    cheapest = registry().get(f"global.{base_id(HAIKU45)}")
    assert worst == pytest.approx(cheapest.text_cost(request.input_tokens, request.max_tokens) / 2)


def test_the_accounts_batch_quotas_replace_the_registrys(fake_bedrock: FakeBedrock) -> None:
    """Service Quotas names batch quotas by the model without its vendor ("Nova Lite V1");
    of two record limits (per job, per input file) the lower holds: one file a job; a
    file is never over 10^9 bytes; the quota of jobs at once is read too."""
    fake_bedrock.behaviour.service_quotas = {
        "Minimum number of records per batch inference job for Nova Lite V1": 1000,
        "Records per batch inference job for Nova Lite V1": 40_000,
        "Records per input file per batch inference job for Nova Lite V1": 20_000,
        "Batch inference input file size (in GB) for Nova Lite V1": 2,
        "Minimum number of records per batch inference job for Nova Micro V1": 500,
        "Sum of in-progress and submitted batch inference jobs using a base model for "
        "Nova Lite V1": 3,
    }
    batches = provider(settings("my-bucket")).batches()
    assert batches.limits(f"us.{NOVA_LITE}") == BatchLimits(1000, 20_000, 10**9, max_jobs=3)
    assert batches.limits(HAIKU45) == BatchLimits(100, 50_000, 10**9)  # none listed


def test_without_service_quotas_the_registrys_limits_hold(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.service_quotas_denied = True
    batches = provider(settings("my-bucket")).batches()
    assert batches.limits(NOVA_LITE) == BatchLimits(100, 50_000, 10**9)


def test_a_model_offered_in_batch_without_a_batch_price_is_refused() -> None:
    entry = load_registry().get(NOVA_LITE).model_dump(mode="json")
    del entry["batch_input_per_m"]
    with pytest.raises(InputError, match=r"amazon.nova-lite-v1:0\): .*batch_input_per_m"):
        load_registry().merged({"models": [entry]}, "mine.json")


# ------------------------------------------------------------------ jobs on the fake


def requests(count: int, model: str = HAIKU45) -> list[Request]:
    """``count`` different copy requests for ``model``, built for batch."""
    bedrock, job = provider({}), copy_job(model)
    return [
        bedrock.text_request(replace(job, brief=replace(job.brief, product=f"Kettle {n}")))
        for n in range(count)
    ]


def submission(asked: list[Request], name: str = "adloom-test-1") -> BatchSubmission:
    return BatchSubmission(name, asked[0].model, f"{name}-token", asked)


def wait(batches: BedrockBatches, job_id: str, seen: list[str] | None = None) -> BatchProgress:
    """Poll until the job ends (statuses seen, in order, go in ``seen``)."""
    deadline = time.monotonic() + 30  # a safety net, not a timing assertion
    while True:
        now = batches.progress(job_id)
        if seen is not None and (not seen or seen[-1] != now.status):
            seen.append(now.status)
        if now.ended or time.monotonic() > deadline:
            return now
        time.sleep(0.005)


def by_key(answers: list[BatchAnswer]) -> dict[str, BatchAnswer]:
    found = {a.key: a for a in answers}
    assert len(found) == len(answers)  # each record once
    return found


def test_submit_uploads_one_line_per_request_encrypted_and_starts_a_converse_job(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    fake_bedrock.behaviour.batch_min_records = 1
    asked = requests(3)
    batches = batches_of(s3, **{"batch.timeout_hours": "48"})
    job = batches.submit(submission(asked))

    key = "adloom/runs/adloom-test-1/input/adloom-test-1.jsonl"
    assert job.input_uri == f"s3://{s3.name}/{key}"
    assert job.output_uri == f"s3://{s3.name}/adloom/runs/adloom-test-1/output/"
    lines = [json.loads(line) for line in s3.read(key).decode().splitlines()]
    assert lines == [{"recordId": r.key, "modelInput": dict(r.body)} for r in asked]
    head = s3.client.head_object(Bucket=s3.name, Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    (created,) = fake_bedrock.calls("create_model_invocation_job")
    body = created.body
    assert body["jobName"] == "adloom-test-1"
    assert body["clientRequestToken"] == "adloom-test-1-token"
    assert (body["modelId"], body["roleArn"]) == (HAIKU45, ROLE)
    assert body["modelInvocationType"] == "Converse"
    assert body["timeoutDurationInHours"] == 48
    assert body["inputDataConfig"]["s3InputDataConfig"] == {
        "s3Uri": job.input_uri, "s3InputFormat": "JSONL"
    }  # fmt: skip
    assert body["outputDataConfig"] == {"s3OutputDataConfig": {"s3Uri": job.output_uri}}
    assert {"key": "created-by", "value": "adloom"} in body["tags"]
    assert job.job_id.startswith("arn:aws:bedrock:us-east-1:")
    assert wait(batches, job.job_id).status == "Completed"
    assert s3.keys("adloom/runs/") == sorted(
        [key, *(f"adloom/runs/adloom-test-1/output/{job.job_id.rsplit('/', 1)[-1]}/{name}"
                for name in ("adloom-test-1.jsonl.out", "manifest.json.out"))]
    )  # fmt: skip


def test_a_kms_key_encrypts_the_input_and_the_output(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    fake_bedrock.behaviour.batch_min_records = 1
    batches = batches_of(s3, **{"batch.kms_key": KMS})
    asked = requests(1)
    job = batches.submit(submission(asked))
    head = s3.client.head_object(Bucket=s3.name, Key=job.input_uri.split("/", 3)[3])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == KMS
    (created,) = fake_bedrock.calls("create_model_invocation_job")
    assert created.body["outputDataConfig"]["s3OutputDataConfig"]["s3EncryptionKeyId"] == KMS
    assert wait(batches, job.job_id).status == "Completed"
    (out,) = [k for k in s3.keys("adloom/runs/") if k.endswith(".jsonl.out")]
    assert s3.client.head_object(Bucket=s3.name, Key=out)["SSEKMSKeyId"] == KMS
    (answer,) = batches.answers(job, {asked[0].key: asked[0]})
    assert answer.response is not None


def test_the_same_token_twice_starts_one_job(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    fake_bedrock.behaviour.batch_min_records = 1
    asked = requests(2)
    batches = batches_of(s3)
    first = batches.submit(submission(asked))
    again = batches_of(s3).submit(submission(asked))  # a rerun: a new provider
    assert again == first
    assert len(fake_bedrock.state.jobs) == 1


def test_a_job_is_followed_to_its_end_and_its_answers_read_at_batch_prices(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    asked = requests(120)
    batches = batches_of(s3)
    job = batches.submit(submission(asked))
    seen: list[str] = []
    done = wait(batches, job.job_id, seen)
    assert done.status == "Completed", done.message
    assert seen[-1] == "Completed"
    assert set(seen) <= {"Submitted", "Validating", "Scheduled", "InProgress", "Completed"}
    assert (done.total, done.processed, done.succeeded, done.errors) == (120, 120, 120, 0)

    got = by_key(list(batches.answers(job, {r.key: r for r in asked})))
    assert set(got) == {r.key for r in asked}
    info = registry().get(HAIKU45)
    for request in asked:
        response = got[request.key].response
        assert response is not None
        assert response.status == "ok", response.error
        assert set(response.output) >= {"headline", "body", "cta"}
        usage = response.usage
        assert usage.cost_usd == pytest.approx(
            (usage.input_tokens * info.batch_input_per_m
             + usage.output_tokens * info.batch_output_per_m) / 1e6
        )  # fmt: skip
        assert 0 < usage.cost_usd <= batches.worst_cost(request)
    assert batches.skipped.count == 0


def test_a_tool_mode_model_built_for_batch_is_answered_by_the_job(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    """Nova Lite forces a tool on demand; the job would answer toolConfig with a 400."""
    fake_bedrock.behaviour.batch_min_records = 1
    asked = requests(5, NOVA_LITE)
    assert all("toolConfig" not in r.body for r in asked)
    batches = batches_of(s3)
    job = batches.submit(submission(asked))
    assert wait(batches, job.job_id).status == "Completed"
    got = by_key(list(batches.answers(job, {r.key: r for r in asked})))
    assert [got[r.key].response.status for r in asked] == ["ok"] * 5  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [400, 429, 500])
def test_error_records_say_why_and_none_is_taken_for_a_structured_output_refusal(
    fake_bedrock: FakeBedrock, s3: S3Bucket, code: int
) -> None:
    fake_bedrock.behaviour.batch_min_records = 1
    fake_bedrock.behaviour.batch_error_records = 2
    fake_bedrock.behaviour.batch_error_code = code
    asked = requests(4)
    batches = batches_of(s3)
    job = batches.submit(submission(asked))
    assert wait(batches, job.job_id).status == "PartiallyCompleted"
    got = by_key(list(batches.answers(job, {r.key: r for r in asked})))
    for request in asked[:2]:
        answer = got[request.key]
        assert answer.response is None
        assert not answer.structured_refused  # a prompt-form record: nothing native refused
        assert f"({code}: " in answer.error
    assert all(got[r.key].response is not None for r in asked[2:])


def test_records_missing_from_the_output_are_not_returned(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    fake_bedrock.behaviour.batch_min_records = 1
    fake_bedrock.behaviour.batch_missing_records = 2
    asked = requests(5)
    batches = batches_of(s3)
    job = batches.submit(submission(asked))
    done = wait(batches, job.job_id)
    assert done.status == "PartiallyCompleted"
    assert (done.total, done.processed) == (5, 3)
    got = by_key(list(batches.answers(job, {r.key: r for r in asked})))
    assert set(got) == {r.key for r in asked[:3]}


def test_a_failed_job_reports_the_service_message(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    fake_bedrock.behaviour.batch_s3_denied = True  # the role cannot read the input
    batches = batches_of(s3)
    job = batches.submit(submission(requests(100)))
    done = wait(batches, job.job_id)
    assert done.status == "Failed"
    assert ROLE in done.message
    assert list(batches.answers(job, {})) == []


def test_stop_stops_a_running_job_and_an_ended_one_is_left_alone(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Any
) -> None:
    fake_bedrock.behaviour.batch_min_records = 1
    fake_bedrock.behaviour.batch_release = str(tmp_path / "never")
    batches = batches_of(s3)
    job = batches.submit(submission(requests(2)))
    deadline = time.monotonic() + 30
    while batches.progress(job.job_id).status != "InProgress" and time.monotonic() < deadline:
        time.sleep(0.005)
    batches.stop(job.job_id)
    assert wait(batches, job.job_id).status == "Stopped"
    batches.stop(job.job_id)  # already ended: the service refuses, adloom lets it be
    stops = fake_bedrock.calls("stop_model_invocation_job")
    assert [r.status for r in stops][1:] == [409]


# ------------------------------------------------------------------ what S3 and IAM refuse


def refused(batches: BedrockBatches, asked: list[Request]) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        batches.submit(submission(asked))
    assert caught.value.exit_code == ExitCode.PROVIDER
    return caught.value


def test_no_bucket_names_the_setting(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    bucket = s3.absent_uri.removeprefix("s3://")
    error = refused(provider(settings(bucket)).batches(), requests(1))
    assert f'S3 bucket "{bucket}" does not exist (batch.s3_uri, Campaign!B8)' in error.message
    assert "fix batch.s3_uri" in (error.hint or "")
    assert fake_bedrock.calls("create_model_invocation_job") == []


def test_a_bucket_in_another_region_is_named_before_anything_is_uploaded(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    elsewhere = f"{s3.name}-eu"
    s3.client.create_bucket(
        Bucket=elsewhere, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    error = refused(provider(settings(elsewhere)).batches(), requests(1))
    assert error.message == (
        f'S3 bucket "{elsewhere}" is in eu-west-1, not in this run\'s region us-east-1.'
    )
    assert "--region eu-west-1" in (error.hint or "")
    assert "batch.s3_uri (Campaign!B8)" in (error.hint or "")
    assert s3.client.list_objects_v2(Bucket=elsewhere).get("KeyCount") == 0


def test_a_denied_upload_names_s3_put_object(s3_denied: S3Bucket) -> None:
    error = refused(batches_of(s3_denied), requests(1))
    assert error.message.startswith(
        f"s3:PutObject is not allowed on arn:aws:s3:::{s3_denied.name}/adloom/runs/*: "
    )
    assert f"Allow s3:PutObject on arn:aws:s3:::{s3_denied.name}/adloom/runs/*" in (
        error.hint or ""
    )
    assert s3_denied.keys() == []


def test_pass_role_denied_names_the_role(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    fake_bedrock.behaviour.batch_passrole_denied = True
    error = refused(batches_of(s3), requests(1))
    assert error.message.startswith(f"iam:PassRole is not allowed on {ROLE}: ")


def test_create_denied_names_the_bedrock_permission(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    fake_bedrock.behaviour.control_denied = True
    error = refused(batches_of(s3), requests(1))
    assert error.message.startswith(
        f'bedrock:CreateModelInvocationJob is not allowed on model "{HAIKU45}": '
    )


def test_a_role_bedrock_cannot_assume_points_at_its_trust_policy(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    fake_bedrock.behaviour.batch_role_unassumable = True
    error = refused(batches_of(s3), requests(1))
    assert error.message.startswith(f"Bedrock cannot assume the batch role {ROLE}: ")
    assert "bedrock.amazonaws.com" in (error.hint or "")


# ------------------------------------------------------------------ answers as written


def model_output(request: Request, behaviour: Behaviour | None = None) -> dict[str, Any]:
    """What the model answers to ``request``: the fake runtime's own Converse logic."""
    return converse(State(behaviour), request.model, request.body, "us-east-1")


def written(s3: S3Bucket, lines: list[str]) -> Submitted:
    """A finished job whose output holds ``lines`` (as Bedrock writes them)."""
    folder = "adloom/runs/job-1"
    s3.put(f"{folder}/output/abc123def456/job-1.jsonl.out", "\n".join(lines) + "\n")
    s3.put(f"{folder}/output/abc123def456/manifest.json.out", "{}")
    job_arn = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123def456"
    return Submitted(job_arn, s3.uri(folder, "input/job-1.jsonl"), s3.uri(folder, "output") + "/")


def line(request: Request, **fields: Any) -> str:
    return json.dumps({"recordId": request.key, "modelInput": request.body, **fields})


def test_answers_join_shuffled_lines_and_validate_like_on_demand(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    good, malformed = requests(2)
    output = [
        line(good, modelOutput=model_output(good)),
        line(malformed, modelOutput=model_output(malformed, Behaviour(malformed=1))),
    ]
    random.Random(7).shuffle(output)  # noqa: S311 - an order, not a secret
    batches = batches_of(s3)
    records = {good.key: good, malformed.key: malformed}
    got = by_key(list(batches.answers(written(s3, output), records)))
    answer, spoiled = got[good.key].response, got[malformed.key].response
    assert answer is not None
    assert answer.status == "ok", answer.error
    assert spoiled is not None
    assert spoiled.status == "failed"
    assert spoiled.error


def test_lines_that_are_not_answers_are_skipped_with_a_note(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    (asked,) = requests(1, NOVA_LITE)
    stranger = json.dumps({"recordId": "f" * 64, "modelOutput": model_output(asked)})
    job = written(s3, ["{not json", stranger, "", line(asked, modelOutput=model_output(asked))])
    batches = batches_of(s3)
    got = list(batches.answers(job, {asked.key: asked}))
    assert [a.key for a in got] == [asked.key]
    response = got[0].response
    assert response is not None
    assert response.status == "ok", response.error
    assert batches.skipped.count == 2
    assert batches.skipped.examples[0].endswith("job-1.jsonl.out line 1: not JSON")
    assert "line 2: record id 'fff" in batches.skipped.examples[1]
