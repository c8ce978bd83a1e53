"""Which inference profile a base id goes through: pure rules, no network."""

from __future__ import annotations

import pytest

from adloom.errors import InputError, ModelAccessError
from adloom.providers.bedrock.profiles import choose, preferred
from adloom.registry import load_registry

HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"  # on demand, with us./eu./apac. profiles
STABLE_CORE = "stability.stable-image-core-v1:1"  # on demand, no profiles


@pytest.mark.parametrize(
    ("region", "order"),
    [("us-east-1", ("us", "global")), ("us-gov-west-1", ("us-gov", "global")),
     ("ca-central-1", ("ca", "us", "global")), ("eu-central-1", ("eu", "global")),
     ("ap-northeast-1", ("jp", "apac", "global")), ("ap-northeast-3", ("jp", "apac", "global")),
     ("ap-southeast-2", ("au", "apac", "global")), ("ap-south-1", ("apac", "global")),
     ("sa-east-1", ("global",)), ("", ("global",))],
)  # fmt: skip
def test_region_order(region: str, order: tuple[str, ...]) -> None:
    assert preferred(region) == order


def test_ids_already_naming_a_profile_or_on_demand_stay_as_written() -> None:
    reg = load_registry()
    haiku = reg.get(HAIKU45)
    assert choose(f"eu.{HAIKU45}", haiku, region="us-east-1").model_id == f"eu.{HAIKU45}"
    assert choose(NOVA_LITE, reg.get(NOVA_LITE), region="ap-northeast-1") == choose(
        NOVA_LITE, reg.get(NOVA_LITE), region="us-east-1"
    )
    assert choose(NOVA_LITE, reg.get(NOVA_LITE), region="eu-west-1").note == ""


def test_forced_profile_applies_to_on_demand_models_with_that_profile() -> None:
    reg = load_registry()
    forced = choose(NOVA_LITE, reg.get(NOVA_LITE), region="us-east-1", forced="eu")
    assert forced.model_id == f"eu.{NOVA_LITE}"
    # A model with no profiles at all is called in the client's own region.
    assert choose(STABLE_CORE, reg.get(STABLE_CORE), region="us-west-2", forced="jp").model_id == (
        STABLE_CORE
    )
    with pytest.raises(InputError, match='Campaign!B9: profile "jp"') as exc:
        choose(NOVA_LITE, reg.get(NOVA_LITE), region="us-east-1", forced="jp", where="Campaign!B9")
    assert exc.value.hint == "Its profiles: us, eu, apac; pick one of them or another model."


def test_profile_only_model_with_no_fitting_profile_is_refused() -> None:
    reg = load_registry()
    llama = "meta.llama3-3-70b-instruct-v1:0"
    with pytest.raises(ModelAccessError, match="none of them fits region eu-west-1"):
        choose(llama, reg.get(llama), region="eu-west-1")


def test_without_a_region_the_first_profile_stands_in_and_says_so() -> None:
    haiku = load_registry().get(HAIKU45)
    choice = choose(HAIKU45, haiku, region=None)
    assert choice.model_id == f"us.{HAIKU45}"
    assert "a run picks the profile for its region" in choice.note
