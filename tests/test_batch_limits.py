"""Batch on a real account's terms (issue 16): a service that refuses structured output
(or other on-demand members) in batch records, model ids a job may name by region, the
account's quota of jobs at once. Real S3 (moto's server) and the fake Bedrock over HTTP.
"""

from __future__ import annotations

import itertools
import json
import signal
from pathlib import Path

import pytest

from adloom.errors import ExitCode
from adloom.providers.bedrock.batch import capped_lines
from adloom.registry import load_registry
from fakebedrock import FakeBedrock
from fakebedrock.batchjobs import CONCURRENCY_QUOTA
from s3server import S3Bucket, new_bucket_name
from test_batch_mode import adloom
from test_batch_run import (
    HAIKU,
    NOVA_LITE,
    ROLE,
    WAIT,
    batch,
    campaign,
    copy_calls,
    creates,
    journal,
    waiting_run,
)

# Every member a batch record might carry that the service may refuse there.
ON_DEMAND_ONLY = ["outputConfig", "toolConfig", "serviceTier", "performanceConfig",
                  "guardrailConfig", "cachePoint"]  # fmt: skip


def three_jobs_one_at_a_time(fake: FakeBedrock, display: str) -> None:
    """The account's quotas: jobs of 10 to 40 records, one job at once."""
    fake.behaviour.batch_min_records = 10
    fake.behaviour.service_quotas |= {
        f"Minimum number of records per batch inference job for {display}": 10,
        f"Records per batch inference job for {display}": 40,
        CONCURRENCY_QUOTA.format(display): 1,
    }


def inputs(s3: S3Bucket) -> dict[str, list[dict[str, object]]]:
    """Each job's uploaded records, by job name."""
    keys = [k for k in s3.keys() if k.endswith(".jsonl")]  # noqa: SIM118 - S3Bucket.keys() lists the bucket
    return {
        k.rsplit("/", 1)[-1].removesuffix(".jsonl"): [
            json.loads(line) for line in s3.read(k).splitlines()
        ]
        for k in keys
    }


# ------------------------------------------------------------------ 16.1


def test_the_default_model_in_batch_with_structured_output_refused_delivers_every_ad(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """batch.structured_output=native on Claude Haiku 4.5 (the default model) against a
    service refusing every on-demand-only member in batch records: the first job's
    records go on-demand once (journalled, with why), the jobs still waiting are built
    again in prompt form and answered in batch; every ad is delivered; the cost is what
    was paid; a later run remembers and pays nothing twice."""
    fake_bedrock.behaviour.batch_refused_fields = ON_DEMAND_ONLY
    three_jobs_one_at_a_time(fake_bedrock, "Anthropic Claude Haiku 4.5")
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    native = batch(s3, "--set", "batch.structured_output=native")
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *native)
    assert code == ExitCode.OK, text
    assert (summary["variants"], summary["failed"]) == (120, 0)
    first, *rest = summary["batch_jobs"]
    assert (first["status"], first["answered"], first["on_demand"]) == ("Failed", 0, 40)
    assert [(j["status"], j["answered"]) for j in rest] == [("Completed", 40), ("Completed", 40)]
    assert creates(fake_bedrock) == 3
    assert copy_calls(fake_bedrock) == 40  # the refused records, on-demand once each
    # The journal: which went on-demand and why, and that the model asks in the prompt.
    why = journal(out, "SELECT job, fallback FROM batch_records WHERE fallback IS NOT NULL")
    assert {job for job, _ in why} == {first["name"]}
    assert len(why) == 40
    assert all("extraneous key [outputConfig]" in w for _, w in why)
    [(model, reason)] = journal(out, "SELECT model, reason FROM batch_prompt_form")
    assert model == f"us.{HAIKU}"
    assert "outputConfig" in reason
    uploaded = inputs(s3)
    assert all("outputConfig" in r["modelInput"] for r in uploaded[first["name"]])  # type: ignore[operator]
    for job in rest:
        assert not any("outputConfig" in r["modelInput"] for r in uploaded[job["name"]])  # type: ignore[operator]
    # The cost is what was paid: batch answers at the batch price, the rest on-demand.
    info = load_registry().get(f"us.{HAIKU}")  # priced as sent: the us. profile
    rows = journal(out, "SELECT service_tier, input_tokens, output_tokens, cost_usd FROM requests")
    assert sorted(t or "default" for t, *_ in rows) == ["batch"] * 80 + ["default"] * 40
    for tier, tokens_in, tokens_out, cost in rows:
        batched = tier == "batch"
        paid = info.text_cost(tokens_in, tokens_out, batch=batched)
        assert cost == pytest.approx(paid)
    assert summary["cost_usd"] == pytest.approx(sum(r[3] for r in rows), abs=1e-6)
    assert summary["tiers"] == {"batch": 80, "default": 40}

    # Resumed (the same brief, and 20 more products): nothing asked again, the new
    # requests go in prompt form from the start, and nothing is refused.
    code, again, text = adloom("run", str(brief), "--out", str(out), "--json", *native)
    assert code == ExitCode.OK, text
    assert again["cache_hits"] == 120
    assert "refused native structured output in an earlier run" in text
    assert (creates(fake_bedrock), copy_calls(fake_bedrock)) == (3, 40)
    more = campaign(tmp_path, 80)
    code, again, text = adloom("run", str(more), "--out", str(out), "--json", *native)
    assert code == ExitCode.OK, text
    [job] = again["batch_jobs"]
    assert (job["status"], job["answered"], job["on_demand"]) == ("Completed", 40, 0)
    assert not any("outputConfig" in r["modelInput"] for r in inputs(s3)[job["name"]])  # type: ignore[operator]
    assert (creates(fake_bedrock), copy_calls(fake_bedrock)) == (4, 40)


def test_the_fake_refuses_each_on_demand_member_in_a_batch_record(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """With prompt form (the default) a batch record carries none of them: answered."""
    fake_bedrock.behaviour.batch_refused_fields = ON_DEMAND_ONLY
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    [job] = summary["batch_jobs"]
    assert (job["answered"], job["on_demand"]) == (120, 0)
    assert copy_calls(fake_bedrock) == 0


# ------------------------------------------------------------------ 16.5


def test_one_job_at_once_runs_three_jobs_one_after_another(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """The account's quota of jobs at once is 1 and the run needs 3: each is submitted
    when the one before it has ended (the fake refuses a second one at once with
    ServiceQuotaExceededException, which would be exit 3)."""
    three_jobs_one_at_a_time(fake_bedrock, "Anthropic Claude Haiku 4.5")
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    assert "may have 1 batch job(s)" in text
    assert [(j["status"], j["records"]) for j in summary["batch_jobs"]] == [("Completed", 40)] * 3
    assert creates(fake_bedrock) == 3
    assert copy_calls(fake_bedrock) == 0
    # One after another: each job was created after the one before it had ended.
    jobs = fake_bedrock.state.jobs.values()
    spans = sorted((j.submitted, j.ended) for j in jobs)
    assert all(ended <= later for (_, ended), (later, _) in itertools.pairwise(spans))


def test_killed_with_jobs_queued_the_rerun_resumes_one_and_submits_the_rest(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """kill -9 while the first of three jobs runs and two wait for room: the rerun
    resumes the first (it counts against the quota), then submits the other two, one
    at a time; nothing is submitted twice, nothing goes on-demand."""
    three_jobs_one_at_a_time(fake_bedrock, "Anthropic Claude Haiku 4.5")
    gate = tmp_path / "release-job"
    fake_bedrock.behaviour.batch_release = str(gate)
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    proc = waiting_run(brief, out, s3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=WAIT)
    assert creates(fake_bedrock) == 1  # the others waited for room, never journalled
    [(first,)] = journal(out, "SELECT name FROM batch_jobs")
    gate.touch()
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    assert f"Resuming batch job {first}" in text
    assert creates(fake_bedrock) == 3
    jobs = summary["batch_jobs"]
    assert jobs[0]["name"] == first
    assert sum(j["answered"] for j in jobs) == 120
    assert copy_calls(fake_bedrock) == 0


def test_input_files_stay_within_a_billion_bytes() -> None:
    """However large the account says a job's file may be, at most 10^9 bytes."""
    from adloom.providers.bedrock.batch import MAX_FILE_BYTES

    assert MAX_FILE_BYTES == 10**9


# ------------------------------------------------------------------ 16.2


def regional_bucket(s3: S3Bucket, region: str) -> S3Bucket:
    """A bucket in ``region`` on the same S3 (the run checks its bucket's region)."""
    import boto3

    client = boto3.session.Session().client("s3", endpoint_url=s3.endpoint, region_name=region)
    name = new_bucket_name()
    if region == "us-east-1":  # S3's own rule: no constraint there
        client.create_bucket(Bucket=name)
    else:
        where = {"LocationConstraint": region}
        client.create_bucket(Bucket=name, CreateBucketConfiguration=where)  # type: ignore[arg-type]
    return S3Bucket(name, s3.endpoint, client)


@pytest.mark.parametrize(
    "case",
    [("eu-west-1", f"eu.{NOVA_LITE}"), ("ap-northeast-1", f"apac.{NOVA_LITE}"),
     ("us-east-1", NOVA_LITE)],
)  # fmt: skip
def test_a_nova_job_names_the_regions_profile_outside_its_base_id_regions(
    fake_bedrock: FakeBedrock,
    s3: S3Bucket,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str],
) -> None:
    """Nova takes base-id batch jobs in us-east-1 (and us-gov-west-1) only; elsewhere
    the job names the region's inference profile, as `plan` says beforehand (Tokyo:
    apac., as Nova Lite has no jp. profile in the registry)."""
    region, job_model = case
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    bucket = regional_bucket(s3, region)
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    model = ("--set", f"text_model={NOVA_LITE}")
    code, plan, text = adloom("plan", str(brief), "--json", *model)
    assert code == ExitCode.OK, text
    assert plan["cost_usd_max_by_mode"]["batch_model"] == job_model
    code, _, text = adloom("plan", str(brief), *model)
    assert f"jobs naming {job_model})" in text
    code, summary, text = adloom(
        "run", str(brief), "--out", str(out), "--json", "--region", region, *model, *batch(bucket)
    )
    assert code == ExitCode.OK, text
    [job] = summary["batch_jobs"]
    assert (job["model"], job["answered"], job["on_demand"]) == (job_model, 120, 0)
    [created] = fake_bedrock.calls("create_model_invocation_job")
    assert created.body["modelId"] == job_model
    assert created.region == region
    assert copy_calls(fake_bedrock) == 0  # not silently on-demand at full price


def test_the_fake_refuses_a_base_id_job_outside_the_base_id_regions(
    fake_bedrock: FakeBedrock, s3: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from botocore.exceptions import ClientError

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    client = boto3.session.Session().client("bedrock")
    uri = s3.uri("in", "x.jsonl")
    with pytest.raises(ClientError) as refused:
        client.create_model_invocation_job(
            jobName="base-id-in-ireland", roleArn=ROLE, modelId=NOVA_LITE,
            modelInvocationType="Converse",
            inputDataConfig={"s3InputDataConfig": {"s3Uri": uri}},
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": s3.uri("out") + "/"}},
        )  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "inference profile" in refused.value.response["Error"]["Message"]


# ------------------------------------------------------------------ 21.3, the line reader


def test_lines_are_split_across_chunks_and_a_long_one_is_dropped_whole() -> None:
    chunks = [b"ab", b"c\nde", b"f\n" + b"x" * 5, b"y" * 5, b"z\nlast"]
    assert list(capped_lines(iter(chunks), 8)) == [b"abc", b"def", None, b"last"]
    assert list(capped_lines(iter([b"x" * 9]), 8)) == [None]
    assert list(capped_lines(iter([b"12345678\n", b"\n"]), 8)) == [b"12345678", b""]
