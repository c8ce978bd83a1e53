"""A crash never strands paid work: whatever way a run ended (a full disk, ``kill -9``),
the folder it left is recognised as adloom's and the same command resumes it, paying
for nothing twice; and the upload files never name an image that is not beside them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from victims import leftover_temporaries, outside, plant_victim, tree

from adloom.copy.platforms import META_FILE, META_IMAGE_ADS, META_IMAGES
from adloom.delivery.platforms import export_platforms, staged_name
from adloom.errors import ExitCode
from adloom.safepath import TEMPORARY_NAME
from fakebedrock import FakeBedrock
from test_bedrock_run import BRIEF, DEFAULT_IMAGE, SMALL
from test_platform_exports import campaign_run, read

WAIT = 300  # seconds: an upper bound for a stalled machine, not a speed requirement


def _command(out: Path) -> list[str]:
    fast = ("--set", f"quota.{DEFAULT_IMAGE}.ipm=100000")
    return [sys.executable, "-m", "adloom", "run", str(BRIEF), "--provider", "bedrock",
            "--out", str(out), "--json", "--concurrency", "2", *SMALL, *fast]  # fmt: skip


def _limit_files() -> None:
    # In the child before exec: files may grow to 160 KB (the journal's -wal outgrows it
    # after a few answers; its seven migrations alone take about 100 KB of it); past that
    # a write fails with EFBIG, not SIGXFSZ.
    resource.setrlimit(resource.RLIMIT_FSIZE, (160_000, 160_000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


@contextlib.contextmanager
def _small_disk(tmp_path: Path, how: str) -> Iterator[tuple[Path, Callable[[], None] | None]]:
    """A folder where a run soon fills the disk: a 200 KB tmpfs (root only), or any
    folder under a file-size limit. Yields the folder and the child's preexec."""
    if how == "fsize":
        yield tmp_path / "disk", _limit_files
        return
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)],
                             capture_output=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield disk, None
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _paid(fake: FakeBedrock) -> list[str]:
    """Every runtime request the fake answered (what is paid for), as its body."""
    return [json.dumps(r.body, sort_keys=True) for r in fake.requests
            if r.op in ("converse", "invoke") and r.status == 200]  # fmt: skip


def _journalled(out: Path) -> set[str]:
    with contextlib.closing(
        sqlite3.connect(f"file:{out / 'journal.sqlite'}?mode=ro", uri=True)
    ) as db:
        rows = db.execute("SELECT request FROM requests WHERE status='ok'").fetchall()
    return {json.dumps(json.loads(r[0]), sort_keys=True) for r in rows}


@pytest.mark.parametrize("how", ["tmpfs", "fsize"])
def test_a_full_disk_then_space_freed_resumes_paying_nothing_twice(
    fake_bedrock: FakeBedrock, tmp_path: Path, how: str
) -> None:
    plant_victim(tmp_path)
    with _small_disk(tmp_path, how) as (disk, limit):
        out = disk / "out"
        before = outside(tmp_path, disk)
        full = subprocess.run(_command(out), capture_output=True, text=True, timeout=WAIT,
                              preexec_fn=limit, check=False)  # fmt: skip
        assert full.returncode == ExitCode.MACHINE, full.stderr
        assert f"error: {out}" in full.stderr  # the file that could not grow is named
        assert "Traceback" not in full.stderr
        assert outside(tmp_path, disk) == before
        first = _paid(fake_bedrock)
        kept = _journalled(out)
        assert kept  # answers were paid for and journalled before the disk filled
        assert kept <= set(first)
        if how == "tmpfs":  # the journal's tables are still only in its -wal file: the
            # case the folder check once took for someone else's journal
            assert (out / "journal.sqlite-wal").stat().st_size > 0

        if how == "tmpfs":  # space freed
            subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        again = subprocess.run(_command(out), capture_output=True, text=True, timeout=WAIT,
                               check=False)  # fmt: skip
        assert again.returncode == ExitCode.OK, again.stderr
        summary = json.loads(again.stdout)
        assert summary["cache_hits"] == len(kept)
        rerun = _paid(fake_bedrock)[len(first) :]
        assert not set(rerun) & kept  # nothing journalled was paid for again
        assert len(rerun) == len(set(rerun))  # nor anything twice in the rerun
        assert sum(summary["model_calls"].values()) == len(rerun)
        assert _journalled(out) == kept | set(rerun)
        assert leftover_temporaries(disk) == []
        assert outside(tmp_path, disk) == before


def test_a_foreign_journal_whose_tables_are_only_in_its_wal_is_still_refused(
    tmp_path: Path,
) -> None:
    """The normal read the check falls back on never takes a foreign WAL database for
    adloom's, and changes none of its files."""
    out = tmp_path / "out"
    out.mkdir()
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode=WAL')\n"
        "db.execute('CREATE TABLE notes (text)')\n"
        "db.execute(\"INSERT INTO notes VALUES ('mine')\")\n"
        "os._exit(0)  # killed: the table stays in the -wal file\n"
    )
    subprocess.run([sys.executable, "-c", script, str(out / "journal.sqlite")], check=True)
    assert (out / "journal.sqlite-wal").stat().st_size > 0
    before = tree(out)
    from test_cli import run_cli

    code, _, err = run_cli("run", BRIEF, "--provider", "draft", "--out", out, *SMALL)
    assert code == ExitCode.BAD_INPUT, err
    assert f"--out {out}: journal.sqlite there is not an adloom journal" in err
    assert tree(out) == before


# ------------------------------------------------------------ kill -9 while exporting


def _tagged_right(images: Path, name: str) -> bool:
    """The image a sheet names is there, and is the image it was named for."""
    path = images / name
    tag = Path(name).stem.rsplit("-", 1)[1]
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest().startswith(tag)


def _export_killed_at(step: int, ads: Any, run: Any) -> bool:
    """Export in a forked child that ``kill -9``s itself at its ``step``-th file
    operation (a link, rename or removal); True if it was killed."""
    pid = os.fork()
    if pid == 0:  # the child: count the file operations, die at the chosen one
        count = 0

        def counted(real: Callable[..., Any]) -> Callable[..., Any]:
            def op(*args: Any, **kwargs: Any) -> Any:
                nonlocal count
                count += 1
                if count == step:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real(*args, **kwargs)

            return op

        os.link, os.replace, os.unlink = map(counted, (os.link, os.replace, os.unlink))
        try:
            export_platforms(ads, run.campaign, run.out)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_kill_9_at_any_point_of_an_export_leaves_the_sheet_and_its_images_agreeing(
    tmp_path: Path,
) -> None:
    run = campaign_run(tmp_path)
    folder = run.out / "exports"
    images = folder / META_IMAGES
    export_platforms(run.ads, run.campaign, run.out)  # the earlier round
    mine = images / "brand-guide.pdf"
    mine.write_text("kept")  # a file the user keeps there
    earlier = (folder / META_FILE).read_bytes()
    # The next round: every creative made again (new content, same names), and one
    # language approved.
    for ad in run.ads:
        if ad.creative is not None:
            new = ad.creative.path.with_suffix(".new")
            new.write_bytes(b"round 2" + ad.creative.path.read_bytes())
            new.replace(ad.creative.path)
    approved = [a for a in run.ads if a.spec.language == "en"]
    snapshot = tmp_path / "before-kill"
    shutil.copytree(run.out, snapshot)

    steps = 0
    while _export_killed_at(steps + 1, approved, run):
        steps += 1
        sheet = (folder / META_FILE).read_bytes()
        names = [r["Image File Name"] for r in read(folder / META_FILE)[1]]
        assert names
        assert all(_tagged_right(images, n) for n in names), f"killed at operation {steps}"
        assert mine.read_text() == "kept"
        if sheet != earlier:  # the new sheet: only the approved ads' new images
            assert {n.rsplit("-", 1)[0] for n in names} == {
                a.spec.name for a in approved if a.creative and a.spec.placement.platform == "meta"
            }
        # The next export, from wherever this one stopped, leaves no image it did
        # not name behind.
        export_platforms(approved, run.campaign, run.out)
        final = {r["Image File Name"] for r in read(folder / META_FILE)[1]}
        left = {p.name for p in images.iterdir()} - final - {mine.name}
        # Only a temporary file of the killed write, which the next run's start removes.
        assert all(TEMPORARY_NAME.fullmatch(n) for n in left), left
        assert not (folder / staged_name(META_IMAGE_ADS)).exists()
        shutil.rmtree(run.out)
        shutil.copytree(snapshot, run.out)
    assert steps > 2 * len(names)  # every link, the sheet's rename and every removal
