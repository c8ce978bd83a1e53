"""The model registry: which models exist, how to talk to them, what they cost.

Models are data (``data/models.json``), extended without code changes by a user
file (``$ADLOOM_MODELS`` or ``~/.config/adloom/models.json``) and by ``--models FILE``;
later files add models or replace entries with the same id.

Inference-profile ids (``us.``/``eu.``/``apac.``/``jp.``/``au.``/``global.`` + base id)
resolve to the base model's entry: they share prices and capabilities.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Mapping
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    provider: str  # the provider that serves it: "bedrock", "draft", or a plugin's name
    kind: Literal["text", "image"]
    family: str  # request format: anthropic, nova, llama, cohere, titan-image, ...
    structured_output: Literal["native", "tool", "prompt"] = "prompt"
    input_per_m: float = 0.0
    output_per_m: float = 0.0
    image_prices: dict[str, float] = Field(default_factory=dict)
    aspect_ratios: list[str] = Field(default_factory=list)
    batch: bool = False
    on_demand: bool = True
    profiles: list[str] = Field(default_factory=list)
    latency_optimized: bool = False
    # Regions that serve latency-optimized inference (through the inference profile);
    # empty with latency_optimized: every region that has the model.
    latency_optimized_regions: list[str] = Field(default_factory=list)
    # Per 1M tokens when latency-optimized inference is served; 0: the standard price.
    optimized_input_per_m: float = 0.0
    optimized_output_per_m: float = 0.0
    # Images with more pixels than this are billed at the ``*_large`` price.
    large_image_px: int = 1024 * 1024
    tpm: int = 0  # tokens per minute, 0: not token-limited
    ipm: int = 0  # images per minute
    output_quota_multiplier: int = 1  # output tokens count this many times against tpm
    max_output_tokens: int = 4096
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    notes: str = ""

    def text_cost(self, input_tokens: int, output_tokens: int, *, optimized: bool = False) -> float:
        """USD for the tokens; ``optimized``: served with latency-optimized inference."""
        in_m = (optimized and self.optimized_input_per_m) or self.input_per_m
        out_m = (optimized and self.optimized_output_per_m) or self.output_per_m
        return (input_tokens * in_m + output_tokens * out_m) / 1e6

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

    @property
    def max_image_cost(self) -> float:
        return max(self.image_prices.values(), default=0.0)


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
        return self.models.get(model_id) or self.models.get(base_id(model_id))

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
        try:
            out.append(ModelInfo.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise InputError(
                f"{source}: models[{i}] ({row.get('id', '?')}): {field}: {first['msg']}",
                hint="Fix the entry; see docs/models.md for the fields.",
            ) from None
    return out


def _read_json(path: Path) -> Mapping[str, Any]:
    try:
        data: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: model file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON model file ({exc})") from None
    return data


def user_models_file() -> Path:
    env = os.environ.get("ADLOOM_MODELS")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "adloom" / "models.json"


def load_registry(extra_files: Iterable[Path] = ()) -> Registry:
    raw = json.loads(files("adloom").joinpath("data/models.json").read_text(encoding="utf-8"))
    registry = Registry(_parse(raw, "models.json"), raw.get("defaults", {}))
    user = user_models_file()
    paths = [user] if user.is_file() else []
    for path in [*paths, *extra_files]:
        registry = registry.merged(_read_json(path), str(path))
    return registry
