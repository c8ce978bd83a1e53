"""Model lifecycle from the Bedrock control plane, checked before a run's first call.

The registry's lifecycle dates are a snapshot; the account knows the truth. For
each model a run will use, ``GetFoundationModel`` gives ``modelLifecycle``
(``status`` ACTIVE/LEGACY, ``legacyTime``, ``publicExtendedAccessTime``,
``endOfLifeTime``). Past end of life the run stops (exit 3) before any call;
LEGACY runs with one warning. Answers are kept a day per region and model in the
user's cache folder (``adloom.usercache``). Without the control plane (denied,
unreachable) the registry's dates are used, and the user is told so once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adloom import usercache
from adloom.errors import ModelAccessError, ProviderError
from adloom.providers.base import Kind
from adloom.providers.bedrock.client import Clients, error_code
from adloom.registry import Lifecycle, Registry, base_id

_FIELDS = ("legacyTime", "publicExtendedAccessTime", "endOfLifeTime")


@dataclass(frozen=True)
class Life:
    """One model's lifecycle, from the service or (``source="registry"``) the registry."""

    status: str  # "active" | "legacy"
    legacy: date | None = None
    extended: date | None = None  # start of public extended access: higher prices
    eol: date | None = None
    source: str = "Bedrock"

    @classmethod
    def from_service(cls, raw: Mapping[str, Any]) -> Life:
        """From the cached JSON form of ``modelLifecycle`` (ISO dates)."""
        day = {k: date.fromisoformat(raw[k]) if raw.get(k) else None for k in _FIELDS}
        return cls(
            str(raw.get("status", "ACTIVE")).lower(),
            day["legacyTime"],
            day["publicExtendedAccessTime"],
            day["endOfLifeTime"],
        )

    @classmethod
    def from_registry(cls, life: Lifecycle, today: date) -> Life:
        status = "legacy" if life.status_on(today) != "active" else "active"
        return cls(
            status, life.legacy_date, life.public_extended_access_date, life.eol_date, "registry"
        )


def _as_json(lifecycle: Mapping[str, Any]) -> dict[str, str]:
    """``modelLifecycle`` as botocore parsed it (datetimes) -> JSON for the cache."""
    out = {"status": str(lifecycle.get("status", "ACTIVE"))}
    for key in _FIELDS:
        value = lifecycle.get(key)
        if isinstance(value, datetime):
            out[key] = value.date().isoformat()
    return out


class Unavailable(Exception):
    """The control plane cannot be asked (denied, unreachable): use the registry."""


def ask(clients: Clients, model_id: str) -> dict[str, str]:
    """``GetFoundationModel`` for the model behind ``model_id``, cached a day per region
    (a cached entry that is not one is asked again)."""
    base = base_id(model_id)
    try:
        region = clients.region()
        clients.credential_method()
    except ModelAccessError:
        raise
    except ProviderError as exc:  # no region or credentials: `plan` still estimates
        raise Unavailable(exc.message) from None

    def fetch() -> dict[str, str]:
        try:
            details = clients.control().get_foundation_model(modelIdentifier=base)
        except ClientError as exc:
            code, message, _status = error_code(exc)
            if code == "ResourceNotFoundException":
                raise ModelAccessError(
                    f'Model "{model_id}" is not offered in region {region}: {message}',
                    hint="Pick another region (--region) or model; `adloom models --check` "
                    "lists what this account and region can use.",
                ) from None
            raise Unavailable(f"{code}: {message}") from None
        except BotoCoreError as exc:
            raise Unavailable(str(exc)) from None
        return _as_json(details.get("modelDetails", {}).get("modelLifecycle") or {})

    return usercache.cached(clients.cache, f"lifecycle-{region}-{base}", fetch, _valid)


def _valid(cached: Any) -> dict[str, str] | None:
    """A cached lifecycle as ``_as_json`` writes it (a status, ISO dates), else None:
    anything else in the cache file is asked again."""
    if not isinstance(cached, dict) or not isinstance(cached.get("status", ""), str):
        return None
    for key in _FIELDS:
        day = cached.get(key)
        if day is None:
            continue
        try:
            date.fromisoformat(day)
        except (TypeError, ValueError):  # not text, or 2026-13-45
            return None
    if set(cached) - {"status", *_FIELDS}:
        return None
    return {str(k): str(v) for k, v in cached.items() if v is not None}


def alternatives(registry: Registry, kind: str, today: date, exclude: str) -> list[str]:
    """Active bedrock models of ``kind`` adloom can call, the registry's default first
    (never one past its end of life, nor one served outside Converse)."""
    default = base_id(registry.default("bedrock", kind))
    found = [
        m.id
        for m in registry.models.values()
        if m.provider == "bedrock"
        and m.kind == kind
        and m.id != base_id(exclude)
        and m.lifecycle.status_on(today) == "active"
        and not m.unreachable()
    ]
    return sorted(found, key=lambda mid: mid != default)[:3]


def judge(
    model_id: str, kind: str, life: Life, registry: Registry, today: date, *, option: str = ""
) -> str | None:
    """A warning for a LEGACY model, None when ACTIVE; past end of life, refuse (exit 3).
    ``option``: the option that chooses the model (default ``--text-model`` or
    ``--image-model``), named with the alternatives."""
    others = alternatives(registry, kind, today, model_id)
    instead = f"e.g. {option or f'--{kind}-model'} {others[0]}" + (
        f" (or {', '.join(others[1:])})" if len(others) > 1 else ""
    )
    if life.eol is not None and today >= life.eol:
        raise ModelAccessError(
            f'model "{model_id}" reached its end of life on Bedrock on {life.eol} '
            f"(per {life.source}); calls to it fail.",
            hint=f"Choose an active {kind} model, {instead}."
            if others
            else f"Choose an active {kind} model (`adloom models`).",
        )
    if life.status != "legacy" and not (life.legacy and today >= life.legacy):
        return None
    when = f"end of life {life.eol}" if life.eol else "no end-of-life date announced yet"
    extra = ""
    if life.extended is not None and today >= life.extended:
        extra = f"; in public extended access since {life.extended}: prices are higher"
    move = f"; move to an active model, {instead}" if others else ""
    return f'model "{model_id}" is legacy on Bedrock ({when}, per {life.source}){extra}{move}.'


def check(
    models: Iterable[tuple[str, Kind]],
    registry: Registry,
    clients: Clients,
    today: date | None = None,
    *,
    judge_model: str = "",
) -> list[str]:
    """Warnings for the run (each said once); ``ModelAccessError`` past end of life.
    ``judge_model``: the ``--score`` judge, checked like the others."""
    day = today or date.today()
    warnings: list[str] = []
    unavailable = ""
    seen: set[str] = set()
    uses = [(m, k, "") for m, k in models]
    uses += [(judge_model, "text", "--judge-model")] if judge_model else []
    for model_id, kind, option in uses:
        if model_id in seen:
            continue
        seen.add(model_id)
        info = registry.get(model_id, kind=kind)
        life: Life | None = None
        if not unavailable:
            try:
                life = Life.from_service(ask(clients, model_id))
            except Unavailable as exc:
                unavailable = str(exc)
        if life is None:
            life = Life.from_registry(info.lifecycle, day)
        warning = judge(model_id, kind, life, registry, day, option=option)
        if warning:
            warnings.append(warning)
    if unavailable:
        warnings.insert(0, _fallback_warning(unavailable))
    return warnings


def _fallback_warning(reason: str) -> str:
    advice = (
        " Allow bedrock:GetFoundationModel to check them."
        if reason.startswith("AccessDenied")
        else ""
    )
    return (
        f"could not ask Bedrock for model lifecycle ({reason}); using the registry's "
        f"dates, which may be out of date.{advice}"
    )
