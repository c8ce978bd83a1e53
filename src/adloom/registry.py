"""The model registry: which models exist, how to talk to them, what they cost.

Models are data (``data/models.json``), extended without code changes by a user
file (``$ADLOOM_MODELS`` or ``~/.config/adloom/models.json``) and by ``--models FILE``,
after the models files provider plugins ship; later files add models or replace
entries with the same id.

Inference-profile ids (``us.``/``eu.``/``apac.``/``jp.``/``au.``/``global.`` + base id)
resolve to the base model's entry: they share its capabilities, and its prices unless
the entry prices that profile family apart (``profile_prices``: for newer Claude models a
``global.`` profile costs about 10% less than a geographic one), so every id is priced
as sent.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adloom.errors import InputError, ModelAccessError

PROFILE_PREFIXES = ("us", "eu", "apac", "global", "us-gov", "ca", "jp", "au")


class Lifecycle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["active", "legacy", "retired"] = "active"
    legacy_date: date | None = None
    # From this day until end of life the model is in public extended access: higher prices.
    public_extended_access_date: date | None = None
    eol_date: date | None = None

    def status_on(self, today: date) -> str:
        if self.status == "retired" or (self.eol_date and today >= self.eol_date):
            return "retired"
        if self.status == "legacy" or (self.legacy_date and today >= self.legacy_date):
            return "legacy"
        return "active"


# A model file's numbers: no negative prices, no 400-digit quotas.
Price = Annotated[float, Field(ge=0, le=1_000_000)]
Count = Annotated[int, Field(ge=0, le=10**12)]


Tier = Literal["default", "flex", "priority"]
TIERS: tuple[Tier, ...] = ("default", "flex", "priority")


class TierPrice(BaseModel):
    """USD per 1M tokens when a request is served in a tier other than ``default``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input_per_m: Price
    output_per_m: Price


class ProfilePrice(BaseModel):
    """USD per 1M tokens for requests sent through one inference-profile family
    (``global``, ``us``, ...), where it differs from the entry's own prices."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    input_per_m: Price
    output_per_m: Price
    # Unset: the entry's own cache prices (a profile family priced apart only for tokens).
    cache_read_per_m: Price | None = None
    cache_write_per_m: Price | None = None
    source: str = ""  # where the price was read (docs/models.md)


Api = Literal["converse", "messages"]


class ModelInfo(BaseModel):
    # No NaN or Infinity prices: Python's json reads them, and a NaN price disables the budget.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: str
    provider: str  # the provider that serves it: "bedrock", "draft", or a plugin's name
    kind: Literal["text", "image"]
    family: str  # request format: anthropic, nova, llama, cohere, titan-image, ...
    structured_output: Literal["native", "tool", "prompt"] = "prompt"
    input_per_m: Price = 0.0
    output_per_m: Price = 0.0
    image_prices: dict[str, Price] = Field(default_factory=dict)
    aspect_ratios: list[str] = Field(default_factory=list)
    batch: bool = False  # offered in batch inference (copy requests: ``--mode batch``)
    # Per 1M tokens in a batch job (about half the on-demand price); the job limits are
    # the service's default quotas (an account may have others).
    batch_input_per_m: Price = 0.0
    batch_output_per_m: Price = 0.0
    batch_min_records: Count = 100
    batch_max_records: Count = 50_000
    batch_max_file_mb: Count = 1024
    # Regions where a batch job may name the base id; elsewhere a job names the region's
    # inference profile. Empty: the base id in every region (docs/batch.md, by region).
    batch_base_regions: list[str] = Field(default_factory=list)
    on_demand: bool = True
    profiles: list[str] = Field(default_factory=list)
    latency_optimized: bool = False
    # Takes Converse image content blocks (a ``--score`` judge sees the composed creative).
    image_input: bool = False
    # Regions that serve latency-optimized inference (through the inference profile);
    # empty with latency_optimized: every region that has the model.
    latency_optimized_regions: list[str] = Field(default_factory=list)
    # Per 1M tokens when latency-optimized inference is served; 0: the standard price.
    optimized_input_per_m: Price = 0.0
    optimized_output_per_m: Price = 0.0
    # Converse ``serviceTier`` values besides ``default`` the model takes, at their prices.
    service_tiers: dict[Literal["flex", "priority"], TierPrice] = Field(default_factory=dict)
    # Prompt caching: a ``cachePoint`` after a prefix of at least ``min_cache_tokens``;
    # cache reads and writes are billed per 1M tokens at their own prices.
    prompt_caching: bool = False
    min_cache_tokens: Count = 0
    cache_read_per_m: Price = 0.0
    cache_write_per_m: Price = 0.0
    # Images with more pixels than this are billed at the ``*_large`` price.
    large_image_px: Count = 1024 * 1024
    tpm: Count = 0  # tokens per minute, 0: not token-limited
    # The model's name in the account's Service Quotas ("... tokens per minute for NAME"),
    # which is a display name, not the id; empty: the account's quotas are not looked up.
    quota_names: list[str] = Field(default_factory=list)
    ipm: Count = 0  # images per minute
    # Output tokens count this many times against tpm.
    output_quota_multiplier: Annotated[int, Field(ge=1, le=100)] = 1
    max_output_tokens: Annotated[int, Field(ge=1, le=1_000_000)] = 4096
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    # The API the service serves the model through: ``converse`` (adloom's), or only
    # Bedrock's Anthropic Messages endpoint (``messages``), which adloom does not speak.
    api: Api = "converse"
    # Prices for requests through a profile family that costs other than the entry's own
    # (which are then the in-region and geographic price): prefix -> prices.
    profile_prices: dict[str, ProfilePrice] = Field(default_factory=dict)
    # The regions that offer the model; empty: every region (as far as adloom knows).
    regions: list[str] = Field(default_factory=list)
    # Where each fact was read: "id", "price", "lifecycle", ... -> source (docs/models.md).
    sources: dict[str, str] = Field(default_factory=dict)
    notes: str = ""

    @model_validator(mode="after")
    def _batch_priced(self) -> ModelInfo:
        # A model offered in batch without a batch price would make batch jobs look free.
        if self.batch and not (self.batch_input_per_m and self.batch_output_per_m):
            raise ValueError(
                "batch is true but batch_input_per_m / batch_output_per_m are not set: "
                "give the batch prices (USD per 1M tokens), or set batch to false"
            )
        return self

    @model_validator(mode="after")
    def _profiles_priced(self) -> ModelInfo:
        # A price for a profile the model is not offered under would never apply.
        stray = sorted(set(self.profile_prices) - set(self.profiles))
        if stray:
            raise ValueError(
                f"profile_prices names {', '.join(stray)}, not among its profiles "
                f"({', '.join(self.profiles) or 'none'})"
            )
        return self

    def unreachable(self) -> str:
        """Why adloom cannot call the model at all; "" when it can."""
        if self.api == "messages":
            return (
                "it is served only through Bedrock's Anthropic Messages API endpoint "
                "(/anthropic/v1/messages), not through Converse, which adloom uses"
            )
        return ""

    def usable_on(self, today: date) -> bool:
        """Offered to a user choosing a model: reachable and not past its end of life."""
        return not self.unreachable() and self.lifecycle.status_on(today) != "retired"

    def priced_for(self, model_id: str) -> ModelInfo:
        """This entry with the prices of ``model_id`` as sent (its profile family's)."""
        prices = self.profile_prices.get(profile_of(model_id) or "")
        if prices is None:
            return self
        return self.model_copy(update=prices.model_dump(exclude={"source"}, exclude_none=True))

    def tiers(self) -> list[Tier]:
        """The service tiers the model takes: ``default`` and those it is priced for."""
        return [t for t in TIERS if t == "default" or t in self.service_tiers]

    def text_cost(
        self,
        input_tokens: int,
        output_tokens: int,
        *,
        optimized: bool = False,
        tier: str = "default",
        cache_read: int = 0,
        cache_write: int = 0,
        batch: bool = False,
    ) -> float:
        """USD for the tokens, as served: ``optimized`` (latency-optimized inference),
        ``tier``, and input read from / written to the prompt cache at their own prices;
        ``batch``: answered in a batch job, at the batch prices (no tier or latency option
        applies there). ``input_tokens`` excludes the cached ones, as Bedrock's usage
        reports it."""
        priced = next((p for t, p in self.service_tiers.items() if t == tier), None)
        in_m = priced.input_per_m if priced else self.input_per_m
        out_m = priced.output_per_m if priced else self.output_per_m
        if batch:
            in_m, out_m = self.batch_input_per_m, self.batch_output_per_m
        elif optimized:
            in_m = self.optimized_input_per_m or in_m
            out_m = self.optimized_output_per_m or out_m
        cached = cache_read * self.cache_read_per_m + cache_write * self.cache_write_per_m
        return (input_tokens * in_m + output_tokens * out_m + cached) / 1e6

    def batch_cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD for the tokens of a request answered in a batch job."""
        return (
            input_tokens * self.batch_input_per_m + output_tokens * self.batch_output_per_m
        ) / 1e6

    def image_cost(self, quality: str = "standard", large: bool = False) -> float:
        prices = self.image_prices
        key = f"{quality}_large" if large else quality
        return prices.get(key, prices.get(quality, max(prices.values(), default=0.0)))

    def image_cost_at(self, width: int, height: int, quality: str = "standard") -> float:
        """USD for one image of this size: the large price above ``large_image_px``."""
        return self.image_cost(quality, large=width * height > self.large_image_px)

    def profile_ids(self) -> list[str]:
        """The inference-profile ids of this model (``us.`` + id, ...)."""
        return [f"{prefix}.{self.id}" for prefix in self.profiles]


def worst_text_cost(
    info: ModelInfo,
    input_tokens: int,
    max_tokens: int,
    *,
    cache_tokens: int = 0,
    optimized: bool = False,
    tier: str = "default",
) -> float:
    """The most a copy request can cost: every output token used, and its cached prefix
    (``cache_tokens`` of ``input_tokens``) either written to the cache or not cached."""
    plain = info.text_cost(input_tokens, max_tokens, optimized=optimized, tier=tier)
    if not cache_tokens:
        return plain
    written = info.text_cost(
        input_tokens - cache_tokens,
        max_tokens,
        optimized=optimized,
        tier=tier,
        cache_write=cache_tokens,
    )
    return max(plain, written)


def base_id(model_id: str) -> str:
    """``us.anthropic.claude…`` -> ``anthropic.claude…``; other ids unchanged."""
    head, _, rest = model_id.partition(".")
    return rest if head in PROFILE_PREFIXES and rest else model_id


def profile_of(model_id: str) -> str | None:
    head, _, rest = model_id.partition(".")
    return head if head in PROFILE_PREFIXES and rest else None


class Registry:
    def __init__(self, models: Iterable[ModelInfo], defaults: Mapping[str, Mapping[str, str]]):
        self.models: dict[str, ModelInfo] = {m.id: m for m in models}
        self.defaults = {k: dict(v) for k, v in defaults.items()}

    def find(self, model_id: str) -> ModelInfo | None:
        """The entry for ``model_id``, priced as that id is (a profile may cost less)."""
        info = self.models.get(model_id) or self.models.get(base_id(model_id))
        return info.priced_for(model_id) if info is not None else None

    def get(self, model_id: str, *, kind: str | None = None, where: str = "") -> ModelInfo:
        info = self.find(model_id)
        place = f"{where}: " if where else ""
        if info is None:
            close = difflib.get_close_matches(model_id, list(self.models), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ModelAccessError(
                f'{place}model "{model_id}" is not in the model registry.{hint}',
                hint="`adloom models` lists known models; add your own with --models FILE.",
            )
        if kind and info.kind != kind:
            raise ModelAccessError(
                f'{place}model "{model_id}" is a {info.kind} model, not a {kind} model.',
                hint=f"`adloom models` lists the {kind} models.",
            )
        return info

    def callable(self, model_id: str, *, kind: str, where: str = "") -> ModelInfo:
        """``get``, refusing (exit 3, before any call) a model adloom cannot call at all."""
        info = self.get(model_id, kind=kind, where=where)
        why = info.unreachable()
        if why:
            place = f"{where}: " if where else ""
            usable = [
                m.id
                for m in self.models.values()
                if m.provider == info.provider and m.kind == kind and m.usable_on(date.today())
            ][:3]
            raise ModelAccessError(
                f'{place}model "{model_id}" cannot be used by adloom: {why}.',
                hint=f"Choose a {kind} model served through Converse"
                + (f", e.g. {', '.join(usable)}" if usable else "")
                + " (`adloom models`, column API).",
            )
        return info

    def default(self, provider: str, kind: str) -> str:
        return self.defaults.get(provider, {}).get(kind, "")

    def merged(self, data: Mapping[str, Any], source: str) -> Registry:
        extra = _parse(data, source)
        defaults = {**self.defaults}
        for prov, kinds in data.get("defaults", {}).items():
            defaults[prov] = {**defaults.get(prov, {}), **kinds}
        return Registry([*self.models.values(), *extra], defaults)


def _parse(data: Mapping[str, Any], source: str) -> list[ModelInfo]:
    out = []
    for i, row in enumerate(data.get("models", [])):
        if not isinstance(row, dict):
            raise InputError(f"{source}: models[{i}] is not an object — give one per model")
        try:
            out.append(ModelInfo.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            # A check across fields (model_validator) has no location: no field to name.
            loc = ".".join(str(p) for p in first["loc"])
            field = f"{loc}: " if loc else ""
            raise InputError(
                f"{source}: models[{i}] ({row.get('id', '?')}): {field}{first['msg']}",
                hint="Fix the entry; see docs/models.md for the fields.",
            ) from None
    return out


def _is_model_file(data: object) -> TypeGuard[dict[str, Any]]:
    """A JSON object with a "models" list and a "defaults" object of objects, if any."""
    if not isinstance(data, dict):
        return False
    defaults = data.get("defaults", {})
    return isinstance(data.get("models", []), list) and (
        isinstance(defaults, dict) and all(isinstance(v, dict) for v in defaults.values())
    )


def _read_json(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: model file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON model file ({exc})") from None
    if not _is_model_file(data):
        raise InputError(
            f"{path}: not a model file — it must hold a JSON object with a"
            ' "models" list and optionally a "defaults" object',
            hint="See docs/models.md for the format.",
        )
    return data


def load_registry(
    extra_files: Iterable[Path] = (),
    plugin_files: Iterable[Path] = (),
    user_file: Path | None = None,
) -> Registry:
    """The shipped models, then ``plugin_files`` (the models files of provider plugins,
    which the caller gathers: providers build on the registry, not the other way round),
    ``user_file`` (the user's own, ``Env.models_file``; read if it exists) and
    ``extra_files`` (``--models``), each adding to or replacing what came before."""
    raw = json.loads(files("adloom").joinpath("data/models.json").read_text(encoding="utf-8"))
    registry = Registry(_parse(raw, "models.json"), raw.get("defaults", {}))
    paths = [user_file] if user_file is not None and user_file.is_file() else []
    for path in [*plugin_files, *paths, *extra_files]:
        registry = registry.merged(_read_json(path), str(path))
    return registry
