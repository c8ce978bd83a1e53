"""Hostile out folders: a folder holding the user's own files, a journal that is
not adloom's, an empty or odd ``--out``. adloom refuses them with the option named
and leaves every byte as it was; ``--force`` shares a folder but never replaces a
file adloom did not write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from victims import leftover_temporaries, outside, plant_victim, run_cli, tree

from adloom.errors import ExitCode
from briefs import write_brief


def _user_folder(out: Path) -> None:
    """A folder a user keeps: their own page, workbook and an export naming a photo."""
    (out / "exports").mkdir(parents=True)
    (out / "index.html").write_text("<h1>my own page</h1>")
    (out / "variants.xlsx").write_bytes(b"my own workbook")
    (out / "exports" / "meta-bulk.csv").write_text("Image File Name\nholiday.jpg\n")
    (out / "exports" / "meta-images").mkdir()
    (out / "exports" / "meta-images" / "holiday.jpg").write_bytes(b"my photo")


def _brief(tmp_path: Path) -> Path:
    campaign = {"name": "Folder", "brand": "Lumen", "provider": "draft", "placements": "meta_feed"}
    return write_brief(tmp_path / "brief.xlsx", campaign=campaign)


@pytest.mark.parametrize("force", [False, True])
def test_a_folder_of_the_users_files_is_refused_untouched(tmp_path: Path, force: bool) -> None:
    plant_victim(tmp_path)
    out = tmp_path / "mine"
    _user_folder(out)
    brief = _brief(tmp_path)
    before, mine = outside(tmp_path, out), tree(out)
    code, _, err = run_cli("run", brief, "--out", out, *(["--force"] * force))
    assert code == ExitCode.BAD_INPUT, err
    assert f"--out {out}:" in err
    assert ("would be replaced" if force else "holds files adloom did not write") in err
    assert tree(out) == mine
    assert outside(tmp_path, out) == before


def test_force_shares_a_folder_and_leaves_the_users_files_alone(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "photos").mkdir()
    (out / "photos" / "holiday.jpg").write_bytes(b"my photo")
    mine = tree(out)
    brief = _brief(tmp_path)
    assert run_cli("run", brief, "--out", out)[0] == ExitCode.BAD_INPUT
    for _ in range(2):  # the second run finds the folder adloom's, --force or not
        code, _, err = run_cli("run", brief, "--out", out, "--force")
        assert code == ExitCode.OK, err
        assert {k: v for k, v in tree(out).items() if k in mine} == mine
    assert (out / "index.html").is_file()
    assert run_cli("run", brief, "--out", out)[0] == ExitCode.OK


def test_rerun_into_an_adloom_folder_and_a_folder_of_an_older_version(tmp_path: Path) -> None:
    brief, out = _brief(tmp_path), tmp_path / "out"
    assert run_cli("run", brief, "--out", out)[0] == ExitCode.OK
    assert run_cli("run", brief, "--out", out)[0] == ExitCode.OK
    (out / ".adloom").unlink()  # as an older adloom left it: known by its journal
    code, _, err = run_cli("run", brief, "--out", out)
    assert code == ExitCode.OK, err
    assert leftover_temporaries(out) == []


def _plain_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE recipes (name TEXT)")
        db.execute("INSERT INTO recipes VALUES ('cold brew')")
    db.close()


@pytest.mark.parametrize("kind", ["text", "sqlite", "empty"])
@pytest.mark.parametrize("force", [False, True])
def test_a_journal_that_is_not_adloom_is_refused_byte_identical(
    tmp_path: Path, kind: str, force: bool
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    journal = out / "journal.sqlite"
    if kind == "sqlite":
        _plain_sqlite(journal)
    else:
        journal.write_bytes(b"" if kind == "empty" else b"my thesis, saved with a strange name")
    mine = tree(out)
    code, _, err = run_cli("run", _brief(tmp_path), "--out", out, *(["--force"] * force))
    assert code == ExitCode.BAD_INPUT, err
    assert f"--out {out}: journal.sqlite there is not an adloom journal" in err
    assert tree(out) == mine
    assert sorted(p.name for p in out.iterdir()) == ["journal.sqlite"]


@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_out_is_refused(
    tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    brief = _brief(tmp_path)
    before = tree(tmp_path)
    for command in (("run", brief), ("review", tmp_path / "variants.xlsx")):
        code, _, err = run_cli(*command, "--out", value)
        assert code == ExitCode.BAD_INPUT, err
        assert '--out "": name a folder' in err
    assert tree(tmp_path) == before


def test_out_that_is_a_file_is_named(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    out.write_text("mine")
    brief = _brief(tmp_path)
    before = tree(tmp_path)
    code, _, err = run_cli("run", brief, "--out", out)
    assert code == ExitCode.MACHINE, err
    assert f"--out {out}: is a file, not a folder" in err
    assert tree(tmp_path) == before


def test_out_that_is_a_dangling_link_is_named_and_not_followed(tmp_path: Path) -> None:
    out, target = tmp_path / "out", tmp_path / "elsewhere" / "gone"
    out.symlink_to(target, target_is_directory=True)
    code, _, err = run_cli("run", _brief(tmp_path), "--out", out)
    assert code == ExitCode.MACHINE, err
    assert f"--out {out}: a symbolic link to {target}, which does not exist" in err
    assert not target.parent.exists()


def test_temporaries_a_killed_run_left_are_swept_and_nothing_else(tmp_path: Path) -> None:
    brief, out = _brief(tmp_path), tmp_path / "out"
    assert run_cli("run", brief, "--out", out)[0] == ExitCode.OK
    left = [out / ".index.html.4242.139871.tmp", out / "creatives" / ".ad.png.4242.1.tmp"]
    for path in left:
        path.write_bytes(b"half a file")
    (out / "notes.tmp").write_text("mine")
    (out / "creatives" / ".draft.tmp").write_text("mine too")
    code, _, err = run_cli("run", brief, "--out", out)
    assert code == ExitCode.OK, err
    assert not any(path.exists() for path in left)
    assert sorted(p.name for p in leftover_temporaries(out)) == [".draft.tmp", "notes.tmp"]


def test_a_folder_with_only_what_file_browsers_leave_counts_as_empty(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    code, _, err = run_cli("run", _brief(tmp_path), "--out", out)
    assert code == ExitCode.OK, err
    assert (out / ".DS_Store").read_bytes() == b"\0\0\0\1Bud1"
