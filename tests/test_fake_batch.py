"""The fake Bedrock's batch inference jobs, driven by plain boto3 (``bedrock`` and
``s3`` clients) against the fake and moto's S3: strict like the service, right in
what it writes back, and scriptable (clock, faults, hold).
"""

from __future__ import annotations

import functools
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fakebedrock import FakeBedrock, as_process
from fakebedrock.shapes import validate_output
from s3server import S3Bucket

ROOT = Path(__file__).resolve().parents[1]
HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
ROLE = "arn:aws:iam::123456789012:role/adloom-batch"
ENDED = {"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"}
COPY_SCHEMA = {
    "type": "object",
    "properties": {
        "headline": {"type": "string", "description": "at most 30 characters"},
        "body": {"type": "string", "description": "at most 90 characters"},
        "cta": {"type": "string", "description": "at most 20 characters"},
    },
    "required": ["headline", "body", "cta"],
    "additionalProperties": False,
}


def bedrock(**config: Any) -> Any:
    """A client for this test's credentials and endpoint (boto3's default session keeps
    the first credentials it resolved); made once for each."""
    env = tuple(os.environ.get(f"AWS_{n}", "") for n in ("ACCESS_KEY_ID", "ENDPOINT_URL_BEDROCK"))
    return _client(env, json.dumps(config, sort_keys=True))


@functools.cache
def _client(env: tuple[str, ...], config: str) -> Any:
    options = {"retries": {"max_attempts": 1}, **json.loads(config)}
    return boto3.session.Session().client("bedrock", config=Config(**options))


def record(i: int, **extra: Any) -> dict[str, Any]:
    """A copy request as a batch record: the schema in the prompt (any model)."""
    prompt = (
        f"Product: Mug {i}\nMessage: Keeps coffee hot\nCall to action: Shop now\n"
        f"Write variant {i}. Answer with JSON:\n{json.dumps(COPY_SCHEMA)}"
    )
    body = {
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
        "inferenceConfig": {"maxTokens": 400},
        **extra,
    }
    return {"recordId": f"REC{i:08d}", "modelInput": body}


def upload(s3: S3Bucket, records: list[dict[str, Any]], key: str = "in/copy.jsonl") -> str:
    s3.put(key, "".join(json.dumps(r) + "\n" for r in records))
    return s3.uri(key)


def create(s3: S3Bucket, input_uri: str, **overrides: Any) -> str:
    request: dict[str, Any] = {
        "jobName": "adloom-test-job",
        "roleArn": ROLE,
        "modelId": NOVA_LITE,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": s3.uri("out")}},
        "modelInvocationType": "Converse",
        "timeoutDurationInHours": 24,
        **overrides,
    }
    arn: str = bedrock().create_model_invocation_job(**request)["jobArn"]
    return arn


def wait(arn: str, until: Callable[[dict[str, Any]], bool] = lambda j: j["status"] in ENDED,
         seen: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Poll GetModelInvocationJob until ``until`` holds (statuses seen go in ``seen``)."""
    client = bedrock()
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = client.get_model_invocation_job(jobIdentifier=arn)
        if seen is not None and (not seen or seen[-1] != job["status"]):
            seen.append(job["status"])
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.005)


def outputs(s3: S3Bucket, arn: str, name: str = "copy.jsonl") -> list[dict[str, Any]]:
    job_id = arn.rsplit("/", 1)[-1]
    data = s3.read(f"out/{job_id}/{name}.out").decode()
    return [json.loads(line) for line in data.splitlines()]


def manifest(s3: S3Bucket, arn: str) -> dict[str, Any]:
    job_id = arn.rsplit("/", 1)[-1]
    found: dict[str, Any] = json.loads(s3.read(f"out/{job_id}/manifest.json.out"))
    return found


def test_a_job_answers_every_record_in_shuffled_order(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    records = [record(i) for i in range(150)]
    arn = create(s3, upload(s3, records))
    seen: list[str] = []
    job = wait(arn, seen=seen)
    assert job["status"] == "Completed", job.get("message")
    lines = outputs(s3, arn)
    assert [line["recordId"] for line in lines] != [r["recordId"] for r in records]  # shuffled
    by_id = {line["recordId"]: line for line in lines}
    assert sorted(by_id) == sorted(r["recordId"] for r in records)
    for r in records:
        line = by_id[r["recordId"]]
        assert line["modelInput"] == r["modelInput"]
        assert validate_output("bedrock-runtime", "Converse", line["modelOutput"]) == []
        text = line["modelOutput"]["output"]["message"]["content"][0]["text"]
        copy = json.loads(text.split("```json\n", 1)[1].split("\n```")[0])
        assert copy["headline"].startswith(f"Mug {r['recordId'][3:].lstrip('0') or '0'}")
    m = manifest(s3, arn)
    assert m["totalRecordCount"] == m["processedRecordCount"] == m["successRecordCount"] == 150
    assert m["errorRecordCount"] == 0
    assert m["inputTokenCount"] > 150
    assert m["outputTokenCount"] > 150
    assert (job["totalRecordCount"], job["successRecordCount"]) == (150, 150)
    assert set(s3.keys("out/")) == {
        f"out/{arn.rsplit('/', 1)[-1]}/copy.jsonl.out",
        f"out/{arn.rsplit('/', 1)[-1]}/manifest.json.out",
    }
    assert len(fake_bedrock.calls("create_model_invocation_job")) == 1
    assert job["endTime"] >= job["submitTime"]


ORDER = ["Submitted", "Validating", "Scheduled", "InProgress", "Completed"]


def test_status_moves_forward_on_the_clock_and_holds_until_released(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    fake_bedrock.behaviour.batch_release = str(release)
    fake_bedrock.behaviour.batch_records_per_second = 1000  # 150 records: about 0.15 s
    arn = create(s3, upload(s3, [record(i) for i in range(150)]))
    seen: list[str] = []
    held = wait(arn, lambda j: j["status"] == "InProgress", seen)
    assert held["processedRecordCount"] == 0  # held: nothing answered yet
    assert held["totalRecordCount"] == 150
    assert not s3.keys("out/")
    release.touch()
    counts: list[int] = []
    job = wait(arn, lambda j: counts.append(j.get("processedRecordCount", 0)) or j["status"]
               in ENDED, seen)  # fmt: skip
    assert job["status"] == "Completed"
    assert seen == [s for s in ORDER if s in seen]  # forward only, in the documented order
    assert seen[-2:] == ["InProgress", "Completed"]
    assert counts == sorted(counts)
    assert counts[-1] == 150
    assert outputs(s3, arn)  # in S3 by the time the status says Completed


def test_a_token_used_again_answers_the_same_job(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    uri = upload(s3, [record(i) for i in range(100)])
    first = create(s3, uri, clientRequestToken="adloom-abc123")
    again = create(s3, uri, clientRequestToken="adloom-abc123")
    assert again == first
    assert len(fake_bedrock.calls("create_model_invocation_job")) == 2
    assert len(bedrock().list_model_invocation_jobs()["invocationJobSummaries"]) == 1
    with pytest.raises(ClientError) as other_request:
        create(s3, uri, clientRequestToken="adloom-abc123", timeoutDurationInHours=48)
    with pytest.raises(ClientError) as same_name:
        create(s3, uri, clientRequestToken="adloom-other")
    for error in (other_request, same_name):
        assert error.value.response["Error"]["Code"] == "ConflictException"
    assert wait(first)["status"] == "Completed"


@pytest.mark.parametrize(
    ("override", "wording"),
    [
        ({"jobName": "bad name!"}, "at 'jobName' failed to satisfy constraint"),
        ({"roleArn": "adloom-batch"}, "at 'roleArn' failed to satisfy constraint"),
        ({"timeoutDurationInHours": 12}, "greater than or equal to 24"),
        ({"timeoutDurationInHours": 169}, "less than or equal to 168"),
        ({"modelInvocationType": "Chat"}, "enum value set"),
        (
            {"inputDataConfig": {"s3InputDataConfig": {"s3Uri": "https://bucket/in.jsonl"}}},
            "at 'inputDataConfig.s3InputDataConfig.s3Uri' failed to satisfy constraint",
        ),
        ({"modelId": "amazon.titan-image-generator-v2:0"}, "doesn't support batch inference"),
        ({"modelId": "cohere.command-r-v1:0"}, "doesn't support batch inference"),
        ({"modelId": "acme.nothing-v1:0"}, "The provided model identifier is invalid."),
        ({"modelInvocationType": "InvokeModel"}, "Converse only"),
    ],
)
def test_bad_requests_are_refused_like_the_service(
    fake_bedrock: FakeBedrock, s3: S3Bucket, override: dict[str, Any], wording: str
) -> None:
    uri = upload(s3, [record(i) for i in range(100)])
    request: dict[str, Any] = {
        "jobName": "adloom-test-job",
        "roleArn": ROLE,
        "modelId": NOVA_LITE,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": uri}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": s3.uri("out")}},
        "modelInvocationType": "Converse",
        **override,
    }
    unchecked = bedrock(parameter_validation=False)  # the body reaches the fake as is
    with pytest.raises(ClientError) as refused:
        unchecked.create_model_invocation_job(**request)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert wording in refused.value.response["Error"]["Message"]
    assert fake_bedrock.calls("create_model_invocation_job")[0].status == 400
    assert not bedrock().list_model_invocation_jobs()["invocationJobSummaries"]


def test_a_tool_config_record_is_an_error_record(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    tool = {"toolSpec": {"name": "ad", "inputSchema": {"json": COPY_SCHEMA}}}
    records = [record(i) for i in range(99)]
    records.append(record(99, toolConfig={"tools": [tool], "toolChoice": {"tool": {"name": "ad"}}}))
    arn = create(s3, upload(s3, records))
    job = wait(arn)
    assert job["status"] == "PartiallyCompleted"
    assert (job["successRecordCount"], job["errorRecordCount"]) == (99, 1)
    (refused,) = [line for line in outputs(s3, arn) if "error" in line]
    assert refused["recordId"] == "REC00000099"
    assert refused["error"]["errorCode"] == 400
    assert "toolConfig" in refused["error"]["errorMessage"]
    assert "modelOutput" not in refused


def test_members_switched_off_for_batch_are_error_records_in_the_services_shape(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    """``batch_refused_fields``: a record carrying one of them (``cachePoint`` anywhere
    in system or messages) is a 400 error record naming it; the others are answered."""
    members = {
        "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {
            "schema": json.dumps(COPY_SCHEMA), "name": "ad"}}}},
        "serviceTier": {"type": "default"},
        "performanceConfig": {"latency": "standard"},
        "guardrailConfig": {"guardrailIdentifier": "g1", "guardrailVersion": "1"},
        "toolConfig": {"tools": [{"toolSpec": {"name": "ad",
                                               "inputSchema": {"json": COPY_SCHEMA}}}]},
    }  # fmt: skip
    fake_bedrock.behaviour.batch_refused_fields = [*members, "cachePoint"]
    records = [record(i) for i in range(100)]
    records += [record(100 + i, **{name: value}) for i, (name, value) in enumerate(members.items())]
    cached = record(199, system=[{"text": "Be brief."}, {"cachePoint": {"type": "default"}}])
    arn = create(s3, upload(s3, [*records, cached]))
    job = wait(arn)
    assert (job["successRecordCount"], job["errorRecordCount"]) == (100, 6)
    refused = {line["recordId"]: line["error"] for line in outputs(s3, arn) if "error" in line}
    named = [*members, "cachePoint"]
    for i, name in enumerate(named[:-1]):
        error = refused[f"REC{100 + i:08d}"]
        assert error["errorCode"] == 400
        if name != "toolConfig":  # refused in its own words (always, as documented)
            assert f"extraneous key [{name}] is not permitted" in error["errorMessage"]
    assert "[cachePoint]" in refused["REC00000199"]["errorMessage"]


def test_a_record_the_runtime_would_refuse_is_an_error_record(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    records = [record(i) for i in range(100)]
    records[5]["modelInput"]["inferenceConfig"]["maxTokens"] = 99_999  # over Nova Lite's limit
    records[6]["modelInput"]["temperature"] = 0.5  # not a Converse member
    arn = create(s3, upload(s3, records))
    assert wait(arn)["status"] == "PartiallyCompleted"
    errors = {line["recordId"]: line["error"] for line in outputs(s3, arn) if "error" in line}
    assert sorted(errors) == ["REC00000005", "REC00000006"]
    assert "model limit of 10000" in errors["REC00000005"]["errorMessage"]
    assert "Unknown parameter 'temperature'" in errors["REC00000006"]["errorMessage"]
    assert {e["errorCode"] for e in errors.values()} == {400}


def test_native_structured_output_answers_json_only(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    schema = {"jsonSchema": {"schema": json.dumps(COPY_SCHEMA), "name": "ad"}}
    native = {"textFormat": {"type": "json_schema", "structure": schema}}
    records = [record(i, outputConfig=native) for i in range(100)]
    arn = create(s3, upload(s3, records), modelId=HAIKU45)
    assert wait(arn)["status"] == "Completed"
    for line in outputs(s3, arn):
        copy = json.loads(line["modelOutput"]["output"]["message"]["content"][0]["text"])
        assert set(copy) == {"headline", "body", "cta"}


def test_fewer_records_than_the_minimum_fail_validation(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    arn = create(s3, upload(s3, [record(i) for i in range(99)]))
    job = wait(arn)
    assert job["status"] == "Failed"
    assert "fewer than the minimum of 100" in job["message"]
    assert not s3.keys("out/")
    fake_bedrock.behaviour.batch_min_records = 10
    small = create(s3, upload(s3, [record(i) for i in range(10)], "in/small.jsonl"),
                   jobName="small-job")  # fmt: skip
    assert wait(small)["status"] == "Completed"


def test_scripted_error_and_missing_records(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    fake_bedrock.behaviour.batch_error_records = 3
    fake_bedrock.behaviour.batch_error_code = 429
    fake_bedrock.behaviour.batch_missing_records = 2
    records = [record(i) for i in range(120)]
    arn = create(s3, upload(s3, records))
    job = wait(arn)
    assert job["status"] == "PartiallyCompleted"
    lines = outputs(s3, arn)
    assert len(lines) == 118
    missing = {r["recordId"] for r in records} - {line["recordId"] for line in lines}
    assert missing == {"REC00000118", "REC00000119"}
    errors = [line["error"] for line in lines if "error" in line]
    assert [e["errorCode"] for e in errors] == [429] * 3
    m = manifest(s3, arn)
    assert (m["totalRecordCount"], m["processedRecordCount"]) == (120, 118)
    assert (m["successRecordCount"], m["errorRecordCount"]) == (115, 3)
    assert (job["processedRecordCount"], job["errorRecordCount"]) == (118, 3)


def test_malformed_answers_reuse_the_runtime_script(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    fake_bedrock.behaviour.malformed = 2
    arn = create(s3, upload(s3, [record(i) for i in range(100)]))
    assert wait(arn)["status"] == "Completed"  # the service cannot tell: it is the model's copy
    texts = [line["modelOutput"]["output"]["message"]["content"][0]["text"]
             for line in outputs(s3, arn)]  # fmt: skip
    assert sum("```json" not in t for t in texts) == 2


@pytest.mark.parametrize(
    ("script", "status", "wording"),
    [
        ({"batch_fail": "Internal error while running the job."}, "Failed", "Internal error"),
        ({"batch_expire": True}, "Expired", "timeout of 24 hours"),
        ({"batch_s3_denied": True}, "Failed", "AccessDenied"),
    ],
)
def test_a_job_can_be_scripted_to_end_badly(
    fake_bedrock: FakeBedrock, s3: S3Bucket, script: dict[str, Any], status: str, wording: str
) -> None:
    for name, value in script.items():
        setattr(fake_bedrock.behaviour, name, value)
    job = wait(create(s3, upload(s3, [record(i) for i in range(100)])))
    assert job["status"] == status
    assert wording in job["message"]
    assert "endTime" in job
    assert not s3.keys("out/")


def test_an_input_that_cannot_be_read_fails_the_job(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    no_bucket = wait(create(s3, s3.absent_uri + "/in/copy.jsonl"))
    no_file = wait(create(s3, s3.uri("in/none.jsonl"), jobName="second"))
    s3.put("in/bad.jsonl", "not json\n")
    not_jsonl = wait(create(s3, s3.uri("in/bad.jsonl"), jobName="third"))
    assert [j["status"] for j in (no_bucket, no_file, not_jsonl)] == ["Failed"] * 3
    assert "NoSuchBucket" in no_bucket["message"]
    assert "NoSuchKey" in no_file["message"]
    assert "Line 1 of bad.jsonl" in not_jsonl["message"]
    nowhere = {"s3OutputDataConfig": {"s3Uri": s3.absent_uri + "/out"}}
    unwritable = wait(create(s3, upload(s3, [record(i) for i in range(100)]),
                             jobName="fourth", outputDataConfig=nowhere))  # fmt: skip
    assert unwritable["status"] == "Failed"
    assert "Unable to write to the S3 location" in unwritable["message"]


def test_an_input_folder_gives_one_output_per_file(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    upload(s3, [record(i) for i in range(60)], "in/run/a.jsonl")
    upload(s3, [record(i) for i in range(60, 120)], "in/run/b.jsonl")
    arn = create(s3, s3.uri("in/run/"))
    job = wait(arn)
    assert job["status"] == "Completed"
    assert job["totalRecordCount"] == 120
    assert len(outputs(s3, arn, "a.jsonl")) == len(outputs(s3, arn, "b.jsonl")) == 60


@pytest.mark.parametrize(
    ("script", "code", "wording"),
    [
        ({"batch_passrole_denied": True}, "AccessDeniedException", "iam:PassRole on resource"),
        ({"batch_role_unassumable": True}, "ValidationException", "can't assume the service role"),
        ({"control_denied": True}, "AccessDeniedException", "bedrock:CreateModelInvocationJob"),
    ],
)
def test_role_and_permission_problems_refuse_the_job(
    fake_bedrock: FakeBedrock, s3: S3Bucket, script: dict[str, Any], code: str, wording: str
) -> None:
    for name, value in script.items():
        setattr(fake_bedrock.behaviour, name, value)
    with pytest.raises(ClientError) as refused:
        create(s3, upload(s3, [record(i) for i in range(100)]))
    assert refused.value.response["Error"]["Code"] == code
    assert wording in refused.value.response["Error"]["Message"]
    assert not fake_bedrock.state.jobs


def test_stop_moves_a_job_to_stopped(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.batch_release = str(tmp_path / "never")
    arn = create(s3, upload(s3, [record(i) for i in range(100)]))
    wait(arn, lambda j: j["status"] == "InProgress")
    bedrock().stop_model_invocation_job(jobIdentifier=arn)
    seen: list[str] = []
    job = wait(arn, seen=seen)
    assert job["status"] == "Stopped"
    assert set(seen) <= {"Stopping", "Stopped"}
    with pytest.raises(ClientError) as ended:
        bedrock().stop_model_invocation_job(jobIdentifier=arn)
    assert ended.value.response["Error"]["Code"] == "ConflictException"


def test_a_stop_request_cuts_a_wait_short(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    fake_bedrock.behaviour.batch_submitted_seconds = 3600
    arn = create(s3, upload(s3, [record(i) for i in range(100)]))
    assert bedrock().get_model_invocation_job(jobIdentifier=arn)["status"] == "Submitted"
    bedrock().stop_model_invocation_job(jobIdentifier=arn)
    job = wait(arn)
    assert job["status"] == "Stopped"
    assert "totalRecordCount" not in job
    assert not s3.keys("out/")


def test_a_job_stopped_in_progress_writes_what_it_answered(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    fake_bedrock.behaviour.batch_records_per_second = 100  # 1,000 records: 10 s
    arn = create(s3, upload(s3, [record(i) for i in range(1000)]))
    wait(arn, lambda j: j.get("processedRecordCount", 0) > 0)
    bedrock().stop_model_invocation_job(jobIdentifier=arn)
    job = wait(arn)
    assert job["status"] == "Stopped"
    assert 0 < job["processedRecordCount"] < 1000
    assert len(outputs(s3, arn)) == job["processedRecordCount"]
    assert manifest(s3, arn)["processedRecordCount"] == job["processedRecordCount"]


def test_outputs_are_encrypted_with_the_jobs_kms_key(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    output = {"s3OutputDataConfig": {"s3Uri": s3.uri("out"), "s3EncryptionKeyId": key}}
    arn = create(s3, upload(s3, [record(i) for i in range(100)]), outputDataConfig=output)
    assert wait(arn)["status"] == "Completed"
    for name in s3.keys("out/"):
        head = s3.client.head_object(Bucket=s3.name, Key=name)
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)


def test_get_by_id_or_arn_and_unknown_jobs(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    arn = create(s3, upload(s3, [record(i) for i in range(100)]))
    job_id = arn.rsplit("/", 1)[-1]
    assert bedrock().get_model_invocation_job(jobIdentifier=job_id)["jobArn"] == arn
    with pytest.raises(ClientError) as unknown:
        bedrock().get_model_invocation_job(jobIdentifier="abcdef123456")
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert unknown.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    wait(arn)


def test_list_pages_and_filters(fake_bedrock: FakeBedrock, s3: S3Bucket) -> None:
    fake_bedrock.behaviour.batch_min_records = 1
    uri = upload(s3, [record(0)])
    arns = [create(s3, uri, jobName=f"adloom-run-{i}") for i in range(12)]
    arns.append(create(s3, s3.uri("in/none.jsonl"), jobName="other-job"))
    for arn in arns:
        wait(arn)
    pages = list(bedrock().get_paginator("list_model_invocation_jobs").paginate())
    assert len(pages) == 2
    listed = [j["jobArn"] for page in pages for j in page["invocationJobSummaries"]]
    assert listed == arns[::-1]  # newest first
    named = bedrock().list_model_invocation_jobs(nameContains="adloom-run", maxResults=100)
    assert len(named["invocationJobSummaries"]) == 10  # a page holds at most 10
    failed = bedrock().list_model_invocation_jobs(statusEquals="Failed")
    assert [j["jobName"] for j in failed["invocationJobSummaries"]] == ["other-job"]


def test_a_job_needs_a_signed_request(fake_bedrock: FakeBedrock) -> None:
    request = urllib.request.Request(fake_bedrock.url + "/model-invocation-jobs", method="GET")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert fake_bedrock.calls("list_model_invocation_jobs")[0].headers["signed"] == "no"


def test_s3_fixture_is_a_real_s3_the_environment_points_at(
    fake_bedrock: FakeBedrock, s3: S3Bucket
) -> None:
    own = boto3.session.Session(region_name="us-east-1").client("s3")
    own.put_object(Bucket=s3.name, Key="a/b.jsonl", Body=b"{}")
    assert s3.keys() == ["a/b.jsonl"]
    with pytest.raises(ClientError) as missing:
        own.head_bucket(Bucket=s3.absent_uri.removeprefix("s3://"))
    assert missing.value.response["Error"]["Code"] == "404"


def test_s3_denied_refuses_uploads_with_access_denied(
    fake_bedrock: FakeBedrock, s3_denied: S3Bucket
) -> None:
    s3_denied.put("in/seen.jsonl", b"{}")  # the admin may
    mine = boto3.session.Session().client("s3")  # the test's identity: read and list only
    assert mine.get_object(Bucket=s3_denied.name, Key="in/seen.jsonl")["Body"].read() == b"{}"
    with pytest.raises(ClientError) as denied:
        mine.put_object(Bucket=s3_denied.name, Key="in/copy.jsonl", Body=b"{}")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert s3_denied.keys() == ["in/seen.jsonl"]
    listed = bedrock().list_model_invocation_jobs()  # the fake answers this identity
    assert listed["invocationJobSummaries"] == []


def test_the_fake_run_as_a_process_holds_a_job_until_released(
    s3: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = tmp_path / "release"
    log = tmp_path / "answered.jsonl"
    behaviour = {"batch_release": str(release), "batch_min_records": 1, "request_log": str(log)}
    with as_process(behaviour, tmp_path) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEPROCESS00001")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        arn = create(s3, upload(s3, [record(i) for i in range(5)]))
        assert wait(arn, lambda j: j["status"] == "InProgress")["processedRecordCount"] == 0
        release.touch()
        assert wait(arn)["status"] == "Completed"
        assert len(outputs(s3, arn)) == 5
        logged = [json.loads(line) for line in log.read_text().splitlines()]
        assert [(e["op"], e["status"]) for e in logged] == [("create_model_invocation_job", 200)]
