"""Killed runs resume: ``adloom run`` as a real process, the fake Bedrock as another.

The run is killed (kill -9, or Ctrl-C) once its journal holds some answers, then run
again to the end. The fake logs every request it answered with the hash of its body,
so what was paid for is counted per request, across both runs.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefs import write_brief
from conftest import FAKE_KEY_ID
from fakebedrock.behaviour import body_hash

TESTS = Path(__file__).parent
CONCURRENCY = 3  # per model: at most 2 x 3 requests in flight when the run is killed


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The fake as its own process, with latency, logging what it answers."""
    log = tmp_path / "answered.jsonl"
    config = tmp_path / "fake.json"
    behaviour = {"text_latency_ms": 150, "image_latency_ms": 300, "request_log": str(log)}
    config.write_text(json.dumps(behaviour))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakebedrock", "--config", str(config)],
        cwd=TESTS,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = json.loads(proc.stdout.readline())["url"]
    yield url, log
    proc.terminate()
    proc.wait(timeout=10)


def campaign(tmp_path: Path) -> Path:
    briefs = [
        {"id": f"b{i}", "product": f"Product {i}", "message": f"Message {i}"} for i in range(4)
    ]
    settings = {
        "name": "Resume",
        "brand": "Lumen",
        "provider": "bedrock",
        "variants": 2,
        "placements": "meta_feed, display_300x250",
        # Quotas that never slow this test down: it is about what is paid, not pace.
        "quota.us.anthropic.claude-haiku-4-5-20251001-v1:0.tpm": "50000000",
        "quota.stability.stable-image-core-v1:1.ipm": "600000",
    }
    return write_brief(tmp_path / "brief.xlsx", campaign=settings, briefs=briefs)


def start_run(brief: Path, out: Path, url: str, *options: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": "fake-secret-never-sent",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url,
        "AWS_ENDPOINT_URL_BEDROCK": url,
    }
    command = [sys.executable, "-m", "adloom", "run", str(brief), "--out", str(out)]
    command += ["--json", "--concurrency", str(CONCURRENCY), *options]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def journal_rows(out: Path) -> list[dict[str, Any]]:
    path = out / "journal.sqlite"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT key, status, request FROM requests")]
    except sqlite3.OperationalError:  # the run is still creating it
        return []


def wait_for_rows(proc: subprocess.Popen[str], out: Path, n: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        rows = journal_rows(out)
        if len(rows) >= n:
            return rows
        time.sleep(0.01)
    pytest.fail(f"the run ended or stalled before its journal had {n} rows")


def paid(log: Path) -> Counter[str]:
    """Requests the fake answered (and would bill), per body."""
    lines = log.read_text().splitlines() if log.exists() else []
    return Counter(e["body"] for e in map(json.loads, lines) if e["status"] == 200)


def body_of(row: dict[str, Any]) -> str:
    return body_hash(json.loads(row["request"]))


def finish(brief: Path, out: Path, url: str) -> dict[str, Any]:
    proc = start_run(brief, out, url)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    summary: dict[str, Any] = json.loads(stdout)
    return summary


def test_kill_9_mid_run_then_resume_pays_only_for_what_was_in_flight(
    fake: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = fake
    brief, out = campaign(tmp_path), tmp_path / "out"
    proc = start_run(brief, out, url)
    wait_for_rows(proc, out, 8)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    kept = {body_of(r) for r in journal_rows(out)}

    summary = finish(brief, out, url)
    total = summary["model_calls"]["text"] + summary["model_calls"]["image"]
    assert summary["cache_hits"] == len(kept)
    assert summary["failed"] == 0
    rows = journal_rows(out)
    assert total + len(kept) == len(rows) == 32  # 16 copy + 16 master images (1:1, 5:4)
    counts = paid(log)
    assert {body_of(r) for r in rows} <= set(counts)  # the fake saw every journalled body
    twice = {body for body, n in counts.items() if n > 1}
    assert all(counts[body] == 1 for body in kept)  # what was saved is never paid again
    assert not twice & kept
    assert sum(counts[b] - 1 for b in twice) <= 2 * CONCURRENCY  # at most those in flight


def test_ctrl_c_stops_cleanly_says_how_to_resume_and_loses_nothing(
    fake: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = fake
    brief, out = campaign(tmp_path), tmp_path / "out"
    proc = start_run(brief, out, url)
    wait_for_rows(proc, out, 4)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stdout == ""  # no partial JSON
    assert "Traceback" not in stderr
    assert "Resume with the same command" in stderr
    assert f"--out {out}" in stderr

    summary = finish(brief, out, url)
    assert summary["failed"] == 0
    counts = paid(log)
    # What was in flight at Ctrl-C finished and was saved: nothing was paid twice.
    assert len(counts) == 32
    assert max(counts.values()) == 1
