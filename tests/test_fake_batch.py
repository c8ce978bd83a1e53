"""The fake Bedrock's batch inference jobs, driven by plain boto3 (``bedrock`` and
``s3`` clients) against the fake and moto's S3: strict like the service, right in
what it writes back, and scriptable (clock, faults, hold).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from fakebedrock import FakeBedrock
from fakebedrock.shapes import validate_output
from s3server import S3Bucket

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
    return boto3.client("bedrock", config=Config(retries={"max_attempts": 1}, **config))


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
