"""Copy through Converse: build the request body, and read the structured answer.

Structured output is always asked for, in the strongest way the model supports
(the registry's ``structured_output``):

- ``native``: ``outputConfig.textFormat`` with a JSON schema; the answer is JSON text.
- ``tool``: one tool whose input schema is the copy, forced with a named
  ``toolChoice``; the answer is the ``toolUse`` block's input.
- ``prompt``: the schema is written into the prompt and the JSON is read out of the
  text (for models that cannot be forced to call a tool).

Each way the answer is validated the same: an object with the asked-for fields as
non-empty strings (a search ad's headlines and descriptions: non-empty lists of
them). Anything else comes back as a ``failed`` Response saying what
was wrong, which the copy loop in ``generate`` sends back to the model (bounded).
Lengths are checked there too (``lint.check_copy``), against the platform's rule.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adloom import rsa
from adloom.languages import LANGUAGES, Language
from adloom.model import CopyJob, CopyLimits, Usage
from adloom.providers.base import Response, ResponseStatus
from adloom.providers.bedrock.prompts import Prompts
from adloom.registry import ModelInfo

Mode = Literal["native", "tool", "prompt"]
TOOL_NAME = "write_ad_copy"
FIELDS = ("headline", "body", "cta")
SEARCH_FIELDS = ("headlines", "descriptions", "path1", "path2")  # a responsive search ad

# Output tokens per character of copy, with room for JSON keys and the odd retry in
# wording: ~1 token per 3 Latin characters, ~1 per CJK character, so 4/3 per char is
# generous for both. The overhead covers the JSON/tool-call wrapping.
_TOKENS_PER_CHAR = 4 / 3
_OUTPUT_OVERHEAD = 200
# Anthropic documents a tool-use system prompt of a few hundred tokens that is added
# (and billed) whenever tools are sent; reserve it in the estimate.
_TOOL_OVERHEAD = 350
_DESCRIPTIONS = {
    "headline": "The headline",
    "body": "The body text (primary text / description)",
    "cta": "The call-to-action button label",
}


@dataclass(frozen=True)
class TextOptions:
    temperature: float | None = None
    max_tokens: int | None = None
    latency: str | None = None  # "standard" | "optimized"
    guardrail: tuple[str, str] | None = None  # (identifier, version)
    tier: str = "default"  # Converse serviceTier: default | flex | priority


@dataclass(frozen=True)
class Built:
    body: dict[str, Any]
    input_tokens: int
    max_tokens: int
    cache_tokens: int = 0  # of input_tokens, the estimated prefix before the cachePoint


def estimate_tokens(text: str) -> int:
    """A conservative token estimate: ~3.5 Latin characters per token, 1 per CJK character."""
    latin = sum(1 for ch in text if ch < "\x80")
    return math.ceil(latin / 3.5 + (len(text) - latin))


def counting_rule(limits: CopyLimits) -> str:
    if limits.width_rule == "double_width":
        return (
            "counted in width units as Google Ads counts them: full-width characters "
            "(Japanese, Chinese, Korean) count 2, all others count 1"
        )
    return "counted in characters; an emoji or an accented letter counts as 1"


def copy_schema(fields: Sequence[str], limits: CopyLimits, *, bounded: bool) -> dict[str, Any]:
    """The JSON schema of the answer.

    ``bounded`` puts each limit in ``maxLength``. Grammar-constrained decoding (native
    structured output) rejects string-length keywords, so there the limit is only
    stated in the description. ``maxLength`` counts code points: for double-width
    platforms it is an upper bound (a width is never less than the character count),
    and the exact rule is in the description and checked after the answer.
    """
    unit = "width units" if limits.width_rule == "double_width" else "characters"
    properties: dict[str, Any] = {}
    for name in fields:
        limit = int(getattr(limits, f"{name}_max"))
        prop: dict[str, Any] = {
            "type": "string",
            "description": f"{_DESCRIPTIONS[name]}, at most {limit} {unit}.",
        }
        if bounded:
            prop["maxLength"] = limit
        properties[name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": list(fields),
        "additionalProperties": False,
    }


def search_schema(limits: CopyLimits, wanted: tuple[int, int], *, bounded: bool) -> dict[str, Any]:
    """The answer's schema for a responsive search ad: two lists and two paths.

    ``bounded`` adds ``maxLength`` to every text and the exact item count as
    ``minItems``/``maxItems``; native structured output rejects those keywords, so
    there, as for ``copy_schema``, the limits are in the descriptions and checked after.
    """
    unit = "width units" if limits.width_rule == "double_width" else "characters"

    def pool(what: str, count: int, limit: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "type": "string",
            "description": f"One {what}, at most {limit} {unit}.",
        }
        prop: dict[str, Any] = {
            "type": "array",
            "items": item,
            "description": f"Exactly {count} {what}s, each different from every other one.",
        }
        if bounded:
            item["maxLength"] = limit
            prop["minItems"] = prop["maxItems"] = count
        return prop

    def path(number: int) -> dict[str, Any]:
        prop: dict[str, Any] = {
            "type": "string",
            "description": f"Display URL path {number}, at most {limits.path_max} {unit}: one or"
            " two words joined by a hyphen, no spaces or slashes.",
        }
        if bounded:
            prop["maxLength"] = limits.path_max
        return prop

    return {
        "type": "object",
        "properties": {
            "headlines": pool("headline", wanted[0], limits.headline_max),
            "descriptions": pool("description", wanted[1], limits.body_max),
            "path1": path(1),
            "path2": path(2),
        },
        "required": list(SEARCH_FIELDS),
        "additionalProperties": False,
    }


def _search_context(job: CopyJob) -> dict[str, Any]:
    """What the search-ad prompt needs beyond the brief: counts and the supplied copy."""
    headlines, descriptions = rsa.supplied(job.brief)
    wanted = rsa.to_write(job)
    return {
        "headlines": wanted[0],
        "descriptions": wanted[1],
        "path_max": job.limits.path_max,
        "supplied_headlines": headlines,
        "supplied_descriptions": descriptions,
    }


def _angle(job: CopyJob) -> str:
    """What this variant leads with, so variants of one ad differ by design."""
    angles = [
        "the core message",
        *(f'the benefit "{b}"' for b in job.brief.benefits),
        "what it changes for this audience",
    ]
    return angles[(job.variant - 1) % len(angles)]


def default_max_tokens(limits: CopyLimits, info: ModelInfo) -> int:
    chars = (
        limits.headline_max * limits.headline_count
        + limits.body_max * limits.description_count
        + limits.cta_max
        + 2 * limits.path_max
    )
    return min(info.max_output_tokens, math.ceil(chars * _TOKENS_PER_CHAR) + _OUTPUT_OVERHEAD)


def build(
    job: CopyJob,
    feedback: Sequence[str],
    info: ModelInfo,
    prompts: Prompts,
    options: TextOptions,
) -> Built:
    """The Converse body (everything but ``modelId``) for ``job``."""
    mode: Mode = info.structured_output
    supplied = job.brief.headline.strip()
    search = _search_context(job) if job.limits.responsive else None
    if search is not None:
        wanted = (search["headlines"], search["descriptions"])
        schema = search_schema(job.limits, wanted, bounded=mode != "native")
    else:
        fields = FIELDS[1:] if supplied else FIELDS
        schema = copy_schema(fields, job.limits, bounded=mode != "native")
    language = LANGUAGES.get(job.language, Language(job.language, job.language))
    context = {
        "campaign": job.campaign,
        "brief": job.brief,
        "audience": job.audience,
        "brand": job.brand,
        "language": job.language,
        "language_name": language.english,
        "language_native": language.native,
        "variant": job.variant,
        "angle": _angle(job),
        "limits": job.limits,
        "counting": counting_rule(job.limits),
        "supplied_headline": supplied,
        "disclaimer": job.brief.disclaimer or job.brand.disclaimer,
        "feedback": list(feedback),
        "mode": mode,
        "tool_name": TOOL_NAME,
        "schema_json": json.dumps(schema, ensure_ascii=False, indent=2),
        "search": search,
    }
    system = prompts.render("copy_system.j2", context)
    user = prompts.render("copy_rsa_user.j2" if search else "copy_user.j2", context)
    max_tokens = min(
        options.max_tokens or default_max_tokens(job.limits, info), info.max_output_tokens
    )
    inference: dict[str, Any] = {"maxTokens": max_tokens}
    if options.temperature is not None:
        inference["temperature"] = options.temperature
    cached = _cacheable(system, info)
    body: dict[str, Any] = {
        # The system prompt is what every request of a campaign (in one language) shares:
        # it comes first, and a cache point after it lets the service reuse it.
        "system": [{"text": system}, *([{"cachePoint": {"type": "default"}}] if cached else [])],
        "messages": [{"role": "user", "content": [{"text": user}]}],
        "inferenceConfig": inference,
    }
    overhead = _structured(body, schema, mode)
    if options.latency == "optimized":
        body["performanceConfig"] = {"latency": "optimized"}
    if options.tier != "default":  # absent means default: older journals' keys still hit
        body["serviceTier"] = {"type": options.tier}
    if options.guardrail:
        body["guardrailConfig"] = {
            "guardrailIdentifier": options.guardrail[0],
            "guardrailVersion": options.guardrail[1],
            "trace": "enabled",  # so an intervention says why
        }
    return Built(body, estimate_tokens(system + user) + overhead, max_tokens, cached)


def _structured(body: dict[str, Any], schema: Mapping[str, Any], mode: Mode) -> int:
    """Ask for the answer in ``schema`` the way ``mode`` says; the tokens that adds."""
    schema_text = json.dumps(schema, ensure_ascii=False)
    if mode == "native":
        body["outputConfig"] = {
            "textFormat": {
                "type": "json_schema",
                "structure": {
                    "jsonSchema": {
                        "schema": schema_text,
                        "name": "ad_copy",
                        "description": "Copy for one ad",
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
                        "name": TOOL_NAME,
                        "description": "Deliver the copy for one ad.",
                        "inputSchema": {"json": schema},
                    }
                }
            ],
            "toolChoice": {"tool": {"name": TOOL_NAME}},
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
    """The fields a request asked for, read from the schema it sent.

    In ``prompt`` mode the schema is only prose in the prompt: body and cta are
    required, a headline is taken when given (a missing one is caught by the copy
    checks in ``generate``, which ask again); for a search ad, whose schema names its
    ``"headlines"``, the two lists (missing paths are only an empty display path).
    """
    mode = mode_of(body)
    if mode == "native":
        schema = json.loads(body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"])
    elif mode == "tool":
        schema = body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    else:
        prompt = "".join(block.get("text", "") for block in body["messages"][0]["content"])
        return SEARCH_FIELDS[:2] if '"headlines"' in prompt else FIELDS[1:]
    return tuple(schema["required"])


_FENCED = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def _json_in_text(text: str) -> Any:
    """The JSON object in a model's text: bare, in a ``json`` fence, or amid prose."""
    text = text.strip()
    candidates = [text]
    candidates += _FENCED.findall(text)
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise ValueError("the answer was not a JSON object")


def _answer(content: Sequence[Mapping[str, Any]], mode: Mode) -> Any:
    if mode == "tool":
        for block in content:
            use = block.get("toolUse")
            if use and use.get("name") == TOOL_NAME:
                return use.get("input")
        raise ValueError(f"the answer did not call the {TOOL_NAME} tool")
    text = "".join(str(block.get("text", "")) for block in content)
    if not text.strip():
        raise ValueError("the answer was empty")
    return _json_in_text(text)


def _validated(answer: Any, fields: Sequence[str]) -> dict[str, Any]:
    if not isinstance(answer, Mapping):
        raise ValueError("the answer was not a JSON object")
    if "headlines" in fields:
        return _validated_search(answer)
    missing = [f for f in fields if not isinstance(answer.get(f), str) or not answer[f].strip()]
    if missing:
        raise ValueError(
            f"the answer has no {' or '.join(missing)}: give every field "
            f"({', '.join(fields)}) as a non-empty string"
        )
    out = {f: str(answer[f]).strip() for f in fields}
    headline = answer.get("headline")
    # Absent when the brief supplies the headline: generate fills that one in.
    out.setdefault("headline", headline.strip() if isinstance(headline, str) else "")
    return out


def _validated_search(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A search ad's answer: two non-empty lists of strings; paths may be left empty
    (Google shows the bare domain), and their length is checked with the rest."""
    pools = SEARCH_FIELDS[:2]
    missing = [
        f
        for f in pools
        if not isinstance(answer.get(f), list)
        or not answer[f]
        or not all(isinstance(t, str) for t in answer[f])
    ]
    if missing:
        raise ValueError(
            f"the answer has no {' or '.join(missing)}: give {' and '.join(pools)} as"
            " non-empty lists of strings"
        )
    paths = {p: answer.get(p) for p in SEARCH_FIELDS[2:]}
    return {f: list(answer[f]) for f in pools} | {
        p: value.strip() if isinstance(value, str) else "" for p, value in paths.items()
    }


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


def parse(
    data: Mapping[str, Any],
    *,
    mode: Mode,
    fields: Sequence[str],
    info: ModelInfo,
    max_tokens: int,
) -> Response:
    """A Converse answer as a Response: ``ok`` with the copy, or why not."""
    served = str(data.get("performanceConfig", {}).get("latency", "standard"))
    tier = str(data.get("serviceTier", {}).get("type", "default"))
    usage = _usage(data.get("usage", {}), info, optimized=served == "optimized", tier=tier)
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
            output = _validated(_answer(content, mode), fields)
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


def _usage(raw: Mapping[str, Any], info: ModelInfo, *, optimized: bool, tier: str) -> Usage:
    """Tokens and cost as served; the saving: the cached tokens at the input price, less
    what they cost as cache reads and writes."""
    tokens_in, tokens_out = int(raw.get("inputTokens", 0)), int(raw.get("outputTokens", 0))
    read, write = int(raw.get("cacheReadInputTokens", 0)), int(raw.get("cacheWriteInputTokens", 0))
    cost = info.text_cost(
        tokens_in, tokens_out, optimized=optimized, tier=tier, cache_read=read, cache_write=write
    )
    uncached = info.text_cost(tokens_in + read + write, tokens_out, optimized=optimized, tier=tier)
    return Usage(tokens_in, tokens_out, cost, read, write, uncached - cost)
