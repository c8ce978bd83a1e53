"""Deliverables own their names: what a run may write in its out folder is what the
deliverables declare (``outdir.Deliverable``, beside each writer), and nothing else.

A new file a developer adds without declaring it stops the run that writes it (every
run in the suite goes through ``outdir.claimed``), and docs/safety.md's table of
names is the declarations' (compared here)."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from adloom import outdir, safepath
from adloom.run.pipeline import DELIVERABLES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _claim(out: Path) -> AbstractContextManager[None]:
    return outdir.claimed(out, DELIVERABLES, force=False, wait=False, notify=print)


@pytest.mark.parametrize(
    "name", ["report.pdf", "exports/new-platform.csv", "preview/style.css", "creatives/x.png"]
)
def test_a_name_no_deliverable_owns_is_refused_in_a_claimed_folder(
    tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    with _claim(out):
        with pytest.raises(safepath.Undeclared, match=re.escape(name)):
            safepath.write_bytes(out, out / name, b"new")
        with pytest.raises(safepath.Undeclared):
            safepath.remove(out, out / name)
    assert not (out / name).exists()
    assert not list(out.rglob("*.tmp"))
    safepath.write_bytes(out, out / name, b"new")  # unclaimed: no run, no declarations


def test_declared_names_are_written_and_a_new_declaration_admits_its_file(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    with _claim(out):
        for name in (
            "index.html",
            "preview/brief-001-cold-brew.html",
            "variants-round-3.xlsx",
            "thumbs/0123456789abcdef0123456789abcdef.jpg",
            "exports/meta-images/Ad 1.jpg",
            "masters/ab/abcdef.png",
        ):
            safepath.write_bytes(out, out / name, b"ok")
    sheet = outdir.Deliverable("a results sheet", ("results.csv",))
    with outdir.claimed(out, (*DELIVERABLES, sheet), force=False, wait=False, notify=print):
        safepath.write_bytes(out, out / "results.csv", b"ok")


def test_wildcards_stay_within_a_name_unless_doubled() -> None:
    owned = outdir.owner([outdir.Deliverable("", ("a/*.png", "b/**.jpg"))])
    assert owned.fullmatch("a/x.png")
    assert not owned.fullmatch("a/x/y.png")
    assert owned.fullmatch("b/x/y/z.jpg")
    assert not owned.fullmatch("b/x.png")
    assert not owned.fullmatch("a/x.png.bak")


def _table() -> str:
    rows = [
        f"| {d.what} | {', '.join(f'`{name}`' for name in d.names)} |"
        for d in (outdir.FOLDER, outdir.JOURNAL_FILES, *DELIVERABLES)
    ]
    return "\n".join(["| what | names in the out folder |", "|---|---|", *rows])


def test_the_safety_docs_table_is_the_declarations() -> None:
    text = (DOCS / "safety.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- deliverables -->\n(.*?)\n<!-- /deliverables -->", text, re.S)
    assert found, "docs/safety.md lost its <!-- deliverables --> table"
    assert found.group(1) == _table(), f"docs/safety.md's table should read:\n{_table()}"
