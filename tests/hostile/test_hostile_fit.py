"""Hostile fit: the ``fit`` and ``image_region`` cells, and a master swapped under a run.

A made-up value, or a region that is a path or a URL, is refused at its cell (exit 2)
before any request or file is made; a picture changed after its outpaint request was
keyed is not sent as if it were the one the key names.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from victims import refused_before_anything

from adloom.providers.base import Attachment, RequestFailed
from brandart import photo
from briefs import MINIMAL_CAMPAIGN, write_brief


def _refused(folder: Path, where: str, **campaign: str) -> str:
    placements = (
        [{"id": "meta_feed", "fit": campaign.pop("placement_fit")}]
        if ("placement_fit" in campaign)
        else None
    )
    brief = write_brief(
        folder / "brief.xlsx",
        {**MINIMAL_CAMPAIGN, "placements": "meta_feed", "provider": "draft", **campaign},
        [{"id": "b1", "product": "P", "message": "M"}],
        placements=placements,
    )
    return refused_before_anything(brief, where)


@pytest.mark.parametrize("value", ["stretch", "outpaint; rm"])
def test_a_fit_that_is_not_one(tmp_path: Path, value: str) -> None:
    err = _refused(tmp_path, r"Campaign!B\d+: fit .* is not one of auto, crop, outpaint, pad",
                   fit=value)  # fmt: skip
    assert "auto extends a master" in err


def test_a_placement_fit_that_is_not_one(tmp_path: Path) -> None:
    _refused(tmp_path, r"Placements!\w+2: fit \"@SUM\(1\)\" is not one of",
             placement_fit="@SUM(1)")  # fmt: skip


@pytest.mark.parametrize(
    "value", ["../../etc", "us-east-1.evil.example/x", "http://169.254.169.254"]
)
def test_an_image_region_that_is_not_a_region(tmp_path: Path, value: str) -> None:
    _refused(tmp_path, r"Campaign!B\d+.*not an AWS region name", image_region=value)


def test_a_master_swapped_after_its_request_was_keyed(tmp_path: Path) -> None:
    master = photo(tmp_path / "m.png", (200, 100), (50, 20, 150, 80))
    sent = Attachment(master, hashlib.sha256(master.read_bytes()).hexdigest(), 200, 100)
    assert sent.picture().size == (200, 100)
    photo(master, (200, 100), (10, 10, 60, 60))  # another picture under the same name
    with pytest.raises(RequestFailed, match=r"m\.png changed while the run used it"):
        sent.picture()
