"""Providers, registered by name. Tests register fakes through the same registry.

@register("draft")
def _make(config: ProviderConfig) -> Provider: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adloom.errors import InputError
from adloom.providers.base import Provider
from adloom.registry import Registry


@dataclass(frozen=True)
class ProviderConfig:
    registry: Registry
    templates: Path | None = None  # user prompt templates override the shipped ones
    region: str | None = None
    profile: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    latency: str | None = None  # "standard" | "optimized"
    guardrail: str | None = None  # "ID:VERSION"
    tier: str = "default"  # Converse serviceTier: default | flex | priority
    image_quality: str = "standard"
    settings: dict[str, str] = field(default_factory=dict)  # campaign extras, e.g. quotas
    cells: dict[str, str] = field(default_factory=dict)  # setting -> where it was set


Factory = Callable[[ProviderConfig], Provider]
_FACTORIES: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    def deco(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return deco


def unregister(name: str) -> None:
    _FACTORIES.pop(name, None)


def names() -> list[str]:
    _load_builtin()
    return sorted(_FACTORIES)


def make_provider(name: str, config: ProviderConfig) -> Provider:
    _load_builtin()
    if name not in _FACTORIES:
        raise InputError(
            f'unknown provider "{name}"', hint=f"Use one of: {', '.join(sorted(_FACTORIES))}."
        )
    return _FACTORIES[name](config)


def _load_builtin() -> None:
    # Imported late: the bedrock provider pulls in boto3, which `plan` on a draft
    # campaign never needs.
    from adloom.providers import bedrock, draft  # noqa: F401
