"""Per-model quotas: the registry's defaults, overridden by ``quota.<model-id>.tpm|ipm``.

Quotas are per model id as sent: an inference profile (``us.…``) has its own quota at
AWS, so an override for the exact id wins, and one for the base id applies to its
profiles too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adloom.errors import InputError
from adloom.model import Usage
from adloom.providers.base import Request
from adloom.registry import Registry, base_id
from adloom.values import QUOTA_PER_MINUTE, whole

PREFIX = "quota."


@dataclass(frozen=True)
class Quota:
    tpm: int = 0  # tokens per minute (text models); 0: no limit known
    ipm: int = 0  # images per minute (image models)
    output_multiplier: int = 1  # output tokens count this many times against tpm

    def per_minute(self, kind: str) -> int:
        return self.ipm if kind == "image" else self.tpm

    def reserved(self, request: Request) -> float:
        """What the service holds against the quota while the request runs."""
        if request.kind == "image":
            return 1.0
        return request.input_tokens + request.max_tokens * self.output_multiplier

    def used(self, request: Request, usage: Usage) -> float:
        if request.kind == "image":
            return 1.0
        return usage.input_tokens + usage.output_tokens * self.output_multiplier


class Quotas:
    def __init__(
        self,
        registry: Registry | None = None,
        settings: Mapping[str, str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> None:
        """``settings``: campaign extras (``--set``/Campaign sheet); ``where`` names their cells."""
        self.registry = registry
        self.overrides: dict[str, dict[str, int]] = {}
        for key, value in (settings or {}).items():
            if key.startswith(PREFIX):
                self._parse(key, value, (where or {}).get(key, f"--set {key}"))

    def _parse(self, key: str, value: str, where: str) -> None:
        model, _, unit = key.removeprefix(PREFIX).rpartition(".")
        if not model or unit not in ("tpm", "ipm"):
            raise InputError(
                f'{where}: setting "{key}": expected quota.<model-id>.tpm or quota.<model-id>.ipm'
            )
        count = whole(
            value.replace(",", "").replace("_", ""), QUOTA_PER_MINUTE, f"{where}: {key} ="
        )
        self.overrides.setdefault(model, {})[unit] = count

    def for_model(self, model: str) -> Quota:
        info = self.registry.find(model) if self.registry else None
        quota = Quota(
            info.tpm if info else 0,
            info.ipm if info else 0,
            info.output_quota_multiplier if info else 1,
        )
        override = self.overrides.get(model) or self.overrides.get(base_id(model)) or {}
        return Quota(
            override.get("tpm", quota.tpm),
            override.get("ipm", quota.ipm),
            quota.output_multiplier,
        )
