"""What a converse request is served and billed as: its service tier and prompt caching.

Service tiers: ``serviceTier.type`` other than ``default`` must be one the model serves
(else ValidationException); the answer names the tier served, which a test can script
(``Behaviour.serve_tier``: asked priority, served default).

Prompt caching: a ``cachePoint`` block marks the end of a prefix (in the service's
order: tools, then system, then messages). The model must support caching (and cache
points in tools, for a point there), a point must follow content, and a request has
at most four. A prefix of at least the model's minimum is cached: the first request
with it reports ``cacheWriteInputTokens``, later ones within the time to live
``cacheReadInputTokens``; ``inputTokens`` counts only the rest, as Bedrock's usage does.
A shorter prefix is silently not cached.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .behaviour import State
from .catalogue import ModelSpec
from .errors import invalid

UNSUPPORTED_CACHE = (
    "You invoked an unsupported model or your request did not allow prompt caching. See "
    "the documentation for more information."
)
MAX_CACHE_POINTS = 4


def tokens(text: str) -> int:
    """The fake's tokenizer: ~4 Latin characters a token, one per other character."""
    latin = sum(1 for ch in text if ch < "\x80")
    return max(1, math.ceil(latin / 4 + (len(text) - latin)))


def served_tier(state: State, spec: ModelSpec, body: Mapping[str, Any]) -> str:
    """The tier the answer is served in; "" when the request named none."""
    asked = body.get("serviceTier")
    if asked is None:
        return ""
    tier = str(asked["type"])  # shape and enum: checked against botocore's model already
    if tier != "default" and tier not in spec.tiers:
        raise invalid(f"The model {spec.id} does not support the service tier {tier}.")
    return state.behaviour.serve_tier or tier


@dataclass(frozen=True)
class CacheUse:
    read: int = 0
    write: int = 0


def _segments(spec: ModelSpec, body: Mapping[str, Any]) -> Iterator[str | None]:
    """The request's content in prefix order; ``None`` for each cache point."""
    for tool in body.get("toolConfig", {}).get("tools", []):
        if "cachePoint" in tool:
            if not spec.cache_tools:
                raise invalid(UNSUPPORTED_CACHE)
            yield None
        elif spec.cache_tools:  # tools join the prefix only where they can be cached
            yield json.dumps(tool, sort_keys=True, ensure_ascii=False)
    blocks = [*body.get("system", [])]
    blocks += [block for message in body.get("messages", []) for block in message["content"]]
    for block in blocks:
        if "cachePoint" in block:
            yield None
        else:
            yield str(block.get("text") or json.dumps(block, sort_keys=True, ensure_ascii=False))


def cache_prefixes(spec: ModelSpec, body: Mapping[str, Any]) -> list[str]:
    """The prefix each cache point closes, shortest first; the request refused as the
    service refuses it when a point is misplaced or the model does not cache."""
    prefixes, seen = [], ""
    for segment in _segments(spec, body):
        if segment is not None:
            seen += segment
            continue
        if not spec.cache_min:
            raise invalid(UNSUPPORTED_CACHE)
        if not seen.strip():
            raise invalid("A cachePoint must follow the content to cache; it cannot come first.")
        prefixes.append(seen)
    if len(prefixes) > MAX_CACHE_POINTS:
        raise invalid(
            f"The request has {len(prefixes)} cache points; the maximum is {MAX_CACHE_POINTS}."
        )
    return prefixes


def cache_use(state: State, spec: ModelSpec, prefixes: list[str], total: int) -> CacheUse:
    """Read the longest prefix in the cache, write the longest cacheable one beyond it."""
    eligible = [(p, tokens(p)) for p in prefixes if tokens(p) >= spec.cache_min]
    if not eligible:
        return CacheUse()

    def key(prefix: str) -> str:
        return hashlib.sha256(f"{spec.id}\0{prefix}".encode()).hexdigest()

    hit = state.prompt_cache([key(p) for p, _ in eligible])
    read = eligible[hit][1] if hit >= 0 else 0
    longest = min(eligible[-1][1], total - 1)  # at least one token is always fresh input
    read = min(read, longest)
    return CacheUse(read=read, write=longest - read)
