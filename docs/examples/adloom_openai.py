"""adloom-openai: an OpenAI-compatible provider, as a plugin (docs/providers.md).

Copy through Chat Completions (``POST {base}/chat/completions``), master images through
``POST {base}/images/generations``. The base URL is ``$OPENAI_BASE_URL`` (default
``https://api.openai.com/v1``), the key ``$OPENAI_API_KEY``; any service speaking this
API (a local server, a gateway) works the same. Everything provider-neutral (prompts,
schema, estimates, reading and checking the answer) is adloom's shared code; this
module only says how this API carries it. tests/test_provider_plugins.py installs it
as a plugin and runs it against a fake of the API.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from adloom.aspects import nearest_aspect, parse_ratio
from adloom.errors import CredentialsError, ModelAccessError
from adloom.model import CopyJob, ImageJob, Usage
from adloom.providers import ProviderConfig, register
from adloom.providers.base import Provider, Request, RequestFailed, Response, TransientError
from adloom.providers.copywriting import (
    TOOL_NAME,
    copy_prompt,
    estimate_tokens,
    json_in_text,
    output_tokens,
    prompt_fields,
    validated,
)
from adloom.providers.prompts import Prompts, image_prompts
from adloom.registry import worst_text_cost

SIZES = {"1:1": "1024x1024", "3:2": "1536x1024", "2:3": "1024x1536"}  # gpt-image-1's


class OpenAIProvider(Provider):
    name = "openai"

    def __init__(self, config: ProviderConfig) -> None:
        self.registry = config.registry
        self.prompts = Prompts(config.templates)
        self.config = config
        self.base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")

    def check(self) -> None:
        if not os.environ.get("OPENAI_API_KEY"):
            raise CredentialsError("OPENAI_API_KEY is not set", hint="Export your API key.")

    # ------------------------------------------------------------ building (no I/O)

    def text_request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        info = self.registry.get(job.model, kind="text")
        asked = copy_prompt(job, feedback, info.structured_output, self.prompts)
        most = output_tokens(job.limits, info, self.config.max_tokens)
        body: dict[str, Any] = {
            "model": job.model,
            "messages": [
                {"role": "system", "content": asked.system},
                {"role": "user", "content": asked.user},
            ],
            "max_completion_tokens": most,
        }
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        if info.structured_output == "native":
            schema = {"name": "ad_copy", "schema": asked.schema, "strict": True}
            body["response_format"] = {"type": "json_schema", "json_schema": schema}
        elif info.structured_output == "tool":
            function = {"name": TOOL_NAME, "parameters": asked.schema, "strict": True}
            body["tools"] = [{"type": "function", "function": function}]
            body["tool_choice"] = {"type": "function", "function": {"name": TOOL_NAME}}
        tokens = estimate_tokens(asked.system + asked.user + json.dumps(asked.schema))
        cost = worst_text_cost(info, tokens, most)
        return Request("text", job.model, body, tokens, most, cost, label=job.label)

    def image_request(self, job: ImageJob) -> Request:
        info = self.registry.get(job.model, kind="image")
        prompt, _ = image_prompts(self.prompts, job, negation_in_prompt=True)
        size = SIZES[nearest_aspect(parse_ratio(job.aspect), list(SIZES))]
        quality = self.config.image_quality  # adloom's standard/premium: medium/high here
        body = {"model": job.model, "prompt": prompt, "size": size, "n": 1,
                "quality": "high" if quality == "premium" else "medium"}  # fmt: skip
        width, height = map(int, size.split("x"))
        cost = info.image_cost_at(width, height, quality)
        return Request("image", job.model, body, max_cost_usd=cost, label=job.label)

    # ------------------------------------------------------------ sending

    def send(self, request: Request) -> Response:
        path = "chat/completions" if request.kind == "text" else "images/generations"
        started = time.monotonic()
        answer = self._post(path, request)
        latency_ms = int((time.monotonic() - started) * 1000)
        try:
            if request.kind == "image":
                image = base64.b64decode(answer["data"][0]["b64_json"], validate=True)
                usage = Usage(cost_usd=request.max_cost_usd)  # billed per image
                return Response("ok", image=image, usage=usage, latency_ms=latency_ms)
            return self._copy(request, answer, latency_ms)
        except (ValueError, KeyError, IndexError, TypeError) as exc:  # an answer of another shape
            error = f"the answer could not be read ({type(exc).__name__}: {exc})"
            return Response("failed", latency_ms=latency_ms, error=error)

    def _copy(self, request: Request, answer: Mapping[str, Any], latency_ms: int) -> Response:
        choice, raw = answer["choices"][0], answer.get("usage", {})
        tokens_in, tokens_out = int(raw["prompt_tokens"]), int(raw["completion_tokens"])
        cost = self.registry.get(request.model).text_cost(tokens_in, tokens_out)
        usage = Usage(tokens_in, tokens_out, cost)
        if choice["finish_reason"] == "length":
            error = "the answer was cut off at the token limit: keep it short"
            return Response("failed", usage=usage, latency_ms=latency_ms, error=error)
        try:
            if "tools" in request.body:
                calls = choice["message"]["tool_calls"]
                found = json.loads(calls[0]["function"]["arguments"])
            else:
                found = json_in_text(choice["message"].get("content") or "")
            output = validated(found, self._fields(request.body))
        except (ValueError, KeyError, IndexError) as exc:  # said to the model, which tries again
            return Response("failed", usage=usage, latency_ms=latency_ms, error=str(exc))
        return Response("ok", output=output, usage=usage, latency_ms=latency_ms)

    @staticmethod
    def _fields(body: Mapping[str, Any]) -> tuple[str, ...]:
        if "response_format" in body:
            return tuple(body["response_format"]["json_schema"]["schema"]["required"])
        if "tools" in body:
            return tuple(body["tools"][0]["function"]["parameters"]["required"])
        return prompt_fields(body["messages"][1]["content"])

    def _post(self, path: str, request: Request) -> Any:
        call = urllib.request.Request(  # noqa: S310 - the user's own https base URL
            f"{self.base}/{path}",
            data=json.dumps(request.body).encode(),
            headers={
                "Authorization": f"Bearer {os.environ.get('OPENAI_API_KEY', '')}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(call, timeout=120) as answer:  # noqa: S310 - as above
                return json.load(answer)
        except urllib.error.HTTPError as exc:
            raise _error(exc, request.model) from exc
        except (urllib.error.URLError, TimeoutError) as exc:
            raise TransientError(f"{request.model}: no answer ({exc})") from exc


def _error(exc: urllib.error.HTTPError, model: str) -> Exception:
    """Retry later, fail this request, or stop the run (docs/providers.md)."""
    try:
        detail = json.loads(exc.read())["error"]
    except (ValueError, KeyError, TypeError):
        detail = {}
    message = f"{model}: {detail.get('message') or exc.reason}"
    if detail.get("code") == "insufficient_quota":  # a 429 that waiting does not cure
        return CredentialsError(message, hint="Check the account's billing and limits.")
    if exc.code == 429 or exc.code >= 500:
        return TransientError(message, throttled=exc.code == 429)
    if exc.code in (401, 403):
        return CredentialsError(message, hint="Check OPENAI_API_KEY.")
    if exc.code == 404:
        return ModelAccessError(message, hint="`adloom models` lists the ids; check the name.")
    filtered = detail.get("code") == "content_policy_violation"
    return RequestFailed(message, status="filtered" if filtered else "failed")


@register("openai", models=Path(__file__).with_name("openai_models.json"))
def make(config: ProviderConfig) -> Provider:
    return OpenAIProvider(config)
