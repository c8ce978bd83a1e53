"""A run's settings, made in one place for ``adloom run`` and ``adloom review``.

What the user chose on the command line (``Choices``), the campaign's settings and the
model registry become the provider, its plan and the ``RunOptions`` (``settle``). The
choices that shape what is generated are recorded in the journal at run start, and a
review round inherits them from the journal next to the reviewed workbook
(``for_review``): the user's own choices win, then the run's, then the brief's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adloom import values
from adloom.console import Env
from adloom.errors import InputError
from adloom.journal import run_settings
from adloom.model import Campaign, Plan
from adloom.providers import ProviderConfig, make_provider, names
from adloom.providers.base import Kind, Provider
from adloom.registry import Registry

if TYPE_CHECKING:
    from adloom.engine import Quotas
    from adloom.pipeline import RunOptions
    from adloom.review import Reviewed

# Recorded and inherited, besides ``sets``, with their types in JSON. Not ``profile``:
# whose credentials pay for a round is for whoever runs it to say (a colleague may
# review), nor one-off ``fresh``, nor ``keep``: a review round does not pick again, its
# reviewer does (docs/review.md).
INHERITED: dict[str, type | tuple[type, ...]] = {
    "provider": str,
    "temperature": (int, float),
    "max_tokens": int,
    "latency": str,
    "guardrail": str,
    "tier": str,
    "region": str,
    "templates": str,
    "max_cost": (int, float),
    "concurrency": int,
}


def overrides(pairs: Sequence[str] | None) -> dict[str, str]:
    """``--set key=value`` options as settings."""
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f'--set "{pair}": expected key=value, e.g. --set variants=2')
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Choices:
    """What the user chose for a run; None where nothing was chosen, so that a review
    round can tell what to inherit. ``sets`` holds ``--set`` and the model options."""

    provider: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    latency: str | None = None
    guardrail: str | None = None
    tier: str | None = None
    region: str | None = None
    templates: Path | None = None
    max_cost: float | None = None
    concurrency: int | None = None
    keep: int | None = None
    sets: Mapping[str, str] = field(default_factory=dict)
    profile: str | None = None
    fresh: bool = False

    @classmethod
    def given(cls, params: Mapping[str, Any]) -> Choices:
        """The choices among a command's parsed parameters (typer's ``ctx.params``)."""
        sets = overrides(params.get("set_"))
        for key in ("text_model", "image_model", "judge_model"):
            if params.get(key):
                sets[key] = params[key]
        if params.get("score"):
            sets["score"] = "true"
        plain = {f.name for f in fields(cls)} - {"sets", "tier"}
        tier = params.get("tier")
        return cls(
            sets=sets,
            tier=str(tier) if tier else None,  # the option's enum is a str enum
            **{k: v for k, v in params.items() if k in plain},
        )

    def record(self) -> dict[str, Any]:
        """The choices a later round inherits, as JSON for the journal (no credentials)."""
        recorded: dict[str, Any] = {
            k: getattr(self, k) for k in INHERITED if getattr(self, k) is not None
        }
        if self.templates is not None:
            recorded["templates"] = str(self.templates.resolve())
        if self.sets:
            recorded["sets"] = dict(self.sets)
        return recorded

    def over(self, recorded: Mapping[str, Any]) -> Choices:
        """These choices, with the ``recorded`` ones where none was made here."""
        inherited = {
            k: recorded[k]
            for k, kind in INHERITED.items()
            if getattr(self, k) is None and isinstance(recorded.get(k), kind)
        }  # a value of another type was not written by adloom: not inherited
        if "templates" in inherited:
            inherited["templates"] = Path(inherited["templates"])
        sets = recorded.get("sets")
        sets = sets if isinstance(sets, dict) else {}
        kept = {k: v for k, v in sets.items() if isinstance(v, str)}
        return replace(self, sets={**kept, **self.sets}, **inherited)

    def check(self) -> None:
        """What typer cannot check: a budget of nan or -1, a made-up region, no such
        folder, a latency mode that does not exist."""
        values.in_range(self.max_cost, values.BUDGET_USD, "--max-cost")
        values.in_range(self.temperature, values.TEMPERATURE, "--temperature")
        values.in_range(self.keep, values.KEEP, "--keep")
        values.region(self.region)
        values.folder(self.templates, "--templates")
        if self.latency not in (None, "standard", "optimized"):
            raise InputError(f'--latency "{self.latency}": use standard or optimized')


def for_review(env: Env, choices: Choices, reviewed: Reviewed) -> Choices:
    """A review round's choices: the user's, then those of the run that made the
    reviewed workbook (its folder's journal), then its Summary sheet's provider."""
    recorded = run_settings(reviewed.path.parent)
    if recorded is None:
        env.warn(
            f"{reviewed.path.name}: its folder's journal records no run options (a run by an"
            " older adloom, or the workbook moved): pass the run's --set, --guardrail and"
            " other options again if it had any"
        )
    choices = choices.over(recorded or {})
    if choices.provider is None and reviewed.provider in names():
        choices = replace(choices, provider=reviewed.provider)
    return choices


def provider_config(choices: Choices, campaign: Campaign, registry: Registry) -> ProviderConfig:
    return ProviderConfig(
        registry=registry,
        templates=choices.templates,
        region=choices.region,
        profile=choices.profile,
        temperature=choices.temperature,
        max_tokens=choices.max_tokens,
        latency=choices.latency,
        guardrail=choices.guardrail,
        # The service tier: the option, else the campaign's ``tier`` setting.
        tier=choices.tier or campaign.settings.tier or "default",
        settings=dict(campaign.settings.extra),
        cells=dict(campaign.cells),
    )


def provider_name(choices: Choices, campaign: Campaign) -> str:
    return choices.provider or campaign.settings.provider or "bedrock"


def _models(plan: Plan) -> list[tuple[str, Kind]]:
    return [(plan.text_model, "text"), (plan.image_model, "image")]


def started(env: Env, provider: Provider, plan: Plan) -> None:
    """The provider's checks before a run's first call; each warning said once."""
    for warning in provider.start(_models(plan)):
        env.warn(warning)


def _with_account(env: Env, provider: Provider, plan: Plan, quotas: Quotas) -> Quotas:
    """``quotas`` (the settings', else the registry's) with the account's own under the
    settings, read at run start for the models (as sent) no setting covers; why not,
    said once."""
    sent = [(provider.sent_id(model, kind), kind) for model, kind in _models(plan)]
    account = provider.account_quotas(quotas.unset(sent))
    for warning in account.warnings:
        env.warn(warning)
    return quotas.with_account(account)


@dataclass(frozen=True)
class Settled:
    """A run ready to go: its provider (checked), plan and options."""

    provider: Provider
    plan: Plan
    options: RunOptions


def settle(
    env: Env,
    campaign: Campaign,
    registry: Registry,
    choices: Choices,
    *,
    out: Path,
    force: bool,
    wait: bool,
) -> Settled:
    """Provider, plan and options, checked before any work: a paid provider without
    credentials, or a model past its end of life, stops here, not at the first request."""
    from adloom.engine import DEFAULT_CONCURRENCY, Quotas
    from adloom.keep import require_scores
    from adloom.pipeline import RunOptions
    from adloom.plan import make_plan
    from adloom.score import check_judge, judge_model, wanted

    # Per-model quotas: --set quota.<model-id>.tpm=N, else the account's, else the
    # registry's. Read first: a bad one is the user's to fix, before any credentials.
    quotas = Quotas(registry, campaign.settings.extra, campaign.cells)
    keep = choices.keep or campaign.settings.keep
    where = "--keep" if choices.keep else campaign.cells.get("keep", "keep")
    require_scores(keep, scoring=wanted(campaign), where=where)
    name = provider_name(choices, campaign)
    provider = make_provider(name, provider_config(choices, campaign, registry))
    plan = make_plan(campaign, registry, name)
    provider.check()
    started(env, provider, plan)
    judge = judge_model(campaign, registry, name) if wanted(campaign) else ""
    for warning in check_judge(provider, registry, judge) if judge else ():
        env.warn(warning)
    budget = choices.max_cost if choices.max_cost is not None else campaign.settings.max_cost_usd
    options = RunOptions(
        out=out,
        force=force,
        wait=wait,
        fresh=choices.fresh,
        concurrency=choices.concurrency or DEFAULT_CONCURRENCY,
        max_cost_usd=budget,
        templates=choices.templates,
        quotas=_with_account(env, provider, plan, quotas),
        settings=choices.record(),
        keep=keep,
        judge=judge,
        judge_images=bool(judge) and registry.get(judge).image_input,
    )
    return Settled(provider, plan, options)
