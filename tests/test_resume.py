"""Killed runs resume: ``adloom run`` as a real process, the fake Bedrock as another.

The fake answers the first requests, then holds the rest until the test releases
them, so the run is killed (kill -9, or Ctrl-C) while requests are surely in flight
whatever the machine's load, then run again to the end. The fake logs every request it
answered with the hash of its body, so what was paid for is counted per request,
across both runs.
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
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from briefs import write_brief
from conftest import FAKE_KEY_ID, user_environ
from fakebedrock.behaviour import body_hash

TESTS = Path(__file__).parent
CONCURRENCY = 3  # per model: at most 2 x 3 requests in flight when the run is killed
WAIT = 120.0  # seconds: bounds a hang on a stalled machine, never a speed requirement


HELD_AFTER = 8  # the fake answers this many requests, then holds the rest until released


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The fake as its own process, logging what it answers; its gate opens when the
    file ``release(tmp_path)`` is made."""
    log = tmp_path / "answered.jsonl"
    config = tmp_path / "fake.json"
    behaviour = {"hold_after": HELD_AFTER, "release": str(release(tmp_path)),
                 "request_log": str(log)}  # fmt: skip
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


def release(tmp_path: Path) -> Path:
    """The file that opens the fake's gate."""
    return tmp_path / "release-answers"


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


def start_run(
    brief: Path, out: Path, url: str, *options: str, stderr: Path | None = None
) -> subprocess.Popen[str]:
    """``adloom run`` as a process; its stderr piped, or written to ``stderr``."""
    env = {
        **os.environ,
        **user_environ(),
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": "fake-secret-never-sent",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url,
        "AWS_ENDPOINT_URL_BEDROCK": url,
    }
    command = [sys.executable, "-m", "adloom", "run", str(brief), "--out", str(out)]
    command += ["--json", "--concurrency", str(CONCURRENCY), *options]
    with ExitStack() as files:  # the child keeps its own copy of the file
        err = subprocess.PIPE if stderr is None else files.enter_context(stderr.open("w"))
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=err, text=True)


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
    """The journal once it has ``n`` rows; the bound only ends a hang."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and proc.poll() is None:
        rows = journal_rows(out)
        if len(rows) >= n:
            return rows
        time.sleep(0.01)
    pytest.fail(f"the run ended or stalled before its journal had {n} rows")


def wait_for_line(proc: subprocess.Popen[str], stderr: Path, start: str) -> str:
    """The first line of the run's ``stderr`` file that starts with ``start``, once it is
    written; "" if the run ended without it. The bound only ends a hang."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        ended = proc.poll() is not None  # before reading: all it wrote is in the file
        lines = [line for line in stderr.read_text().splitlines() if line.startswith(start)]
        if lines or ended:
            return (lines or [""])[0]
        time.sleep(0.01)
    pytest.fail(f"the run neither ended nor said {start!r}")


def paid(log: Path) -> Counter[str]:
    """Requests the fake answered (and would bill), per body."""
    lines = log.read_text().splitlines() if log.exists() else []
    return Counter(e["body"] for e in map(json.loads, lines) if e["status"] == 200)


def body_of(row: dict[str, Any]) -> str:
    return body_hash(json.loads(row["request"]))


def finish(brief: Path, out: Path, url: str) -> dict[str, Any]:
    proc = start_run(brief, out, url)
    stdout, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, stderr
    summary: dict[str, Any] = json.loads(stdout)
    return summary


def test_kill_9_mid_run_then_resume_pays_only_for_what_was_in_flight(
    fake: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = fake
    brief, out = campaign(tmp_path), tmp_path / "out"
    proc = start_run(brief, out, url)
    wait_for_rows(proc, out, HELD_AFTER)  # all the fake answers; the rest are held
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=WAIT)
    kept = {body_of(r) for r in journal_rows(out)}
    assert len(kept) == HELD_AFTER
    release(tmp_path).touch()  # what was in flight is answered (and paid) after all

    summary = finish(brief, out, url)
    total = summary["model_calls"]["text"] + summary["model_calls"]["image"]
    assert summary["cache_hits"] == len(kept)
    assert summary["failed"] == 0
    rows = journal_rows(out)
    # 16 copy + 8 master images (1:1; the 300x250 banner shares it: aspects.CROP_BOUND)
    assert total + len(kept) == len(rows) == 24
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
    errors = tmp_path / "stderr.txt"
    proc = start_run(brief, out, url, stderr=errors)
    wait_for_rows(proc, out, HELD_AFTER)  # the run cannot end: the fake holds the rest
    proc.send_signal(signal.SIGINT)
    wait_for_line(proc, errors, "Stopping:")  # it has requests in flight (or has ended)
    release(tmp_path).touch()  # what was in flight is answered now, and must be kept
    stdout, _ = proc.communicate(timeout=WAIT)
    stderr = errors.read_text()
    assert proc.returncode == 130, stderr
    assert stdout == ""  # no partial JSON
    assert "Traceback" not in stderr
    assert "Resume with the same command" in stderr
    assert f"--out {out}" in stderr

    summary = finish(brief, out, url)
    assert summary["failed"] == 0
    counts = paid(log)
    # What was in flight at Ctrl-C finished and was saved: nothing was paid twice.
    assert len(counts) == 24  # 16 copy + 8 master images
    assert max(counts.values()) == 1
