"""Keep the best K per slot: the selection itself, a real draft run through the pipeline
(scores put on the ads as the scoring stage would), the workbook read back through the
codec, the platform files, the preview, and a review round promoting a candidate."""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from adloom.brief.read import read_campaign
from adloom.console import Tracker
from adloom.delivery.workbook import read_score, read_variants
from adloom.errors import ExitCode
from adloom.model import Ad, Criterion, RunSummary, Score, Status
from adloom.providers import ProviderConfig, make_provider
from adloom.registry import load_registry
from adloom.run.keep import select, slot
from adloom.run.pipeline import RunOptions, deliver_run, run_plan
from adloom.run.plan import make_plan
from briefs import write_brief
from factories import make_ad, make_campaign, preview_pages
from fakebedrock import FakeBedrock
from test_review import BRIEF, CAMPAIGN, Sheet, cli

HOSTILE = '<script>alert("x")</script> & more'


def scored(overall: float, why: str = "names the product") -> Score:
    criteria = (Criterion("message_clear", 4, why), Criterion("call_to_action", 3, HOSTILE))
    return Score(float(overall), criteria, policy_issues=("price claims need 'limited time'",))


def test_the_best_k_per_slot_by_score_ties_broken_the_same_way_every_time(
    tmp_path: Path,
) -> None:
    campaign = make_campaign(tmp_path)

    def ad(
        variant: int,
        overall: float,
        status: Status = "ok",
        issues: tuple[str, ...] = (),
        audience: str = "runners",
    ) -> Ad:
        made = make_ad(
            campaign,
            tmp_path,
            variant=variant,
            status=status,
            issues=issues,
            audience=audience,
            with_creative=False,
        )
        return replace(made, score=scored(overall))

    ads = [
        ad(1, 4.0),
        ad(2, 4.9, status="flagged", issues=("contrast 2.1:1",)),  # never above a clean one
        ad(3, 4.0, issues=("headline long",)),  # a tie, lost on issues
        ad(4, 4.8),
        ad(5, 4.0),  # a tie with v1, lost on the variant number
        ad(1, 2.0, audience="commuters"),  # another slot: its one ad is kept
    ]
    for seed in range(5):  # whatever order the ads come in
        shuffled = random.Random(seed).sample(ads, len(ads))  # noqa: S311 -- an order, not a secret
        chosen = select(shuffled, keep=2)
        runners = [a for a in chosen if a.spec.audience == "runners"]
        assert [(a.spec.variant, a.candidate) for a in runners] == [
            (4, False), (1, False), (5, True), (3, True), (2, True),
        ]  # fmt: skip
        assert [a.candidate for a in chosen if a.spec.audience == "commuters"] == [False]
    # Without keep every ad is delivered, best first; unscored ads stay in plan order.
    assert not any(a.candidate for a in select(ads, None))
    assert [a.spec.variant for a in select(ads, None)][:3] == [4, 1, 5]
    plain = [replace(a, score=None) for a in ads]
    assert select(plain, None) == plain


def _run(tmp_path: Path, keep: int | None) -> tuple[Path, list[Ad]]:
    """A real draft run of 3 variants per slot, each ad scored 2 + its variant (so the
    last variants are the best), delivered with ``keep``."""
    brief = write_brief(tmp_path / "brief.xlsx", {**CAMPAIGN, "variants": 3}, [BRIEF])
    campaign = read_campaign(brief)
    plan = make_plan(campaign, load_registry(), "draft")
    provider = make_provider("draft", ProviderConfig(registry=load_registry()))
    out = tmp_path / "out"
    options = RunOptions(out=out, workers=1, keep=keep, settings={"provider": "draft"})
    seen: list[Ad] = []

    def deliver(ads: Sequence[Ad], summary: RunSummary) -> RunSummary:
        ads = [
            replace(a, score=scored(2 + a.spec.variant, f"variant {a.spec.variant}")) for a in ads
        ]
        seen.extend(ads)
        return deliver_run(campaign, options, ads, summary)

    run_plan(plan, provider, options, Tracker(None, print), deliver=deliver)
    return out, seen


def _csv(out: Path, name: str) -> list[dict[str, str]]:
    with (out / "exports" / name).open(encoding="utf-8-sig") as file:
        return list(csv.DictReader(file))


def _exported(out: Path) -> set[str]:
    """The Meta ads uploaded (the Google file names no ad: its rows are counted)."""
    return {row["Ad Name"] for row in _csv(out, "meta-bulk.csv")}


def test_exactly_k_per_slot_delivered_the_rest_in_candidates(tmp_path: Path) -> None:
    out, ads = _run(tmp_path, keep=2)
    workbook = read_variants(out / "variants.xlsx")
    rows = workbook.rows()
    delivered = [r for r in rows if not r.candidate]
    candidates = [r for r in rows if r.candidate]
    slots = Counter(slot(a) for a in ads)
    assert len(slots) == 4
    assert set(slots.values()) == {3}
    per_slot = Counter(r.name.rsplit("_v", 1)[0] for r in delivered)
    assert set(per_slot.values()) == {2}
    assert len(per_slot) == 4
    assert {r.name.rsplit("_v", 1)[1] for r in delivered} == {"2", "3"}  # the best scores
    assert [r.name.rsplit("_v", 1)[1] for r in candidates] == ["1"] * 4
    assert workbook.said("Candidates") == "4"
    # The candidates keep their score and reasons, read back through the codec.
    header = Sheet(openpyxl.load_workbook(out / "variants.xlsx"), "Candidates").header
    assert "approval" in header
    assert header[-4:] == ["score", "score_reasons", "ai_generated", "alt_text"]
    for row in candidates:
        # With the alt text the row shows, which describes the creative it keeps.
        alt = row.cells["alt_text"]
        assert read_score(row.cells) == replace(scored(3, "variant 1"), alt_text=alt)
    # The platform files hold delivered ads only, never a candidate.
    exported = _exported(out)
    assert exported == {r.name for r in delivered if "meta_feed" in r.name}
    assert len(_csv(out, "google-ads-editor.csv")) == 4  # 2 languages x the best 2
    # The preview's pages show the delivered ads; the index counts the candidates.
    pages = "".join(p.read_text(encoding="utf-8") for p in preview_pages(out))
    assert all(r.name in pages for r in delivered)
    assert not any(r.name in pages for r in candidates)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "4 more ad(s) scored below the best kept per slot" in index


def test_the_preview_sorts_and_filters_by_score_escaped(tmp_path: Path) -> None:
    out, _ = _run(tmp_path, keep=3)
    page = preview_pages(out)[0].read_text(encoding="utf-8")
    assert 'data-score="5.0"' in page
    assert 'data-score="3.0"' in page
    assert '<option value="score">Best score first</option>' in page
    assert "data-min-score" in page
    assert "score 5.0/5" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in page
    assert "brand policy: price claims need &#39;limited time&#39;" in page


def test_review_promotes_an_approved_candidate(tmp_path: Path) -> None:
    out, _ = _run(tmp_path, keep=2)
    book = openpyxl.load_workbook(out / "variants.xlsx")
    sheet = Sheet(book, "Candidates")
    promoted = next(n for n in sheet.rows if "meta_feed" in n and "_en_" in n)
    sheet.set(promoted, "approval", "Approved")
    book.save(out / "variants.xlsx")

    code, report, err = cli("review", str(out / "variants.xlsx"))
    assert code in (ExitCode.OK, 1), err
    assert report["review"]["round"] == 2
    workbook = read_variants(out / "variants-round-2.xlsx")
    rows = {r.name: r for r in workbook.rows()}
    assert not rows[promoted].candidate  # in Variants now
    assert rows[promoted].cells["approval"] == "Approved"
    assert promoted in _exported(out)  # and uploaded, as an approved ad is
    # The other candidates stay candidates, with their scores.
    others = [r for r in rows.values() if r.candidate]
    assert len(others) == 3
    assert all(
        read_score(r.cells) == replace(scored(3, "variant 1"), alt_text=r.cells["alt_text"])
        for r in others
    )
    assert not any(r.name in _exported(out) for r in others)


def test_without_keep_every_ad_is_delivered_best_first(tmp_path: Path) -> None:
    out, _ = _run(tmp_path, keep=None)
    workbook = read_variants(out / "variants.xlsx")
    assert workbook.candidates is None
    names = [r.name for r in workbook.rows()]
    assert len(names) == 12
    slot_of = next(n for n in names if n.endswith("_en_meta_feed_v3")).rsplit("_v", 1)[0]
    assert [n.rsplit("_v", 1)[1] for n in names if n.startswith(slot_of + "_v")] == ["3", "2", "1"]


def test_keep_without_scores_sends_nothing_to_bedrock(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", {**CAMPAIGN, "provider": "bedrock"}, [BRIEF])
    code, _, err = cli("run", str(brief), "--out", str(tmp_path / "out"), "--keep", "2")
    assert code == ExitCode.BAD_INPUT
    assert "--keep 2: keep needs --score" in err
    assert fake_bedrock.requests == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--keep", "2"], "--keep 2: keep needs --score"),
        (["--set", "keep=2"], "--set keep 2: keep needs --score"),
        (["--keep", "0"], "--keep 0: out of range"),
        (["--keep", "-1"], "--keep -1: out of range"),
        (["--keep", "nan"], "'--keep'"),
        (["--set", "keep=nan"], 'keep "nan" is not a finite number'),
        (["--set", "keep=1.5"], 'keep "1.5" is not a whole number'),
    ],
)
def test_keep_is_refused_before_anything_runs(tmp_path: Path, args: list[str], said: str) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", CAMPAIGN, [BRIEF])
    out = tmp_path / "out"
    code, _, err = cli("run", str(brief), "--out", str(out), *args)
    assert code == ExitCode.BAD_INPUT
    assert said in err
    assert "Traceback" not in err
    assert not out.exists()  # nothing generated, nothing journalled
