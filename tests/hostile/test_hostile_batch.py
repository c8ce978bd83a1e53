"""Batch settings from a hostile brief: refused at their place before anything is
uploaded or submitted (exit 2, no traceback, nothing written); and output files in
the bucket that were not written by Bedrock for this job do not reach the ads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_checks import refused

from adloom.errors import ExitCode
from briefs import write_brief
from fakebedrock import FakeBedrock
from s3server import S3Bucket
from test_batch_run import WAIT, campaign, journal, waiting_run

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
    """Someone with access to the bucket drops a file of their own among the job's
    outputs while it runs: its lines are not the job's records, so they are skipped
    (and the run says so); its formula and script reach no file."""
    gate = tmp_path / "release-job"
    fake_bedrock.behaviour.batch_release = str(gate)
    brief, out = campaign(tmp_path, 60), tmp_path / "out"
    proc = waiting_run(brief, out, s3)
    [(name,)] = journal(out, "SELECT name FROM batch_jobs")
    copy = {"headline": '=HYPERLINK("http://evil.example")', "body": "<script>x()</script>",
            "cta": "Buy"}  # fmt: skip
    planted = {"recordId": "f" * 64, "modelInput": {}, "modelOutput": {
        "output": {"message": {"role": "assistant", "content": [{"text": json.dumps(copy)}]}},
        "stopReason": "end_turn"}}  # fmt: skip
    s3.put(f"adloom/{name}/output/planted/evil.jsonl.out", json.dumps(planted) + "\n{not json\n")
    gate.touch()
    stdout, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == ExitCode.OK, stderr
    assert "2 output line(s) could not be read" in stderr
    assert json.loads(stdout)["batch_jobs"][0]["answered"] == 120
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"evil.example" not in written
    assert b"<script>x()</script>" not in written
