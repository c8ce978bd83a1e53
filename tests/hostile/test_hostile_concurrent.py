"""Two ``adloom run`` on one out folder, as real processes against the fake Bedrock
(another process, logging every answer it bills): the second exits BUSY (75)
naming the first, or with ``--wait`` starts when the first is done; either way no
request is paid twice. The fake holds its answers after the first few until the test
releases them, so the first run is surely still going when the second starts."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from victims import leftover_temporaries, plant_victim, run_cli, tree

from adloom import outdir
from adloom.errors import ExitCode
from adloom.run.pipeline import DELIVERABLES
from test_bedrock_run import BRIEF, SMALL
from test_resume import (
    campaign,
    fake,
    finish,
    paid,
    release,
    start_run,
    wait_for_line,
    wait_for_rows,
)

__all__ = ["fake"]  # the fixture, used by name below


def test_a_second_run_on_the_folder_exits_busy_and_nothing_is_paid_twice(
    fake: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = fake
    victim = plant_victim(tmp_path)  # beside the out folder, as is the fake's log
    brief, out = campaign(tmp_path), tmp_path / "out"
    before = tree(victim)
    first = start_run(brief, out, url)
    wait_for_rows(first, out, 2)  # it holds the folder

    second = start_run(brief, out, url)
    _, err = second.communicate(timeout=120)
    assert second.returncode == ExitCode.BUSY, err
    assert f"--out {out}: another adloom run is writing this folder (process {first.pid}" in err
    assert "add --wait" in err

    release(tmp_path).touch()
    _, err = first.communicate(timeout=120)
    assert first.returncode == ExitCode.OK, err
    assert paid(log)
    assert set(paid(log).values()) == {1}
    assert tree(victim) == before
    assert leftover_temporaries(out) == []
    # The first run's lock went with it: the folder is free again, and all is reused.
    assert finish(brief, out, url)["model_calls"] == {"text": 0, "image": 0}


def test_wait_starts_when_the_first_run_is_done_and_pays_nothing(
    fake: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = fake
    brief, out = campaign(tmp_path), tmp_path / "out"
    first = start_run(brief, out, url)
    wait_for_rows(first, out, 2)
    second = start_run(brief, out, url, "--wait")
    release(tmp_path).touch()
    _, err = first.communicate(timeout=120)
    assert first.returncode == ExitCode.OK, err
    answered = sum(paid(log).values())

    stdout, err = second.communicate(timeout=120)
    assert second.returncode == ExitCode.OK, err
    assert '"text": 0' in stdout
    assert '"image": 0' in stdout
    assert set(paid(log).values()) == {1}
    assert sum(paid(log).values()) == answered


def test_wait_says_whom_it_waits_for_and_sends_nothing_meanwhile(
    fake: tuple[str, Path], tmp_path: Path
) -> None:
    """The folder held by this test itself, so the second run surely finds it taken."""
    url, log = fake
    brief, out = campaign(tmp_path), tmp_path / "out"
    release(tmp_path).touch()  # the fake answers all: the folder is held here instead
    errors = tmp_path / "stderr.txt"
    with outdir.claimed(out, DELIVERABLES, force=False, wait=False, notify=print):
        run = start_run(brief, out, url, "--wait", stderr=errors)
        # After any warning (the profile picked).
        line = wait_for_line(run, errors, "Waiting:")
        assert line.startswith(
            f"Waiting: another adloom run is writing this folder (process {os.getpid()} on "
        )
        assert run.poll() is None
        assert not paid(log)
    run.communicate(timeout=120)
    assert run.returncode == ExitCode.OK, errors.read_text()
    assert set(paid(log).values()) == {1}


def test_sigterm_while_waiting_for_the_folder_exits_143_and_says_so(
    fake: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = fake
    brief, out = campaign(tmp_path), tmp_path / "out"
    errors = tmp_path / "stderr.txt"
    with outdir.claimed(out, DELIVERABLES, force=False, wait=False, notify=print):
        run = start_run(brief, out, url, "--wait", stderr=errors)
        assert wait_for_line(run, errors, "Waiting:")
        run.send_signal(signal.SIGTERM)
        stdout, _ = run.communicate(timeout=120)
    err = errors.read_text()
    assert run.returncode == ExitCode.TERMINATED, err
    assert err.splitlines()[-1] == "Stopped."
    assert stdout == ""
    assert "Traceback" not in err
    assert not paid(log)  # it never started: nothing sent, nothing to lose


def test_a_link_planted_as_the_lock_never_replaces_the_journal(tmp_path: Path) -> None:
    """``.adloom.lock`` -> ``journal.sqlite``: opening the lock through it would truncate
    the journal (every answer paid for) and write the lock's text in its place."""
    out = tmp_path / "out"
    code, _, err = run_cli("run", BRIEF, "--provider", "draft", "--out", out, *SMALL)
    assert code == ExitCode.OK, err
    before = tree(out)
    (out / outdir.LOCK).unlink()
    (out / outdir.LOCK).symlink_to(outdir.JOURNAL)
    code, _, err = run_cli("run", BRIEF, "--provider", "draft", "--out", out, *SMALL)
    assert code == ExitCode.MACHINE, err
    assert f"error: {out / outdir.LOCK}: a symbolic link stands where adloom's lock" in err
    assert "Traceback" not in err
    assert (out / outdir.LOCK).is_symlink()  # left as planted
    after = tree(out)
    after.pop(outdir.LOCK)
    before.pop(outdir.LOCK)
    assert after == before  # the journal byte for byte, and nothing else touched
