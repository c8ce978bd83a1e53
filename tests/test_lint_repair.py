"""Auto-repair through the real generate, engine, journal and export code.

Copy that breaks a rule goes back to the model with the violations, a bounded number
of times; what still breaks a rule is delivered flagged, never cut. Twice: with
``adloom.providers.testing.MockProvider`` (real prompts from the shipped templates;
the answers scripted per request), and with the real Bedrock provider against the
fake Bedrock server over HTTP.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from adloom.cli import main
from adloom.console import Env, Tracker
from adloom.copy.textlen import measure
from adloom.engine.journal import Journal
from adloom.errors import ExitCode
from adloom.model import Brief, Campaign, Placement, Usage
from adloom.providers import ProviderConfig, make_provider
from adloom.providers.base import Provider, Request, Response
from adloom.providers.testing import MockProvider
from adloom.registry import load_registry
from adloom.run.generate import MAX_REPAIRS
from adloom.run.pipeline import RunOptions, run_plan
from adloom.run.plan import make_plan
from briefs import write_brief
from campaigns import make_campaign
from conftest import user_environ
from fakebedrock import FakeBedrock

SEARCH = Placement(
    id="search_ja",
    platform="google",
    width=0,
    height=0,
    headline_max=30,
    body_max=90,
    cta_max=15,
    max_kb=0,
    width_rule="double_width",
    text_only=True,  # no image: these tests are about copy
)
BRIEF = Brief(
    id="cold-brew",
    product="コールドブリュー",
    message="夜に仕込んで朝に注ぐだけ",
    audiences=("commuters",),
)
HEADLINE = "朝を軽やかに"
OVERLONG = (  # 98 width units: over Google's 90
    "コールドブリューなら、夜に仕込んで朝に注ぐだけ。まろやかな味わいで、忙しい朝も心地よく始まります。"
)
FITS = "コールドブリューなら、夜に仕込んで朝に注ぐだけ。"


def length_problem(body: str) -> str:
    """What the marketer reads about ``body``, over Google's 90 in Japanese."""
    width = measure(body, "double_width")
    return (
        f"body is {width} width units, over Google's limit of 90 (Japanese counts 2 per"
        f" character) — shorten it by {width - 90}"
    )


def told(body: str) -> str:
    """What the model is told about ``body``: the problem, with the text it wrote."""
    return f'{length_problem(body)} (your body: "{body}")'


class Copywriter:
    """The model's side: a Japanese body too long for Google, and a fitting one when
    told what is wrong, unless ``stubborn``: then each answer is a little shorter,
    never enough."""

    def __init__(self) -> None:
        self.stubborn = False
        self.same_copy = False  # every variant gets the same copy
        self.attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            attempt = self.attempts[request.label]
            self.attempts[request.label] += 1
        if self.stubborn:
            body = OVERLONG[: len(OVERLONG) - attempt]
        else:
            body = FITS if request.body["feedback"] else OVERLONG
        variant = "" if self.same_copy else f"（{request.label.split('/')[3]}）"  # v1, v2...
        output = {"headline": HEADLINE + variant, "body": body, "cta": "詳しく見る"}
        return Response("ok", output=output, usage=Usage(50, 40, 0.0001))


@pytest.fixture
def writer() -> Copywriter:
    return Copywriter()


@pytest.fixture
def copywriter(writer: Copywriter) -> MockProvider:
    """The provider ``run_plan`` is handed, as the CLI hands it the one it made."""
    return MockProvider(writer, name="copywriter")


def campaign(variants: int = 1, **brief: Any) -> Campaign:
    made = make_campaign(briefs=[replace(BRIEF, **brief)], languages=("ja",), variants=variants)
    return replace(
        made,
        placements={**made.placements, SEARCH.id: SEARCH},
        settings=replace(made.settings, placements=(SEARCH.id,)),
    )


def run(the_campaign: Campaign, provider: Provider, out: Path) -> list[dict[str, Any]]:
    """The pipeline as ``adloom run`` wires it; the workbook's Variants rows by header."""
    plan = make_plan(the_campaign, load_registry(), "draft")
    run_plan(plan, provider, RunOptions(out=out, workers=1), Tracker(None, print))
    return variants(out / "variants.xlsx")


def variants(path: Path) -> list[dict[str, Any]]:
    sheet = load_workbook(path, read_only=True)["Variants"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=False)) for row in rows]


def feedback_of(request: Request) -> list[str]:
    return list(request.body["feedback"])


def test_overlong_japanese_copy_is_sent_back_with_the_violation(
    copywriter: MockProvider, tmp_path: Path
) -> None:
    (row,) = run(campaign(), copywriter, tmp_path / "out")
    first, second = copywriter.requests
    assert feedback_of(first) == []
    assert feedback_of(second) == [told(OVERLONG)]
    assert told(OVERLONG) in second.body["user"]  # the prompt the model reads says it
    assert told(OVERLONG).startswith(
        "body is 98 width units, over Google's limit of 90 (Japanese counts 2 per character)"
        " — shorten it by 8"
    )
    assert row["body"] == FITS
    assert measure(row["body"], "double_width") <= SEARCH.body_max
    assert row["status"] == "ok"
    assert row["issues"] is None
    journal = Journal(tmp_path / "out")
    assert sum(1 for r in journal.rows() if r["kind"] == "text") == 2  # both paid, both kept
    journal.close()


def test_copy_that_keeps_failing_is_delivered_flagged_not_cut(
    copywriter: MockProvider, writer: Copywriter, tmp_path: Path
) -> None:
    writer.stubborn = True
    (row,) = run(campaign(), copywriter, tmp_path / "out")
    answers = [OVERLONG[: len(OVERLONG) - n] for n in range(1 + MAX_REPAIRS)]
    assert len(copywriter.requests) == 1 + MAX_REPAIRS
    assert [feedback_of(r) for r in copywriter.requests] == [[], *([told(a)] for a in answers[:-1])]
    assert row["body"] == answers[-1]  # whole, as the model last wrote it
    assert measure(row["body"], "double_width") > SEARCH.body_max
    assert row["status"] == "flagged"  # shown for review, held back from upload files
    assert row["issues"] == length_problem(answers[-1])


def test_supplied_headline_is_flagged_but_never_sent_back(
    copywriter: MockProvider, tmp_path: Path
) -> None:
    supplied = "コールドブリュー、朝の新しい習慣になります"  # 42 width units
    (row,) = run(campaign(headline=supplied), copywriter, tmp_path / "out")
    assert len(copywriter.requests) == 2  # the body was repaired; the headline was not asked
    assert all("headline" not in " ".join(feedback_of(r)) for r in copywriter.requests)
    assert row["headline"] == supplied
    assert row["issues"] == (
        "headline is 42 width units, over Google's limit of 30 (Japanese counts 2 per"
        " character) — shorten it by 12 (supplied copy, not changed)"
    )


def test_near_duplicate_variants_are_flagged_once_all_are_in(
    copywriter: MockProvider, writer: Copywriter, tmp_path: Path
) -> None:
    writer.same_copy = True
    rows = run(campaign(variants=3), copywriter, tmp_path / "out")
    issues = {row["variant"]: row["issues"] for row in rows}
    assert issues[1] is None
    for later in (2, 3):
        assert issues[later].startswith("copy reads almost the same as variant 1 (100% alike)")


def test_identical_requests_of_two_audiences_both_deliver(tmp_path: Path) -> None:
    # The draft provider writes the same copy for every audience: one request serves both.
    provider = make_provider("draft", ProviderConfig(registry=load_registry()))
    rows = run(campaign(audiences=("commuters", "students")), provider, tmp_path / "out")
    assert {(row["audience"], row["status"]) for row in rows} == {
        ("commuters", "ok"),
        ("students", "ok"),
    }


# ---------------------------------------------------------------- the fake Bedrock server


def fake_run(tmp_path: Path) -> tuple[int, str, dict[str, Any]]:
    brief = write_brief(
        tmp_path / "brief.xlsx",
        campaign={
            "name": "Repair",
            "brand": "Lumen",
            "provider": "bedrock",
            "languages": "ja",
            "variants": 1,
            "placements": "display_300x250",
        },
        briefs=[{"id": "cold-brew", "product": "Cold brew", "message": "Fast coffee"}],
    )
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ=user_environ())
    code = main(["run", str(brief), "--out", str(tmp_path / "out"), "--json"], env=env)
    assert isinstance(env.stderr, io.StringIO)
    (row,) = variants(tmp_path / "out" / "variants.xlsx")
    return code, env.stderr.getvalue(), row


def prompts(fake: FakeBedrock) -> list[str]:
    return [r.body["messages"][0]["content"][0]["text"] for r in fake.calls("converse")]


def test_fake_bedrock_overlong_japanese_is_repaired(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.overlong = 1
    code, err, row = fake_run(tmp_path)
    assert code == ExitCode.OK, err
    first, second = prompts(fake_bedrock)
    assert "previous answer had these problems" not in first
    problem = second.split("previous answer had these problems; fix every one of them:\n")[1]
    assert problem.startswith("- body is ")
    assert "width units, over Google's limit of 90 (Japanese counts 2 per character)" in problem
    assert measure(row["body"], "double_width") <= 90
    assert row["issues"] is None


def test_fake_bedrock_that_keeps_failing_is_delivered_flagged(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.overlong = 99
    code, err, row = fake_run(tmp_path)
    # Flagged copy is delivered for review, and the run says some ads need attention.
    assert code == ExitCode.SOME_FAILED, err
    assert row["status"] == "flagged"
    # The fake repeats its answer word for word, so the second repair would be the very
    # request of the first: it is answered from the journal, not sent and paid again.
    assert len(prompts(fake_bedrock)) == 2
    width = measure(row["body"], "double_width")
    assert width > 90
    assert row["issues"] == (
        f"body is {width} width units, over Google's limit of 90 (Japanese counts 2 per"
        f" character) — shorten it by {width - 90}"
    )
