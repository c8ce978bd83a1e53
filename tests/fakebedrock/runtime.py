"""The runtime API: ``converse`` and ``invoke`` (images), strict about what they accept.

Each handler validates the request the way the service and the model would, then
answers in the documented shape: copy built from the prompt (within the schema's
limits unless told otherwise), real PNG/JPEG bytes at the size the model makes.
Errors are raised as ``ServiceError`` and sent with the real error JSON shape.
"""

from __future__ import annotations

import base64
import io
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from PIL import Image, ImageDraw

from . import edits, judge, outpaint
from .behaviour import FAULTS, TOKENS_THROTTLE, Behaviour, State
from .billing import CacheUse, cache_prefixes, cache_use, served_tier, tokens
from .catalogue import ModelSpec, resolve
from .errors import ServiceError, invalid
from .shapes import validate_body, validation_message

__all__ = ["ServiceError", "converse", "invalid", "invoke"]


# ------------------------------------------------------------------ model checks

ON_DEMAND_REFUSED = (
    "Invocation of model ID {id} with on-demand throughput isn\u2019t supported. Retry your "
    "request with the ID or ARN of an inference profile that contains this model."
)


def model_for(state: State, model_id: str, kind: str) -> ModelSpec:
    """The model a request names, or the error the service gives for it."""
    spec, prefix = resolve(model_id)
    b = state.behaviour
    if spec is None or spec.id in b.not_in_region:
        raise invalid("The provided model identifier is invalid.")
    if spec.id in b.retired:
        raise ServiceError(
            404,
            "ResourceNotFoundException",
            "This model version has reached the end of its life. Please refer to the AWS "
            "documentation for more details.",
        )
    if spec.id in b.access_denied:
        raise ServiceError(
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        )
    if prefix is None and not spec.on_demand and not model_id.startswith("arn:"):
        raise invalid(ON_DEMAND_REFUSED.format(id=model_id))
    if prefix is not None and prefix not in spec.profiles:
        raise invalid("The provided model identifier is invalid.")
    if spec.kind != kind:
        wanted = "text or chat" if kind == "text" else "image generation"
        raise invalid(
            f"This action doesn't support the model that you provided. Try again with a "
            f"supported {wanted} model."
        )
    return spec


def apply_faults(state: State, op: str, model: str) -> None:
    fault = state.next_fault(op, model)
    if fault is None:
        return
    if fault.kind == "hang":
        # Longer than the client waits; the stop event ends it when the server stops.
        state.stopping.wait(fault.seconds)
        return
    status, code, message = FAULTS[fault.kind]
    raise ServiceError(status, code, message)


# ------------------------------------------------------------------ text


def width(text: str, double: bool) -> int:
    if not double:
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def fit(text: str, limit: int, double: bool) -> str:
    """Cut ``text`` to ``limit`` (at a space when there is one), as a careful writer would."""
    if width(text, double) <= limit:
        return text
    out = ""
    for ch in text:
        if width(out + ch, double) > limit:
            break
        out += ch
    if " " in out and not double:
        out = out.rsplit(" ", 1)[0]
    return out.rstrip(" ,.;:-")


def _line(text: str, label: str) -> str:
    found = re.search(rf"^{label}: (.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else ""


def _check_messages(body: Mapping[str, Any]) -> None:
    messages = body.get("messages") or []
    if not messages:
        raise invalid(
            "A conversation must start with a user message. Try again with a conversation "
            "that starts with a user message."
        )
    for i, message in enumerate(messages):
        expected = "user" if i % 2 == 0 else "assistant"
        if message["role"] != expected:
            raise invalid(
                "A conversation must alternate between user and assistant roles. Make sure "
                "the conversation alternates between user and assistant roles and try again."
            )
        for j, block in enumerate(message["content"]):
            if "text" in block and not block["text"].strip():
                raise invalid(
                    f"The text field in the ContentBlock object at messages.{i}.content.{j} "
                    "is blank. Add text to the text field, and try again."
                )
    for i, block in enumerate(body.get("system") or []):
        if "text" in block and not block["text"].strip():
            raise invalid(
                f"The text field in the SystemContentBlock object at system.{i} is blank."
            )


# Grammar-constrained decoding cannot express these; Anthropic's structured outputs
# reject them, and require every object to close its properties.
_UNSUPPORTED_KEYWORDS = (
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "pattern",
    "minItems",
    "maxItems",
)


def _check_native_schema(schema: Any, path: str = "schema") -> None:
    if not isinstance(schema, Mapping):
        raise invalid(f"outputConfig.textFormat: {path} must be a JSON object")
    for key in _UNSUPPORTED_KEYWORDS:
        if key in schema:
            raise invalid(
                f"outputConfig.textFormat.structure.jsonSchema: the keyword '{key}' at {path} "
                "is not supported for structured outputs."
            )
    if schema.get("type") == "object":
        if schema.get("additionalProperties") is not False:
            raise invalid(
                "outputConfig.textFormat.structure.jsonSchema: 'additionalProperties' must be "
                f"set to false for every object ({path})."
            )
        for name, sub in (schema.get("properties") or {}).items():
            _check_native_schema(sub, f"{path}.properties.{name}")


def _schema_of(body: Mapping[str, Any], spec: ModelSpec, user: str) -> tuple[Any, str]:
    """(the answer's JSON schema, how to answer: native/tool/prompt) for a converse body."""
    output = body.get("outputConfig", {}).get("textFormat")
    tool_config = body.get("toolConfig")
    if output is not None:
        if not spec.native_output:
            raise invalid(
                "This model doesn't support the outputConfig.textFormat field. Remove it and "
                "try again."
            )
        try:
            schema = json.loads(output["structure"]["jsonSchema"]["schema"])
        except (KeyError, TypeError, json.JSONDecodeError):
            raise invalid(
                "outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON."
            ) from None
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            raise invalid("outputConfig.textFormat: the schema must describe a JSON object.")
        _check_native_schema(schema)
        return schema, "native"
    if tool_config is not None:
        tools = {
            t["toolSpec"]["name"]: t["toolSpec"] for t in tool_config["tools"] if "toolSpec" in t
        }
        choice = tool_config.get("toolChoice", {})
        if "tool" in choice:
            if not spec.tool_choice:
                raise invalid(
                    "This model doesn't support the toolConfig.toolChoice.tool field. Remove "
                    "toolConfig.toolChoice.tool and try again."
                )
            name = choice["tool"]["name"]
            if name not in tools:
                raise invalid(f"The tool {name} in toolChoice is not defined in toolConfig.tools.")
            schema = tools[name]["inputSchema"].get("json")
            if not isinstance(schema, Mapping) or schema.get("type") != "object":
                raise invalid(f"The input schema of tool {name} must be a JSON object schema.")
            return {**schema, "x-tool": name}, "tool"
    start = user.find("\n{")
    if start >= 0:
        try:
            return json.loads(user[start:]), "prompt"
        except json.JSONDecodeError:
            pass
    return {"required": ["headline", "body", "cta"], "properties": {}}, "prompt"


def _limits(schema: Mapping[str, Any], name: str) -> tuple[int, bool]:
    prop = (schema.get("properties") or {}).get(name, {})
    description = str(prop.get("description", ""))
    found = re.search(r"at most (\d+)", description)
    limit = prop.get("maxLength") or (int(found.group(1)) if found else 60)
    return int(limit), "width units" in description


_COPY = {
    "en": {
        "headline": "{product}: made for your day",
        "body": "{message}. Variant {variant}: {product} does more of what matters, "
        "and asks less of you.",
        "cta": "{cta}",
    },
    "ja": {
        "headline": "{product}で、毎日をもっと軽やかに",
        "body": "{product}の魅力をお届けします。{message}。バリエーション{variant}。",
        "cta": "詳しく見る",
    },
}


_POOL_TEXT = {"headlines": "headline", "descriptions": "body"}  # whose wording a pool repeats


def _pool(prop: Mapping[str, Any], text: str) -> list[str]:
    """As many items as the schema asks (``maxItems``, else "Exactly N" in its
    description), each numbered so none repeats another, within the item limit."""
    count = prop.get("maxItems") or re.search(r"Exactly (\d+)", str(prop.get("description")))
    n = count if isinstance(count, int) else int(count.group(1)) if count else 3
    limit, double = _limits({"properties": {"item": prop["items"]}}, "item")
    return [fit(f"{i}. {text}", limit, double) for i in range(1, n + 1)]


def _spoil(text: str, words: list[str]) -> str:
    """``text`` with ``words``, three times over: far beyond any headline limit."""
    return " ".join([text, *words] * 3)


def _spoiled(behaviour: Behaviour, items: list[str]) -> list[str]:
    if not behaviour.spoil_words:
        return items
    keep = len(items) - behaviour.spoil_items if behaviour.spoil_items else 0
    return [*items[:keep], *(_spoil(t, behaviour.spoil_words) for t in items[keep:])]


def write_copy(
    state: State, schema: Mapping[str, Any], user: str, *, overlong_allowed: bool = True
) -> dict[str, str]:
    """Copy that fits the schema's limits (unless scripted to break them)."""
    language = "ja" if "Japanese" in _line(user, "Language") else "en"
    variant = re.search(r"variant (\d+)", user)
    values = {
        "product": _line(user, "Product") or "The product",
        "message": (_line(user, "Message") or "Made for you").rstrip(".。"),  # as a writer would
        "cta": re.sub(r" \(written in .*\)$", "", _line(user, "Call to action")) or "Learn more",
        "variant": variant.group(1) if variant else "1",
    }
    overlong = overlong_allowed and state.first("overlong", state.behaviour.overlong)
    out: dict[str, Any] = {}
    for name in schema.get("required", ["headline", "body", "cta"]):
        prop = (schema.get("properties") or {}).get(name, {})
        if prop.get("type") == "array":  # a search ad's pool: distinct numbered items
            out[name] = _pool(prop, _COPY[language][_POOL_TEXT[name]].format(**values))
            if name == "headlines":
                out[name] = _spoiled(state.behaviour, out[name])
            continue
        limit, double = _limits(schema, name)
        text = _COPY[language].get(name, "{product}").format(**values)
        if name == "headline" and state.behaviour.spoil_words:
            out[name] = _spoil(text, state.behaviour.spoil_words)
        elif overlong and name == "body":
            out[name] = (text + " " + text * 4)[: limit + 15]
        else:
            out[name] = fit(text, limit, double)
    return out


# What Converse answers for a model served only through the Anthropic Messages endpoint
# (assumed wording: no public capture of the real message was found).
MESSAGES_ONLY = (
    "The model {id} is not supported by the Converse API. Call it through the Anthropic "
    "Messages API endpoint (/anthropic/v1/messages)."
)


def converse(state: State, model_id: str, body: Any, region: str) -> dict[str, Any]:
    spec = model_for(state, model_id, "text")
    if spec.api != "converse":
        raise invalid(MESSAGES_ONLY.format(id=model_id))
    return answer(state, spec, body, region, on_demand=model_id)


def _check_request(spec: ModelSpec, body: Any) -> tuple[int, int, int]:
    """(image blocks, their tokens, maxTokens) of a Converse body the model accepts."""
    problems = validate_body("bedrock-runtime", "Converse", body)
    if problems:
        raise invalid(validation_message(problems))
    _check_messages(body)
    images, image_tokens = judge.check_images(body)
    if images and not spec.image_input:
        raise invalid("This model doesn't support the image content block that you provided.")
    inference = body.get("inferenceConfig", {})
    max_tokens = int(inference.get("maxTokens", min(spec.max_tokens, 4096)))
    if max_tokens > spec.max_tokens:
        raise invalid(
            f"The maximum tokens you requested exceeds the model limit of {spec.max_tokens}. "
            f"Try again with a maximum tokens value that is lower than {spec.max_tokens}."
        )
    return images, image_tokens, max_tokens


def answer(
    state: State, spec: ModelSpec, body: Any, region: str, *, on_demand: str
) -> dict[str, Any]:
    """The Converse answer to ``body``. ``on_demand``: the model id as sent to the
    runtime (scripted faults match it); "" for a record of a batch job, answered by the
    same logic outside the on-demand path: no tokens-per-minute quota, no scripted
    runtime faults, no latency, no prompt cache."""
    images, image_tokens, max_tokens = _check_request(spec, body)
    system = "\n".join(b.get("text", "") for b in body.get("system", []))
    user = "\n".join(
        block.get("text", "")
        for m in body["messages"]
        if m["role"] == "user"
        for block in m["content"]
    )
    schema, mode = _schema_of(body, spec, user)
    served, extra = _served(state, spec, body, region)
    prefixes = cache_prefixes(spec, body)
    guardrail = _guardrail(state, body)
    input_tokens = tokens(system + user) + (tokens(json.dumps(schema)) if mode != "prompt" else 0)
    input_tokens += image_tokens
    if on_demand and not state.reserve(spec.id, input_tokens + max_tokens):
        raise ServiceError(429, "ThrottlingException", TOKENS_THROTTLE)
    if on_demand:
        apply_faults(state, "converse", on_demand)
    b = state.behaviour
    cache = cache_use(state, spec, prefixes, input_tokens) if prefixes and on_demand else None
    if guardrail and any(w.lower() in user.lower() for w in b.guardrail_words):
        trace = _guardrail_trace(guardrail, user, b.guardrail_words)
        content = [{"text": _GUARDRAIL_MESSAGE}]
        return _answer(state, spec, content, "guardrail_intervened", tokens_in=input_tokens,
                       max_tokens=max_tokens if on_demand else 0, extra={**extra, **trace},
                       cache=cache)  # fmt: skip
    if any(w.lower() in user.lower() for w in b.filter_prompt):
        return _answer(state, spec, [], "content_filtered", tokens_in=input_tokens,
                       max_tokens=max_tokens if on_demand else 0, extra=extra,
                       cache=cache)  # fmt: skip
    malformed = state.first("malformed", b.malformed)
    if judge.is_judge(schema):
        copy: dict[str, Any] = judge.rating(user, b.judge_breaks, images, schema)
    else:
        copy = write_copy(state, schema, user, overlong_allowed=not malformed)
    content, stop = _render(copy, mode, schema, malformed)
    output_tokens = tokens(json.dumps(content, ensure_ascii=False))
    if output_tokens > max_tokens:
        text = json.dumps(copy, ensure_ascii=False)[: max_tokens * 2]
        content, stop, output_tokens = [{"text": text}], "max_tokens", max_tokens
    latency = b.text_latency_ms + b.ms_per_output_token * output_tokens
    if served == "optimized":
        latency /= 2
    if on_demand:
        state.stopping.wait(latency / 1000)
    return _answer(
        state,
        spec,
        content,
        stop,
        tokens_in=input_tokens,
        max_tokens=max_tokens if on_demand else 0,
        tokens_out=output_tokens,
        extra=extra,
        latency_ms=latency,
        cache=cache,
    )


_GUARDRAIL_MESSAGE = "Sorry, the model cannot answer this question."


def _served(
    state: State, spec: ModelSpec, body: Mapping[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    """(the latency served, the answer's members saying how it was served)."""
    latency, tier = _served_latency(state, spec, body, region), served_tier(state, spec, body)
    extra: dict[str, Any] = {}
    if latency:
        extra["performanceConfig"] = {"latency": latency}
    if tier:
        extra["serviceTier"] = {"type": tier}
    return latency, extra


def _served_latency(state: State, spec: ModelSpec, body: Mapping[str, Any], region: str) -> str:
    asked = body.get("performanceConfig", {}).get("latency")
    if asked is None:
        return ""
    if asked == "optimized" and not spec.latency_regions:
        raise invalid(
            "This model doesn't support latency-optimized inference (performanceConfig.latency)."
        )
    # Past its optimized quota, or outside its regions, the service serves standard.
    if asked == "optimized" and region in spec.latency_regions:
        capacity = state.behaviour.optimized_capacity
        if capacity < 0 or state.first("optimized", capacity):
            return "optimized"
    return "standard"


def _guardrail(state: State, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    config = body.get("guardrailConfig")
    if config is None:
        return None
    ident, version = config.get("guardrailIdentifier"), config.get("guardrailVersion")
    if not ident or not version:
        raise invalid("guardrailConfig needs both guardrailIdentifier and guardrailVersion.")
    if version not in state.behaviour.guardrails.get(ident, []):
        raise invalid("The guardrail identifier or version provided in the request does not exist.")
    return config


def _guardrail_trace(config: Mapping[str, Any], user: str, words: list[str]) -> dict[str, Any]:
    if config.get("trace", "disabled") == "disabled":
        return {}
    matches = [w for w in words if w.lower() in user.lower()]
    assessment = {
        "wordPolicy": {
            "customWords": [{"match": w, "action": "BLOCKED", "detected": True} for w in matches],
            "managedWordLists": [],
        }
    }
    return {
        "trace": {
            "guardrail": {
                "inputAssessment": {config["guardrailIdentifier"]: assessment},
                "actionReason": "Guardrail blocked.",
            }
        }
    }


def _render(
    copy: dict[str, Any], mode: str, schema: Mapping[str, Any], malformed: bool
) -> tuple[list[dict[str, Any]], str]:
    """The content blocks and stop reason of an answer in ``mode``."""
    if mode == "tool":
        answer: Any = {k: v for k, v in copy.items() if k != "body"} if malformed else copy
        use = {"toolUseId": "tooluse_fake0001", "name": schema["x-tool"], "input": answer}
        return [{"toolUse": use}], "tool_use"
    text = json.dumps(copy, ensure_ascii=False)
    if malformed:
        return [
            {"text": "Here is some great copy for your ad! " + " / ".join(map(str, copy.values()))}
        ], "end_turn"
    if mode == "prompt":
        text = f"Here is the copy:\n```json\n{text}\n```"
    return [{"text": text}], "end_turn"


def _answer(
    state: State,
    spec: ModelSpec,
    content: list[dict[str, Any]],
    stop: str,
    *,
    tokens_in: int,
    max_tokens: int,
    tokens_out: int = 0,
    extra: Mapping[str, Any],
    latency_ms: float = 0.0,
    cache: CacheUse | None = None,
) -> dict[str, Any]:
    usage = {"inputTokens": tokens_in, "outputTokens": tokens_out}
    if cache is not None:  # the service reports cache counts when the request had points
        usage["inputTokens"] -= cache.read + cache.write
        usage |= {"cacheReadInputTokens": cache.read, "cacheWriteInputTokens": cache.write}
    # Reserved at the start: input (cached or not) and maxTokens; cache reads come back.
    # (``max_tokens`` 0: nothing was reserved, a batch record; nothing comes back.)
    if max_tokens:
        state.settle(spec.id, max_tokens - tokens_out + (cache.read if cache else 0))
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": usage | {"totalTokens": tokens_in + tokens_out},
        "metrics": {"latencyMs": max(1, round(latency_ms))},
        **extra,
    }


# ------------------------------------------------------------------ images

TITAN_SIZES = {
    (1024, 1024), (768, 768), (512, 512), (768, 1152), (384, 576), (1152, 768), (576, 384),
    (768, 1280), (384, 640), (1280, 768), (640, 384), (896, 1152), (448, 576), (1152, 896),
    (576, 448), (768, 1408), (384, 704), (1408, 768), (704, 384), (640, 1408), (320, 704),
    (1408, 640), (704, 320), (1152, 640), (1173, 640),
}  # fmt: skip
STABILITY_SIZES = {
    "1:1": (1024, 1024), "16:9": (1344, 768), "21:9": (1536, 640), "2:3": (832, 1216),
    "3:2": (1216, 832), "4:5": (896, 1088), "5:4": (1088, 896), "9:16": (768, 1344),
    "9:21": (640, 1536),
}  # fmt: skip
AMAZON_LIMITS = {  # prompt characters, seed maximum, extra textToImageParams keys
    "titan-image": (512, 2_147_483_646, set()),
    "nova-canvas": (1024, 858_993_459, {"style"}),
}
BLOCKED_PROMPT = (
    "This request has been blocked by our content filters. Please adjust your text prompt "
    "to submit a new request."
)
BLOCKED_OUTPUT = (
    "This generated image has been blocked by our content filters. Please adjust your text "
    "prompt to submit a new request."
)


def malformed(problem: str) -> ServiceError:
    """InvokeModel's wording for a body its model's JSON schema rejects."""
    return invalid(f"Malformed input request: {problem}, please reformat your input and try again.")


def _keys(
    obj: Any, allowed: set[str], path: str, required: frozenset[str] = frozenset()
) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise malformed(f"#{path}: expected type: JSONObject")
    extra = sorted(set(obj) - allowed)
    if extra:
        raise malformed(f"#{path}: extraneous key [{extra[0]}] is not permitted")
    missing = sorted(required - set(obj))
    if missing:
        raise malformed(f"#{path}: required key [{missing[0]}] not found")
    return obj


def _int(obj: Mapping[str, Any], key: str, lo: int, hi: int, path: str) -> int | None:
    if key not in obj:
        return None
    value = obj[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise malformed(f"#{path}/{key}: expected type: Integer, found: {type(value).__name__}")
    if not lo <= value <= hi:
        raise malformed(f"#{path}/{key}: {value} is not in the range {lo}..{hi}")
    return value


def _text(obj: Mapping[str, Any], key: str, lo: int, hi: int, path: str) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str):
        raise malformed(f"#{path}/{key}: expected type: String")
    if not lo <= len(value) <= hi:
        raise malformed(
            f"#{path}/{key}: expected minLength: {lo}, maxLength: {hi}, actual: {len(value)}"
        )
    return value


def _amazon_body(spec: ModelSpec, body: Any) -> tuple[str, str, int, int, int]:
    """(prompt, negative, width, height, seed) of a valid Titan/Nova TEXT_IMAGE body."""
    prompt_max, seed_max, extra_params = AMAZON_LIMITS[spec.family]
    _keys(
        body,
        {"taskType", "textToImageParams", "imageGenerationConfig"},
        "",
        frozenset({"taskType"}),
    )
    if body["taskType"] != "TEXT_IMAGE":
        raise malformed(f"#/taskType: {body['taskType']} is not a valid enum value")
    params = _keys(body.get("textToImageParams"), {"text", "negativeText", *extra_params},
                   "/textToImageParams", frozenset({"text"}))  # fmt: skip
    prompt = _text(params, "text", 1, prompt_max, "/textToImageParams")
    negative = (
        _text(params, "negativeText", 1, prompt_max, "/textToImageParams")
        if "negativeText" in params
        else ""
    )
    config = _keys(body.get("imageGenerationConfig", {}),
                   {"numberOfImages", "width", "height", "cfgScale", "seed", "quality"},
                   "/imageGenerationConfig")  # fmt: skip
    path = "/imageGenerationConfig"
    _int(config, "numberOfImages", 1, 5, path)
    seed = _int(config, "seed", 0, seed_max, path) or 0
    w = _int(config, "width", 1, 100_000, path) or 1024
    h = _int(config, "height", 1, 100_000, path) or 1024
    if "cfgScale" in config:
        cfg = config["cfgScale"]
        if not isinstance(cfg, int | float) or not 1.1 <= cfg <= 10:
            raise malformed(f"#{path}/cfgScale: {cfg} is not in the range 1.1..10.0")
    if config.get("quality", "standard") not in ("standard", "premium"):
        raise malformed(f"#{path}/quality: {config['quality']} is not a valid enum value")
    if spec.family == "titan-image" and (w, h) not in TITAN_SIZES:
        raise malformed(f"#{path}: the size {w}x{h} is not a supported image size")
    if spec.family == "nova-canvas":
        if not (320 <= w <= 4096 and 320 <= h <= 4096) or w % 16 or h % 16:
            raise invalid(
                "The width and height must be between 320 and 4096 pixels and divisible by 16."
            )
        if max(w / h, h / w) > 4:
            raise invalid("The aspect ratio must be between 1:4 and 4:1.")
        if w * h >= 4_194_304:
            raise invalid("The total pixel count must be less than 4,194,304.")
    return prompt, negative, w, h, seed


def _stability_body(body: Any) -> tuple[str, str, str, int, str]:
    """(prompt, negative, aspect, seed, format) of a valid Stability text-to-image body."""
    _keys(
        body,
        {"prompt", "negative_prompt", "mode", "aspect_ratio", "seed", "output_format"},
        "",
        frozenset({"prompt"}),
    )
    prompt = _text(body, "prompt", 1, 10_000, "")
    negative = _text(body, "negative_prompt", 0, 10_000, "") if "negative_prompt" in body else ""
    if body.get("mode", "text-to-image") != "text-to-image":
        raise malformed(f"#/mode: {body['mode']} is not a valid enum value")
    aspect = body.get("aspect_ratio", "1:1")
    if aspect not in STABILITY_SIZES:
        raise malformed(f"#/aspect_ratio: {aspect} is not a valid enum value")
    fmt = body.get("output_format", "png")
    if fmt not in ("png", "jpeg"):
        raise malformed(f"#/output_format: {fmt} is not a valid enum value")
    seed = _int(body, "seed", 0, 4_294_967_294, "") or 0
    return prompt, negative, aspect, seed, fmt


def picture(w: int, h: int, seed: int, fmt: str = "png") -> bytes:
    """A real image of the asked size, different per seed, cheap to encode."""
    colour = ((seed * 97) % 256, (seed * 57) % 256, (seed * 31) % 256)
    img = Image.new("RGB", (w, h), colour)
    ImageDraw.Draw(img).ellipse(
        (w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(255 - colour[0], 200, 90)
    )
    buf = io.BytesIO()
    if fmt == "jpeg":
        img.save(buf, "JPEG", quality=85)
    else:
        img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _json_body(body_bytes: bytes) -> Any:
    try:
        return json.loads(body_bytes)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise malformed("#: the body is not valid JSON") from None


def invoke(
    state: State, model_id: str, body_bytes: bytes, headers: Mapping[str, str], region: str
) -> dict[str, Any]:
    spec = model_for(state, model_id, "image")
    if headers.get("content-type", "application/json").split(";")[0] != "application/json":
        raise invalid("The provided Content-Type is not supported; use application/json.")
    body = _json_body(body_bytes)
    if spec.family in edits.EDITS:  # an image service: its own body, US regions only
        answer = edits.EDITS[spec.family](state, body, region)
        if not state.reserve(spec.id, 1):
            raise ServiceError(429, "ThrottlingException", TOKENS_THROTTLE)
        apply_faults(state, "invoke", model_id)
        return answer
    edit = outpaint.checked(body, region) if spec.family == "stability-outpaint" else None
    if edit is not None:
        prompt, seed, fmt = edit.prompt, edit.seed, edit.format
        w, h = edit.picture.size
    elif spec.family == "stability":
        prompt, _negative, aspect, seed, fmt = _stability_body(body)
        w, h = STABILITY_SIZES[aspect]
    else:
        prompt, _negative, w, h, seed = _amazon_body(spec, body)
        fmt = "png"
    b = state.behaviour
    words = prompt.lower()
    stability = spec.family.startswith("stability")
    if any(word.lower() in words for word in b.filter_prompt) and not stability:
        raise invalid(BLOCKED_PROMPT)
    if not state.reserve(spec.id, 1):
        raise ServiceError(429, "ThrottlingException", TOKENS_THROTTLE)
    apply_faults(state, "invoke", model_id)
    state.stopping.wait(b.image_latency_ms / 1000)
    if stability:
        for words_, reason in ((b.filter_prompt, "prompt"), (b.filter_output, "output image")):
            if any(word.lower() in words for word in words_):
                return {
                    "seeds": [seed],
                    "finish_reasons": [f"Filter reason: {reason}"],
                    "images": [],
                }
        image = outpaint.extended(edit) if edit else _encoded(state, w, h, seed, fmt)
        return {"seeds": [seed], "finish_reasons": [None], "images": [image]}
    if any(word.lower() in words for word in b.filter_output):
        return {"images": [], "error": BLOCKED_OUTPUT}
    return {"images": [_encoded(state, w, h, seed, fmt)], "error": None}


def _encoded(state: State, w: int, h: int, seed: int, fmt: str) -> str:
    data = picture(w, h, seed, fmt)
    if state.first("corrupt", state.behaviour.corrupt_images):
        data = data[: len(data) // 3]  # a truncated file: decodes as nothing
    return base64.b64encode(data).decode()
