from itertools import combinations
from urllib.parse import parse_qs, urlsplit

import pytest

from adloom.aspects import (
    CROP_BOUND,
    choose_families,
    draft_size,
    kept,
    master_size,
    nearest_aspect,
    parse_ratio,
)
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
    # Images per concept and aspect family, not per language or placement: the fewest
    # families within the crop bound (4:5 and 300x250 share the square master).
    assert {j.aspect for j in plan.image_jobs} == {"1:1", "9:16"}
    assert len(plan.image_jobs) == 3 * 2


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


SIX = ("meta_feed", "meta_story", "linkedin_single", "display_300x250", "display_728x90", "x_card")


@pytest.mark.parametrize("image_model", ["stability.stable-image-core-v1:1", "draft-image"])
def test_the_fewest_aspect_families_within_the_crop_bound(image_model: str) -> None:
    registry = load_registry()
    supported = registry.get(image_model).aspect_ratios
    provider = "draft" if image_model == "draft-image" else "bedrock"
    plan = make_plan(make_campaign(placements=SIX, image_model=image_model), registry, provider)
    chosen = {j.aspect for j in plan.image_jobs}
    aspects = {a.placement.aspect for a in plan.ads}
    for spec in plan.ads:
        assert spec.image_job is not None
        best = max(kept(parse_ratio(r), spec.placement.aspect) for r in supported)
        share = kept(parse_ratio(spec.image_job.aspect), spec.placement.aspect)
        assert share >= CROP_BOUND * best - 1e-9, spec.placement.id
    # No smaller set of the model's ratios keeps every placement within the bound.
    for smaller in combinations(supported, len(chosen) - 1):
        assert any(
            kept(parse_ratio(nearest_aspect(a, smaller)), a)
            < CROP_BOUND * max(kept(parse_ratio(r), a) for r in supported) - 1e-9
            for a in aspects
        )
    assert len(chosen) == 3  # the draft model: five a concept before (nearest of all ratios)


def test_paid_masters_keep_the_family_size_and_draft_ones_shrink_to_their_placements() -> None:
    registry = load_registry()
    banners = ("display_728x90", "display_970x250")
    bedrock = make_plan(make_campaign(placements=banners), registry, "bedrock")
    draft = make_plan(make_campaign(placements=banners), registry, "draft")
    (family,) = {j.aspect for j in bedrock.image_jobs}
    # A paid master is asked for as before: its request (and journal key) depends on
    # the family alone, so an old out folder's masters are found where it is unchanged.
    assert {(j.width, j.height) for j in bedrock.image_jobs} == {master_size(family)}
    (size,) = {(j.width, j.height) for j in draft.image_jobs}
    assert size == draft_size(family, [(728, 90), (970, 250)])
    assert size[0] < master_size(family)[0]
    # ...and still covers each placement at its own size (no enlarging in compose).
    ratio = parse_ratio(family)
    for w, h in ((728, 90), (970, 250)):
        assert (size[0] >= w) if w / h >= ratio else (size[1] >= h)
    assert draft_size("1:1", [(1080, 1080)]) == master_size("1:1")  # never above it


def test_families_for_titan_are_those_of_before_for_the_default_placements() -> None:
    supported = load_registry().get("amazon.titan-image-generator-v2:0").aspect_ratios
    aspects = [1080 / 1080, 1080 / 1920, 1200 / 628, 300 / 250, 728 / 90]
    nearest_of_all = {nearest_aspect(a, supported) for a in aspects}
    assert set(choose_families(aspects, supported)) == nearest_of_all


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
