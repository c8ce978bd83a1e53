"""Providers, registered by name: the built-in ones, plugins, and tests' fakes.

A provider module registers a factory (and, for a plugin, the models file it ships)::

    @register("acme", models=Path(__file__).with_name("models.json"))
    def _make(config: ProviderConfig) -> Provider: ...

Built-in providers are imported only when used (bedrock pulls in boto3, which a
draft run never needs). Plugins are installed packages that name their module in
the ``adloom.providers`` entry-point group (the way llm finds its plugins), under
the provider's name::

    [project.entry-points."adloom.providers"]
    acme = "adloom_acme"

A plugin is imported when its provider is used, or when the model registry is
loaded (its models file joins the registry). One that fails to import, or that
registers no provider of its name, stops adloom with a message naming it (exit 3).
A plugin's code always runs guarded (``providers.guard``): its prints never reach
adloom's stdout, what it raises is reported as its own, its answers are checked.
docs/providers.md is the guide.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from adloom.errors import InputError, ProviderError
from adloom.providers.base import Provider
from adloom.providers.guard import GuardedProvider, Plugin, running

if TYPE_CHECKING:  # not imported for `adloom validate`: the registry loads pydantic
    from adloom.registry import Registry

__all__ = [
    "ENTRY_POINTS",
    "Factory",
    "ProviderConfig",
    "make_provider",
    "names",
    "plugin_models",
    "register",
    "require",
    "unregister",
]

ENTRY_POINTS = "adloom.providers"
_BUILTIN = {"bedrock": "adloom.providers.bedrock", "draft": "adloom.providers.draft"}


@dataclass(frozen=True)
class ProviderConfig:
    registry: Registry
    templates: Path | None = None  # user prompt templates override the shipped ones
    region: str | None = None
    # Where image requests go instead of ``region`` (the ``image_region`` setting).
    image_region: str | None = None
    profile: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    latency: str | None = None  # "standard" | "optimized"
    guardrail: str | None = None  # "ID:VERSION"
    tier: str = "default"  # Converse serviceTier: default | flex | priority
    image_quality: str = "standard"
    cache: Path | None = None  # the user cache's folder (``console.Env.cache_dir``); None: none
    # Copy requests go in batch jobs (``--mode batch``): built with the structured output
    # a batch job takes, and no on-demand-only fields.
    batch: bool = False
    settings: dict[str, str] = field(default_factory=dict)  # campaign extras, e.g. quotas
    cells: dict[str, str] = field(default_factory=dict)  # setting -> where it was set


Factory = Callable[[ProviderConfig], Provider]
_FACTORIES: dict[str, Factory] = {}
_MODELS: dict[str, Path] = {}  # provider -> the models file its plugin ships
_PLUGINS: dict[str, Plugin] = {}  # provider -> the plugin it came from (loaded ones)


def register(name: str, *, models: Path | None = None) -> Callable[[Factory], Factory]:
    """Register the factory a decorator wraps as provider ``name``; ``models``: the
    JSON models file (docs/models.md) of the models it serves, if it ships one."""

    def deco(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        if models is not None:
            _MODELS[name] = models
        return factory

    return deco


def unregister(name: str) -> None:
    _FACTORIES.pop(name, None)
    _MODELS.pop(name, None)
    _PLUGINS.pop(name, None)


def names() -> list[str]:
    """Every provider that can be used: built in, registered, or an installed plugin's
    (nothing is imported to list them)."""
    return sorted({*_BUILTIN, *_FACTORIES, *(ep.name for ep in _plugins())})


def make_provider(name: str, config: ProviderConfig) -> Provider:
    require(name)
    plugin = _PLUGINS.get(name)
    if plugin is None:
        return _FACTORIES[name](config)
    with running(plugin, "in its factory"):
        provider = _FACTORIES[name](config)
    if not isinstance(provider, Provider):
        raise ProviderError(
            f"{plugin.where} made a {type(provider).__name__}, not a Provider", hint=plugin.fix
        )
    return GuardedProvider(provider, plugin)


def require(name: str) -> None:
    """Refuse a provider that is neither built in nor an installed plugin (exit 2),
    before anything is planned with it."""
    _load(name)
    if name not in _FACTORIES:
        raise InputError(
            f'unknown provider "{name}"',
            hint=f"Use one of: {', '.join(names())}; or install the provider's plugin "
            "(docs/providers.md).",
        )


def plugin_models() -> list[Path]:
    """The models files the installed plugins ship (each plugin imported to find it)."""
    for plugin in _plugins():
        _load_plugin(plugin)
    return list(_MODELS.values())


def _plugins() -> list[EntryPoint]:
    return [ep for ep in entry_points(group=ENTRY_POINTS) if ep.name not in _BUILTIN]


def _load(name: str) -> None:
    if name in _FACTORIES:
        return
    if name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
        return
    for plugin in _plugins():
        if plugin.name == name:
            _load_plugin(plugin)


def _load_plugin(plugin: EntryPoint) -> None:
    """Import ``plugin``'s module, which registers its provider; a clear error if not."""
    if plugin.name in _FACTORIES:
        return
    dist = plugin.dist.name if plugin.dist else plugin.module
    where = f'provider plugin "{plugin.name}" ({plugin.value}, from {dist})'
    fix = f"Fix the plugin, or uninstall it (pip uninstall {dist})."
    blame = Plugin(plugin.name, where, fix)
    with running(blame, "to load"):  # whatever a third party's import raises, named
        plugin.load()
    if plugin.name not in _FACTORIES:
        raise ProviderError(
            f'{where} registered no provider "{plugin.name}"',
            hint=f'Its module must call adloom.providers.register("{plugin.name}"). {fix}',
        )
    _PLUGINS[plugin.name] = blame
