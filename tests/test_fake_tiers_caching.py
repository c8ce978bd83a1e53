"""The fake's service tiers and prompt caching: strict like the service, answers botocore parses.

Raw signed requests show what the fake refuses; boto3 calls show the answers parse
against botocore's service model (usage cache counts, the served tier).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import boto3
import pytest

from fakebedrock import FakeBedrock
from fakebedrock.shapes import validate_output
from test_bedrock_fake import call, converse_body, converse_path
from test_bedrock_provider import HAIKU45, copy_job, provider

NOVA_PRO = "amazon.nova-pro-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
LLAMA = "us.meta.llama3-3-70b-instruct-v1:0"
SHARED = "Brand guide. " + "Write plainly, warmly and briefly about the product. " * 100


def cached_body(system: str = SHARED, question: str = "Write a headline.") -> dict[str, Any]:
    return converse_body(
        system=[{"text": system}, {"cachePoint": {"type": "default"}}],
        messages=[{"role": "user", "content": [{"text": question}]}],
    )


def client() -> Any:
    """A client of a new session: this test's key and the fake's endpoint (``point_at``)."""
    return boto3.Session().client("bedrock-runtime")


def test_a_tier_the_model_serves_comes_back_in_the_answer(fake_bedrock: FakeBedrock) -> None:
    status, _, answer = call(
        fake_bedrock, converse_path(NOVA_PRO), converse_body(serviceTier={"type": "flex"})
    )
    assert status == 200
    assert answer["serviceTier"] == {"type": "flex"}
    fake_bedrock.behaviour.serve_tier = "default"  # asked priority, served default
    _, _, answer = call(
        fake_bedrock, converse_path(NOVA_PRO), converse_body(serviceTier={"type": "priority"})
    )
    assert answer["serviceTier"] == {"type": "default"}


@pytest.mark.parametrize(
    ("model", "tier"), [(NOVA_LITE, "flex"), (LLAMA, "priority"), (NOVA_PRO, "reserved")]
)
def test_a_tier_the_model_does_not_serve_is_refused(
    fake_bedrock: FakeBedrock, model: str, tier: str
) -> None:
    status, code, answer = call(
        fake_bedrock, converse_path(model), converse_body(serviceTier={"type": tier})
    )
    assert (status, code) == (400, "ValidationException")
    assert f"service tier {tier}" in answer["message"]
    _, code, answer = call(
        fake_bedrock, converse_path(NOVA_PRO), converse_body(serviceTier={"type": "cheap"})
    )
    assert code == "ValidationException"
    assert "enum value set" in answer["message"]


def test_first_request_writes_the_cache_later_ones_read_it(fake_bedrock: FakeBedrock) -> None:
    bedrock = client()
    first = bedrock.converse(modelId=NOVA_LITE, **cached_body())["usage"]
    second = bedrock.converse(modelId=NOVA_LITE, **cached_body(question="Another one."))["usage"]
    assert first["cacheWriteInputTokens"] >= 1000
    assert first["cacheReadInputTokens"] == 0
    assert second["cacheReadInputTokens"] == first["cacheWriteInputTokens"]
    assert second["cacheWriteInputTokens"] == 0
    # inputTokens counts only what was neither read nor written.
    assert second["inputTokens"] < 20
    assert first["totalTokens"] == (
        first["inputTokens"] + first["cacheWriteInputTokens"] + first["outputTokens"]
    )


def test_a_prefix_below_the_minimum_is_not_cached(fake_bedrock: FakeBedrock) -> None:
    bedrock = client()
    for _ in range(2):
        usage = bedrock.converse(modelId=NOVA_LITE, **cached_body(system="Be brief."))["usage"]
        assert usage["cacheReadInputTokens"] == usage["cacheWriteInputTokens"] == 0


def test_an_expired_prefix_is_written_again(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.cache_ttl_seconds = 0.0
    bedrock = client()
    for _ in range(2):
        usage = bedrock.converse(modelId=NOVA_LITE, **cached_body())["usage"]
        assert usage["cacheWriteInputTokens"] > 0
        assert usage["cacheReadInputTokens"] == 0


def test_misplaced_or_unsupported_cache_points_are_refused(fake_bedrock: FakeBedrock) -> None:
    point = {"cachePoint": {"type": "default"}}
    bad = {
        "first": (NOVA_LITE, converse_body(system=[point, {"text": SHARED}])),
        "unsupported model": (LLAMA, cached_body()),
        "tools on Nova": (NOVA_LITE, converse_body(toolConfig={"tools": [
            {"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}, point]})),
        "too many": (NOVA_LITE, converse_body(system=[{"text": SHARED}, point] * 5)),
        "bad shape": (NOVA_LITE, converse_body(system=[{"text": SHARED},
                                                       {"cachePoint": {"type": "forever"}}])),
    }  # fmt: skip
    for what, (model, body) in bad.items():
        status, code, _ = call(fake_bedrock, converse_path(model), body)
        assert (status, code) == (400, "ValidationException"), what


@pytest.mark.parametrize(
    ("model", "voice_words", "cached"),
    [
        (NOVA_LITE, 10, False),  # the shipped system prompt alone: below every minimum
        (NOVA_LITE, 900, True),
        (LLAMA, 900, False),  # no prompt caching
        (HAIKU45, 900, False),  # below its 4,096-token minimum
        (HAIKU45, 4000, True),
    ],
)
def test_a_cache_point_follows_a_long_enough_system_prompt(
    model: str, voice_words: int, cached: bool
) -> None:
    job = copy_job(model)
    job = replace(job, brand=replace(job.brand, voice=" ".join(["friendly"] * voice_words)))
    request = provider().text_request(job)
    point = {"cachePoint": {"type": "default"}}
    assert (request.body["system"][-1] == point) is cached
    assert (request.cache_tokens > 0) is cached
    assert request.body["system"][0]["text"].startswith("You are a senior")


def test_answers_with_tiers_and_cache_counts_match_botocores_model(
    fake_bedrock: FakeBedrock,
) -> None:
    fake_bedrock.behaviour.serve_tier = "default"
    for _ in range(2):  # a cache write, then a read
        status, _, answer = call(
            fake_bedrock,
            converse_path(NOVA_PRO),
            cached_body() | {"serviceTier": {"type": "priority"}},
        )
        assert status == 200
        assert validate_output("bedrock-runtime", "Converse", answer) == []
    assert answer["usage"]["cacheReadInputTokens"] > 0
    assert validate_output("bedrock-runtime", "Converse", answer | {"serviceTier": {}}) != []
