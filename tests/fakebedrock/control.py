"""The control plane (``bedrock`` client) calls adloom makes: ``models --check``,
``doctor`` and the lifecycle check before a run. Scriptable per model
(``Behaviour.lifecycle``) and as a whole (``Behaviour.control_denied``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from .behaviour import State
from .catalogue import MODELS, ModelSpec
from .runtime import ServiceError

PAGE = 5  # small pages, so callers must follow nextToken
ACCOUNT_ARN = "arn:aws:bedrock:{region}:123456789012"


def _timestamp(day: str) -> str:
    return f"{day}T00:00:00Z"


def lifecycle(state: State, spec: ModelSpec) -> dict[str, Any]:
    """``modelLifecycle``: the behaviour's script for the model, else the catalogue's.

    A model in ``behaviour.retired`` without a script ended its life yesterday."""
    script = state.behaviour.lifecycle.get(spec.id)
    if script is not None:
        out: dict[str, Any] = {"status": script.get("status", "ACTIVE")}
        for key in ("legacyTime", "publicExtendedAccessTime", "endOfLifeTime"):
            if script.get(key):
                out[key] = _timestamp(script[key])
        return out
    if spec.id in state.behaviour.retired:
        yesterday = (date.today() - timedelta(days=1)).isoformat()
        return {"status": "LEGACY", "endOfLifeTime": _timestamp(yesterday)}
    found: dict[str, Any] = {"status": "LEGACY" if spec.legacy else "ACTIVE"}
    if spec.eol:
        found["endOfLifeTime"] = _timestamp(spec.eol)
    return found


def _summary(state: State, spec: ModelSpec, region: str) -> dict[str, Any]:
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
        "modelLifecycle": lifecycle(state, spec),
    }


def denied(state: State, action: str) -> None:
    """A scripted identity that may not call the control plane."""
    if state.behaviour.control_denied:
        raise ServiceError(
            403,
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/adloom is not authorized to perform: "
            f"bedrock:{action} because no identity-based policy allows the bedrock:{action} "
            "action",
        )


def _offered(state: State) -> list[ModelSpec]:
    return [m for m in MODELS.values() if m.id not in state.behaviour.not_in_region]


def list_foundation_models(state: State, query: Mapping[str, str], region: str) -> dict[str, Any]:
    models = _offered(state)
    if "byOutputModality" in query:
        want = query["byOutputModality"]
        models = [m for m in models if ("TEXT" if m.kind == "text" else "IMAGE") == want]
    return {"modelSummaries": [_summary(state, m, region) for m in models]}


def get_foundation_model(state: State, model_id: str, region: str) -> dict[str, Any]:
    spec = next((m for m in _offered(state) if m.id == model_id), None)
    if spec is None:
        raise ServiceError(
            404, "ResourceNotFoundException", f"The model {model_id} does not exist."
        )
    return {"modelDetails": _summary(state, spec, region)}


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
