"""A run's settings, made in one place for ``adloom run`` and ``adloom review``.

What the user chose on the command line (``Choices``), the campaign's settings and the
model registry become the provider, its plan and the ``RunOptions`` (``settle``). The
choices that shape what is generated are recorded in the journal at run start, and a
review round inherits them from the journal next to the reviewed workbook
(``for_review``): the user's own choices win, then the run's, then the brief's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adloom import values
from adloom.console import Env
from adloom.engine.journal import run_settings
from adloom.errors import InputError
from adloom.model import Campaign, Plan
from adloom.providers import ProviderConfig, make_provider, names, require
from adloom.providers.base import Batches, Kind, Provider
from adloom.registry import Registry
from adloom.run.batching import BatchOptions, blockers, mode_of

if TYPE_CHECKING:
    from adloom.engine import Quotas
    from adloom.run.pipeline import RunOptions
    from adloom.run.review import Reviewed

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
    "mode": str,
}


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
    mode: str | None = None  # on-demand | batch | auto (adloom.run.batching)
    sets: Mapping[str, str] = field(default_factory=dict)
    profile: str | None = None
    fresh: bool = False

    @classmethod
    def given(cls, params: Mapping[str, Any]) -> Choices:
        """The choices among a command's parsed parameters (typer's ``ctx.params``)."""
        sets = values.overrides(params.get("set_"))
        for key in ("text_model", "image_model", "judge_model"):
            if params.get(key):
                sets[key] = params[key]
        if params.get("score"):
            sets["score"] = "true"
        plain = {f.name for f in fields(cls)} - {"sets", "tier", "mode"}
        tier, mode = params.get("tier"), params.get("mode")
        return cls(
            sets=sets,
            tier=str(tier) if tier else None,  # the options' enums are str enums
            mode=str(mode) if mode else None,
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


def provider_config(
    choices: Choices, campaign: Campaign, registry: Registry, *, cache: Path | None
) -> ProviderConfig:
    """The provider's configuration; ``cache``: the user cache's folder (Env.cache_dir)."""
    return ProviderConfig(
        registry=registry,
        cache=cache,
        templates=choices.templates,
        region=choices.region,
        image_region=campaign.settings.image_region or None,
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
    models: list[tuple[str, Kind]] = [(plan.text_model, "text"), (plan.image_model, "image")]
    return models + ([(plan.outpaint_model, "image")] if plan.outpaint_model else [])


def judge_of(campaign: Campaign, registry: Registry, provider: str) -> str:
    """The ``--score`` judge model, "" without ``--score``; an unknown or unusable one
    stops here."""
    from adloom.run.score import judge_model, wanted

    return judge_model(campaign, registry, provider) if wanted(campaign) else ""


def started(env: Env, provider: Provider, plan: Plan, judge: str = "") -> Plan:
    """The provider's checks before a run's first call, the judge's with the models';
    each warning said once. Returns the plan as it can run (``outpainting``)."""
    plan = outpainting(env, provider, plan)
    for warning in provider.start(_models(plan), judge=judge):
        env.warn(warning)
    return plan


def outpainting(env: Env, provider: Provider, plan: Plan) -> Plan:
    """``plan``, or without outpaint when its model cannot be called here (e.g. a region
    without Stability's image services): a placement whose ``fit`` is ``outpaint`` stops
    the run before any call (exit 2); ``auto`` ones are cropped instead, said once."""
    why = provider.unavailable(plan.outpaint_model) if plan.outpaint_model else ""
    if not why:
        return plan
    settings = plan.campaign.settings
    asked = sorted({s.placement for j in plan.image_jobs for s in j.shapes if s.fit == "outpaint"})
    fix = (
        "Set image_region (Campaign sheet, or --set image_region=us-east-1) to a region that "
        "offers it: image requests go there, copy stays in this run's region"
    )
    if asked:
        where = plan.campaign.cells.get("fit", "fit") if settings.fit == "outpaint" else "fit"
        raise InputError(
            f"{where}: placements {', '.join(asked)} are to be extended (fit outpaint), but {why}.",
            hint=f"{fix}; or set fit to auto, crop or pad.",
        )
    env.warn(f"fit auto: placements a crop would cut are cropped all the same: {why}. {fix}.")
    return replace(plan, outpaint_model="")


def _with_account(env: Env, provider: Provider, plan: Plan, quotas: Quotas, judge: str) -> Quotas:
    """``quotas`` (the settings', else the registry's) with the account's own under the
    settings, read at run start for the models (as sent; the judge too) no setting
    covers; why not, said once."""
    judged: list[tuple[str, Kind]] = [(judge, "text")] if judge else []
    used = [*_models(plan), *judged]
    sent = list(dict.fromkeys((provider.sent_id(model, kind), kind) for model, kind in used))
    account = provider.account_quotas(quotas.unset(sent))
    for warning in account.warnings:
        env.warn(warning)
    return quotas.with_account(account)


def _batched(
    env: Env, choices: Choices, campaign: Campaign, config: ProviderConfig, plan: Plan
) -> tuple[Provider, Batches | None]:
    """The run's provider, and its batch jobs when copy goes in batch (``--mode``).

    ``batch`` that cannot be (a provider or model without batch jobs, an option a job
    cannot carry, missing settings) is refused before anything is sent or uploaded;
    ``auto`` falls back to on-demand and says why."""
    where = "--mode" if choices.mode else campaign.cells.get("mode", "mode")
    mode = mode_of(choices.mode or campaign.settings.extra.get("mode"), where)
    name = provider_name(choices, campaign)
    if mode == "on-demand":
        return make_provider(name, config), None
    batched, refusal = _batch_jobs(mode, name, config, plan)
    if refusal is None and batched is not None:
        return batched
    why, fix = refusal or ("", "")
    if mode == "batch":
        raise InputError(f"{where} batch: {why}.", hint=f"{fix}, or run with --mode on-demand.")
    env.err(f"--mode auto: copy goes on-demand: {why}.")
    return make_provider(name, config), None


def _batch_jobs(
    mode: str, name: str, config: ProviderConfig, plan: Plan
) -> tuple[tuple[Provider, Batches] | None, tuple[str, str] | None]:
    """The provider built for batch and its jobs, or why copy cannot go in batch (and
    what would let it)."""
    blocked = blockers(config)
    if blocked:
        return None, (f"{', '.join(blocked)} cannot go in a batch job", "Leave them out")
    if mode == "auto" and not any(key.startswith("batch.") for key in config.settings):
        return None, ("no batch.s3_uri or batch.role_arn setting", "Set them (docs/batch.md)")
    provider = make_provider(name, replace(config, batch=True))
    batches = provider.batches()  # malformed or missing settings: exit 2 here
    limits = batches.limits(provider.sent_id(plan.text_model, "text")) if batches else None
    if batches is None:
        return None, (f"the {name} provider has no batch jobs", "Use --provider bedrock")
    if limits is None:
        why = f'model "{plan.text_model}" is not offered in batch inference'
        return None, (why, "Choose a text model with batch in `adloom models`")
    if mode == "auto" and len(plan.copy_jobs) < limits.min_records:
        why = (
            f"{len(plan.copy_jobs)} copy request(s), fewer than the {limits.min_records} a"
            f" batch job of {plan.text_model} must hold"
        )
        return None, (why, "Generate more variants")
    return (provider, batches), None


def _batch_settings(campaign: Campaign) -> dict[str, str]:
    return {k: v for k, v in campaign.settings.extra.items() if k.startswith("batch.")}


def _batch_options(campaign: Campaign) -> BatchOptions:
    poll = campaign.settings.extra.get("batch.poll_seconds")
    if poll is None:
        return BatchOptions()
    where = campaign.cells.get("batch.poll_seconds", "--set batch.poll_seconds")
    seconds = values.number(poll, values.POLL_SECONDS, f"{where}: batch.poll_seconds")
    return BatchOptions(poll_s=seconds, max_poll_s=max(seconds, BatchOptions().max_poll_s))


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
    from adloom.run.keep import require_scores
    from adloom.run.pipeline import RunOptions
    from adloom.run.plan import make_plan
    from adloom.run.score import check_judge, wanted

    # Per-model quotas: --set quota.<model-id>.tpm=N, else the account's, else the
    # registry's. Read first: a bad one is the user's to fix, before any credentials.
    quotas = Quotas(registry, campaign.settings.extra, campaign.cells)
    keep = choices.keep or campaign.settings.keep
    where = "--keep" if choices.keep else campaign.cells.get("keep", "keep")
    require_scores(keep, scoring=wanted(campaign), where=where)
    name = provider_name(choices, campaign)
    require(name)  # as `plan` does: an unknown provider is named before its models are
    config = provider_config(choices, campaign, registry, cache=env.cache_dir)
    plan = make_plan(campaign, registry, name)
    provider, batches = _batched(env, choices, campaign, config, plan)
    judge = judge_of(campaign, registry, name)
    provider.check()
    plan = started(env, provider, plan, judge)
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
        quotas=_with_account(env, provider, plan, quotas, judge),
        # The batch settings too: `adloom jobs` reaches the run's jobs with them.
        settings={**choices.record(), **({"batch": _batch_settings(campaign)} if batches else {})},
        keep=keep,
        judge=judge,
        judge_images=bool(judge) and registry.get(judge).image_input,
        batches=batches,
        batch=_batch_options(campaign),
    )
    return Settled(provider, plan, options)
