"""The control plane (``bedrock`` client) calls that ``models --check`` and ``doctor`` use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .behaviour import State
from .catalogue import MODELS, ModelSpec
from .runtime import ServiceError

PAGE = 5  # small pages, so callers must follow nextToken
ACCOUNT_ARN = "arn:aws:bedrock:{region}:123456789012"


def _summary(spec: ModelSpec, region: str) -> dict[str, Any]:
    lifecycle: dict[str, Any] = {"status": "LEGACY" if spec.legacy else "ACTIVE"}
    if spec.eol:
        lifecycle["endOfLifeTime"] = f"{spec.eol}T00:00:00Z"
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{spec.id}",
        "modelId": spec.id,
        "modelName": spec.name,
        "providerName": spec.provider,
        "inputModalities": ["TEXT"],
        "outputModalities": ["TEXT" if spec.kind == "text" else "IMAGE"],
        "responseStreamingSupported": spec.kind == "text",
        "customizationsSupported": [],
        # The service lists INFERENCE_PROFILE (outside the documented enum) for models
        # served only through inference profiles.
        "inferenceTypesSupported": ["ON_DEMAND"] if spec.on_demand else ["INFERENCE_PROFILE"],
        "modelLifecycle": lifecycle,
    }


def _offered(state: State) -> list[ModelSpec]:
    return [m for m in MODELS.values() if m.id not in state.behaviour.not_in_region]


def list_foundation_models(state: State, query: Mapping[str, str], region: str) -> dict[str, Any]:
    models = _offered(state)
    if "byOutputModality" in query:
        want = query["byOutputModality"]
        models = [m for m in models if ("TEXT" if m.kind == "text" else "IMAGE") == want]
    return {"modelSummaries": [_summary(m, region) for m in models]}


def get_foundation_model(state: State, model_id: str, region: str) -> dict[str, Any]:
    spec = next((m for m in _offered(state) if m.id == model_id), None)
    if spec is None:
        raise ServiceError(
            404, "ResourceNotFoundException", f"The model {model_id} does not exist."
        )
    return {"modelDetails": _summary(spec, region)}


def availability(state: State, model_id: str) -> dict[str, Any]:
    spec = next((m for m in _offered(state) if m.id == model_id), None)
    if spec is None:
        raise ServiceError(
            404, "ResourceNotFoundException", f"The model {model_id} does not exist."
        )
    denied = spec.id in state.behaviour.access_denied
    return {
        "modelId": spec.id,
        "agreementAvailability": {"status": "AVAILABLE"},
        "authorizationStatus": "NOT_AUTHORIZED" if denied else "AUTHORIZED",
        "entitlementAvailability": "NOT_AVAILABLE" if denied else "AVAILABLE",
        "regionAvailability": "AVAILABLE",
    }


def list_inference_profiles(state: State, query: Mapping[str, str], region: str) -> dict[str, Any]:
    profiles = []
    account = ACCOUNT_ARN.format(region=region)
    for spec in _offered(state):
        for prefix in spec.profiles:
            pid = f"{prefix}.{spec.id}"
            profiles.append(
                {
                    "inferenceProfileName": f"{prefix.upper()} {spec.name}",
                    "inferenceProfileArn": f"{account}:inference-profile/{pid}",
                    "models": [
                        {"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{spec.id}"}
                    ],
                    "inferenceProfileId": pid,
                    "status": "ACTIVE",
                    "type": "SYSTEM_DEFINED",
                }
            )
    size = min(int(query.get("maxResults", PAGE)), PAGE)
    start = int(query.get("nextToken", "0"))
    page: dict[str, Any] = {"inferenceProfileSummaries": profiles[start : start + size]}
    if start + size < len(profiles):
        page["nextToken"] = str(start + size)
    return page
