"""Batch settings from a hostile brief: refused at their place before anything is
uploaded or submitted (exit 2, no traceback, nothing written); output files in the
bucket that were not written by Bedrock for this job do not reach the ads; answers
that are no Converse answer go on-demand (the journal says why); lines too long or
not JSON are skipped, counted and told, within bounded memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hostile_checks import refused

from adloom.errors import ExitCode
from adloom.providers.bedrock.batch import MAX_LINE_BYTES
from briefs import write_brief
from fakebedrock import FakeBedrock
from s3server import S3Bucket
from test_batch_mode import adloom
from test_batch_run import WAIT, batch, campaign, journal, waiting_run

ROLE = "arn:aws:iam::123456789012:role/adloom-batch"


def brief(tmp_path: Path, **settings: str) -> Path:
    campaign = {"name": "Hostile Batch", "brand": "Lumen", "provider": "bedrock",
                "placements": "google_rsa", "mode": "batch", **settings}  # fmt: skip
    return write_brief(tmp_path / "brief.xlsx", campaign=campaign)


@pytest.mark.parametrize(
    "case",
    [
        ("batch.s3_uri", "http://169.254.169.254/latest", "batch.s3_uri"),
        ("batch.s3_uri", "s3://UPPER_case/x", "batch.s3_uri"),
        ("batch.s3_uri", "s3://bucket/" + "a/" * 5000, "batch.s3_uri"),
        ("batch.s3_uri", "s3://bucket/x y", "batch.s3_uri"),
        ("batch.role_arn", "arn:aws:iam::123:role/short-account", "batch.role_arn"),
        ("batch.role_arn", "*", "batch.role_arn"),
        ("batch.kms_key", "'; DROP TABLE keys;--", "batch.kms_key"),
        ("batch.timeout_hours", "1e309", "batch.timeout_hours"),
        ("batch.timeout_hours", "nan", "batch.timeout_hours"),
        ("batch.timeout_hours", "23", "batch.timeout_hours"),
        ("batch.timeout_hours", "169", "batch.timeout_hours"),
        ("batch.poll_seconds", "0", "batch.poll_seconds"),
        ("batch.poll_seconds", "-inf", "batch.poll_seconds"),
        ("batch.poll_seconds", "9" * 400, "batch.poll_seconds"),
        ("mode", "batch; rm -rf /", "mode"),
    ],
)
def test_malformed_batch_settings_are_refused_at_their_cell(
    case: tuple[str, str, str], fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    setting, value, named = case
    settings = {"batch.s3_uri": s3.uri("adloom"), "batch.role_arn": ROLE, setting: value}
    stderr = refused(tmp_path, "run", brief(tmp_path, **settings))
    assert named in stderr
    assert "Campaign!" in stderr  # the cell it came from
    assert s3.keys() == []
    assert fake_bedrock.calls("create_model_invocation_job") == []
    assert fake_bedrock.calls("converse") == []


def test_foreign_lines_in_the_jobs_output_folder_do_not_become_ads(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """Someone with access to the bucket drops files of their own beside the job's
    outputs while it runs, one sorting before the service's, with the job's own record
    ids and copy of their choosing: only the job's own output file
    (``<output>/<job id>/<input>.out``) is read, so none of it reaches an ad."""
    gate = tmp_path / "release-job"
    fake_bedrock.behaviour.batch_release = str(gate)
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    proc = waiting_run(brief, out, s3)
    [(name,)] = journal(out, "SELECT name FROM batch_jobs")
    keys = [k for (k,) in journal(out, "SELECT key FROM batch_records")]
    copy = {"headline": '=HYPERLINK("http://evil.example")', "body": "<script>x()</script>",
            "cta": "Buy"}  # fmt: skip
    planted = "".join(json.dumps({"recordId": key, "modelInput": {}, "modelOutput": {
        "output": {"message": {"role": "assistant", "content": [{"text": json.dumps(copy)}]}},
        "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1,
        "totalTokens": 2}, "metrics": {"latencyMs": 1}}}) + "\n" for key in keys)  # fmt: skip
    for where in ("0-planted", "planted/deeper"):
        s3.put(f"adloom/{name}/output/{where}/{name}.jsonl.out", planted)
    s3.put(f"adloom/{name}/output/{name}.jsonl.out", planted)
    gate.touch()
    stdout, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == ExitCode.OK, stderr
    [job] = json.loads(stdout)["batch_jobs"]
    assert (job["answered"], job["on_demand"], job["skipped_lines"]) == (120, 0, 0)
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"evil.example" not in written
    assert b"<script>x()</script>" not in written


# A Converse answer in every way but one: what a batch output line may hold instead.
_GOOD: dict[str, Any] = {
    "output": {"message": {"role": "assistant", "content": [{"text": "{}"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 10, "outputTokens": 10, "totalTokens": 20},
    "metrics": {"latencyMs": 1},
}
MALFORMED: dict[str, Any] = {
    "a string": "an answer",
    "a list": [_GOOD],
    "an empty object": {},
    "output a string": {**_GOOD, "output": "hello"},
    "message null": {**_GOOD, "output": {"message": None}},
    "content a string": {**_GOOD, "output": {"message": {"role": "assistant", "content": "x"}}},
    "a content block a number": {
        **_GOOD, "output": {"message": {"role": "assistant", "content": [5]}}},
    "text a number": {
        **_GOOD, "output": {"message": {"role": "assistant", "content": [{"text": 5}]}}},
    "usage a string": {**_GOOD, "usage": "plenty"},
    "tokens a string": {**_GOOD, "usage": {**_GOOD["usage"], "inputTokens": "12"}},
    "negative tokens": {**_GOOD, "usage": {**_GOOD["usage"], "outputTokens": -100_000_000}},
    "infinite tokens": {**_GOOD, "usage": {**_GOOD["usage"], "inputTokens": float("inf")}},
    "tokens true": {**_GOOD, "usage": {**_GOOD["usage"], "inputTokens": True}},
    "astronomical tokens": {**_GOOD, "usage": {**_GOOD["usage"], "inputTokens": 10**30}},
    "more output than asked": {**_GOOD, "usage": {**_GOOD["usage"], "outputTokens": 9_000_000}},
    "stopReason a number": {**_GOOD, "stopReason": 7},
    "metrics a list": {**_GOOD, "metrics": []},
    "serviceTier a string": {**_GOOD, "serviceTier": "flex"},
    "performanceConfig a number": {**_GOOD, "performanceConfig": 5},
}  # fmt: skip


def test_malformed_model_outputs_go_on_demand_once_with_the_reason_journalled(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """Lines with a valid record id and a modelOutput that is no Converse answer: each
    record is sent on-demand once, the journal says why; the run ends well and a rerun
    pays nothing (before, each of these ended the run with exit 70, every time)."""
    fake_bedrock.behaviour.batch_model_outputs = list(MALFORMED.values())
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    assert "Traceback" not in text
    [job] = summary["batch_jobs"]
    assert (job["answered"], job["on_demand"]) == (120 - len(MALFORMED), len(MALFORMED))
    assert f"{len(MALFORMED)} request(s) sent on-demand instead" in text
    why = [w for (w,) in journal(out, "SELECT fallback FROM batch_records WHERE fallback <> ''")]
    assert len(why) == len(MALFORMED)
    assert all("not a Converse answer" in w for w in why), why
    # Nothing paid lost or paid twice: each on-demand once, the cost is the journal's.
    assert len(fake_bedrock.calls("converse")) == len(MALFORMED)
    assert summary["failed"] == 0
    costs = journal(out, "SELECT cost_usd FROM requests WHERE kind='text'")
    assert len(costs) == 120
    assert all(0 <= c < 1 for (c,) in costs)
    spent = sum(c for (c,) in journal(out, "SELECT cost_usd FROM requests"))
    assert summary["cost_usd"] == pytest.approx(spent, abs=1e-6)
    code, again, _ = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK
    assert again["cache_hits"] == 120
    assert len(fake_bedrock.calls("create_model_invocation_job")) == 1
    assert len(fake_bedrock.calls("converse")) == len(MALFORMED)


def test_a_huge_line_and_junk_lines_are_skipped_counted_and_told(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """A line past the cap is dropped as it streams (never held whole), junk lines cost
    a counter; the user is told how many; the job's own answers are all used.
    (benchmarks/batch_output.py measures memory at 300 MB and 2 M lines.)"""
    fake_bedrock.behaviour.batch_long_line_bytes = MAX_LINE_BYTES * 2 + 17
    fake_bedrock.behaviour.batch_junk_lines = 100_000
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    code, summary, text = adloom("run", str(brief), "--out", str(out), "--json", *batch(s3))
    assert code == ExitCode.OK, text
    [job] = summary["batch_jobs"]
    assert (job["answered"], job["on_demand"]) == (120, 0)
    assert job["skipped_lines"] == 100_001
    assert "100,001 output line(s) could not be read" in text
    assert f"line 1: longer than {MAX_LINE_BYTES:,} bytes" in text
    assert "line 2: not JSON" in text
    assert fake_bedrock.calls("converse") == []
