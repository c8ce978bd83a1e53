import pytest

from adloom.brief.placements import builtin_placements
from adloom.copy import rsa
from adloom.copy.lint import check_copy
from adloom.model import Brief
from adloom.providers.draft import DraftProvider
from adloom.registry import load_registry
from adloom.run.plan import make_plan
from campaigns import make_campaign

LONG = Brief(
    id="long",
    product="Single-origin Ethiopian Yirgacheffe whole bean coffee",
    message="Bright, floral and tea-like: the cup that made our founders fall for coffee",
    benefits=("Roasted to order every Monday", "Free shipping over $30", "Direct trade"),
    cta="Shop now",
)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_draft_copy_fits_every_builtin_placement(language: str) -> None:
    campaign = make_campaign(briefs=[LONG], placements=tuple(builtin_placements()),
                             languages=(language,), variants=3)  # fmt: skip
    provider = DraftProvider()
    for job in make_plan(campaign, load_registry(), "draft").copy_jobs:
        out = provider.send(provider.text_request(job)).output
        if job.limits.responsive:  # a search ad: pools of headlines and descriptions
            assert rsa.check(rsa.from_output(job, out), job.limits) == []
            continue
        assert check_copy(out, job.limits) == []
        assert out["headline"]
        assert not out["headline"].endswith((" ", ","))


def test_variants_differ_and_are_deterministic() -> None:
    campaign = make_campaign(briefs=[LONG], placements=("linkedin_single",), variants=3)
    jobs = make_plan(campaign, load_registry(), "draft").copy_jobs
    p = DraftProvider()
    first = [p.send(p.text_request(j)).output for j in jobs]
    again = [p.send(p.text_request(j)).output for j in jobs]
    assert first == again
    assert len({c["headline"] for c in first}) == 3


def test_supplied_headline_and_japanese_cta() -> None:
    brief = Brief(id="b", product="P", message="M", headline="Our fixed line", cta="Shop now")
    campaign = make_campaign(briefs=[brief], placements=("meta_feed",), languages=("ja",))
    p = DraftProvider()
    out = p.send(p.text_request(make_plan(campaign, load_registry(), "draft").copy_jobs[0]))
    assert out.output["headline"] == "Our fixed line"
    assert out.output["cta"] == "今すぐ購入"
