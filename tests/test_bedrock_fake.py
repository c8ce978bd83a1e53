"""The fake Bedrock itself: strict like the service, so a wrong request fails the tests.

Bodies are sent as real signed HTTP requests (botocore's SigV4 signer), bypassing
the client-side parameter validation, to show the fake refuses what the service
would, with the real error shape (``x-amzn-ErrorType`` header, ``message`` body).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from fakebedrock import FakeBedrock, as_process

ROOT = Path(__file__).resolve().parents[1]
HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
NOVA = "amazon.nova-canvas-v1:0"
SD35 = "stability.sd3-5-large-v1:0"


def call(
    fake: FakeBedrock,
    path: str,
    body: Any = None,
    *,
    sign: bool = True,
    method: str = "POST",
    region: str = "us-east-1",
) -> tuple[int, str, dict[str, Any]]:
    """(status, error code, JSON body) of a raw request, signed like botocore signs."""
    data = json.dumps(body).encode() if body is not None else None
    request = AWSRequest(method, fake.url + path, data=data,
                         headers={"Content-Type": "application/json"})  # fmt: skip
    if sign:
        key = getattr(fake, "key", "") or "AKIAFAKEANYKEY000001"
        SigV4Auth(Credentials(key, "secret"), "bedrock", region).add_auth(request)
    raw = urllib.request.Request(
        request.url, data=data, headers=dict(request.headers.items()), method=method
    )
    try:
        with urllib.request.urlopen(raw, timeout=10) as answer:
            return answer.status, "", json.loads(answer.read())
    except urllib.error.HTTPError as err:
        code = (err.headers.get("x-amzn-ErrorType") or "").split(":")[0]
        return err.code, code, json.loads(err.read())


def converse_path(model: str) -> str:
    return f"/model/{quote(model, safe='')}/converse"


def invoke_path(model: str) -> str:
    return f"/model/{quote(model, safe='')}/invoke"


def converse_body(**extra: Any) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": [{"text": "Write a headline."}]}],
        "inferenceConfig": {"maxTokens": 200},
        **extra,
    }


def amazon_body(width: int = 1024, height: int = 1024, **config: Any) -> dict[str, Any]:
    return {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a mug of coffee", "negativeText": "text"},
        "imageGenerationConfig": {
            "numberOfImages": 1, "width": width, "height": height, "cfgScale": 8.0,
            "seed": 1, "quality": "standard", **config,
        },
    }  # fmt: skip


def test_valid_converse_is_answered_in_the_documented_shape(fake_bedrock: FakeBedrock) -> None:
    status, _, body = call(fake_bedrock, converse_path(HAIKU45), converse_body())
    assert status == 200
    assert body["output"]["message"]["role"] == "assistant"
    assert body["stopReason"] == "end_turn"
    assert set(body["usage"]) == {"inputTokens", "outputTokens", "totalTokens"}
    assert body["metrics"]["latencyMs"] >= 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (converse_body(temperatureX=1), "Unknown parameter 'temperatureX'"),
        (converse_body(inferenceConfig={"maxTokens": 10, "temperature": 2.0}),
         "inferenceConfig.temperature"),
        (converse_body(inferenceConfig={"maxTokens": 0}), "inferenceConfig.maxTokens"),
        (converse_body(messages=[{"role": "robot", "content": [{"text": "hi"}]}]),
         "Member must satisfy enum value set"),
        (converse_body(messages=[{"role": "user", "content": [{"text": "a", "image": {}}]}]),
         "exactly one member"),
        (converse_body(messages=[{"role": "assistant", "content": [{"text": "hi"}]}]),
         "alternate between user and assistant"),
        (converse_body(messages=[{"role": "user", "content": [{"text": "  "}]}]), "is blank"),
        (converse_body(toolConfig={"tools": [], "toolChoice": {"auto": {}}}),
         "toolConfig.tools"),
        (converse_body(toolConfig={
            "tools": [{"toolSpec": {"name": "a", "inputSchema": {"json": {"type": "object"}}}}],
            "toolChoice": {"tool": {"name": "b"}}}), "toolChoice is not defined"),
        (converse_body(outputConfig={"textFormat": {"type": "json_schema", "structure": {
            "jsonSchema": {"schema": json.dumps({"type": "object", "properties": {
                "h": {"type": "string", "maxLength": 30}}, "additionalProperties": False})}}}}),
         "'maxLength'"),
        (converse_body(outputConfig={"textFormat": {"type": "json_schema", "structure": {
            "jsonSchema": {"schema": json.dumps({"type": "object", "properties": {}})}}}}),
         "additionalProperties"),
        (converse_body(inferenceConfig={"maxTokens": 100_000}), "exceeds the model limit"),
        (converse_body(guardrailConfig={"guardrailIdentifier": "nope", "guardrailVersion": "1"}),
         "guardrail identifier or version"),
    ],
)  # fmt: skip
def test_converse_bodies_the_service_refuses(
    fake_bedrock: FakeBedrock, body: dict[str, Any], expected: str
) -> None:
    status, code, answer = call(fake_bedrock, converse_path(HAIKU45), body)
    assert (status, code) == (400, "ValidationException")
    assert expected in answer["message"]


def test_model_capabilities_are_the_fakes_own(fake_bedrock: FakeBedrock) -> None:
    tool = {
        "tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}],
        "toolChoice": {"tool": {"name": "t"}},
    }
    _, code, answer = call(
        fake_bedrock, converse_path("us.meta.llama3-3-70b-instruct-v1:0"),
        converse_body(toolConfig=tool),
    )  # fmt: skip
    assert code == "ValidationException"
    assert "toolChoice.tool" in answer["message"]
    native = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {
        "schema": json.dumps({"type": "object", "additionalProperties": False})}}}}  # fmt: skip
    _, code, answer = call(
        fake_bedrock, converse_path("us.anthropic.claude-sonnet-4-20250514-v1:0"),
        converse_body(outputConfig=native),
    )  # fmt: skip
    assert "outputConfig" in answer["message"]
    _, code, answer = call(
        fake_bedrock, converse_path("amazon.nova-lite-v1:0"),
        converse_body(performanceConfig={"latency": "optimized"}),
    )  # fmt: skip
    assert "latency-optimized" in answer["message"]


def test_on_demand_base_id_of_a_profile_only_model(fake_bedrock: FakeBedrock) -> None:
    model = "anthropic.claude-haiku-4-5-20251001-v1:0"
    status, code, answer = call(fake_bedrock, converse_path(model), converse_body())
    assert (status, code) == (400, "ValidationException")
    assert answer["message"].startswith(f"Invocation of model ID {model} with on-demand throughput")
    # Unknown ids and profiles a model is not offered through are refused as invalid.
    for bad in ("anthropic.claude-nope-v1:0", "jp.amazon.nova-lite-v1:0"):
        _, _, answer = call(fake_bedrock, converse_path(bad), converse_body())
        assert answer["message"] == "The provided model identifier is invalid."


def test_requests_must_be_signed(fake_bedrock: FakeBedrock) -> None:
    status, code, _ = call(fake_bedrock, converse_path(HAIKU45), converse_body(), sign=False)
    assert (status, code) == (403, "MissingAuthenticationTokenException")
    assert fake_bedrock.requests[-1].headers["signed"] == "no"
    call(fake_bedrock, converse_path(HAIKU45), converse_body())
    recorded = fake_bedrock.requests[-1]
    assert recorded.headers["signed"] == "yes"
    assert "authorization" not in recorded.headers  # nothing secret is kept
    assert recorded.region == "us-east-1"


@pytest.mark.parametrize(
    ("model", "body", "expected"),
    [
        (TITAN, amazon_body(1000, 1000), "not a supported image size"),
        (TITAN, amazon_body(seed=2_147_483_647), "seed"),
        (TITAN, {**amazon_body(), "textToImageParams": {"text": "x" * 513}}, "maxLength: 512"),
        (TITAN, {**amazon_body(), "style": "PHOTOREALISM"}, "extraneous key [style]"),
        (TITAN, amazon_body(quality="ultra"), "quality"),
        (TITAN, amazon_body(cfgScale=12), "cfgScale"),
        (NOVA, amazon_body(1000, 1008), "divisible by 16"),
        (NOVA, amazon_body(2048, 400), "between 1:4 and 4:1"),
        (NOVA, amazon_body(2048, 2048), "less than 4,194,304"),
        (NOVA, amazon_body(1024, 1024, seed=858_993_460), "seed"),
        (NOVA, {**amazon_body(), "textToImageParams": {"text": ""}}, "minLength: 1"),
        (SD35, {"prompt": "beans", "aspect_ratio": "4:3"}, "aspect_ratio"),
        (SD35, {"prompt": "beans", "cfg_scale": 7}, "extraneous key [cfg_scale]"),
        (SD35, {"prompt": "beans", "seed": 4_294_967_295}, "seed"),
        (SD35, {"prompt": "beans", "output_format": "gif"}, "output_format"),
        (SD35, {"negative_prompt": "text"}, "required key [prompt]"),
    ],
)
def test_image_bodies_each_model_refuses(
    fake_bedrock: FakeBedrock, model: str, body: dict[str, Any], expected: str
) -> None:
    status, code, answer = call(fake_bedrock, invoke_path(model), body)
    assert (status, code) == (400, "ValidationException")
    assert expected in answer["message"]


def test_image_answers_are_real_images_at_the_asked_size(fake_bedrock: FakeBedrock) -> None:
    import base64
    import io

    from PIL import Image

    _, _, answer = call(fake_bedrock, invoke_path(NOVA), amazon_body(1024, 432))
    assert answer["error"] is None
    with Image.open(io.BytesIO(base64.b64decode(answer["images"][0]))) as im:
        assert (im.format, im.size) == ("PNG", (1024, 432))
    body = {"prompt": "beans", "aspect_ratio": "9:16", "output_format": "jpeg"}
    _, _, answer = call(fake_bedrock, invoke_path(SD35), body)
    assert answer["finish_reasons"] == [None]
    with Image.open(io.BytesIO(base64.b64decode(answer["images"][0]))) as im:
        assert im.format == "JPEG"
        assert im.size[0] < im.size[1]


def test_token_bucket_throttles_like_the_service(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.quotas = {"anthropic.claude-haiku-4-5-20251001-v1:0": 600}
    fake_bedrock.behaviour.burst_seconds = 30  # a bucket of 300 tokens
    # input + maxTokens is reserved up front; the unused part is given back after.
    small = converse_body(inferenceConfig={"maxTokens": 200})
    assert call(fake_bedrock, converse_path(HAIKU45), small)[0] == 200
    assert call(fake_bedrock, converse_path(HAIKU45), small)[0] == 200
    big = converse_body(inferenceConfig={"maxTokens": 400})
    status, code, answer = call(fake_bedrock, converse_path(HAIKU45), big)
    assert (status, code) == (429, "ThrottlingException")
    assert answer["message"] == "Too many tokens, please wait before trying again."


def test_control_plane_pages_inference_profiles(fake_bedrock: FakeBedrock) -> None:
    client = boto3.client("bedrock")
    pages = list(client.get_paginator("list_inference_profiles").paginate())
    assert len(pages) > 1
    ids = {p["inferenceProfileId"] for page in pages for p in page["inferenceProfileSummaries"]}
    assert HAIKU45 in ids
    models = client.list_foundation_models()["modelSummaries"]
    haiku = next(m for m in models if m["modelId"] == HAIKU45.removeprefix("us."))
    assert haiku["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]


def test_runs_as_a_subprocess(tmp_path: Path) -> None:
    with as_process({"faults": [{"kind": "throttle", "count": 1}]}, tmp_path) as url:
        fake = type("Remote", (), {"url": url})()
        first = call(fake, converse_path(HAIKU45), converse_body())  # type: ignore[arg-type]
        second = call(fake, converse_path(HAIKU45), converse_body())  # type: ignore[arg-type]
        assert (first[0], first[1]) == (429, "ThrottlingException")
        assert second[0] == 200


def test_the_gate_holds_answers_until_the_release_file_exists(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """After ``hold_after`` answers, requests wait for the test, not for the clock."""
    release = tmp_path / "release"
    fake_bedrock.behaviour.hold_after = 1
    fake_bedrock.behaviour.release = str(release)
    assert call(fake_bedrock, converse_path(HAIKU45), converse_body())[0] == 200
    with ThreadPoolExecutor(2) as pool:
        held = [pool.submit(call, fake_bedrock, converse_path(HAIKU45), converse_body())
                for _ in range(2)]  # fmt: skip
        while fake_bedrock.state.held < 2:  # both reached the gate: neither was answered
            assert not any(f.done() for f in held)
            threading.Event().wait(0.01)
        assert not any(f.done() for f in held)
        release.touch()
        assert [f.result(timeout=30)[0] for f in held] == [200, 200]
    assert len(fake_bedrock.calls("converse")) == 3
