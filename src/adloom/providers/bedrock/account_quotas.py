"""The account's applied Bedrock quotas, read from Service Quotas at run start.

Bedrock throttles each model on the quotas applied to this account and region,
which may be lower (new accounts) or higher (granted increases) than the defaults
the registry carries. ``ListServiceQuotas`` (service code ``bedrock``) lists them by
name; the names carry the model's display name, not its id:

    On-demand InvokeModel tokens per minute for Anthropic Claude 3.5 Haiku
    Cross-region model inference images per minute for Amazon Nova Canvas
    Global cross-Region model inference tokens per minute for Anthropic Claude Sonnet 4.5 V1

How a name maps to a model id (docs/bedrock.md):
- A name is ``<scope> (tokens|images) per minute for <model name>``. The scope
  says which ids it applies to: "On-demand InvokeModel", "On-demand model
  inference" or plain "InvokeModel" to base ids; "Cross-Region InvokeModel" or
  "Cross-region model inference" to geographic profiles (``us.``, ``eu.``, ``jp.``...);
  "Global cross-Region ..." to ``global.`` profiles. Any other scope (latency-optimized,
  batch, per day) is not a pacing quota and is ignored.
- The model name must equal one of the registry entry's ``quota_names``, ignoring
  case, repeated spaces and a trailing "V1" (AWS writes "Claude Sonnet 4 V1" and
  "Claude Sonnet 4" for the same model). Nothing else matches: "Claude Sonnet 4.5 V1
  1M Context Length" is another quota, "Claude 3.5 Sonnet V2" another model.
- A text model is paced on its tokens quota, an image model on its images quota.
  Requests-per-minute quotas were removed from bedrock-runtime in 2026 (AWS's quotas
  page lists token quotas only): names in "requests per minute", which an account may
  still list, are not read.

Batch jobs' limits come from the same list (``batch_limits``): "Minimum number of
records per batch inference job for <model>", "Records per batch inference job for
<model>", "Records per input file per batch inference job for <model>", "Batch
inference input file size (in GB) for <model>" ("(in GB)" is also written last) and
"Sum of in-progress and submitted batch inference jobs using a base model for <model>"
(how many jobs may be submitted or running at once). Their
model names leave out the vendor ("Claude 3.5 Haiku", "Nova Lite V1"), so a registry
name matches with or without its first word.

The list is kept a day per (region, profile) in the user's cache folder
(``adloom.usercache``). When it cannot be read (``servicequotas:ListServiceQuotas``
denied, the endpoint unreachable), the registry's defaults are used with one
warning saying so; nothing is cached then, so the next run asks again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adloom import usercache
from adloom.errors import ProviderError
from adloom.providers.base import Account, Applied, Kind
from adloom.providers.bedrock.client import Clients, error_code
from adloom.registry import ModelInfo, Registry, profile_of

SERVICE_CODE = "bedrock"

# Scope words as AWS writes them (two generations of names are in use), by the ids
# they apply to.
_SCOPES: dict[str, str] = {
    "on-demand invokemodel": "on-demand",
    "on-demand model inference": "on-demand",
    "invokemodel": "on-demand",
    "cross-region invokemodel": "cross-region",
    "cross-region model inference": "cross-region",
    "global cross-region invokemodel": "global",
    "global cross-region model inference": "global",
}
_NAME = re.compile(r"^(?P<scope>.+?) (?P<unit>tokens|images) per minute for (?P<model>.+)$")
# A batch job quota's name -> what it limits (BatchLimits' fields; the file size in GB).
_BATCH = re.compile(
    r"^(?P<what>minimum number of records per batch inference job|records per batch inference "
    r"job|records per input file per batch inference job|batch inference input file size"
    r"|sum of in-progress and submitted batch inference jobs using a base model)"
    r"(?: \(in gb\))? for (?P<model>.+?)(?: \(in gb\))?$"
)
_BATCH_FIELDS = {
    "minimum number of records per batch inference job": "min_records",
    "records per batch inference job": "max_records",
    "records per input file per batch inference job": "max_records",  # one file a job
    "batch inference input file size": "max_bytes",
    # Jobs at once: more are refused (ServiceQuotaExceededException), so adloom queues.
    "sum of in-progress and submitted batch inference jobs using a base model": "max_jobs",
}
GB = 1_000_000_000  # AWS's GB; the smaller reading of it, as it is a hard limit


@dataclass(frozen=True)
class Parsed:
    scope: str  # "on-demand" | "cross-region" | "global"
    unit: str  # "tokens" | "images"
    model: str  # normalised model name


def _normalise(name: str) -> str:
    """A model name as compared: case ignored, spaces collapsed, a trailing "V1" dropped."""
    words = name.lower().split()
    if len(words) > 1 and words[-1] == "v1":
        words.pop()
    return " ".join(words)


def parse(name: str) -> Parsed | None:
    """The scope, unit and model of a per-minute inference quota's name; else None."""
    found = _NAME.match(" ".join(name.lower().split()))
    scope = _SCOPES.get(found["scope"]) if found else None
    if found is None or scope is None:
        return None
    return Parsed(scope, found["unit"], _normalise(found["model"]))


def _parse_batch(name: str) -> tuple[str, str] | None:
    """(the BatchLimits field, normalised model name) of a batch job quota; else None."""
    found = _BATCH.match(" ".join(name.lower().split()))
    return (_BATCH_FIELDS[found["what"]], _normalise(found["model"])) if found else None


def _scope_of(model_id: str) -> str:
    """Which quotas a model id draws on: base ids on-demand, profile ids cross-region."""
    prefix = profile_of(model_id)
    if prefix is None:
        return "on-demand"
    return "global" if prefix == "global" else "cross-region"


def match(
    listed: Sequence[tuple[str, float]], registry: Registry, models: Sequence[tuple[str, Kind]]
) -> dict[str, dict[str, Applied]]:
    """model id -> unit (tpm, ipm) -> the account's quota, for ``models``."""
    index: dict[tuple[str, str, str], tuple[str, float]] = {}
    for name, value in listed:
        parsed = parse(name)
        if parsed is not None:
            index.setdefault((parsed.scope, parsed.unit, parsed.model), (name, value))
    found: dict[str, dict[str, Applied]] = {}
    for model, kind in models:
        info = registry.find(model)
        if info is None:
            continue
        word, unit = ("images", "ipm") if kind == "image" else ("tokens", "tpm")
        for quota_name in info.quota_names:
            hit = index.get((_scope_of(model), word, _normalise(quota_name)))
            if hit is not None:
                found.setdefault(model, {})[unit] = Applied(int(hit[1]), hit[0])
                break
    return found


def read(clients: Clients, registry: Registry, models: Sequence[tuple[str, Kind]]) -> Account:
    """The account's per-minute quotas for ``models`` (Bedrock models with quota names)."""
    wanted = [
        (model, kind)
        for model, kind in models
        if (info := registry.find(model)) and info.provider == "bedrock" and info.quota_names
    ]
    if not wanted:
        return Account()
    region = clients.region()
    try:
        listed = _listed(clients, region)
    except (ClientError, BotoCoreError) as exc:
        return Account(warnings=(_unreadable(exc, region),))
    found = match(listed, registry, wanted)
    warnings = []
    for model, units in found.items():
        for unit, applied in list(units.items()):
            if applied.per_minute < 1:
                del units[unit]  # a zero quota cannot be paced at: keep the default
                warnings.append(
                    f'this account\'s quota "{applied.name}" is 0 in {region}: Bedrock '
                    f"will throttle every request to {model}. Request an increase in the "
                    "Service Quotas console; pacing uses the registry's default meanwhile."
                )
    return Account({m: u for m, u in found.items() if u}, tuple(warnings))


def _listed(clients: Clients, region: str) -> list[tuple[str, float]]:
    """The per-minute inference quotas of Bedrock in ``region``, from the cache when fresh."""
    name = f"service-quotas.bedrock.{region}.{clients.session().profile_name}"
    rows = _rows(usercache.load(name))
    if rows is None:
        rows = _fetch(clients)
        usercache.save(name, [list(row) for row in rows])
    return rows


def _fetch(clients: Clients) -> list[tuple[str, float]]:
    pages = clients.quotas().get_paginator("list_service_quotas")
    rows = []
    # 100 a page, the most the service gives: Bedrock has hundreds of quotas.
    for page in pages.paginate(ServiceCode=SERVICE_CODE, PaginationConfig={"PageSize": 100}):
        for quota in page.get("Quotas", []):
            name, value = quota.get("QuotaName", ""), quota.get("Value")
            if value is not None and (parse(name) or _parse_batch(name)):
                rows.append((name, float(value)))
    return rows


def _rows(cached: Any) -> list[tuple[str, float]] | None:
    """A cached list as stored, or None when it is not one (then it is asked again)."""
    if not isinstance(cached, list):
        return None
    try:
        return [(str(name), float(value)) for name, value in cached]
    except (TypeError, ValueError):
        return None


def _unreadable(exc: ClientError | BotoCoreError, region: str) -> str:
    if isinstance(exc, ClientError):
        code, message, _status = error_code(exc)
        why = (
            f"servicequotas:ListServiceQuotas is not allowed ({message})"
            if code == "AccessDeniedException"
            else f"Service Quotas answered {code}: {message}"
        )
    else:
        why = f"Service Quotas could not be reached ({exc})"
    return (
        f"could not read this account's Bedrock quotas in {region}: {why}. Pacing uses "
        "the registry's default quotas; allow servicequotas:ListServiceQuotas to pace at "
        "the account's own, or set one with --set quota.<model-id>.tpm=N."
    )


def batch_limits(clients: Clients, info: ModelInfo) -> dict[str, int]:
    """The account's batch job limits for the model of ``info`` (BatchLimits' field ->
    value; the lowest where two quotas bound the same), from the cached list. Empty
    when none is known or the list cannot be read (the registry's limits apply then)."""
    names = {_normalise(n) for n in info.quota_names}
    names |= {n.partition(" ")[2] for n in names if " " in n}  # without the vendor
    try:
        listed = _listed(clients, clients.region())
    except (ClientError, BotoCoreError, ProviderError):
        return {}
    found: dict[str, int] = {}
    for name, value in listed:
        parsed = _parse_batch(name)
        if parsed is not None and parsed[1] in names and value >= 1:
            amount = int(value * GB) if parsed[0] == "max_bytes" else int(value)
            found[parsed[0]] = min(amount, found.get(parsed[0], amount))
    return found
