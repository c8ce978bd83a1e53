"""``adloom doctor`` and ``adloom models --check``: what this account and region can use.

``models --check`` asks the Bedrock control plane (ListFoundationModels,
ListInferenceProfiles, GetFoundationModelAvailability) which registry models this
account can call in this region, by which ids, and their lifecycle there.

``doctor`` checks what a run needs, cheapest first: a region, credentials (their
source only: ``env``, ``sso``, ``iam-role``..., never a secret), then each
configured model. A text model gets a one-token Converse call (a fraction of a
cent; it proves access, the id form and the region at once); an image model, whose
cheapest call costs cents, is checked through the control plane instead. Every
failure comes with what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from rich.table import Table

from adloom.console import Env
from adloom.engine.quotas import Quotas, Source, unit_of
from adloom.errors import AdloomError, ProviderError
from adloom.providers.base import Kind, TransientError
from adloom.providers.bedrock import account_quotas, lifecycle, profiles
from adloom.providers.bedrock.client import Clients, ErrorContext, error_code, translate
from adloom.registry import ModelInfo, Registry, base_id, profile_of

T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    name: str  # "region", "credentials", or a model id
    ok: bool
    detail: str
    hint: str = ""


@dataclass(frozen=True)
class Access:
    """One registry model as this account and region see it."""

    id: str
    kind: str
    offered: bool  # the region offers the model
    authorized: str  # "yes", "no" or "unknown"
    ids: list[str] = field(default_factory=list)  # ids this account can call here
    lifecycle: str = ""  # as the service reports it
    registry_lifecycle: str = ""
    note: str = ""


def _control(call: Callable[[], T], what: str) -> T:
    """A control-plane call, its failure said in words (it is no model's fault)."""
    try:
        return call()
    except ClientError as exc:
        code, message, _status = error_code(exc)
        if code == "AccessDeniedException":
            raise ProviderError(
                f"Your AWS identity may not call {what}: {message}",
                hint=f"Allow bedrock:{what} in its IAM policy to use this check.",
            ) from None
        raise translate(exc, ErrorContext(what, "", Registry([], {}))) from None
    except BotoCoreError as exc:
        raise ProviderError(f"{what} failed: {exc}") from None


def _lifecycle(summary: Mapping[str, Any]) -> str:
    life = summary.get("modelLifecycle") or {}
    status = str(life.get("status", "")).lower()
    end = life.get("endOfLifeTime")
    if end is not None and hasattr(end, "date"):
        return f"{status} (EOL {end.date().isoformat()})"
    return status


def check_models(
    registry: Registry, clients: Clients, today: date | None = None, *, show_all: bool = False
) -> list[Access]:
    """Every bedrock model of the registry (one past its registry end of life only with
    ``show_all``), as this account and region can use it."""
    day = today or date.today()
    control = clients.control()
    summaries = {
        s["modelId"]: s
        for s in _control(control.list_foundation_models, "ListFoundationModels")["modelSummaries"]
    }
    profile_ids: set[str] = set()
    pages = control.get_paginator("list_inference_profiles").paginate()
    for page in _control(lambda: list(pages), "ListInferenceProfiles"):
        profile_ids.update(p["inferenceProfileId"] for p in page["inferenceProfileSummaries"])
    rows = []
    for info in registry.models.values():
        if info.provider != "bedrock" or not (
            show_all or info.lifecycle.status_on(day) != "retired"
        ):
            continue
        rows.append(_access(info, summaries.get(info.id), profile_ids, clients, day))
    return rows


def _access(
    info: ModelInfo,
    summary: Mapping[str, Any] | None,
    profile_ids: set[str],
    clients: Clients,
    day: date,
) -> Access:
    registry_life = info.lifecycle.status_on(day)
    if summary is None:
        return Access(
            info.id, info.kind, False, "unknown", registry_lifecycle=registry_life,
            note="not offered in this region: try another region (--region)",
        )  # fmt: skip
    authorized = "unknown"
    try:
        found = clients.control().get_foundation_model_availability(modelId=info.id)
        authorized = "yes" if found["authorizationStatus"] == "AUTHORIZED" else "no"
    except (ClientError, BotoCoreError):
        pass  # an older account or a restricted identity: access stays "unknown"
    ids = [p for p in info.profile_ids() if p in profile_ids]
    if "ON_DEMAND" in summary.get("inferenceTypesSupported", []):
        ids.insert(0, info.id)
    if info.unreachable():
        note = f"adloom cannot use it: {info.unreachable()}"
    elif authorized == "no":
        note = "enable model access in the Bedrock console"
    elif not ids:
        note = "no on-demand id or inference profile here"
    elif ids[0] != info.id:
        note = f"inference profile ids only, e.g. {ids[0]}"
    else:
        note = ""
    return Access(
        info.id, info.kind, True, authorized, ids, _lifecycle(summary), registry_life, note
    )


def _probe_text(model: str, clients: Clients, registry: Registry) -> Check:
    try:
        clients.runtime("text").converse(
            modelId=model,
            messages=[{"role": "user", "content": [{"text": "Reply with OK."}]}],
            inferenceConfig={"maxTokens": 1},
        )
    except (ClientError, BotoCoreError) as exc:
        return _failed(model, translate(exc, ErrorContext(model, clients.region(), registry)))
    return Check(model, True, "answers (a 1-token Converse call)")


def _probe_image(model: str, clients: Clients, registry: Registry) -> Check:
    base = base_id(model)
    context = ErrorContext(model, clients.region(), registry, kind="image")
    try:
        details = clients.control().get_foundation_model(modelIdentifier=base)["modelDetails"]
        found = clients.control().get_foundation_model_availability(modelId=base)
    except (ClientError, BotoCoreError) as exc:
        return _failed(model, translate(exc, context))
    if found["authorizationStatus"] != "AUTHORIZED":
        return _failed(model, _translate_denied(context))
    if profile_of(model) is None and "ON_DEMAND" not in details.get("inferenceTypesSupported", []):
        return Check(
            model, False, "not callable on demand by its base id",
            hint="Use one of its inference profile ids (`adloom models --check` lists them).",
        )  # fmt: skip
    return Check(model, True, f"offered and enabled ({_lifecycle(details)})")


def _translate_denied(context: ErrorContext) -> Exception:
    """The access-denied message the runtime would give, without paying for an image."""
    exc = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "model access is not enabled"}},
        "GetFoundationModelAvailability",
    )
    return translate(exc, context)


def _failed(model: str, exc: Exception) -> Check:
    """A failed check from what ``translate`` made of the error."""
    if isinstance(exc, AdloomError):
        return Check(model, False, exc.message, exc.hint or "")
    if isinstance(exc, TransientError):
        return Check(model, False, str(exc), "Bedrock is busy or unreachable; try again shortly.")
    return Check(model, False, str(exc))  # RequestFailed: the service's own words


def doctor(registry: Registry, clients: Clients, models: Iterable[tuple[str, Kind]]) -> list[Check]:
    """Region, credential source, then each model: each check says what to do if it fails."""
    checks: list[Check] = []
    try:
        region = clients.region()
        checks.append(Check("region", True, region))
    except AdloomError as exc:
        return [Check("region", False, exc.message, exc.hint or "")]
    try:
        checks.append(Check("credentials", True, f"found (source: {clients.credential_method()})"))
    except AdloomError as exc:
        return [*checks, Check("credentials", False, exc.message, exc.hint or "")]
    for model, kind in models:
        info = registry.find(model)
        if info is None or info.kind != kind:
            checks.append(
                Check(model, False, f"not a {kind} model in the registry",
                      "`adloom models` lists known models; add yours with --models FILE.")
            )  # fmt: skip
            continue
        checks.append(_check_model(model, kind, registry, clients, region))
    return checks


def _check_model(
    model: str, kind: Kind, registry: Registry, clients: Clients, region: str
) -> Check:
    """Lifecycle from the control plane, then a probe through the id a run would send;
    a model adloom cannot call (served outside Converse) fails without a call."""
    try:
        info = registry.callable(model, kind=kind)
        sent = profiles.choose(model, info, region=region).model_id
        notes = lifecycle.check([(model, kind)], registry, clients)
    except AdloomError as exc:
        return Check(model, False, exc.message, exc.hint or "")
    probe = _probe_text if kind == "text" else _probe_image
    found = probe(sent, clients, registry)
    via = f" via {sent}" if sent != model else ""
    detail = "; ".join([found.detail + via, *notes])
    return replace(found, name=model, detail=detail)


def applied_quotas(
    registry: Registry,
    clients: Clients,
    models: Sequence[tuple[str, Kind]],
    settings: Mapping[str, str] | None = None,
) -> tuple[list[Source], tuple[str, ...]]:
    """The quota a run would pace each model at, and where it comes from; with the
    warnings of reading the account's. Nothing without a region and credentials."""
    try:
        clients.check()
    except AdloomError:
        return [], ()  # the region or credentials check already says what to do
    region = clients.region()
    sent = [(_sent(model, kind, registry, region), kind) for model, kind in models]
    quotas = Quotas(registry, settings)
    account = account_quotas.read(clients, registry, quotas.unset(sent))
    quotas = quotas.with_account(account)
    return [quotas.explain(model, unit_of(kind)) for model, kind in sent], account.warnings


def _sent(model: str, kind: Kind, registry: Registry, region: str) -> str:
    """The id a run in ``region`` would send for ``model`` (its quotas are that id's)."""
    try:
        return profiles.choose(model, registry.get(model, kind=kind), region=region).model_id
    except AdloomError:
        return model  # the model's own check says what is wrong with it


# ---------------------------------------------------------------- output


def print_checks(env: Env, checks: Sequence[Check]) -> None:
    out = env.out_console
    for c in checks:
        mark = "[green]ok[/]  " if c.ok else "[red]FAIL[/]"
        out.print(f"{mark} {c.name}: {c.detail}", markup=True)
        if c.hint and not c.ok:
            out.print(f"      what to do: {c.hint}", markup=False)


def print_quotas(env: Env, sources: Sequence[Source]) -> None:
    out = env.out_console
    for source in sources:
        out.print(f"     quota {source.line()}", markup=False)


def print_access(env: Env, rows: Sequence[Access], region: str) -> None:
    table = Table(title=f"Models in {region} for this account", title_justify="left")
    for col in ("id", "kind", "access", "ids to use", "lifecycle", "note"):
        table.add_column(col)
    for r in rows:
        access = {"yes": "enabled", "no": "not enabled"}.get(r.authorized, "?")
        table.add_row(
            r.id,
            r.kind,
            access if r.offered else "not offered",
            "\n".join(r.ids) or "-",
            r.lifecycle or r.registry_lifecycle,
            r.note,
        )
    env.out_console.print(table)


def as_json(items: Sequence[Check] | Sequence[Access]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]
