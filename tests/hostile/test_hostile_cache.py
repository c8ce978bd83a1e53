"""A cache is only a cache: whatever is in the user cache folder (a lifecycle that is no
object or holds 2026-13-45, quotas of NaN or infinity, batch limits that contradict
each other, a FIFO where a file should be) is asked again, never an exit 70 or a hang;
a relative ``XDG_CACHE_HOME`` is ignored; and a quota that would make a run wait for
hours is said before waiting, with the setting that paces at another rate."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import adloom
from adloom.errors import ExitCode
from adloom.providers.bedrock import account_quotas
from adloom.providers.bedrock.client import Clients
from adloom.registry import load_registry
from conftest import user_environ
from fakebedrock import FakeBedrock
from fakebedrock.quotas import name_for
from test_account_quotas import HAIKU45, TEXT, brief, cli
from test_resume import wait_for_line

QUOTAS_FILE = "service-quotas.bedrock.us-east-1.default.json"
WAIT = 120  # seconds: an upper bound for a stalled machine, not a speed requirement


def _cache_dir() -> Path:
    """This test's cache folder, as adloom's Env works it out (conftest.user_environ)."""
    return Path(user_environ()["XDG_CACHE_HOME"]) / "adloom"


def _plant(name: str, value: Any) -> Path:
    path = _cache_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"saved_at": time.time(), "value": value}), encoding="utf-8")
    return path


def _clean(code: int, err: str) -> None:
    assert code == ExitCode.OK, err
    assert "internal error" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "value",
    [
        "not an object",
        [1, 2],
        {"status": "LEGACY", "endOfLifeTime": "2026-13-45"},
        {"status": 7},
        {"status": "ACTIVE", "legacyTime": 20260101},
    ],
    ids=["text", "list", "no-such-date", "status-not-text", "date-not-text"],
)
def test_a_broken_lifecycle_entry_is_asked_again(
    fake_bedrock: FakeBedrock, tmp_path: Path, value: Any
) -> None:
    _clean(*cli("plan", brief(tmp_path), "--json")[::2])  # the cache filled
    cached = sorted(_cache_dir().glob("lifecycle-*.json"))
    assert cached
    for command in (("plan", brief(tmp_path)), ("doctor", brief(tmp_path)),
                    ("run", brief(tmp_path), "--out", tmp_path / "out")):  # fmt: skip
        for path in cached:
            _plant(path.name, value)
        asked = len(fake_bedrock.calls("get_foundation_model"))
        code, _, err = cli(*command, "--json")
        _clean(code, err)
        assert len(fake_bedrock.calls("get_foundation_model")) >= asked + len(cached), command
        for path in cached:  # and what was asked replaced the broken entry
            assert json.loads(path.read_text())["value"] != value


@pytest.mark.parametrize("bad", [math.nan, math.inf, -5.0, 1e300, "lots"])
def test_a_cached_quota_that_is_no_quota_is_asked_again(
    fake_bedrock: FakeBedrock, tmp_path: Path, bad: Any
) -> None:
    fake_bedrock.behaviour.service_quotas[name_for(TEXT)] = 123_000
    _plant(QUOTAS_FILE, [[name_for(TEXT), bad]])
    for command in (
        ("doctor", brief(tmp_path)),
        ("run", brief(tmp_path), "--out", tmp_path / "out"),
    ):
        code, stdout, err = cli(*command, "--json")
        _clean(code, err)
    assert fake_bedrock.calls("list_service_quotas")  # asked again, then kept
    (quota,) = [q for q in json.loads(stdout)["quotas"] if q["model"] == TEXT]
    assert (quota["per_minute"], quota["source"]) == (123_000, "account")


def test_batch_limits_that_contradict_each_other_are_not_believed(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    info = load_registry().get(HAIKU45)
    model = "Anthropic Claude Haiku 4.5"
    _plant(QUOTAS_FILE, [
        [f"Minimum number of records per batch inference job for {model}", 5000.0],
        [f"Records per batch inference job for {model}", 100.0],
    ])  # fmt: skip
    assert (
        account_quotas.batch_limits(
            Clients(profile=None, region="us-east-1", cache=_cache_dir()), info
        )
        == {}
    )
    # Either alone is believed.
    _plant(QUOTAS_FILE, [[f"Records per batch inference job for {model}", 40_000.0]])
    limits = account_quotas.batch_limits(
        Clients(profile=None, region="us-east-1", cache=_cache_dir()), info
    )
    assert limits == {"max_records": 40_000}
    _clean(*cli("plan", brief(tmp_path), "--json")[::2])


def test_a_fifo_in_the_cache_folder_does_not_hang_the_run(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    folder = _cache_dir()
    folder.mkdir(parents=True)
    os.mkfifo(folder / QUOTAS_FILE)
    command = [sys.executable, "-m", "adloom", "doctor", str(brief(tmp_path)), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT,
                          env=os.environ | user_environ(), check=False)  # fmt: skip
    _clean(done.returncode, done.stderr)
    assert fake_bedrock.calls("list_service_quotas")  # asked, as if nothing were cached
    assert (folder / QUOTAS_FILE).is_file()  # and kept, as a file


def test_a_relative_xdg_cache_home_is_ignored(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    """The XDG spec: a relative path there is invalid. adloom never writes its cache
    into whatever folder it is run from."""
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    # This adloom, whichever folder it runs from.
    here = str(Path(adloom.__file__).parents[1])
    env = os.environ | {"XDG_CACHE_HOME": "cache-here", "HOME": str(home), "PYTHONPATH": here}
    command = [sys.executable, "-m", "adloom", "plan", str(brief(tmp_path)), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT, cwd=work,
                          env=env, check=False)  # fmt: skip
    _clean(done.returncode, done.stderr)
    assert list(work.iterdir()) == []
    assert list((home / ".cache" / "adloom").glob("lifecycle-*.json"))


def test_a_cached_quota_that_would_wait_for_days_is_said_before_waiting(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """A quota of 1 token a minute in the cache: the run says how long it would take and
    which setting paces at another rate, before it waits; SIGTERM then stops it (143),
    resumable, with every answer it paid for kept."""
    _plant(QUOTAS_FILE, [[name_for(TEXT), 1.0]])
    out, errors = tmp_path / "out", tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "adloom", "run", str(brief(tmp_path)), "--out", str(out),
               "--json"]  # fmt: skip
    with errors.open("w") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                env=os.environ | user_environ())  # fmt: skip
    line = wait_for_line(proc, errors, "warning: 1 request(s) to ")
    assert f"{TEXT}: 1 tokens/min (account: {name_for(TEXT)})" in line
    hours = re.search(r"take about ([\d.,]+) hours at that pace", line)
    assert hours is not None, line
    assert float(hours[1].replace(",", "")) > 1
    assert f"--set quota.{TEXT}.tpm=N" in line
    assert proc.poll() is None  # said, and now waiting
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=WAIT)
    assert proc.returncode == ExitCode.TERMINATED, errors.read_text()
    assert stdout == ""
    answered = len(fake_bedrock.calls("converse")) + len(fake_bedrock.calls("invoke"))
    with contextlib.closing(sqlite3.connect(out / "journal.sqlite")) as db:
        kept = db.execute("SELECT count(*) FROM requests WHERE status='ok'").fetchone()[0]
    assert kept == answered  # nothing paid was lost
