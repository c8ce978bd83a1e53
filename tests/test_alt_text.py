"""Alt text (issue 18, point 4): the ``--score`` judge describes each creative it sees;
without a judge, the brief's subject and the words on the picture do.

On the fake Bedrock the judge is shown every image ad's composed creative and answers
an ``alt_text`` (longer than 125 characters here, so adloom must cut it at a word
boundary); the workbook's ``alt_text`` column and the preview's ``<img alt>`` carry
that text, escaped on the page and literal text in the workbook (it starts with ``+``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from markupsafe import escape

from adloom.model import ALT_MAX, short_alt
from adloom.providers import judging
from briefs import write_brief
from factories import preview_html
from fakebedrock import FakeBedrock
from fakebedrock.judge import _described
from test_score import judged, run, variants

IMAGE = "stability.stable-image-core-v1:1"
PRODUCT = '+Bag & <Co> "Roast"'  # a formula's first character, and HTML's specials


def brief(tmp_path: Path, provider: str = "bedrock") -> Path:
    settings = {"name": "Alt", "brand": "Lumen", "provider": provider, "variants": 1,
                "languages": "en", "image_model": IMAGE,
                "placements": "meta_feed, display_300x250, google_rsa"}  # fmt: skip
    rows = [{"id": "b1", "product": PRODUCT, "message": "Roasted on Monday, at your door by Friday",
             "landing_url": "https://example.com/b1"}]  # fmt: skip
    return write_brief(tmp_path / "brief.xlsx", campaign=settings, briefs=rows)


def _argv(tmp_path: Path, *more: str) -> tuple[str, ...]:
    return ("run", str(brief(tmp_path)), "--out", str(tmp_path / "out"),
            "--set", f"quota.{IMAGE}.ipm=100000", *more)  # fmt: skip


def _cells(out: Path) -> list[Any]:
    sheet = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    header = [c.value for c in sheet[1]]
    return [row[header.index("alt_text")] for row in sheet.iter_rows(min_row=2)]


def test_the_judges_alt_text_goes_to_the_workbook_and_the_preview(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    code, _, err = run(*_argv(tmp_path, "--score"))
    assert code in (0, 1), err
    out = tmp_path / "out"
    said = {}  # headline -> what the judge answered, as adloom must keep it
    for body in judged(fake_bedrock):
        content = body["messages"][0]["content"]
        if "image" in content[0]:
            user = content[1]["text"]
            answer = _described(user)
            assert len(answer) > ALT_MAX  # the judge said too much: adloom cuts it
            headline = next(line[10:] for line in user.splitlines() if line.startswith("headline"))
            said[headline] = short_alt(answer)
    rows = variants(out)
    pictured = [r for r in rows if r["placement"] != "google_rsa"]
    assert len(pictured) == len(said) == 2
    for row in pictured:
        alt = said[row["headline"]]
        assert row["alt_text"] == alt
        assert len(alt) <= ALT_MAX
        assert alt.startswith(PRODUCT)
        assert alt.endswith("…")
        assert not alt[:-1].endswith(" ")  # cut at a word boundary
    assert [r["alt_text"] for r in rows if r["placement"] == "google_rsa"] == [None]
    # Literal text in the workbook, never a formula; escaped on the page.
    for cell in _cells(out):
        if cell.value:
            assert cell.data_type == "s"
            assert cell.quotePrefix
    page = preview_html(out)
    for alt in said.values():
        assert f'alt="{escape(alt)}"' in page
    assert "<Co>" not in page


def test_without_a_judge_the_alt_text_comes_from_the_brief(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    code, _, err = run(*_argv(tmp_path))
    assert code in (0, 1), err
    assert judged(fake_bedrock) == []
    pictured = [r for r in variants(tmp_path / "out") if r["placement"] != "google_rsa"]
    assert len(pictured) == 2
    for row in pictured:
        assert row["alt_text"] == short_alt(f"{PRODUCT}. {row['headline']}")
        assert len(row["alt_text"]) <= ALT_MAX
    page = preview_html(tmp_path / "out")
    assert f'alt="{escape(pictured[0]["alt_text"])}"' in page


def test_a_judge_that_sees_no_picture_leaves_the_brief_derived_text(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    micro = "amazon.nova-micro-v1:0"  # takes no images: shown the copy only
    code, _, err = run(*_argv(tmp_path, "--score", "--judge-model", micro))
    assert code in (0, 1), err
    assert [c for c in fake_bedrock.calls("converse") if c.model == micro]
    for row in variants(tmp_path / "out"):
        if row["placement"] != "google_rsa":
            assert row["score"] is not None
            assert row["alt_text"] == short_alt(f"{PRODUCT}. {row['headline']}")


def test_the_draft_heuristic_writes_alt_text_too(tmp_path: Path) -> None:
    code, _, err = run("run", str(brief(tmp_path, "draft")), "--provider", "draft",
                       "--out", str(tmp_path / "out"), "--score")  # fmt: skip
    assert code in (0, 1), err
    for row in variants(tmp_path / "out"):
        if row["placement"] != "google_rsa":
            assert row["alt_text"] == short_alt(
                f"Ad for {PRODUCT} with the words “{row['headline']}”"
            )


def test_the_judges_alt_text_is_validated_with_its_answer() -> None:
    answer = judging.heuristic(
        {
            "product": "Bag",
            "message": "m",
            "benefits": [],
            "copy": {"headline": "Hi"},
            "limits": {"headline": 40},
            "subject": "A bag on a table",
        }
    )
    assert answer["alt_text"] == "Ad for A bag on a table with the words “Hi”"
    long = "word " * 60
    assert judging.validated({**answer, "alt_text": long})["alt_text"] == short_alt(long)
    assert len(short_alt(long)) <= ALT_MAX
    assert judging.validated({k: v for k, v in answer.items() if k != "alt_text"})["alt_text"] == ""
    with pytest.raises(ValueError, match="alt_text is not a string"):
        judging.validated({**answer, "alt_text": ["a", "list"]})
    assert "alt_text" in judging.judge_schema()["required"]
