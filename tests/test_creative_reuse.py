"""A rerun reuses composed files whose inputs are unchanged, and only those."""

from __future__ import annotations

import io
from pathlib import Path

from adloom.cli import main
from adloom.console import Env
from briefs import write_brief
from conftest import user_environ

BRIEFS = [
    {"id": "mug", "product": "Travel Mug", "message": "Hot for six hours", "cta": "Shop now"},
    {"id": "kit", "product": "Pour-over Kit", "message": "Cafe cups at home", "cta": "Shop now"},
]
CAMPAIGN = {
    "name": "Reuse",
    "brand": "Lumen",
    "variants": "1",
    "placements": "meta_feed,display_300x250",
    "provider": "draft",
}


def run(brief: Path, out: Path, *extra: str) -> None:
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ=user_environ())
    assert main(["run", str(brief), "--out", str(out), "--json", *extra], env=env) == 0


def stamps(out: Path) -> dict[str, int]:
    return {f.name: f.stat().st_mtime_ns for f in (out / "creatives").rglob("*.*")}


def test_rerun_recomposes_nothing_then_only_what_changed(tmp_path: Path) -> None:
    brief, out = tmp_path / "brief.xlsx", tmp_path / "out"
    write_brief(brief, campaign=CAMPAIGN, briefs=BRIEFS)
    run(brief, out)
    first = stamps(out)
    assert len(first) == 4

    run(brief, out)
    assert stamps(out) == first  # same inputs: every file reused, none rewritten

    edited = [{**BRIEFS[0], "headline": "Six hours hot, guaranteed"}, BRIEFS[1]]
    write_brief(brief, campaign=CAMPAIGN, briefs=edited)
    run(brief, out)
    after = stamps(out)
    changed = {name for name in first if after[name] != first[name]}
    assert changed == {n for n in first if "_mug_" in n}  # only the edited brief's ads


def test_deleted_file_and_fresh_recompose(tmp_path: Path) -> None:
    brief, out = tmp_path / "brief.xlsx", tmp_path / "out"
    write_brief(brief, campaign=CAMPAIGN, briefs=BRIEFS)
    run(brief, out)
    victim = next((out / "creatives").rglob("*.*"))
    victim.unlink()
    run(brief, out)
    assert victim.is_file()  # a file the user deleted is made again

    first = stamps(out)
    run(brief, out, "--fresh")
    assert all(stamps(out)[n] != t for n, t in first.items())


def test_identical_creatives_are_composed_once_and_linked_under_each_name(
    tmp_path: Path,
) -> None:
    brief, out = tmp_path / "brief.xlsx", tmp_path / "out"
    # Same size, same headline and CTA (the draft copy is the same at both limits).
    campaign = {**CAMPAIGN, "placements": "linkedin_single,x_card", "variants": "2"}
    write_brief(brief, campaign=campaign, briefs=BRIEFS)
    run(brief, out)
    linkedin = sorted((out / "creatives" / "linkedin_single").iterdir())
    x_card = sorted((out / "creatives" / "x_card").iterdir())
    assert len(linkedin) == len(x_card) == 4
    for a, b in zip(linkedin, x_card, strict=True):
        assert a.name.replace("linkedin_single", "x_card") == b.name  # each its own name
        assert a.stat().st_ino == b.stat().st_ino  # one file, composed once
    # One thumbnail per distinct creative.
    assert len(list((out / "thumbs").iterdir())) == 4
    # A rerun reuses both names; deleting one name makes just that one again.
    first = stamps(out)
    run(brief, out)
    assert stamps(out) == first
    x_card[0].unlink()
    run(brief, out)
    assert x_card[0].read_bytes() == linkedin[0].read_bytes()
