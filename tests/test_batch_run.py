"""``adloom run --mode batch`` end to end: real S3 (moto's server), the fake Bedrock's
batch jobs and runtime over HTTP, real workbooks and previews.

Copy goes in batch jobs and is read back into the journal; images stay on-demand; a
job the run was killed waiting for is resumed, never submitted twice; what a job did
not answer goes on-demand; the outputs are those of an on-demand run.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import openpyxl
import pytest

from adloom.errors import ExitCode
from adloom.registry import load_registry
from briefs import write_brief
from fakebedrock import FakeBedrock
from s3server import S3Bucket
from test_batch_mode import adloom
from test_review import Sheet

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"  # the default text model (native JSON)
NOVA_LITE = "amazon.nova-lite-v1:0"  # a forced tool on-demand, the schema in the prompt in batch
ROLE = "arn:aws:iam::123456789012:role/adloom-batch"
WAIT = 120.0  # seconds: bounds a hang on a stalled machine, never a speed requirement


def campaign(
    tmp_path: Path,
    products: int,
    *,
    variants: int = 2,
    placements: str = "google_rsa",
    languages: str = "en",
) -> Path:
    """``products`` x ``variants`` x languages copy requests."""
    return write_brief(
        tmp_path / "brief.xlsx",
        campaign={"name": "Night Batch", "brand": "Lumen", "provider": "bedrock",
                  "languages": languages, "placements": placements, "variants": variants,
                  # Quotas that never slow the on-demand part down: this is about batch.
                  "quota.us.anthropic.claude-haiku-4-5-20251001-v1:0.tpm": "50000000",
                  "quota.stability.stable-image-core-v1:1.ipm": "600000"},
        briefs=[{"id": f"p{i:03d}", "product": f"Product {i}", "message": f"Message {i}",
                 "landing_url": f"https://example.com/p{i}"} for i in range(products)],
    )  # fmt: skip


def batch(s3: S3Bucket, *more: str) -> tuple[str, ...]:
    return (
        "--mode", "batch",
        "--set", f"batch.s3_uri={s3.uri('adloom')}",
        "--set", f"batch.role_arn={ROLE}",
        "--set", "batch.poll_seconds=0.02",
        *more,
    )  # fmt: skip


def journal(out: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{out / 'journal.sqlite'}?mode=ro", uri=True) as db:
        return db.execute(query).fetchall()


def creates(fake: FakeBedrock) -> int:
    return len(fake.calls("create_model_invocation_job"))


def copy_calls(fake: FakeBedrock) -> int:
    return len(fake.calls("converse"))


# ------------------------------------------------------------------ the whole way


@pytest.mark.slow  # 1,000 copy requests: the size is the point
def test_a_1000_request_campaign_runs_in_one_batch_job(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    brief, out = campaign(tmp_path, 250, languages="en, de"), tmp_path / "out"
    # Native structured output in the records (the fake takes it): the same bodies as
    # on-demand, so the on-demand rerun below reuses them (prompt form would not).
    native = batch(s3, "--set", "batch.structured_output=native")
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *native)
    assert code == ExitCode.OK, text
    assert creates(fake_bedrock) == 1
    assert copy_calls(fake_bedrock) == 0  # nothing on-demand: every record was answered
    [job] = summary["batch_jobs"]
    assert (job["status"], job["records"], job["answered"], job["on_demand"]) == (
        "Completed", 1000, 1000, 0,
    )  # fmt: skip
    assert summary["tiers"] == {"batch": 1000}
    # The service's own counts (manifest.json.out) agree with the journal's.
    manifest = job["manifest"]
    assert manifest["totalRecordCount"] == manifest["successRecordCount"] == 1000
    assert summary["variants"] == 1000
    assert summary["failed"] == 0
    # The input went up encrypted, one record per request, keyed by the journal key.
    [key] = [k for k in s3.keys() if k.endswith(".jsonl")]  # noqa: SIM118 - S3Bucket.keys() lists the bucket
    head = s3.client.head_object(Bucket=s3.name, Key=key)
    assert head["ServerSideEncryption"] in ("AES256", "aws:kms")
    lines = [json.loads(line) for line in s3.read(key).splitlines()]
    keys = {k for (k,) in journal(out, "SELECT key FROM requests WHERE service_tier='batch'")}
    assert {line["recordId"] for line in lines} == keys
    assert len(keys) == 1000
    # Every answer priced at the batch price, from the journal's own token counts.
    info = load_registry().get(HAIKU)
    rows = journal(out, "SELECT input_tokens, output_tokens, cost_usd FROM requests")
    assert all(c == pytest.approx(info.batch_cost(i, o)) for i, o, c in rows)
    assert summary["cost_usd"] == pytest.approx(sum(c for *_, c in rows))
    assert manifest["inputTokenCount"] == sum(i for i, *_ in rows)
    assert manifest["outputTokenCount"] == sum(o for _, o, _ in rows)
    assert info.batch_input_per_m < info.input_per_m

    # A rerun, batch or on-demand, asks nothing: the answers are the journal's.
    code, again, _ = adloom("run", str(brief), "--out", str(out), "--json", *native)
    assert code == ExitCode.OK
    assert again["cache_hits"] == 1000
    assert "batch_jobs" not in again
    code, again, _ = adloom("run", str(brief), "--out", str(out), "--json", "--mode", "on-demand")
    assert code == ExitCode.OK
    assert again["cache_hits"] == 1000
    assert (creates(fake_bedrock), copy_calls(fake_bedrock)) == (1, 0)


@pytest.mark.slow  # two full runs with images, to compare their outputs
def test_images_go_on_demand_while_the_job_runs_and_outputs_match_on_demand(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """The same brief in batch and on-demand: the same workbook sheets, columns and
    rows, the same creatives, upload files and preview pages."""
    brief = campaign(tmp_path, 26, placements="google_rsa, meta_feed")
    code, batched, text = adloom("run", str(brief), "--out", str(tmp_path / "b"), "--json",
                                 *batch(s3))  # fmt: skip
    assert code == ExitCode.OK, text
    assert batched["batch_jobs"][0]["answered"] == 104  # search and feed copy differ
    assert batched["model_calls"]["image"] == len(fake_bedrock.calls("invoke")) > 0
    assert copy_calls(fake_bedrock) == 0
    code, plain, _ = adloom("run", str(brief), "--out", str(tmp_path / "o"), "--json",
                            "--set", "text_model=amazon.nova-micro-v1:0")  # fmt: skip
    assert code == ExitCode.OK
    assert copy_calls(fake_bedrock) == 104
    assert batched["variants"] == plain["variants"]
    assert batched["creatives"] == plain["creatives"]

    def shape(out: Path) -> dict[str, Any]:
        book = openpyxl.load_workbook(out / "variants.xlsx", read_only=True)
        sheets = {ws.title: [c.value for c in next(ws.iter_rows(max_row=1))] for ws in book}
        counts = {ws.title: ws.max_row for ws in book}
        book.close()
        files = sorted(str(p.relative_to(out)) for p in (out / "exports").rglob("*"))
        pages = sorted(p.name for p in (out / "preview").glob("*.html"))
        return {"sheets": sheets, "rows": counts["Variants"], "exports": files, "pages": pages}

    assert shape(tmp_path / "b") == shape(tmp_path / "o")


# ------------------------------------------------------------------ resume


def test_kill_9_while_waiting_then_the_rerun_resumes_the_same_job(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    gate = tmp_path / "release-job"
    fake_bedrock.behaviour.batch_release = str(gate)  # the job stays InProgress until then
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    proc = waiting_run(brief, out, s3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=WAIT)
    assert creates(fake_bedrock) == 1
    [(name, _status)] = journal(out, "SELECT name, status FROM batch_jobs")

    code, listed, _ = adloom("jobs", str(out), "--json")
    assert code == ExitCode.OK
    [job] = listed["jobs"]
    assert (job["name"], job["collected"]) == (name, False)
    assert job["status"] in ("Submitted", "Validating", "Scheduled", "InProgress")
    gate.touch()
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    assert f"Resuming batch job {name}" in text
    assert creates(fake_bedrock) == 1  # never submitted twice
    assert summary["batch_jobs"][0]["answered"] == 120
    assert copy_calls(fake_bedrock) == 0
    assert journal(out, "SELECT collected FROM batch_jobs") == [(1,)]


def test_answers_missing_from_the_output_files_are_counted_against_the_manifest(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """Lines lost from a finished job's output (the bucket's lifecycle rule, a person):
    the manifest still counts them, the run says so and asks for them on-demand."""
    gate = tmp_path / "release-job"
    fake_bedrock.behaviour.batch_release = str(gate)
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    proc = waiting_run(brief, out, s3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=WAIT)
    gate.touch()
    [(job_id,)] = journal(out, "SELECT job_id FROM batch_jobs")
    control = boto3.session.Session().client("bedrock")
    deadline = time.monotonic() + WAIT
    while control.get_model_invocation_job(jobIdentifier=job_id)["status"] != "Completed":
        assert time.monotonic() < deadline, "the fake's job did not finish"
        time.sleep(0.02)
    [key] = [k for k in s3.keys() if k.endswith(".jsonl.out")]  # noqa: SIM118 - S3Bucket.keys() lists the bucket
    s3.put(key, b"\n".join(s3.read(key).splitlines()[3:]) + b"\n")

    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    assert "its manifest counts 120 answer(s), 117 were read" in text
    [job] = summary["batch_jobs"]
    assert (job["answered"], job["on_demand"]) == (117, 3)
    assert copy_calls(fake_bedrock) == 3


def test_ctrl_c_while_waiting_leaves_the_job_running_and_says_how_to_resume(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.batch_release = str(tmp_path / "never")
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    proc = waiting_run(brief, out, s3)
    # Search ads only: nothing to compose, so no compose workers idle through the wait.
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert children == []
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == ExitCode.INTERRUPTED
    [(name,)] = journal(out, "SELECT name FROM batch_jobs")
    assert f"Batch job(s) {name} keep running on the service" in stderr
    assert f"adloom jobs {out} --stop" in stderr
    assert "Traceback" not in stderr
    assert fake_bedrock.calls("stop_model_invocation_job") == []  # left running


def waiting_run(brief: Path, out: Path, s3: S3Bucket) -> subprocess.Popen[str]:
    """``adloom run --mode batch`` as a process, once its job is journalled as submitted."""
    command = [
        sys.executable,
        "-m",
        "adloom",
        "run",
        str(brief),
        "--out",
        str(out),
        "--json",
        *batch(s3),
    ]
    proc = subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + WAIT
    while not _submitted(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _submitted(out), "the run ended or stalled before its job was journalled"
    return proc


def _submitted(out: Path) -> bool:
    try:
        return bool(journal(out, "SELECT 1 FROM batch_jobs WHERE job_id IS NOT NULL"))
    except sqlite3.OperationalError:  # no journal (or table) yet
        return False


def test_jobs_stop_ends_a_running_job_and_the_rerun_sends_the_rest_on_demand(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.batch_release = str(tmp_path / "never")
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    proc = waiting_run(brief, out, s3)
    code, stopped, _ = adloom("jobs", str(out), "--stop", "--json")
    assert code == ExitCode.OK
    assert [j["stopping"] for j in stopped["jobs"]] == [True]
    _stdout, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == ExitCode.OK, stderr
    assert "ended Stopped" in stderr
    assert copy_calls(fake_bedrock) == 120  # what the job never answered, on-demand
    assert len(fake_bedrock.calls("stop_model_invocation_job")) == 1


# ------------------------------------------------------------------ what a job did not answer


def test_a_partially_completed_job_sends_errors_and_missing_records_on_demand(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.batch_error_records = 3  # errorCode 500: worth another try
    fake_bedrock.behaviour.batch_missing_records = 2
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    [job] = summary["batch_jobs"]
    assert (job["status"], job["answered"], job["on_demand"]) == ("PartiallyCompleted", 115, 5)
    assert copy_calls(fake_bedrock) == 5
    assert summary["tiers"] == {"batch": 115, "default": 5}
    assert summary["failed"] == 0
    assert any("PartiallyCompleted" in w for w in summary["warnings"])


def test_a_record_refused_with_a_400_goes_on_demand_once_and_the_journal_says_why(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """A batch job's 400 is no proof on-demand would refuse the request too (and a
    refused on-demand call is not billed): it is sent on-demand, once."""
    fake_bedrock.behaviour.batch_error_records = 2
    fake_bedrock.behaviour.batch_error_code = 400
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    assert copy_calls(fake_bedrock) == 2
    assert summary["failed"] == 0
    why = journal(out, "SELECT fallback FROM batch_records WHERE fallback IS NOT NULL")
    assert len(why) == 2
    assert all("(400: Malformed input request" in w for (w,) in why)


def test_a_failed_job_is_reported_and_its_records_go_on_demand(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.batch_fail = "Internal failure while processing records."
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    [job] = summary["batch_jobs"]
    assert job["status"] == "Failed"
    assert job["on_demand"] == 120
    assert "Internal failure while processing records." in job["message"]
    assert copy_calls(fake_bedrock) == 120
    assert any("Internal failure" in w for w in summary["warnings"])


@pytest.mark.parametrize(("products", "batched"), [(60, True), (10, False)])
def test_auto_takes_batch_when_the_requests_reach_the_minimum(
    products: int, batched: bool, fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    brief, out = campaign(tmp_path, products), tmp_path / "out"
    settings = batch(s3)[2:]  # the settings, without --mode batch
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json",
                                 "--mode", "auto", *settings)  # fmt: skip
    assert code == ExitCode.OK, text
    assert creates(fake_bedrock) == int(batched)
    assert ("batch_jobs" in summary) == batched
    assert copy_calls(fake_bedrock) == (0 if batched else 20)
    if not batched:
        assert "20 copy request(s), fewer than the 100 a batch job of" in text


def test_below_the_minimum_copy_goes_on_demand_and_the_run_says_so(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    brief, out = campaign(tmp_path, 10), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    assert "fewer than the 100 records a batch job must hold; sent on-demand" in text
    assert creates(fake_bedrock) == 0
    assert s3.keys() == []
    assert copy_calls(fake_bedrock) == 20
    assert "batch_jobs" not in summary


def test_repairs_after_a_batch_round_go_on_demand_when_few(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.malformed = 3  # the first answers are not valid copy
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    assert summary["batch_jobs"][0]["answered"] == 120
    assert creates(fake_bedrock) == 1
    assert copy_calls(fake_bedrock) == 3  # each sent back with what was wrong, on-demand
    assert summary["failed"] == 0


def test_a_job_the_service_refuses_goes_on_demand_and_is_not_submitted_again(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.batch_refused = [HAIKU]  # not offered in batch in this region
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    assert "was refused" in text
    assert copy_calls(fake_bedrock) == summary["model_calls"]["text"] == 120
    assert journal(out, "SELECT status, collected FROM batch_jobs") == [("Refused", 1)]
    code, _, _ = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK
    assert creates(fake_bedrock) == 1  # the rerun had nothing left to ask


def test_a_review_round_of_a_batch_run_sends_its_few_rejects_on_demand(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """The round inherits the run's mode and batch settings from the journal; two
    regenerated ads are fewer than a job's minimum, so they go on-demand."""
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, _, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    book = openpyxl.load_workbook(out / "variants.xlsx")
    variants = Sheet(book, "Variants")
    names = list(variants.rows)
    for name in names:
        variants.set(name, "approval", "Approved")
    for name in names[:2]:
        variants.set(name, "approval", "Rejected")
        variants.set(name, "notes", "Say it is made of recycled aluminium.")
    book.save(out / "variants.xlsx")

    code, summary, text = adloom("review", str(out / "variants.xlsx"), "--json")
    assert code == ExitCode.OK, text
    assert summary["review"]["regenerated"] == 2
    assert "2 copy request(s)" in text
    assert "fewer than the 100 records a batch job must hold; sent on-demand" in text
    assert copy_calls(fake_bedrock) == 2
    assert creates(fake_bedrock) == 1  # the run's job only


# ------------------------------------------------------------------ budget and refusals


def test_the_budget_stops_a_job_that_might_not_fit(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json",
                                 "--max-cost", "0.01", *batch(s3))  # fmt: skip
    assert code == ExitCode.SOME_FAILED
    assert creates(fake_bedrock) == 0
    assert s3.keys() == []
    assert summary["not_generated"] == 120
    assert "budget" in text.lower()


def test_s3_refusing_the_upload_is_exit_3_naming_the_permission(
    fake_bedrock: FakeBedrock, s3_denied: S3Bucket, tmp_path: Path
) -> None:
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, _, text = adloom("run", str(brief), "--out", str(out), *batch(s3_denied))
    assert code == ExitCode.PROVIDER
    assert "s3:PutObject" in text
    assert "Traceback" not in text
    assert creates(fake_bedrock) == 0


def test_a_role_bedrock_cannot_assume_is_exit_3_before_any_copy(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.batch_role_unassumable = True
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, _, text = adloom("run", str(brief), "--out", str(out), *batch(s3))
    assert code == ExitCode.PROVIDER
    assert "bedrock.amazonaws.com" in text  # what the role's trust policy must allow
    assert copy_calls(fake_bedrock) == 0


def test_missing_batch_settings_are_named_before_anything_is_uploaded(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, _, text = adloom("run", str(brief), "--out", str(out), "--mode", "batch",
                           "--set", f"batch.s3_uri={s3.uri('adloom')}")  # fmt: skip
    assert code == ExitCode.BAD_INPUT
    assert "batch.role_arn" in text
    assert s3.keys() == []
    assert fake_bedrock.requests == []
