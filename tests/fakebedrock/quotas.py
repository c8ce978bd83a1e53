"""Service Quotas (``service-quotas`` client), the account's applied Bedrock quotas.

A JSON 1.1 service: botocore POSTs ``/`` with ``X-Amz-Target:
ServiceQuotasV20190624.<Operation>``, signed for ``servicequotas``. Only
``ListServiceQuotas`` is served, validated against botocore's service model, in
small pages so callers must follow ``NextToken``.

The list is what an account sees for service code ``bedrock``: per model, the tokens
(text) or images (image models) per minute of each way it can be called (on demand by
base id, cross-region and global profiles), named by the model's display name in the two
generations of names AWS uses, among quotas that are not per-minute inference
quotas (per day, latency-optimized, batch, a 1M-context variant, requests per minute
left from before 2026). Values are AWS-like
defaults (illustrative, not an account's); ``Behaviour.service_quotas`` sets any
quota's applied value by name (``name_for`` gives a model's), and
``Behaviour.service_quotas_denied`` answers AccessDeniedException.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .behaviour import State
from .catalogue import MODELS, ModelSpec, resolve
from .runtime import ServiceError, invalid
from .shapes import validate_body, validation_message

TARGET = "ServiceQuotasV20190624."
PAGE = 4  # small pages, so callers must follow NextToken
ACCOUNT = "123456789012"

# How Service Quotas names each catalogue model, and which generation of quota
# names it has ("InvokeModel": "On-demand InvokeModel tokens per minute for ...",
# else "On-demand model inference tokens per minute for ...").
NAMES: dict[str, tuple[str, str]] = {
    "anthropic.claude-3-5-haiku-20241022-v1:0": ("Anthropic Claude 3.5 Haiku", "InvokeModel"),
    "anthropic.claude-haiku-4-5-20251001-v1:0": ("Anthropic Claude Haiku 4.5", "model inference"),
    "anthropic.claude-sonnet-4-20250514-v1:0": ("Anthropic Claude Sonnet 4 V1", "model inference"),
    "anthropic.claude-sonnet-4-5-20250929-v1:0": (
        "Anthropic Claude Sonnet 4.5 V1",
        "model inference",
    ),
    "anthropic.claude-sonnet-4-6": ("Anthropic Claude Sonnet 4.6", "model inference"),
    "anthropic.claude-opus-4-5-20251101-v1:0": ("Anthropic Claude Opus 4.5", "model inference"),
    "anthropic.claude-opus-4-6-v1": ("Anthropic Claude Opus 4.6", "model inference"),
    "anthropic.claude-opus-4-7": ("Anthropic Claude Opus 4.7", "model inference"),
    "amazon.nova-micro-v1:0": ("Amazon Nova Micro", "model inference"),
    "amazon.nova-lite-v1:0": ("Amazon Nova Lite", "model inference"),
    "amazon.nova-pro-v1:0": ("Amazon Nova Pro", "model inference"),
    "amazon.nova-2-lite-v1:0": ("Amazon Nova 2 Lite", "model inference"),
    "meta.llama3-3-70b-instruct-v1:0": ("Meta Llama 3.3 70B Instruct", "model inference"),
    "cohere.command-r-v1:0": ("Cohere Command R", "model inference"),
    "cohere.command-r-plus-v1:0": ("Cohere Command R Plus", "model inference"),
    "amazon.titan-image-generator-v2:0": ("Amazon Titan Image Generator G1 V2", "InvokeModel"),
    "amazon.nova-canvas-v1:0": ("Amazon Nova Canvas", "model inference"),
    "stability.sd3-5-large-v1:0": ("Stability.ai Stable Diffusion 3.5 Large", "model inference"),
    "stability.stable-image-core-v1:1": ("Stability.ai Stable Image Core", "model inference"),
    "stability.stable-image-ultra-v1:1": ("Stability.ai Stable Image Ultra", "model inference"),
    "stability.stable-image-remove-background-v1:0": (
        "Stability.ai Stable Image Remove Background",
        "model inference",
    ),
    "stability.stable-outpaint-v1:0": ("Stability.ai Stable Image Outpaint", "model inference"),
}
# On-demand default tokens per minute (text) or images per minute (images);
# cross-region profiles get twice that, global ones four times.
DEFAULTS: dict[str, int] = {
    "anthropic.claude-3-5-haiku-20241022-v1:0": 400_000,
    "anthropic.claude-haiku-4-5-20251001-v1:0": 1_000_000,
    "anthropic.claude-sonnet-4-20250514-v1:0": 200_000,
    "anthropic.claude-sonnet-4-5-20250929-v1:0": 200_000,
    "anthropic.claude-sonnet-4-6": 200_000,
    "anthropic.claude-opus-4-5-20251101-v1:0": 200_000,
    "anthropic.claude-opus-4-6-v1": 200_000,
    "anthropic.claude-opus-4-7": 200_000,
    "amazon.nova-micro-v1:0": 2_000_000,
    "amazon.nova-lite-v1:0": 2_000_000,
    "amazon.nova-pro-v1:0": 1_000_000,
    "amazon.nova-2-lite-v1:0": 400_000,
    "meta.llama3-3-70b-instruct-v1:0": 300_000,
    "cohere.command-r-v1:0": 300_000,
    "cohere.command-r-plus-v1:0": 300_000,
    "amazon.titan-image-generator-v2:0": 60,
    "amazon.nova-canvas-v1:0": 60,
    "stability.sd3-5-large-v1:0": 30,
    "stability.stable-image-core-v1:1": 30,
    "stability.stable-image-ultra-v1:1": 30,
    "stability.stable-image-remove-background-v1:0": 30,
    "stability.stable-outpaint-v1:0": 30,
}
_SCOPE_WORDS = {
    ("InvokeModel", "on-demand"): "On-demand InvokeModel",
    ("InvokeModel", "cross-region"): "Cross-Region InvokeModel",
    ("InvokeModel", "global"): "Global cross-Region InvokeModel",
    ("model inference", "on-demand"): "On-demand model inference",
    ("model inference", "cross-region"): "Cross-region model inference",
    ("model inference", "global"): "Global cross-region model inference",
}
_FACTOR = {"on-demand": 1, "cross-region": 2, "global": 4}


def name_for(model_id: str) -> str:
    """The pacing quota's name that applies to ``model_id`` as sent (base id or profile
    id): tokens per minute for a text model, images per minute for an image model."""
    spec, prefix = resolve(model_id)
    assert spec is not None, f"not a catalogue model: {model_id}"
    unit = "tokens" if spec.kind == "text" else "images"
    scope = "on-demand" if prefix is None else "global" if prefix == "global" else "cross-region"
    display, generation = NAMES[spec.id]
    return f"{_SCOPE_WORDS[generation, scope]} {unit} per minute for {display}"


def _scopes(spec: ModelSpec) -> list[str]:
    scopes = ["on-demand"] if spec.on_demand else []
    if any(p != "global" for p in spec.profiles):
        scopes.append("cross-region")
    if "global" in spec.profiles:
        scopes.append("global")
    return scopes


def _entries(spec: ModelSpec) -> list[tuple[str, float]]:
    """One model's quotas as the account lists them, pacing ones and others."""
    display, generation = NAMES[spec.id]
    base = DEFAULTS[spec.id]
    out: list[tuple[str, float]] = []
    for scope in _scopes(spec):
        words = _SCOPE_WORDS[generation, scope]
        value = base * _FACTOR[scope]
        # Requests-per-minute quotas were removed in 2026 (shared/bedrock-facts.md): a text
        # model has tokens per minute, an image model images per minute.
        unit = "tokens" if spec.kind == "text" else "images"
        out.append((f"{words} {unit} per minute for {display}", value))
    if spec.kind == "text":
        out.append((f"Model invocation max tokens per day for {display}", base * 1440))
    if spec.latency_regions:
        out.append(
            (f"On-demand latency-optimized model inference tokens per minute for {display}", 1)
        )
    return out


def applied(state: State) -> list[tuple[str, float]]:
    """Every bedrock quota of the account, in a stable order, with scripted values."""
    quotas: dict[str, float] = {}
    for spec in MODELS.values():
        quotas.update(_entries(spec))
    # Quotas that must not be taken for any model's pacing quota.
    sonnet = NAMES["anthropic.claude-sonnet-4-5-20250929-v1:0"][0]
    quotas[f"Cross-region model inference tokens per minute for {sonnet} 1M Context Length"] = 7
    quotas["Batch inference job size (in GB) for Nova Lite V1"] = 5
    # Requests-per-minute quotas an account may still list from before 2026: not pacing ones.
    quotas["On-demand model inference requests per minute for Amazon Nova Lite"] = 1
    quotas["On-demand model inference requests per minute for Stability.ai Stable Image Core"] = 1
    quotas.update(state.behaviour.service_quotas)
    return list(quotas.items())


def _quota(name: str, value: float, region: str, index: int) -> dict[str, Any]:
    code = f"L-{index:08X}"
    return {
        "ServiceCode": "bedrock",
        "ServiceName": "Amazon Bedrock",
        "QuotaArn": f"arn:aws:servicequotas:{region}:{ACCOUNT}:bedrock/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": float(value),
        "Unit": "None",
        "Adjustable": "per minute" in name,
        "GlobalQuota": False,
        "QuotaAppliedAtLevel": "ACCOUNT",
    }


def error_body(op: str, exc: ServiceError) -> dict[str, Any]:
    """An error's JSON body; JSON 1.1 services (this one) name the error in ``__type``."""
    body: dict[str, Any] = {"message": exc.message}
    if op == "list_service_quotas":
        body["__type"] = f"com.amazonaws.servicequotas.v20190624#{exc.code}"
    return body


def list_service_quotas(state: State, body: Any, region: str) -> dict[str, Any]:
    problems = validate_body("service-quotas", "ListServiceQuotas", body)
    if problems:
        raise invalid(validation_message(problems))
    assert isinstance(body, Mapping)
    if state.behaviour.service_quotas_denied:
        raise ServiceError(
            400,
            "AccessDeniedException",
            f"User: arn:aws:iam::{ACCOUNT}:user/adloom is not authorized to perform: "
            "servicequotas:ListServiceQuotas because no identity-based policy allows the "
            "servicequotas:ListServiceQuotas action",
        )
    if body["ServiceCode"] != "bedrock":
        raise ServiceError(
            400, "NoSuchResourceException", f"The service {body['ServiceCode']} is not served."
        )
    quotas = applied(state)
    token = str(body.get("NextToken", "0"))
    if not token.isdigit() or int(token) > len(quotas):
        raise ServiceError(400, "InvalidPaginationTokenException", "Invalid pagination token.")
    start, size = int(token), min(int(body.get("MaxResults", PAGE)), PAGE)
    page: dict[str, Any] = {
        "Quotas": [
            _quota(name, value, region, start + i)
            for i, (name, value) in enumerate(quotas[start : start + size])
        ]
    }
    if start + size < len(quotas):
        page["NextToken"] = str(start + size)
    return page
