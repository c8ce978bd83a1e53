"""Hostile out folders: a folder holding the user's own files, a journal that is
not adloom's, an empty or odd ``--out``. adloom refuses them with the option named
and leaves every byte as it was; ``--force`` shares a folder but never replaces a
file adloom did not write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from victims import leftover_temporaries, outside, plant_victim, run_cli, tree

from adloom import outdir
from adloom.errors import ExitCode
from adloom.run.pipeline import DELIVERABLES
from briefs import write_brief

_PATTERNS = sorted({name for d in (outdir.JOURNAL_FILES, *DELIVERABLES) for name in d.names})


def _owns(pattern: str, rel: str) -> bool:
    return outdir.owner([outdir.Deliverable("", (pattern,))]).fullmatch(rel) is not None


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Every file a real run writes (a brief "cold-brew", an image ad and a search ad),
    relative to its out folder."""
    root = tmp_path_factory.mktemp("written")
    path = write_brief(root / "brief.xlsx", campaign=_CAMPAIGN, briefs=[_COLD_BREW])
    assert run_cli("run", path, "--out", root / "out")[0] == ExitCode.OK
    return sorted(
        str(p.relative_to(root / "out")) for p in (root / "out").rglob("*") if p.is_file()
    )


@pytest.mark.parametrize("pattern", _PATTERNS)
def test_force_leaves_a_users_file_under_every_name_adloom_writes(
    tmp_path: Path, pattern: str, written: list[str]
) -> None:
    """A user's file under a name a run writes (the first file of each deliverable's
    declarations, as a real run names it: ``preview/brief-001-cold-brew.html``,
    ``exports/meta-bulk.csv``, a creative, a thumbnail, a master ...) makes ``--force``
    refuse the folder, and is left byte for byte."""
    name = next((rel for rel in written if _owns(pattern, rel)), pattern.replace("*", "2"))
    out = tmp_path / "mine"
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    (out / name).write_bytes(b"mine, not adloom's: " + name.encode())
    (out / "notes.txt").write_text("mine")
    mine = tree(out)
    brief = write_brief(tmp_path / "brief.xlsx", campaign=_CAMPAIGN, briefs=[_COLD_BREW])
    code, _, err = run_cli("run", brief, "--out", out, "--force")
    assert code == ExitCode.BAD_INPUT, err
    top = name.split("/")[0]  # a journal.sqlite of the user's has its own message
    assert f"{top} would be replaced" in err or f"{top} there is not an adloom journal" in err
    assert tree(out) == mine


def test_every_file_a_run_writes_is_declared_and_each_declaration_is_used(
    written: list[str],
) -> None:
    """What the run above wrote is all owned (the run would have stopped otherwise),
    and the names planted above are real: every top-level name but a review round's
    workbook, adloom results' files, the index's later pages (and the journal's -wal
    and -shm, there only while it is open) matched a file of that run."""
    assert "preview/brief-001-cold-brew.html" in written
    used = {p.split("/")[0] for p in _PATTERNS if any(_owns(p, rel) for rel in written)}
    unused = {p.split("/")[0] for p in _PATTERNS} - used
    assert unused == {
        "journal.sqlite-shm",
        "journal.sqlite-wal",
        "variants-round-*.xlsx",
        # adloom results writes these, never a run
        "results.json",
        "results.xlsx",
        "results.html",
        "style-guide.md",
        # the index's later pages: only past 1,000 briefs (test_preview_pages)
        "index-*.html",
    }
    assert all(
        any(_owns(p, rel) for p in _PATTERNS) or rel in (".adloom", ".adloom.lock")
        for rel in written
    )


_CAMPAIGN = {
    "name": "Folder",
    "brand": "Lumen",
    "provider": "draft",
    "placements": "meta_feed,google_rsa",
}
_COLD_BREW = {"id": "cold-brew", "product": "Cold brew", "message": "Café-strength in 30 seconds"}


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
