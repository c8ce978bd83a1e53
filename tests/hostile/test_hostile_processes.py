"""No process outlives adloom: ``kill -9`` of a run leaves no compose worker behind,
and SIGTERM stops a run as cleanly as Ctrl-C.

The run is a real ``python -m adloom run`` process against the in-process fake
Bedrock, which holds its answers after the first few until the test releases them,
so the run is surely still going when it is signalled; its workers are found in
/proc by their parent pid before the kill.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from conftest import user_environ
from fakebedrock import FakeBedrock
from test_resume import campaign, release, wait_for_line  # a brief of 32 requests, unpaced

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

WAIT = 60.0  # seconds: an upper bound for a stalled machine, not a speed requirement


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and ")"
    return fields[0], int(fields[1]), int(fields[19])


def _children(pid: int) -> dict[int, int]:
    """Every live process whose parent is ``pid``: pid -> start time (pids get reused)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                found[int(entry.name)] = stat[2]
    return found


def _running_with(text: str) -> list[int]:
    """Live processes whose command line holds ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except (NotADirectoryError, FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        state = _stat(int(entry.name)) if entry.name.isdigit() else None
        if text in cmdline and state is not None and state[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int, started: int) -> bool:
    """Still running: a zombie holds no memory or files, and a reused pid is another process."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z" and stat[2] == started


def _start(brief: Path, out: Path, stderr: Path | None = None) -> subprocess.Popen[str]:
    """The run; its stderr piped, or written to ``stderr``."""
    command = [sys.executable, "-m", "adloom", "run", str(brief), "--out", str(out), "--json"]
    command += ["--concurrency", "2"]
    # The environment holds the fake's endpoint and dummy credentials (point_at), and
    # this test's user folders.
    # Its own process group, so a test can signal the group as `timeout` or a shell does.
    with ExitStack() as files:  # the child keeps its own copy of the file
        err = subprocess.PIPE if stderr is None else files.enter_context(stderr.open("w"))
        return subprocess.Popen(
            command,
            env=os.environ | user_environ(),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,
        )


def _rows(out: Path) -> int:
    path = out / "journal.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM requests").fetchone()[0])
    except sqlite3.OperationalError:  # still being created
        return 0


def _running_with_workers(proc: subprocess.Popen[str], out: Path) -> dict[int, int]:
    """Wait until the run has answers in its journal (its workers exist by then)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        if workers and _rows(out) >= 2:
            return workers
        time.sleep(0.02)
    pytest.fail("the run ended or stalled before it had workers and answers")


def _wait_gone(workers: dict[int, int]) -> list[int]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        left = [pid for pid, started in workers.items() if _alive(pid, started)]
        if not left:
            return []
        time.sleep(0.05)
    return left


@pytest.fixture
def slow_fake(fake_bedrock: FakeBedrock, tmp_path: Path) -> FakeBedrock:
    """Answers 4 requests, then holds the rest until ``release(tmp_path)`` is made."""
    fake_bedrock.behaviour.hold_after = 4
    fake_bedrock.behaviour.release = str(release(tmp_path))
    return fake_bedrock


def test_kill_9_leaves_no_worker_and_no_open_pipe(slow_fake: FakeBedrock, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start(campaign(tmp_path), out)
    workers = _running_with_workers(proc, out)
    proc.send_signal(signal.SIGKILL)
    # `adloom run … | tee log` ends: no worker holds the run's stdout/stderr open.
    proc.communicate(timeout=WAIT)
    assert proc.returncode == -signal.SIGKILL
    assert _wait_gone(workers) == []
    # Nothing the run started is left, whoever its parent is now: forked children
    # share the run's command line, which names this test's own out folder.
    assert _running_with(str(out)) == []


@pytest.mark.parametrize("group", [False, True], ids=["to-adloom", "to-its-group"])
def test_sigterm_stops_like_ctrl_c_and_a_rerun_reuses_answers(
    slow_fake: FakeBedrock, tmp_path: Path, group: bool
) -> None:
    """SIGTERM to adloom alone (kill PID), or to its whole process group, workers
    included (`timeout`, a shell's job control)."""
    brief, out, errors = campaign(tmp_path), tmp_path / "out", tmp_path / "stderr.txt"
    proc = _start(brief, out, errors)
    workers = _running_with_workers(proc, out)
    if group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    wait_for_line(proc, errors, "Stopping:")  # it has requests in flight (or has ended)
    release(tmp_path).touch()
    stdout, _ = proc.communicate(timeout=WAIT)
    stderr = errors.read_text()
    assert proc.returncode == 143, stderr
    assert stdout == ""  # no partial JSON
    assert "Traceback" not in stderr
    assert "Resume with the same command" in stderr
    assert f"--out {out}" in stderr
    assert _wait_gone(workers) == []
    with sqlite3.connect(out / "journal.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        outcome = db.execute("SELECT outcome FROM runs").fetchone()[0]
    assert outcome == "interrupted"
    kept = _rows(out)
    assert kept >= 2

    sent_before = len(slow_fake.requests)
    rerun = _start(brief, out)
    stdout, stderr = rerun.communicate(timeout=WAIT * 2)
    assert rerun.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["cache_hits"] == kept  # every saved answer reused, none paid again
    assert len(slow_fake.requests) - sent_before == _rows(out) - kept


def test_without_prctl_a_watchdog_ends_an_orphaned_worker(tmp_path: Path) -> None:
    """The fallback where prctl does not exist (macOS): the worker polls its parent."""
    script = (
        "import os, time\n"
        "from adloom.lifeline import watch_parent\n"
        "parent = os.getpid()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    watch_parent(parent)\n"
        "    time.sleep(120)\n"
        "    os._exit(0)\n"
        "print(child, flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    stat = _stat(child)
    assert stat is not None
    proc.kill()
    proc.wait(timeout=WAIT)
    assert _wait_gone({child: stat[2]}) == []
    proc.stdout.close()


def test_workers_do_not_hold_the_terminal() -> None:
    """A worker's stdin/stdout/stderr are /dev/null, whatever the parent's are."""
    from concurrent.futures import ProcessPoolExecutor

    from adloom.lifeline import worker_init

    with ProcessPoolExecutor(1, initializer=worker_init, initargs=(os.getpid(),)) as pool:
        targets = pool.submit(_stdio_targets).result()
    assert targets == [os.devnull] * 3


def test_a_busy_worker_ends_on_sigterm_even_under_the_clean_stop_handler(
    tmp_path: Path,
) -> None:
    """Forked while adloom's SIGTERM handler is set, a worker composing an ad still dies
    of SIGTERM (the pool's terminate() relies on it; a process group's SIGTERM reaches
    it too). Under the inherited handler the task would just fail and the worker live on."""
    from concurrent.futures import ProcessPoolExecutor

    from adloom.lifeline import sigterm_stops, worker_init

    started = tmp_path / "started"
    with sigterm_stops():
        pool = ProcessPoolExecutor(1, initializer=worker_init, initargs=(os.getpid(),))
        task = pool.submit(_busy, started)
        deadline = time.monotonic() + WAIT
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        worker = int(started.read_text())
        stat = _stat(worker)
        assert stat is not None
        os.kill(worker, signal.SIGTERM)
        assert _wait_gone({worker: stat[2]}) == []
        assert task.exception(timeout=WAIT) is not None  # the pool saw its worker die
        pool.shutdown(wait=True)


def _busy(started: Path) -> None:
    started.with_suffix(".tmp").write_text(str(os.getpid()))
    started.with_suffix(".tmp").rename(started)  # whole, or not there yet
    time.sleep(WAIT)


def _stdio_targets() -> list[str]:
    return [os.readlink(f"/proc/self/fd/{fd}") for fd in (0, 1, 2)]


def test_kill_9_of_a_compose_worker_is_replaced_and_the_run_goes_on(
    slow_fake: FakeBedrock, tmp_path: Path
) -> None:
    """A compose worker killed (``kill -9``, as the out-of-memory killer does) breaks its
    pool: adloom starts fresh workers, composes again what was lost and finishes (exit
    0, never 70), every ad composed and every request paid for once."""
    out = tmp_path / "out"
    proc = _start(campaign(tmp_path), out)
    workers = _running_with_workers(proc, out)
    own = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
    # A forked worker has the run's own command line (not, say, a resource tracker's).
    victim = next(p for p in workers if Path(f"/proc/{p}/cmdline").read_bytes() == own)
    os.kill(victim, signal.SIGKILL)
    release(tmp_path).touch()
    stdout, stderr = proc.communicate(timeout=WAIT * 2)
    assert proc.returncode == 0, stderr
    assert "internal error" not in stderr
    summary = json.loads(stdout)
    assert (summary["failed"], summary["not_generated"]) == (0, 0)
    with sqlite3.connect(out / "journal.sqlite") as db:
        composed = [Path(out / p) for (p,) in db.execute("SELECT path FROM creatives")]
    db.close()
    assert len(composed) == summary["creatives"] == 4 * 2 * 2  # briefs x variants x placements
    assert all(p.is_file() for p in composed)
    paid = [json.dumps(r.body, sort_keys=True) for r in slow_fake.requests
            if r.op in ("converse", "invoke") and r.status == 200]  # fmt: skip
    assert len(paid) == len(set(paid)) == _rows(out)  # nothing paid twice, nothing lost
    assert _wait_gone(workers) == []
