"""Per-model quotas: the account's, else the registry's, overridden by ``quota.<id>.tpm|ipm``.

Quotas are per model id as sent: an inference profile (``us.…``) has its own quota at
AWS, so an override for the exact id wins, and one for the base id applies to its
profiles too. What the account reports (``Account``, read from Service Quotas by the
provider) is already per id as sent. Every quota says where it came from
(``Quotas.explain``), for the run's summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from adloom.errors import InputError
from adloom.model import Source, Unit, Usage
from adloom.providers.base import Account, Applied, Kind, Request
from adloom.registry import Registry, base_id
from adloom.values import QUOTA_PER_MINUTE, whole

__all__ = ["Account", "Applied", "Quota", "Quotas", "Source", "unit_of"]

PREFIX = "quota."


def unit_of(kind: Kind) -> Unit:
    """What a model of ``kind`` is paced on: tokens (text) or images per minute."""
    return "ipm" if kind == "image" else "tpm"


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
        # Cache writes count against the quota like input; cache reads are given back.
        written = usage.input_tokens + usage.cache_write_tokens
        return written + usage.output_tokens * self.output_multiplier


class Quotas:
    def __init__(
        self,
        registry: Registry | None = None,
        settings: Mapping[str, str] | None = None,
        where: Mapping[str, str] | None = None,
        account: Account | None = None,
    ) -> None:
        """``settings``: campaign extras (``--set``/Campaign sheet); ``where`` names their
        cells; ``account``: the quotas the account reports (they replace the registry's)."""
        self.registry = registry
        self.account = account or Account()
        self.overrides: dict[str, dict[str, tuple[int, str]]] = {}
        for key, value in (settings or {}).items():
            if key.startswith(PREFIX):
                self._parse(key, value, (where or {}).get(key, f"--set {key}"))

    def _parse(self, key: str, value: str, where: str) -> None:
        model, _, unit = key.removeprefix(PREFIX).rpartition(".")
        if not model or unit not in ("tpm", "ipm"):
            raise InputError(
                f'{where}: setting "{key}": expected quota.<model-id>.tpm or quota.<model-id>.ipm'
            )
        number = whole(
            value.replace(",", "").replace("_", ""), QUOTA_PER_MINUTE, f"{where}: {key} ="
        )
        self.overrides.setdefault(model, {})[unit] = (number, where)

    def with_account(self, account: Account) -> Quotas:
        """These quotas, with what the account reports under the settings."""
        quotas = Quotas(self.registry, account=account)
        quotas.overrides = self.overrides
        return quotas

    def unset(self, models: Sequence[tuple[str, Kind]]) -> list[tuple[str, Kind]]:
        """The models whose quota no setting gives: the ones to ask the account about."""
        return [m for m in models if self.explain(m[0], unit_of(m[1])).source != "setting"]

    def explain(self, model: str, unit: Unit) -> Source:
        """The quota ``model`` is paced at in ``unit``: a setting, else the account's,
        else the registry's default."""
        for ident in (model, base_id(model)):
            override = self.overrides.get(ident, {}).get(unit)
            if override is not None:
                return Source(model, unit, override[0], "setting", override[1])
        applied = self.account.quotas.get(model, {}).get(unit)
        if applied is not None:
            return Source(model, unit, applied.per_minute, "account", applied.name)
        info = self.registry.find(model) if self.registry else None
        default = (info.tpm if unit == "tpm" else info.ipm) if info else 0
        return Source(model, unit, default, "registry", "registry default")

    def for_model(self, model: str) -> Quota:
        info = self.registry.find(model) if self.registry else None
        return Quota(
            self.explain(model, "tpm").per_minute,
            self.explain(model, "ipm").per_minute,
            info.output_quota_multiplier if info else 1,
        )
