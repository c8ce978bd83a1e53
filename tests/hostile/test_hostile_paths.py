"""Hostile names: a brief must not make adloom write, replace or delete a file
outside ``--out``. Each case is refused at its cell (exit 2) before anything is
written, and the user's ``victim`` folder beside the out folder is unchanged."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from victims import leftover_temporaries, outside, plant_victim, run_cli

from adloom.creative import measures
from adloom.engine.journal import Journal
from adloom.errors import ExitCode
from briefs import MINIMAL_CAMPAIGN, write_brief
from fakebedrock import FakeBedrock

ESCAPES = [
    "../../../../../victim/holiday",
    "../victim/holiday_{variant}",
    "{brief}/../../victim/holiday",
    "..\\..\\victim\\holiday_{variant}",
    "victim:holiday_{brief}_{placement}_{variant}",
]


def _campaign(**settings: str) -> dict[str, str]:
    return {**MINIMAL_CAMPAIGN, "placements": "meta_feed", **settings}


def _refused(tmp_path: Path, brief: Path, where: str, *command: str) -> str:
    """Run ``adloom <command>`` on ``brief``; it must exit 2 naming ``where`` (a regex)
    and leave every file outside the out folder as it was."""
    out = tmp_path / "out"
    before = outside(tmp_path, out)
    code, _, err = run_cli(*command, brief, "--out", out)
    assert code == ExitCode.BAD_INPUT, err
    assert re.search(where, err), err
    assert "internal error" not in err
    assert outside(tmp_path, out) == before
    assert not (out / "creatives").exists()
    return err


@pytest.mark.parametrize("naming", ESCAPES)
def test_naming_that_leaves_the_folder_is_refused_at_its_cell(tmp_path: Path, naming: str) -> None:
    plant_victim(tmp_path)
    brief = write_brief(tmp_path / "brief.xlsx", campaign=_campaign(naming=naming))
    # The Campaign sheet: header row 1, then name, brand, provider, placements, naming.
    err = _refused(tmp_path, brief, r"Campaign!B6: naming .* which a file name cannot hold", "run")
    assert "join the fields with _ or -" in err


def test_absolute_naming_is_refused(tmp_path: Path) -> None:
    victim = plant_victim(tmp_path)
    naming = f"{victim}/holiday_{{variant}}"
    brief = write_brief(tmp_path / "brief.xlsx", campaign=_campaign(naming=naming))
    _refused(tmp_path, brief, r"Campaign!B6: naming", "run")
    code, _, err = run_cli("validate", brief)
    assert code == ExitCode.BAD_INPUT
    assert "Campaign!B6" in err


@pytest.mark.parametrize(
    ("pid", "why"),
    [
        ("../../victim", "which file names cannot hold"),
        ("/srv/victim", "which file names cannot hold"),
        ("CON", "reserved device name on Windows"),
        ("nul.png", "reserved device name on Windows"),
        ("LPT9", "reserved device name on Windows"),
        ("banner.", "ends with a dot"),
        ("ば" * 30, "bytes long in UTF-8"),
    ],
)
def test_placement_id_that_is_not_a_file_name_is_refused_at_its_cell(
    tmp_path: Path, pid: str, why: str
) -> None:
    plant_victim(tmp_path)
    placement = {"id": pid, "width": 600, "height": 600, "max_kb": 500}
    brief = write_brief(
        tmp_path / "brief.xlsx",
        campaign=_campaign(placements=pid),
        placements=[placement],
    )
    err = _refused(tmp_path, brief, rf"Placements!A2: placement id .*{why}", "run")
    assert "use a short name" in err


def test_a_300_byte_japanese_brief_id_is_refused_by_validate(tmp_path: Path) -> None:
    brief_id = "夏" * 100  # 100 characters, 300 bytes in UTF-8
    brief = write_brief(
        tmp_path / "brief.xlsx",
        campaign=_campaign(),
        briefs=[{"id": brief_id, "product": "Cold brew", "message": "Fast"}],
    )
    code, _, err = run_cli("validate", brief)
    assert code == ExitCode.BAD_INPUT
    assert "Briefs!A2: brief id is 300 bytes long in UTF-8 (at most 64" in err


def test_a_name_too_long_for_a_file_is_refused_before_any_request(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    """Each part is short enough; together they are not: ``validate``, ``plan`` and
    ``run`` stop at the naming cell, and the fake Bedrock never hears of it."""
    plant_victim(tmp_path)
    name = "春の新作コーヒー" * 10  # 80 characters: a 240-byte slug in every ad name
    brief = write_brief(tmp_path / "brief.xlsx", campaign=_campaign(name=name, provider="bedrock"))
    out = tmp_path / "out"
    for command in (("validate", brief), ("plan", brief), ("run", brief, "--out", out)):
        code, _, err = run_cli(*command)
        assert code == ExitCode.BAD_INPUT, err
        assert re.search(r"naming: the naming template .* makes the ad name", err), err
        assert "bytes long in UTF-8; at most 200 fit in a file name" in err
    assert fake_bedrock.requests == []
    assert not (tmp_path / "out").exists()


def test_a_link_planted_in_the_out_folder_is_not_followed(tmp_path: Path) -> None:
    """``creatives`` turned into a link to the user's folder: adloom refuses to write
    through it (exit 74, the path named) and the folder it points at is unchanged."""
    victim = plant_victim(tmp_path)
    brief = write_brief(tmp_path / "brief.xlsx", campaign=_campaign())
    out = tmp_path / "out"
    code, _, err = run_cli("run", brief, "--out", out)
    assert code == ExitCode.OK, err
    for file in (out / "creatives").rglob("*"):
        if file.is_file():
            file.unlink()
    (out / "creatives" / "meta_feed").rmdir()
    (out / "creatives").rmdir()
    (out / "creatives").symlink_to(victim, target_is_directory=True)
    before = outside(tmp_path, out)

    code, _, err = run_cli("run", brief, "--out", out)
    assert code == ExitCode.MACHINE, err
    assert "refusing to write outside the out folder" in err
    assert str(out / "creatives") in err
    assert outside(tmp_path, out) == before
    assert sorted(p.name for p in victim.iterdir()) == ["holiday.jpg", "holiday.png", "notes.txt"]
    assert leftover_temporaries(tmp_path) == []


def test_paths_in_the_journal_are_trusted_only_inside_the_out_folder(tmp_path: Path) -> None:
    """A journal edited to point its masters and creatives at the user's files: the
    rows count as missing (asked and composed again), the files are never used."""
    victim = plant_victim(tmp_path)
    brief = write_brief(tmp_path / "brief.xlsx", campaign=_campaign())
    out = tmp_path / "out"
    assert run_cli("run", brief, "--out", out)[0] == ExitCode.OK
    photo = victim / "holiday.jpg"
    with sqlite3.connect(out / "journal.sqlite") as db:
        db.execute(
            "UPDATE creatives SET path=?, bytes=?",
            (f"../victim/{photo.name}", photo.stat().st_size),
        )
        db.execute("UPDATE requests SET image=? WHERE kind='image'", (str(photo),))
        keys = [row[0] for row in db.execute("SELECT key FROM creatives")]
        images = [row[0] for row in db.execute("SELECT key FROM requests WHERE kind='image'")]
    db.close()
    journal = Journal(out)
    try:
        assert keys
        assert all(journal.creative(key, measures.restore) is None for key in keys)
        assert all(journal.lookup(key) is None for key in images)
    finally:
        journal.close()

    before = outside(tmp_path, out)
    code, _, err = run_cli("run", brief, "--out", out)
    assert code == ExitCode.OK, err
    assert outside(tmp_path, out) == before
    made = list((out / "exports" / "meta-images").iterdir())
    assert made
    assert all(p.stat().st_ino != photo.stat().st_ino for p in made)
