"""The Bedrock provider against the fake: what it sends, and how it reads the answers.

Real boto3 and real HTTP: each request goes through botocore's serialisation and
signing to the fake, which refuses anything the service or model would refuse.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

from adloom.aspects import master_size
from adloom.errors import InputError, ModelAccessError
from adloom.model import Brief, CopyJob, ImageJob
from adloom.providers import ProviderConfig
from adloom.providers.base import RequestFailed
from adloom.providers.bedrock import BedrockProvider, parse_guardrail
from adloom.providers.bedrock.images import ADAPTERS, TitanImage, fit_words
from adloom.providers.copywriting import TOOL_NAME
from adloom.registry import Registry, load_registry
from adloom.run.plan import make_plan
from campaigns import make_campaign
from fakebedrock import FakeBedrock

HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
HAIKU35 = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
LLAMA = "us.meta.llama3-3-70b-instruct-v1:0"
COHERE = "cohere.command-r-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
NOVA_CANVAS = "amazon.nova-canvas-v1:0"
DEFAULT_IMAGE = "stability.stable-image-core-v1:1"  # the registry's bedrock default
STABILITY = ("stability.sd3-5-large-v1:0", "stability.stable-image-core-v1:1",
             "stability.stable-image-ultra-v1:1")  # fmt: skip


def registry() -> Registry:
    """The shipped registry, with the models past their end of life (Nova Canvas,
    Titan Image v2, Claude 3.5 Haiku) legacy again: their request formats stay tested
    for accounts that still reach them (a private arrangement, a user registry)."""
    reg = load_registry()
    revived = []
    for model in (NOVA_CANVAS, TITAN, HAIKU35):
        entry = reg.get(model).model_dump(mode="json")
        entry["lifecycle"] = {"status": "legacy"}
        revived.append(entry)
    return reg.merged({"models": revived}, "test")


def provider(**config: Any) -> BedrockProvider:
    return BedrockProvider(ProviderConfig(registry=registry(), **config))


def copy_job(text_model: str = HAIKU45, *, language: str = "en", **brief: Any) -> CopyJob:
    campaign = make_campaign(provider="bedrock", text_model=text_model,
                             image_model=DEFAULT_IMAGE, languages=(language,))  # fmt: skip
    job = make_plan(campaign, registry(), "bedrock").copy_jobs[0]
    return replace(job, brief=replace(job.brief, **brief)) if brief else job


def image_job(model: str, aspect: str) -> ImageJob:
    campaign = make_campaign(provider="bedrock", text_model=HAIKU45, image_model=DEFAULT_IMAGE)
    job = make_plan(campaign, registry(), "bedrock").image_jobs[0]
    width, height = master_size(aspect)
    return replace(job, model=model, aspect=aspect, width=width, height=height)


def user_text(body: dict[str, Any]) -> str:
    return str(body["messages"][0]["content"][0]["text"])


# ------------------------------------------------------------------ text


def test_native_mode_sends_output_config_and_reads_json(fake_bedrock: FakeBedrock) -> None:
    p = provider()
    request = p.text_request(copy_job(HAIKU45))
    body = request.body
    assert set(body) == {"system", "messages", "inferenceConfig", "outputConfig"}
    schema_def = body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert body["outputConfig"]["textFormat"]["type"] == "json_schema"
    schema = json.loads(schema_def["schema"])  # a JSON string, as the API wants
    assert schema["required"] == ["headline", "body", "cta"]
    assert schema["additionalProperties"] is False
    assert "maxLength" not in schema["properties"]["headline"]  # grammar can't bound length
    assert "at most 40 characters" in schema["properties"]["headline"]["description"]
    answer = p.send(request)
    assert answer.status == "ok"
    assert set(answer.output) == {"headline", "body", "cta"}
    assert answer.meta == {"stop_reason": "end_turn", "latency": "standard", "tier": "default"}
    info = p.registry.get(HAIKU45)
    assert answer.usage.cost_usd == pytest.approx(
        info.text_cost(answer.usage.input_tokens, answer.usage.output_tokens)
    )
    assert fake_bedrock.calls("converse")[0].model == HAIKU45


@pytest.mark.parametrize("model", [NOVA_LITE, HAIKU35])
def test_tool_mode_forces_the_tool_and_reads_its_input(
    fake_bedrock: FakeBedrock, model: str
) -> None:
    p = provider()
    request = p.text_request(copy_job(model))
    tool = request.body["toolConfig"]
    assert tool["toolChoice"] == {"tool": {"name": TOOL_NAME}}
    spec = tool["tools"][0]["toolSpec"]
    assert spec["name"] == TOOL_NAME
    assert spec["inputSchema"]["json"]["properties"]["body"]["maxLength"] == 125
    answer = p.send(request)
    assert answer.status == "ok"
    assert answer.meta["stop_reason"] == "tool_use"
    assert answer.output["cta"]


@pytest.mark.parametrize("model", [LLAMA, COHERE])
def test_prompt_mode_puts_the_schema_in_the_prompt(fake_bedrock: FakeBedrock, model: str) -> None:
    p = provider()
    request = p.text_request(copy_job(model))
    assert "toolConfig" not in request.body
    assert "outputConfig" not in request.body
    assert '"maxLength": 125' in user_text(request.body)
    answer = p.send(request)  # the fake answers in a ```json fence amid prose
    assert answer.status == "ok"
    assert answer.output["headline"]


def test_prompt_carries_the_brief_brand_and_limits() -> None:
    job = copy_job(NOVA_LITE)
    job = replace(
        job,
        brand=replace(job.brand, voice="Warm and plain.", banned_words=("cheap", "miracle"),
                      disclaimer="Offer ends May 31."),
        brief=replace(job.brief, tone="upbeat"),
    )  # fmt: skip
    body = provider().text_request(job, ["body is 140 characters, over the limit of 125"]).body
    system, user = body["system"][0]["text"], user_text(body)
    assert "Warm and plain." in system
    assert "cheap, miracle" in system
    for expected in ("Product: Cold Brew Kit", "Tone: upbeat", "commuters audience",
                     "Brews overnight", "Offer ends May 31.", "Call to action: Shop now",
                     "body: at most 125", "previous answer", "over the limit of 125"):  # fmt: skip
        assert expected in user


def test_variants_lead_with_different_angles() -> None:
    p = provider()
    first = user_text(p.text_request(copy_job(NOVA_LITE)).body)
    second = user_text(p.text_request(replace(copy_job(NOVA_LITE), variant=2)).body)
    assert "variant 1" in first
    assert "variant 2" in second
    assert "the core message" in first
    assert 'the benefit "Brews overnight"' in second


def test_japanese_is_written_natively(fake_bedrock: FakeBedrock) -> None:
    p = provider()
    request = p.text_request(copy_job(HAIKU45, language="ja"))
    assert "not a translation" in request.body["system"][0]["text"]
    assert "Language: Japanese" in user_text(request.body)
    answer = p.send(request)
    assert answer.status == "ok"
    assert "詳しく見る" in answer.output["cta"]


def test_double_width_limits_are_explained() -> None:
    job = copy_job(NOVA_LITE)
    display = replace(job, limits=replace(job.limits, width_rule="double_width"))
    body = provider().text_request(display).body
    assert "full-width characters (Japanese, Chinese, Korean) count 2" in user_text(body)
    props = body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["properties"]
    assert "width units" in props["headline"]["description"]


def test_supplied_headline_is_never_asked_for(fake_bedrock: FakeBedrock) -> None:
    p = provider()
    request = p.text_request(copy_job(HAIKU45, headline="Brewed overnight, ready at 7"))
    schema = json.loads(
        request.body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"]
    )
    assert schema["required"] == ["body", "cta"]
    assert '"Brewed overnight, ready at 7"' in user_text(request.body)
    answer = p.send(request)
    assert answer.status == "ok"
    assert answer.output["headline"] == ""  # generate fills in the supplied one


def test_token_and_cost_estimates(fake_bedrock: FakeBedrock) -> None:
    p = provider()
    request = p.text_request(copy_job(NOVA_LITE))
    info = p.registry.get(NOVA_LITE)
    # 40 + 125 + 20 characters of copy, 4/3 token each, plus room for the JSON wrapping.
    assert request.max_tokens == 247 + 200
    assert request.input_tokens > 300  # prompt plus the tool-use overhead
    assert request.max_cost_usd == pytest.approx(
        info.text_cost(request.input_tokens, request.max_tokens)
    )
    answer = p.send(request)
    assert answer.usage.input_tokens <= request.input_tokens  # the estimate is conservative
    capped = provider(max_tokens=5000, temperature=0.4).text_request(copy_job(LLAMA))
    assert capped.body["inferenceConfig"] == {"maxTokens": 2048, "temperature": 0.4}


def test_malformed_answers_fail_with_what_was_wrong(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.malformed = 3
    p = provider()
    for model, expected in ((HAIKU45, "not a JSON object"), (NOVA_LITE, "has no body"),
                            (LLAMA, "not a JSON object")):  # fmt: skip
        answer = p.send(p.text_request(copy_job(model)))
        assert answer.status == "failed"
        assert expected in answer.error
        assert answer.usage.output_tokens > 0  # paid for, and recorded
    assert p.send(p.text_request(copy_job(NOVA_LITE))).status == "ok"


def test_cut_off_answer_fails(fake_bedrock: FakeBedrock) -> None:
    p = provider(max_tokens=30)
    answer = p.send(p.text_request(copy_job(HAIKU45)))
    assert answer.status == "failed"
    assert "30-token limit" in answer.error


def test_guardrail_intervention_is_blocked_with_its_reason(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.guardrail_words = ["Cold Brew"]
    p = provider(guardrail="gr-brand:1")
    request = p.text_request(copy_job(HAIKU45))
    assert request.body["guardrailConfig"] == {
        "guardrailIdentifier": "gr-brand", "guardrailVersion": "1", "trace": "enabled",
    }  # fmt: skip
    answer = p.send(request)
    assert answer.status == "blocked"
    assert answer.error == 'blocked by the guardrail: blocked word "Cold Brew"'


@pytest.mark.parametrize("value", ["gr-brand", "gr-brand:", ":1", "gr-brand:v1"])
def test_guardrail_option_is_checked(value: str) -> None:
    with pytest.raises(InputError, match="ID:VERSION"):
        parse_guardrail(value)


def test_latency_optimized_is_recorded_as_served(
    fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    p = provider(latency="optimized")
    request = p.text_request(copy_job(HAIKU35))
    assert request.body["performanceConfig"] == {"latency": "optimized"}
    answer = p.send(request)
    assert answer.meta["latency"] == "optimized"
    info = p.registry.get(HAIKU35)
    # Billed at the optimized price ($1/$5 per M instead of $0.80/$4).
    assert answer.usage.cost_usd == pytest.approx(
        (answer.usage.input_tokens * 1.0 + answer.usage.output_tokens * 5.0) / 1e6
    )
    assert request.max_cost_usd == pytest.approx(
        info.text_cost(request.input_tokens, request.max_tokens, optimized=True)
    )
    # Past its optimized capacity the service serves (and bills) standard latency.
    fake_bedrock.behaviour.optimized_capacity = 0
    fallback = p.send(p.text_request(replace(copy_job(HAIKU35), variant=2)))
    assert fallback.meta["latency"] == "standard"


def test_latency_optimized_is_refused_before_any_call(fake_bedrock: FakeBedrock) -> None:
    with pytest.raises(InputError, match="does not offer latency-optimized"):
        provider(latency="optimized").text_request(copy_job(NOVA_LITE))
    with pytest.raises(InputError, match="only in us-east-2, us-west-2, not us-east-1"):
        provider(latency="optimized").text_request(copy_job(HAIKU35))
    assert fake_bedrock.requests == []


def test_profile_only_base_id_goes_through_the_region_profile(fake_bedrock: FakeBedrock) -> None:
    base = HAIKU45.removeprefix("us.")
    request = provider().text_request(copy_job(base))
    assert request.model == HAIKU45  # from us-east-1: the us. profile
    assert provider().send(request).status == "ok"
    # Llama 3.3 has a us. profile only: from Frankfurt nothing fits, refused before a call.
    fake_bedrock.reset()
    llama = LLAMA.removeprefix("us.")
    with pytest.raises(ModelAccessError, match="none of them fits region eu-central-1") as exc:
        provider(region="eu-central-1").text_request(copy_job(llama))
    assert f"e.g. {LLAMA}" in (exc.value.hint or "")
    assert fake_bedrock.requests == []


# ------------------------------------------------------------------ images

ASPECTS = ("1:1", "4:5", "9:16", "16:9", "21:9")
IMAGE_MODELS = (TITAN, NOVA_CANVAS, *STABILITY)


@pytest.mark.parametrize("model", IMAGE_MODELS)
@pytest.mark.parametrize("aspect", ASPECTS)
def test_image_bodies_are_accepted_at_every_aspect(
    fake_bedrock: FakeBedrock, model: str, aspect: str
) -> None:
    p = provider()
    request = p.image_request(image_job(model, aspect))
    answer = p.send(request)
    assert answer.status == "ok", answer.error
    assert answer.image is not None
    with Image.open(io.BytesIO(answer.image)) as im:
        w, h = im.size
        assert im.format == "PNG"
    body = request.body
    if model.startswith("stability."):
        assert set(body) == {"prompt", "negative_prompt", "mode", "aspect_ratio", "seed",
                             "output_format"}  # fmt: skip
        assert body["mode"] == "text-to-image"
        assert body["output_format"] == "png"
        assert 1 <= body["seed"] <= 4_294_967_294
        assert "No text, no letters" in body["prompt"]
        assert answer.usage.cost_usd == p.registry.get(model).image_prices["standard"]
    else:
        assert set(body) == {"taskType", "textToImageParams", "imageGenerationConfig"}
        config = body["imageGenerationConfig"]
        assert set(config) == {"numberOfImages", "width", "height", "cfgScale", "seed", "quality"}
        assert (config["width"], config["height"]) == (w, h)
        assert "no text" not in body["textToImageParams"]["text"].lower()
        assert "letters" in body["textToImageParams"]["negativeText"]
        if model == TITAN:
            assert (w, h) in TitanImage.SIZES
    target = master_size(aspect)
    # The model's nearest size: same orientation, close in aspect.
    assert abs(w / h - target[0] / target[1]) / (target[0] / target[1]) < 0.25


def test_image_prompt_uses_the_brief_and_keeps_room_for_copy() -> None:
    job = image_job(TITAN, "16:9")
    job = replace(job, brief=replace(job.brief, image_prompt="Iced coffee on a desk at dawn"))
    text = provider().image_request(job).body["textToImageParams"]["text"]
    assert text.startswith("Iced coffee on a desk at dawn")
    assert "landscape composition" in text
    assert "left or right third" in text


def test_image_prompts_are_cut_at_word_boundaries() -> None:
    long_prompt = "a ceramic mug of coffee " * 60
    job = image_job(TITAN, "1:1")
    job = replace(job, brief=replace(job.brief, image_prompt=long_prompt))
    text = provider().image_request(job).body["textToImageParams"]["text"]
    assert len(text) <= 512
    assert long_prompt.startswith(text)
    assert long_prompt[len(text)] == " "  # whole words only
    assert fit_words("one two three", 9) == "one two"


def test_seeds_are_mapped_into_each_models_range() -> None:
    for adapter in ADAPTERS.values():
        for seed in (0, 1, 858_993_459, 2**40):
            assert adapter.seed_min <= adapter.seed(seed) <= adapter.seed_max
    assert ADAPTERS["stability"].seed(0) != 0  # 0 would mean "random"


def test_image_cost_follows_size_and_quality(fake_bedrock: FakeBedrock) -> None:
    p = provider(image_quality="premium")
    square = p.image_request(image_job(TITAN, "1:1"))
    assert square.body["imageGenerationConfig"]["quality"] == "premium"
    assert square.max_cost_usd == 0.012  # 1024x1024: the large premium price
    canvas = provider().image_request(image_job(NOVA_CANVAS, "1:1"))
    assert canvas.max_cost_usd == 0.04  # up to 1024x1024, standard


@pytest.mark.parametrize("model", [TITAN, NOVA_CANVAS, STABILITY[1]])
def test_filtered_images_fail_the_variant_not_the_run(
    fake_bedrock: FakeBedrock, model: str
) -> None:
    fake_bedrock.behaviour.filter_output = ["Cold Brew"]
    p = provider()
    answer = p.send(p.image_request(image_job(model, "1:1")))
    assert answer.status == "filtered"
    assert "rephrase the image_prompt" in answer.error
    fake_bedrock.behaviour.filter_output = []
    fake_bedrock.behaviour.filter_prompt = ["Cold Brew"]
    if model.startswith("stability."):
        answer = p.send(p.image_request(image_job(model, "1:1")))
        assert (answer.status, "Filter reason: prompt" in answer.error) == ("filtered", True)
    else:
        with pytest.raises(RequestFailed, match="content filter") as exc:
            p.send(p.image_request(image_job(model, "1:1")))
        assert exc.value.status == "filtered"


def test_undecodable_image_fails_clearly(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.corrupt_images = 1
    p = provider()
    answer = p.send(p.image_request(image_job(TITAN, "1:1")))
    assert answer.status == "failed"
    assert "not a readable image" in answer.error


def test_unknown_image_family_is_a_model_error() -> None:
    reg = registry().merged(
        {"models": [{"id": "acme.painter-v1", "provider": "bedrock", "kind": "image",
                     "family": "acme"}]}, "test")  # fmt: skip
    p = BedrockProvider(ProviderConfig(registry=reg))
    with pytest.raises(ModelAccessError, match="cannot call"):
        p.image_request(image_job("acme.painter-v1", "1:1"))


def test_brief_without_image_prompt_describes_the_product() -> None:
    job = image_job(NOVA_CANVAS, "9:16")
    job = replace(job, brief=Brief(id="x", product="Travel Mug", message="Hot for 6 hours"))
    text = provider().image_request(job).body["textToImageParams"]["text"]
    assert text.startswith("Travel Mug: Hot for 6 hours")
    assert "portrait composition" in text
