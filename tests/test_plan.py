from urllib.parse import parse_qs, urlsplit

import pytest

from adloom.aspects import master_size, nearest_aspect
from adloom.errors import BriefError, ModelAccessError
from adloom.model import Brief
from adloom.registry import load_registry
from adloom.run.plan import make_plan
from campaigns import make_campaign


def test_copy_shared_by_placements_with_equal_limits() -> None:
    campaign = make_campaign(
        placements=("meta_feed", "meta_feed_portrait", "meta_story", "display_300x250"),
        languages=("en", "ja"),
        variants=3,
    )
    plan = make_plan(campaign, load_registry(), "draft")
    assert len(plan.ads) == 1 * 1 * 2 * 3 * 4
    # Meta placements share limits; display has its own: 2 formats x 2 langs x 3 variants.
    assert len(plan.copy_jobs) == 12
    # Images per concept and aspect family, not per language or placement.
    assert {j.aspect for j in plan.image_jobs} == {"1:1", "4:5", "9:16", "5:4"}
    assert len(plan.image_jobs) == 3 * 4


def test_names_and_utm() -> None:
    plan = make_plan(make_campaign(utm_source="", utm_campaign="spring26"), load_registry(),
                     "draft")  # fmt: skip
    ad = plan.ads[0]
    assert ad.name == "spring26_cold-brew_commuters_en_meta_feed_v1"
    q = parse_qs(urlsplit(ad.landing_url).query)
    assert q["utm_content"] == [ad.name]
    assert q["utm_source"] == ["meta"]
    assert q["utm_campaign"] == ["spring26"]
    assert len({a.name for a in plan.ads}) == len(plan.ads)


def test_colliding_names_are_an_input_error() -> None:
    campaign = make_campaign(naming="{campaign}_{brief}")
    with pytest.raises(BriefError, match="more than one ad"):
        make_plan(campaign, load_registry(), "draft")


def test_seeds_are_stable_across_plans() -> None:
    a = make_plan(make_campaign(), load_registry(), "draft")
    b = make_plan(make_campaign(), load_registry(), "draft")
    assert [j.seed for j in a.image_jobs] == [j.seed for j in b.image_jobs]
    assert len({j.seed for j in a.image_jobs if j.aspect == "1:1"}) == 2  # variants differ


def test_aspect_helpers() -> None:
    fams = ["1:1", "16:9", "9:16", "21:9"]
    assert nearest_aspect(1200 / 628, fams) == "16:9"
    assert nearest_aspect(728 / 90, fams) == "21:9"
    assert nearest_aspect(160 / 600, fams) == "9:16"
    w, h = master_size("9:16")
    assert (w, h) == (576, 1024)
    assert w % 16 == 0


def test_draft_ignores_bedrock_models_but_bedrock_checks_them() -> None:
    campaign = make_campaign(text_model="amazon.nova-lite-v1:0")
    assert make_plan(campaign, load_registry(), "draft").text_model == "draft-copy"
    with pytest.raises(ModelAccessError, match="not in the model registry"):
        make_plan(make_campaign(text_model="nope"), load_registry(), "bedrock")


def test_retired_model_is_refused() -> None:
    campaign = make_campaign(image_model="amazon.nova-canvas-v1:0")
    with pytest.raises(ModelAccessError, match="retired"):
        make_plan(campaign, load_registry(), "bedrock")


def test_supplied_headline_brief_still_planned() -> None:
    brief = Brief(id="b1", product="P", message="M", headline="Fixed headline")
    plan = make_plan(make_campaign(briefs=[brief]), load_registry(), "draft")
    assert all(j.brief.headline == "Fixed headline" for j in plan.copy_jobs)
