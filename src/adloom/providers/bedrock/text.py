"""Copy through Converse: the request body, and the structured answer read back.

What is asked for (schema, prompts, token estimates) and how an answer is validated
are provider-neutral (``providers/copywriting``); here is how Converse carries them.
Structured output is always asked for, in the strongest way the model supports
(the registry's ``structured_output``):

- ``native``: ``outputConfig.textFormat`` with a JSON schema; the answer is JSON text.
- ``tool``: one tool whose input schema is the copy, forced with a named
  ``toolChoice``; the answer is the ``toolUse`` block's input.
- ``prompt``: the schema is written into the prompt and the JSON is read out of the
  text (for models that cannot be forced to call a tool).

An answer that is not valid copy comes back as a ``failed`` Response saying what
was wrong, which the copy loop in ``generate`` sends back to the model (bounded).

Copy requests for batch jobs (``TextOptions.batch``) are built for a Converse-type
job: batch rejects ``toolConfig`` (a 400 for the record), so ``tool`` becomes
``prompt``; ``native`` becomes ``prompt`` too unless ``batch.structured_output`` is
``native`` (AWS's pages disagree on whether batch records take ``outputConfig``);
nothing only on-demand inference knows is sent (``serviceTier``, ``performanceConfig``)
and no ``cachePoint`` (prompt caching is not documented for batch jobs, which are
priced at their own discount). Such a body is a valid on-demand Converse body too:
a record the job could not answer is sent on-demand as it is.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from adloom.model import CopyJob, Usage
from adloom.providers import judging
from adloom.providers.base import Request, Response, ResponseStatus
from adloom.providers.copywriting import (
    TOOL_NAME,
    Mode,
    copy_prompt,
    estimate_tokens,
    json_in_text,
    output_tokens,
    prompt_fields,
    validated,
)
from adloom.providers.prompts import Prompts
from adloom.registry import ModelInfo

# Anthropic documents a tool-use system prompt of a few hundred tokens that is added
# (and billed) whenever tools are sent; reserve it in the estimate.
_TOOL_OVERHEAD = 350


@dataclass(frozen=True)
class TextOptions:
    temperature: float | None = None
    max_tokens: int | None = None
    latency: str | None = None  # "standard" | "optimized"
    guardrail: tuple[str, str] | None = None  # (identifier, version)
    tier: str = "default"  # Converse serviceTier: default | flex | priority
    batch: bool = False  # copy requests go in batch jobs (module docstring)
    batch_structured: str = "prompt"  # batch.structured_output: prompt | native


@dataclass(frozen=True)
class Built:
    body: dict[str, Any]
    input_tokens: int
    max_tokens: int
    cache_tokens: int = 0  # of input_tokens, the estimated prefix before the cachePoint


def build(
    job: CopyJob,
    feedback: Sequence[str],
    info: ModelInfo,
    prompts: Prompts,
    options: TextOptions,
) -> Built:
    """The Converse body (everything but ``modelId``) for ``job``."""
    mode: Mode = info.structured_output
    if options.batch and (mode == "tool" or options.batch_structured != "native"):
        mode = "prompt"
    asked = copy_prompt(job, feedback, mode, prompts)
    system, user = asked.system, asked.user
    most = output_tokens(job.limits, info, options.max_tokens)
    inference: dict[str, Any] = {"maxTokens": most}
    if options.temperature is not None:
        inference["temperature"] = options.temperature
    cached = 0 if options.batch else _cacheable(system, info)
    body: dict[str, Any] = {
        # The system prompt is what every request of a campaign (in one language) shares:
        # it comes first, and a cache point after it lets the service reuse it.
        "system": [{"text": system}, *([{"cachePoint": {"type": "default"}}] if cached else [])],
        "messages": [{"role": "user", "content": [{"text": user}]}],
        "inferenceConfig": inference,
    }
    overhead = _structured(body, asked.schema, mode, _COPY_TOOL)
    if options.latency == "optimized" and not options.batch:
        body["performanceConfig"] = {"latency": "optimized"}
    # Absent means default: older journals' keys still hit.
    if options.tier != "default" and not options.batch:
        body["serviceTier"] = {"type": options.tier}
    if options.guardrail:
        body["guardrailConfig"] = {
            "guardrailIdentifier": options.guardrail[0],
            "guardrailVersion": options.guardrail[1],
            "trace": "enabled",  # so an intervention says why
        }
    return Built(body, estimate_tokens(system + user) + overhead, most, cached)


@dataclass(frozen=True)
class _Tool:
    """How a schema is named: as a forced tool, and as a native JSON schema."""

    name: str
    description: str
    schema_name: str
    schema_description: str


_COPY_TOOL = _Tool(TOOL_NAME, "Deliver the copy for one ad.", "ad_copy", "Copy for one ad")
_JUDGE_TOOL = _Tool(
    judging.JUDGE_TOOL, "Deliver the rating of one ad.", judging.JUDGE_TOOL, "Rating of one ad"
)
# Output tokens a judge's answer takes at most: six one-sentence reasons, the scores
# and a few policy issues, in JSON.
JUDGE_MAX_TOKENS = 1000
# Anthropic's documented estimate for an image's input tokens: width * height / 750,
# for images within its 1.15 megapixel budget (larger ones are scaled down to it).
_IMAGE_TOKEN_PIXELS = 750
_IMAGE_MAX_TOKENS = 1600


def build_judge(job: judging.JudgeJob, info: ModelInfo, options: TextOptions) -> Built:
    """The Converse body that rates one ad: the rubric, the copy and, for an image
    placement, the composed creative as an image block (its bytes base64 in the body,
    so the body stays JSON for the journal key; ``wire`` decodes them for boto3)."""
    system, user = judging.judge_prompts(job)
    schema = judging.judge_schema()
    if info.structured_output == "prompt":
        user += "\nAnswer with JSON only, in this schema:\n" + json.dumps(schema)
    content: list[dict[str, Any]] = [{"text": user}]
    size = None
    if job.image is not None:
        data, fmt, size = within_limits(job.image.read_bytes())
        source = {"bytes": base64.b64encode(data).decode("ascii")}
        content.insert(0, {"image": {"format": fmt, "source": source}})
    body: dict[str, Any] = {
        "system": [{"text": system}],
        "messages": [{"role": "user", "content": content}],
        "inferenceConfig": {"maxTokens": JUDGE_MAX_TOKENS, "temperature": 0},
    }
    _structured(body, schema, info.structured_output, _JUDGE_TOOL)
    if options.tier != "default":
        body["serviceTier"] = {"type": options.tier}
    return Built(body, judge_tokens(job, info, size), JUDGE_MAX_TOKENS)


# What Converse takes in an image block (botocore's bedrock-runtime service model, the
# documentation of Message.content: "each image's size, height, and width must be no
# more than 3.75 MB, 8000 px, and 8000 px"), the MB read as 10^6 bytes, the smaller
# reading. A creative outside them is re-encoded (JPEG) and, if need be, scaled down.
IMAGE_MAX_BYTES = 3_750_000
IMAGE_MAX_SIDE = 8000
_IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}


def within_limits(data: bytes) -> tuple[bytes, str, tuple[int, int]]:
    """(bytes, Converse format, size) of an image a Converse image block takes: ``data``
    as it is when it fits, else re-encoded as JPEG at falling quality, and scaled down
    (to 8,000 px a side, then by quarters) until it does."""
    with Image.open(io.BytesIO(data)) as img:
        fmt = _IMAGE_FORMATS.get(img.format or "")
        if fmt and len(data) <= IMAGE_MAX_BYTES and max(img.size) <= IMAGE_MAX_SIDE:
            return data, fmt, img.size
        picture = img.convert("RGBA")
    flat = Image.new("RGB", picture.size, "white")  # JPEG has no alpha: onto white
    flat.paste(picture, mask=picture.getchannel("A"))
    scale = min(1.0, IMAGE_MAX_SIDE / max(flat.size))
    while True:
        size = (max(1, int(flat.width * scale)), max(1, int(flat.height * scale)))
        shown = flat if size == flat.size else flat.resize(size, Image.Resampling.LANCZOS)
        for quality in (90, 80, 70, 60):
            out = io.BytesIO()
            shown.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= IMAGE_MAX_BYTES:
                return out.getvalue(), "jpeg", size
        scale *= 0.75


def judge_tokens(job: judging.JudgeJob, info: ModelInfo, image: tuple[int, int] | None) -> int:
    """A judge request's input tokens (estimate): its prompts and schema, the tool
    overhead where a tool carries the schema, and the image of ``image`` px if any."""
    system, user = judging.judge_prompts(job)
    schema = estimate_tokens(json.dumps(judging.judge_schema(), ensure_ascii=False))
    tool = _TOOL_OVERHEAD if info.structured_output == "tool" else 0
    pixels = min(_IMAGE_MAX_TOKENS, image[0] * image[1] // _IMAGE_TOKEN_PIXELS + 1) if image else 0
    return estimate_tokens(system + user) + schema + tool + pixels


def wire(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` as boto3 takes it: image blocks' bytes as bytes (boto3 base64-encodes
    them again on the wire)."""
    out = dict(body)
    out["messages"] = [
        {**m, "content": [_wire_block(b) for b in m["content"]]} for m in body["messages"]
    ]
    return out


def _wire_block(block: Mapping[str, Any]) -> Mapping[str, Any]:
    if "image" not in block:
        return block
    image = block["image"]
    return {"image": {**image, "source": {"bytes": base64.b64decode(image["source"]["bytes"])}}}


def is_judge(body: Mapping[str, Any]) -> bool:
    mode = mode_of(body)
    if mode == "native":
        return bool(
            body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["name"]
            == judging.JUDGE_TOOL
        )
    if mode == "tool":
        return bool(body["toolConfig"]["toolChoice"]["tool"]["name"] == judging.JUDGE_TOOL)
    return "Brand policies:" in str(body["messages"][0]["content"][-1].get("text", ""))


def _structured(body: dict[str, Any], schema: Mapping[str, Any], mode: Mode, tool: _Tool) -> int:
    """Ask for the answer in ``schema`` the way ``mode`` says; the tokens that adds."""
    schema_text = json.dumps(schema, ensure_ascii=False)
    if mode == "native":
        body["outputConfig"] = {
            "textFormat": {
                "type": "json_schema",
                "structure": {
                    "jsonSchema": {
                        "schema": schema_text,
                        "name": tool.schema_name,
                        "description": tool.schema_description,
                    }
                },
            }
        }
        return estimate_tokens(schema_text)
    if mode == "tool":
        body["toolConfig"] = {
            "tools": [
                {
                    "toolSpec": {
                        "name": tool.name,
                        "description": tool.description,
                        "inputSchema": {"json": schema},
                    }
                }
            ],
            "toolChoice": {"tool": {"name": tool.name}},
        }
        return estimate_tokens(schema_text) + _TOOL_OVERHEAD
    return 0


def _cacheable(prefix: str, info: ModelInfo) -> int:
    """The prefix's estimated tokens when a cache point after it can take effect, else 0.

    The service caches nothing below the model's minimum, so a cache point there would
    only change the request. The estimate errs high (``estimate_tokens``): near the
    minimum a cache point may be sent that the service then ignores, which costs nothing.
    """
    tokens = estimate_tokens(prefix)
    return tokens if info.prompt_caching and tokens >= info.min_cache_tokens else 0


def mode_of(body: Mapping[str, Any]) -> Mode:
    if "outputConfig" in body:
        return "native"
    return "tool" if "toolConfig" in body else "prompt"


def required_fields(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields a request asked for, read from the schema it sent (in ``prompt`` mode,
    from its prompt: ``copywriting.prompt_fields``)."""
    mode = mode_of(body)
    if mode == "native":
        schema = json.loads(body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"])
    elif mode == "tool":
        schema = body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    else:
        return prompt_fields("".join(b.get("text", "") for b in body["messages"][0]["content"]))
    return tuple(schema["required"])


def _answer(content: Sequence[Mapping[str, Any]], mode: Mode, tool: str = TOOL_NAME) -> Any:
    if mode == "tool":
        for block in content:
            use = block.get("toolUse")
            if use and use.get("name") == tool:
                return use.get("input")
        raise ValueError(f"the answer did not call the {tool} tool")
    return json_in_text("".join(str(block.get("text", "")) for block in content))


_POLICIES = {
    "topicPolicy": "denied topic",
    "contentPolicy": "content filter",
    "wordPolicy": "blocked word",
    "sensitiveInformationPolicy": "sensitive information",
    "contextualGroundingPolicy": "grounding check",
}


def _guardrail_reason(data: Mapping[str, Any], content: Sequence[Mapping[str, Any]]) -> str:
    """Why a guardrail intervened: what its trace says was found, else its message."""
    trace = data.get("trace", {}).get("guardrail", {})
    assessments = [*trace.get("inputAssessment", {}).values()]
    for outputs in trace.get("outputAssessments", {}).values():
        assessments += outputs
    found: list[str] = []
    for assessment in assessments:
        for policy, label in _POLICIES.items():
            for items in assessment.get(policy, {}).values():
                for item in items if isinstance(items, list) else []:
                    if item.get("action") not in (None, "NONE"):
                        what = item.get("name") or item.get("match") or item.get("type") or ""
                        found.append(f'{label} "{what}"' if what else label)
    if not found and trace.get("actionReason"):
        found.append(str(trace["actionReason"]))
    if not found:
        text = " ".join(str(b.get("text", "")) for b in content).strip()
        found.append(text or "no reason given")
    return "blocked by the guardrail: " + "; ".join(dict.fromkeys(found))


# Stop reasons that end an answer without usable copy: (status, what went wrong).
_STOPS: dict[str, tuple[ResponseStatus, str]] = {
    "content_filtered": ("filtered", "the answer was blocked by the model's content filter"),
    "max_tokens": (
        "failed",
        "the answer was cut off at the {max_tokens}-token limit: keep it short",
    ),
    "malformed_model_output": ("failed", "the answer was malformed (malformed_model_output)"),
    "malformed_tool_use": ("failed", "the answer was malformed (malformed_tool_use)"),
    "model_context_window_exceeded": (
        "failed",
        "the prompt is longer than the model's context window",
    ),
}


def answer(
    data: Mapping[str, Any], request: Request, info: ModelInfo, *, batch: bool = False
) -> Response:
    """The Converse answer to ``request`` (``data``: the response body, on-demand or a
    batch job's ``modelOutput``) as a Response, validated against what it asked for;
    ``batch``: priced at the model's batch prices."""
    return parse(
        data,
        mode=mode_of(request.body),
        fields=required_fields(request.body),
        info=info,
        max_tokens=request.max_tokens,
        judge=is_judge(request.body),
        batch=batch,
    )


def parse(
    data: Mapping[str, Any],
    *,
    mode: Mode,
    fields: Sequence[str],
    info: ModelInfo,
    max_tokens: int,
    judge: bool = False,
    batch: bool = False,
) -> Response:
    """A Converse answer as a Response: ``ok`` with the copy, or why not."""
    served = str(data.get("performanceConfig", {}).get("latency", "standard"))
    tier = str(data.get("serviceTier", {}).get("type", "default"))
    usage = _usage(
        data.get("usage", {}), info, optimized=served == "optimized", tier=tier, batch=batch
    )
    stop = str(data.get("stopReason", ""))
    content = data.get("output", {}).get("message", {}).get("content", [])
    status: ResponseStatus = "ok"
    error, output = "", {}
    if stop == "guardrail_intervened":
        status, error = "blocked", _guardrail_reason(data, content)
    elif stop in _STOPS:
        status, error = _STOPS[stop][0], _STOPS[stop][1].format(max_tokens=max_tokens)
    else:
        try:
            if judge:
                output = judging.validated(_answer(content, mode, judging.JUDGE_TOOL))
            else:
                output = validated(_answer(content, mode), fields)
        except ValueError as exc:
            status, error = "failed", str(exc)
    return Response(
        status,
        output=output,
        usage=usage,
        latency_ms=int(data.get("metrics", {}).get("latencyMs", 0)),
        error=error,
        meta={"stop_reason": stop, "latency": served, "tier": tier},
    )


def _usage(
    raw: Mapping[str, Any], info: ModelInfo, *, optimized: bool, tier: str, batch: bool
) -> Usage:
    """Tokens and cost as served; the saving: the cached tokens at the input price, less
    what they cost as cache reads and writes."""
    tokens_in, tokens_out = int(raw.get("inputTokens", 0)), int(raw.get("outputTokens", 0))
    read, write = int(raw.get("cacheReadInputTokens", 0)), int(raw.get("cacheWriteInputTokens", 0))
    cost = info.text_cost(
        tokens_in,
        tokens_out,
        optimized=optimized,
        tier=tier,
        batch=batch,
        cache_read=read,
        cache_write=write,
    )
    uncached = info.text_cost(
        tokens_in + read + write, tokens_out, optimized=optimized, tier=tier, batch=batch
    )
    return Usage(tokens_in, tokens_out, cost, read, write, uncached - cost)
