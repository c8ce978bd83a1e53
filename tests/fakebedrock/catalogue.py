"""The models the fake serves, with what each accepts: its own copy, not adloom's registry.

Kept apart from ``adloom/data/models.json`` on purpose: when the registry says a
model can do something the service refuses (a forced tool call, native structured
output, on-demand calls by base id), a request built from the registry fails
against the fake as it would against Bedrock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROFILE_PREFIXES = ("us", "eu", "apac", "global", "us-gov", "ca", "jp", "au")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    provider: str  # providerName, as ListFoundationModels says it
    name: str
    kind: str  # "text" | "image"
    family: str  # text: the model family; image: the request format
    on_demand: bool = True  # False: only through an inference profile
    profiles: tuple[str, ...] = ()
    tool_choice: bool = False  # a forced, named toolChoice
    native_output: bool = False  # outputConfig.textFormat
    image_input: bool = False  # takes image content blocks in Converse messages
    max_tokens: int = 4096
    latency_regions: tuple[str, ...] = ()  # where latency-optimized inference is served
    tiers: tuple[str, ...] = ()  # serviceTier types besides "default" it serves
    cache_min: int = 0  # prompt caching: the fewest tokens a cache point caches; 0: none
    cache_tools: bool = False  # cache points in toolConfig.tools; tools join the prefix
    legacy: bool = False
    eol: str = ""  # ISO date of end of life, when announced
    # "messages": served only through Bedrock's Anthropic Messages endpoint; Converse
    # refuses it (the newest Claude generations, shared/bedrock-facts.md).
    api: str = "converse"
    extra: dict[str, str] = field(default_factory=dict)


MODELS: dict[str, ModelSpec] = {
    m.id: m
    for m in (
        ModelSpec("anthropic.claude-3-5-haiku-20241022-v1:0", "Anthropic", "Claude 3.5 Haiku",
                  "text", "anthropic", profiles=("us",), tool_choice=True, max_tokens=8192,
                  latency_regions=("us-east-2", "us-west-2"), legacy=True, eol="2026-06-19",
                  cache_min=2048, cache_tools=True),
        ModelSpec("anthropic.claude-haiku-4-5-20251001-v1:0", "Anthropic", "Claude Haiku 4.5",
                  "text", "anthropic", image_input=True, on_demand=False,
                  profiles=("us", "eu", "apac", "jp", "au", "global"),
                  tool_choice=True, native_output=True, max_tokens=64000, cache_min=4096,
                  cache_tools=True),
        ModelSpec("anthropic.claude-sonnet-4-20250514-v1:0", "Anthropic", "Claude Sonnet 4",
                  "text", "anthropic", on_demand=False, profiles=("us", "eu", "apac", "global"),
                  tool_choice=True, max_tokens=64000, cache_min=1024, cache_tools=True),
        ModelSpec("anthropic.claude-sonnet-4-5-20250929-v1:0", "Anthropic", "Claude Sonnet 4.5",
                  "text", "anthropic", image_input=True, on_demand=False,
                  profiles=("us", "eu", "apac", "jp", "au", "global"),
                  tool_choice=True, native_output=True, max_tokens=64000, cache_min=1024,
                  cache_tools=True),
        ModelSpec("anthropic.claude-sonnet-4-6", "Anthropic", "Claude Sonnet 4.6", "text",
                  "anthropic", image_input=True, on_demand=False,
                  profiles=("us", "eu", "jp", "global"), tool_choice=True, max_tokens=64000),
        ModelSpec("anthropic.claude-opus-4-5-20251101-v1:0", "Anthropic", "Claude Opus 4.5",
                  "text", "anthropic", image_input=True, on_demand=False,
                  profiles=("us", "eu", "global"), tool_choice=True, native_output=True,
                  max_tokens=64000),
        ModelSpec("anthropic.claude-opus-4-6-v1", "Anthropic", "Claude Opus 4.6", "text",
                  "anthropic", image_input=True, on_demand=False,
                  profiles=("us", "eu", "apac", "jp", "global"), tool_choice=True,
                  native_output=True, max_tokens=128000),
        ModelSpec("anthropic.claude-opus-4-7", "Anthropic", "Claude Opus 4.7", "text",
                  "anthropic", image_input=True, on_demand=False, profiles=("us", "global"),
                  native_output=True, max_tokens=128000, api="messages"),
        ModelSpec("amazon.nova-micro-v1:0", "Amazon", "Nova Micro", "text", "nova",
                  profiles=("us", "eu", "apac"), tool_choice=True, max_tokens=10000,
                  cache_min=1000),
        ModelSpec("amazon.nova-lite-v1:0", "Amazon", "Nova Lite", "text", "nova", image_input=True,
                  profiles=("us", "eu", "apac"), tool_choice=True, max_tokens=10000,
                  cache_min=1000),
        ModelSpec("amazon.nova-pro-v1:0", "Amazon", "Nova Pro", "text", "nova", image_input=True,
                  profiles=("us", "eu", "apac"), tool_choice=True, max_tokens=10000,
                  latency_regions=("us-east-1", "us-east-2"), tiers=("flex", "priority"),
                  cache_min=1000),
        ModelSpec("amazon.nova-2-lite-v1:0", "Amazon", "Nova 2 Lite", "text", "nova",
                  on_demand=False, profiles=("us", "eu", "jp", "global"), tool_choice=True,
                  max_tokens=10000),
        ModelSpec("meta.llama3-3-70b-instruct-v1:0", "Meta", "Llama 3.3 70B", "text",
                  "llama", on_demand=False, profiles=("us",), max_tokens=2048),
        ModelSpec("cohere.command-r-v1:0", "Cohere", "Command R", "text", "cohere",
                  max_tokens=4000, legacy=True),
        ModelSpec("cohere.command-r-plus-v1:0", "Cohere", "Command R+", "text", "cohere",
                  max_tokens=4000, legacy=True),
        ModelSpec("amazon.titan-image-generator-v2:0", "Amazon", "Titan Image G1 v2",
                  "image", "titan-image", legacy=True, eol="2026-06-30"),
        ModelSpec("amazon.nova-canvas-v1:0", "Amazon", "Nova Canvas", "image", "nova-canvas",
                  legacy=True, eol="2026-09-30"),
        ModelSpec("stability.sd3-5-large-v1:0", "Stability AI", "SD3.5 Large",
                  "image", "stability"),
        ModelSpec("stability.stable-image-core-v1:1", "Stability AI", "Stable Image Core",
                  "image", "stability"),
        ModelSpec("stability.stable-image-ultra-v1:1", "Stability AI", "Stable Image Ultra",
                  "image", "stability"),
        ModelSpec("stability.stable-image-remove-background-v1:0", "Stability AI",
                  "Remove Background", "image", "stability-remove-background",
                  profiles=("us",)),
        ModelSpec("stability.stable-outpaint-v1:0", "Stability AI", "Stable Outpaint",
                  "image", "stability-outpaint"),
    )
}  # fmt: skip


def resolve(model_id: str) -> tuple[ModelSpec | None, str | None]:
    """(spec, profile prefix) for a model id as sent: base id, profile id or ARN."""
    if model_id.startswith("arn:"):
        model_id = model_id.rsplit("/", 1)[-1]
    head, _, rest = model_id.partition(".")
    if head in PROFILE_PREFIXES and rest in MODELS:
        return MODELS[rest], head
    return MODELS.get(model_id), None
