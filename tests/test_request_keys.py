"""Journal keys do not drift: the requests built for fixed jobs hash to pinned keys.

A journal answers a request again only when its key (``Request.key``: a hash of the
model and the exact body) is the one stored, so a refactor of how requests are built
must leave every body byte-identical, or a resumed run pays again for answers it has.
These keys were taken before the provider-neutral copy code left providers/bedrock.
A deliberate change of what is sent (a prompt template, a schema) changes them: then,
and only then, re-pin them, and say so in the change (old journals stop hitting).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from adloom.model import CopyJob, ImageJob
from adloom.providers import ProviderConfig
from adloom.providers.base import Request
from adloom.providers.bedrock import BedrockProvider
from adloom.providers.draft import DraftProvider
from adloom.registry import Registry, load_registry
from adloom.run.plan import make_plan
from campaigns import make_campaign

HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # native
NOVA_LITE = "amazon.nova-lite-v1:0"  # tool
NOVA_PRO = "amazon.nova-pro-v1:0"  # tool, flex tier
NOVA_MICRO = "amazon.nova-micro-v1:0"  # tool, prompt caching
LLAMA = "us.meta.llama3-3-70b-instruct-v1:0"  # prompt
IMAGE = "stability.stable-image-core-v1:1"
TITAN = "amazon.titan-image-generator-v2:0"
NOVA_CANVAS = "amazon.nova-canvas-v1:0"
PINNED = replace(make_campaign().briefs[0], disclaimer="Serve chilled.")


def registry() -> Registry:
    """The shipped registry with the retired image models legacy again (their formats
    are still built for accounts that reach them), and Nova Micro caching any prompt
    (so a cache point is sent)."""
    reg = load_registry()
    revived = []
    for model in (NOVA_CANVAS, TITAN):
        entry = reg.get(model).model_dump(mode="json")
        entry["lifecycle"] = {"status": "legacy"}
        revived.append(entry)
    micro = reg.get(NOVA_MICRO).model_dump(mode="json") | {"min_cache_tokens": 1}
    return reg.merged({"models": [*revived, micro]}, "test")


def copy_job(placement: str, *, language: str = "en", model: str = HAIKU45) -> CopyJob:
    campaign = make_campaign(
        briefs=[PINNED],
        placements=(placement,),
        languages=(language,),
        provider="bedrock",
        text_model=HAIKU45,
        image_model=IMAGE,
    )
    return replace(make_plan(campaign, registry(), "bedrock").copy_jobs[0], model=model)


def image_job(model: str, aspect: str, width: int, height: int) -> ImageJob:
    campaign = make_campaign(
        briefs=[PINNED], provider="bedrock", text_model=HAIKU45, image_model=IMAGE
    )
    job = make_plan(campaign, registry(), "bedrock").image_jobs[0]
    return replace(job, model=model, aspect=aspect, width=width, height=height)


def bedrock(region: str = "us-east-1", **config: Any) -> BedrockProvider:
    return BedrockProvider(ProviderConfig(registry=registry(), region=region, **config))


def requests() -> dict[str, Request]:
    plain, feed = bedrock(), ["headline is 41 characters, over the 40 limit"]
    tuned = bedrock(temperature=0.7, max_tokens=600, guardrail="gr1:DRAFT", tier="flex")
    fast = bedrock("us-east-2", latency="optimized")
    return {
        "native": plain.text_request(copy_job("meta_feed")),
        "native-feedback": plain.text_request(copy_job("meta_feed"), feed),
        "tool": plain.text_request(copy_job("meta_feed", model=NOVA_LITE)),
        "tool-ja": plain.text_request(copy_job("meta_feed", language="ja", model=NOVA_LITE)),
        "prompt": plain.text_request(copy_job("meta_feed", model=LLAMA)),
        "prompt-search": plain.text_request(copy_job("google_rsa", model=LLAMA)),
        "native-search-ja": plain.text_request(copy_job("google_rsa", language="ja")),
        "tool-tuned": tuned.text_request(copy_job("display_300x250", model=NOVA_PRO), feed),
        "cached": plain.text_request(copy_job("meta_feed", model=NOVA_MICRO)),
        "optimized": fast.text_request(copy_job("meta_feed", model=NOVA_PRO)),
        "stability": plain.image_request(image_job(IMAGE, "4:5", 832, 1024)),
        "titan": plain.image_request(image_job(TITAN, "16:9", 1024, 576)),
        "nova-canvas": plain.image_request(image_job(NOVA_CANVAS, "9:16", 576, 1024)),
        "draft-copy": DraftProvider().text_request(copy_job("google_rsa"), feed),
        "draft-image": DraftProvider().image_request(image_job("draft-image", "1:1", 1024, 1024)),
    }


def pinned(request: Request) -> tuple[str, int, int, int, float]:
    """The key, and the estimates reserved against quotas and the budget before sending."""
    cost = round(request.max_cost_usd, 9)
    return request.key, request.input_tokens, request.max_tokens, request.cache_tokens, cost


KEYS: dict[str, tuple[str, int, int, int, float]] = {
    "native": (
        "5620f62edcb810af5f1969f1dc346a4c6e7c384044c6830ec92e660f08fcff3e",
        400,
        447,
        0,
        0.0028985,  # through us.: Haiku 4.5's geographic price
    ),
    "native-feedback": (
        "6f32aa6e638a95b3a48209758fd069b5464be32e9427e7b3acefbfa9c05cc5d0",
        432,
        447,
        0,
        0.0029337,
    ),
    "tool": (
        "3545d5c14a3b49e19d8e1ba64f13492293c1c5c15afea2fdb97fd673bd410c6c",
        767,
        447,
        0,
        0.0001533,
    ),
    "tool-ja": (
        "463a2d5aa0816b0797adc8201ff047c0c6fb6d343b025f366e3b719396a99ec5",
        843,
        447,
        0,
        0.00015786,
    ),
    "prompt": (
        "95a337dfc9899e408138b40ac9d0e020ed7d729fc377e2a832917ec4d0cdc4b8",
        460,
        447,
        0,
        0.00065304,
    ),
    "prompt-search": (
        "e4438729e104f9682035c570e663a523a1e40a7dcbe2d6ff12890dc1ada1d5db",
        830,
        1320,
        0,
        0.001548,
    ),
    "native-search-ja": (
        "af4aa6eece331a0fd03c32c7be430dbb9cb85525a9d32b0b4786c892db62d1b5",
        789,
        1320,
        0,
        0.0081279,
    ),
    "tool-tuned": (
        "8b01051b035e50e54ecde0714040e79f1b1b622f75f5be99366f3ac4431a31d1",
        816,
        600,
        0,
        0.0012864,
    ),
    "cached": (
        "f709e3f77383fc3eb7f7639080ea7c45357bdb6996f48c4e1ecac7683ba43cef",
        767,
        447,
        105,
        8.9425e-05,
    ),
    "optimized": (
        "d7d3d16a1e6a3d77f49403b96980132080150c231b535e373665d58b46af253e",
        767,
        447,
        0,
        0.002555,
    ),
    "stability": (
        "0636d97b9b37606d19f844463387818cc49f9e6ee1d57e60c448b1e36b4c4e8a",
        0,
        0,
        0,
        0.04,
    ),
    "titan": ("3501cee25d2231d1140b9901ace11d64f1a0a16248cf4c009771ec5851c88bf8", 0, 0, 0, 0.01),
    "nova-canvas": (
        "072dbc7524635a770bc4820b458b7ddfba7f2ddd9b3e0c2fe914487042e02af8",
        0,
        0,
        0,
        0.04,
    ),
    "draft-copy": (
        "174bd7f57109498219fa7ece6a2386c2730b912b6a299375ad0eb44f60a4cda5",
        0,
        0,
        0,
        0.0,
    ),
    "draft-image": (
        "0004d7e1f9178666d9dd40dd08e1599ca38ebab99e32278e0d3ac598adb2d398",
        0,
        0,
        0,
        0.0,
    ),
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_the_request_is_the_one_sent_before(name: str) -> None:
    assert pinned(requests()[name]) == KEYS[name]


def test_every_request_kind_is_pinned() -> None:
    assert sorted(requests()) == sorted(KEYS)
