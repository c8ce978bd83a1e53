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
from test_batch_mode import adloom

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


def test_foreign_lines_in_the_output_folder_do_not_become_ads(
    fake_bedrock: FakeBedrock, s3: S3Bucket, tmp_path: Path
) -> None:
    """Someone with access to the bucket drops a file of their own among the job's
    outputs: its records are not the job's, and are not used; the run says so."""
    products = [{"id": f"p{i:03d}", "product": f"Product {i}", "message": f"Message {i}",
                 "landing_url": f"https://example.com/p{i}"} for i in range(50)]  # fmt: skip
    path = write_brief(
        tmp_path / "brief.xlsx",
        campaign={"name": "Hostile Batch", "brand": "Lumen", "provider": "bedrock",
                  "placements": "meta_feed", "variants": 2, "languages": "en",
                  "quota.stability.stable-image-core-v1:1.ipm": "600000"},
        briefs=products,
    )  # fmt: skip
    planted = {"recordId": "f" * 64, "modelInput": {},
               "modelOutput": {"output": {"message": {"role": "assistant", "content": [
                   {"text": json.dumps({"headline": "=HYPERLINK(\"http://evil\")",
                                        "body": "<script>alert(1)</script>", "cta": "Buy"})}
               ]}}, "stopReason": "end_turn"}}  # fmt: skip
    s3.put("adloom/planted/output/x/evil.jsonl.out", json.dumps(planted) + "\n{not json\n")
    out = tmp_path / "out"
    code, summary, text = adloom("run", str(path), "--out", str(out), "--json", "--mode", "batch",
                                 "--set", f"batch.s3_uri={s3.uri('adloom')}",
                                 "--set", f"batch.role_arn={ROLE}",
                                 "--set", "batch.poll_seconds=0.02")  # fmt: skip
    assert code == ExitCode.OK, text
    assert summary["batch_jobs"][0]["answered"] == 100
    page = "".join(p.read_text() for p in (out / "preview").glob("*.html"))
    assert "evil" not in page
    assert "<script>alert(1)</script>" not in page
