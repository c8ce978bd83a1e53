"""A hostile remove-background model: its cut-out of a packshot is not an image, or
keeps the background. Either is refused as the answer is read: every ad of that
packshot fails with the reason (none shows a product that was not cut out, no creative
is written), the run ends with exit 1 without a traceback, and the next run asks the
model again instead of reusing the bad answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from adloom.errors import ExitCode
from fakebedrock import FakeBedrock
from test_cutout import REMOVE_BG, _run, busy_brief
from test_score import variants


@pytest.mark.parametrize(
    ("knob", "says"),
    [
        ("corrupt_cutouts", "the model returned data that is not a readable image"),
        ("opaque_cutouts", "answered an image with no transparent background"),
    ],
)
def test_a_bad_cut_out_fails_its_ads_only(
    tmp_path: Path, fake_bedrock: FakeBedrock, knob: str, says: str
) -> None:
    setattr(fake_bedrock.behaviour, knob, 1)
    brief = busy_brief(tmp_path)
    code, summary, err = _run(brief, tmp_path / "out")
    assert code == ExitCode.SOME_FAILED, err
    assert "Traceback" not in err
    rows = variants(tmp_path / "out")
    assert {r["status"] for r in rows} == {"failed"}
    assert all(says in r["issues"] for r in rows)
    assert not list((tmp_path / "out" / "creatives").glob("*/*"))
    assert summary["failed"] == len(rows) == 12
    # Not kept as an answer: the next run asks the model again, and gets a good one.
    code, _, err = _run(brief, tmp_path / "out")
    assert code == ExitCode.OK, err
    assert len([c for c in fake_bedrock.calls("invoke") if c.model == REMOVE_BG]) == 2
