"""A hostile machine: a write refused after answers were paid for, files larger than
the system allows, names longer than it takes. Each is named as the machine's
problem (exit 74, the path and what to do), never "internal error"; no temporary
file is left behind; and what was paid for is kept, so a rerun pays nothing."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_checks import refused
from victims import leftover_temporaries, outside, plant_victim, run_cli

from adloom.errors import ExitCode
from briefs import write_brief
from fakebedrock import FakeBedrock
from test_bedrock_run import BRIEF, ONE_PLACEMENT, SMALL, run, settled


def test_a_write_refused_after_paying_then_a_rerun_pays_nothing(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """``creatives`` is a file where adloom needs a folder: every answer comes in and
    is journalled, composing fails (exit 74, the path named), and once the way is
    clear a rerun sends the fake nothing."""
    plant_victim(tmp_path)
    out = tmp_path / "out"
    code, _, err = run_cli(
        "run", BRIEF, "--provider", "draft", "--out", out, *SMALL, *ONE_PLACEMENT
    )
    assert code == ExitCode.OK, err
    shutil.rmtree(out / "creatives")
    (out / "creatives").write_text("in the way")
    before = outside(tmp_path, out)

    code, _, err = run(out, *ONE_PLACEMENT)
    assert code == ExitCode.MACHINE, err
    assert f"error: {out / 'creatives'}" in err
    assert "hint: a file stands where a folder should be" in err
    assert "internal error" not in err
    settled()
    paid = _model_calls(fake_bedrock)
    assert paid == 5 + 5  # five products in English, one placement
    assert leftover_temporaries(tmp_path) == []
    assert outside(tmp_path, out) == before

    (out / "creatives").unlink()
    code, summary, err = run(out, *ONE_PLACEMENT)
    assert code == ExitCode.OK, err
    assert summary["model_calls"] == {"text": 0, "image": 0}
    assert summary["cache_hits"] == paid
    assert _model_calls(fake_bedrock) == paid


def _model_calls(fake: FakeBedrock) -> int:
    """Runtime calls (what is paid for); the control plane and Service Quotas are free."""
    return len(fake.calls("converse")) + len(fake.calls("invoke"))


def _bodies(fake: FakeBedrock, op: str) -> list[str]:
    return [json.dumps(r.body, sort_keys=True) for r in fake.calls(op) if r.status == 200]


def test_an_image_whose_master_cannot_be_written_is_kept_and_not_paid_again(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """``masters`` is a file: the first image answer cannot be written as its file.
    It is kept in the journal, the run stops (exit 74, the path named), and the
    rerun writes it out from there instead of paying for it again."""
    out = tmp_path / "out"
    draft = run_cli("run", BRIEF, "--provider", "draft", "--out", out, *SMALL, *ONE_PLACEMENT)
    assert draft[0] == ExitCode.OK
    shutil.rmtree(out / "masters")
    (out / "masters").write_text("in the way")

    code, _, err = run(out, "--concurrency", "1", *ONE_PLACEMENT)
    assert code == ExitCode.MACHINE, err
    assert f"error: {out / 'masters'}" in err
    settled()
    first = _bodies(fake_bedrock, "invoke")
    assert first
    assert leftover_temporaries(tmp_path) == []

    (out / "masters").unlink()
    code, _, err = run(out, *ONE_PLACEMENT)
    assert code == ExitCode.OK, err
    images = _bodies(fake_bedrock, "invoke")
    assert len(images) == len(set(images)) == 5  # each image paid for once, in all
    with sqlite3.connect(out / "journal.sqlite") as db:
        assert db.execute("SELECT count(*) FROM pending_images").fetchone() == (0,)
    db.close()


def _small_files() -> None:
    # In the child before exec: files may grow to 64 KB; past that a write fails
    # with EFBIG instead of the process being killed by SIGXFSZ.
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_files_larger_than_the_system_allows_are_named(tmp_path: Path) -> None:
    plant_victim(tmp_path)
    out = tmp_path / "out"
    before = outside(tmp_path, out)
    command = [sys.executable, "-m", "adloom", "run", str(BRIEF), "--provider", "draft"]
    proc = subprocess.run(
        [*command, "--out", str(out), *SMALL],
        capture_output=True,
        text=True,
        preexec_fn=_small_files,
        timeout=300,
        check=False,
    )
    # Whichever file outgrows the limit first (the journal, a master, a creative) is
    # named, with what to do.
    assert proc.returncode == ExitCode.MACHINE, proc.stderr
    assert f"error: {out}" in proc.stderr
    assert "ulimit -f" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "internal error" not in proc.stderr
    assert leftover_temporaries(tmp_path) == []
    assert outside(tmp_path, out) == before


def test_an_out_name_longer_than_the_file_system_takes_is_named(tmp_path: Path) -> None:
    out = tmp_path / ("長" * 100)  # 300 bytes: over the 255 a name may have
    code, _, err = run_cli("run", BRIEF, "--provider", "draft", "--out", out, *SMALL)
    assert code == ExitCode.MACHINE, err
    assert "File name too long" in err
    assert "choose a shorter --out" in err


WRITE_TOO_BIG = """
import sys
from pathlib import Path
from adloom import safepath
from adloom.errors import MachineError
out = Path(sys.argv[1])
try:
    safepath.write_bytes(out, out / "creatives" / "big.png", bytes(200_000))
except MachineError as err:
    print(err.message, "|", err.hint)
"""


def test_a_write_over_the_file_size_limit_leaves_no_temporary_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", WRITE_TOO_BIG, str(tmp_path)],
        capture_output=True,
        text=True,
        preexec_fn=_small_files,
        timeout=60,
        check=True,
    )
    big = tmp_path / "creatives" / "big.png"
    assert proc.stdout.strip() == (
        f"{big}: File too large | the file is larger than this system allows:"
        " raise the limit (ulimit -f)"
    )
    assert list((tmp_path / "creatives").iterdir()) == []


def test_json_to_a_full_stdout_is_the_machines_problem(tmp_path: Path) -> None:
    """``--json > /dev/full``: the result cannot be written; exit 74 naming stdout, and
    what the run paid for is in the journal for the rerun."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "adloom", "run", str(BRIEF), "--provider", "draft",
               "--out", str(out), "--json", *SMALL, *ONE_PLACEMENT]  # fmt: skip
    with open("/dev/full", "w") as full:
        proc = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=300, check=False)  # fmt: skip
    assert proc.returncode == ExitCode.MACHINE, proc.stderr
    assert "error: standard output: No space left on device" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "internal error" not in proc.stderr
    code, summary, err = run(out, "--provider", "draft", *ONE_PLACEMENT)
    assert code == ExitCode.OK, err
    assert summary["model_calls"] == {"text": 0, "image": 0}  # all kept


@pytest.mark.parametrize("where", ["brief", "logo"])
def test_an_input_path_no_file_can_have_is_named(tmp_path: Path, where: str) -> None:
    """A brief or logo path with a 300-character file name: exit 2, the path named."""
    long_name = tmp_path / ("b" * 300 + ".png")
    if where == "brief":
        brief, shown = long_name.with_suffix(".xlsx"), str(long_name.with_suffix(".xlsx"))
    else:
        brief = write_brief(tmp_path / "brief.xlsx", brand={"logo": str(long_name)})
        shown = f'Brand!B1: logo "{long_name}"'
    stderr = refused(tmp_path, "run", brief, "--provider", "draft")
    assert shown in stderr
    assert "a name in it is longer than the file system takes" in stderr


# A streaming sheet left open by the refusal prints openpyxl's traceback ("Exception
# ignored in ...") when it is collected: pytest reports that as this warning.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("to", ["journal.sqlite", "outside"])
def test_a_link_planted_as_the_workbook_is_refused_without_a_traceback(
    tmp_path: Path, to: str
) -> None:
    """``variants.xlsx`` as a link, to the journal inside the folder or to a file of the
    user's outside it: refused (74), the link named; neither file is written."""
    plant_victim(tmp_path)
    out = tmp_path / "out"
    draft = run_cli("run", BRIEF, "--provider", "draft", "--out", out, *SMALL, *ONE_PLACEMENT)
    assert draft[0] == ExitCode.OK
    (out / "variants.xlsx").unlink()
    target = out / "journal.sqlite" if to == "journal.sqlite" else tmp_path / "victim" / "notes.txt"
    (out / "variants.xlsx").symlink_to(target)
    before = outside(tmp_path, out)
    journal = (out / "journal.sqlite").read_bytes()
    code, _, err = run_cli("run", BRIEF, "--provider", "draft", "--out", out, *SMALL,
                           *ONE_PLACEMENT)  # fmt: skip
    assert code == ExitCode.MACHINE, err
    assert f"error: {out / 'variants.xlsx'}: " in err
    assert "Traceback" not in err
    assert "internal error" not in err
    assert (out / "journal.sqlite").read_bytes()[:16] == journal[:16] == b"SQLite format 3\x00"
    assert (out / "variants.xlsx").is_symlink()
    assert outside(tmp_path, out) == before
    assert leftover_temporaries(out) == []


def test_run_and_plan_refuse_an_unknown_provider_alike(tmp_path: Path) -> None:
    """Both name the provider and list the registered ones (exit 2); run does not get
    as far as looking for the provider's default model."""
    ran = refused(tmp_path, "run", BRIEF, "--provider", "openai")
    code, stdout, planned = run_cli("plan", BRIEF, "--provider", "openai")
    assert (code, stdout) == (ExitCode.BAD_INPUT, "")
    assert ran == planned
    assert 'error: unknown provider "openai"' in ran
    assert "Use one of: bedrock, draft" in ran
