"""The command line: parse, call a stage, map errors to messages and exit codes.

Exit codes (docs/cli.md): 0 all succeeded, 1 some variants failed (the rest are
delivered), 2 bad input or usage, 3 provider/auth/config problem, 130 interrupted.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from adloom import __version__
from adloom.console import Env
from adloom.engine.core import DEFAULT_CONCURRENCY
from adloom.errors import AdloomError, BriefError, ExitCode, InputError
from adloom.model import Campaign, Plan, RunSummary
from adloom.providers import ProviderConfig, make_provider
from adloom.providers.base import Provider
from adloom.registry import Registry, load_registry

app = typer.Typer(
    name="adloom",
    help="Ad variants at volume: spreadsheet brief in, composed ads, preview and workbook out.",
    no_args_is_help=True,
    add_completion=False,
    # Never print locals: they may hold credentials.
    pretty_exceptions_enable=False,
)

BriefArg = Annotated[Path, typer.Argument(help="The brief: an .xlsx workbook or a .csv of briefs.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Campaign setting key=value (repeatable); overrides the brief."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ModelsOpt = Annotated[
    list[Path] | None, typer.Option("--models", help="Extra model registry file (JSON).")
]


def _env(ctx: typer.Context) -> Env:
    env: Env = ctx.obj
    return env


def _overrides(pairs: Sequence[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f'--set "{pair}": expected key=value, e.g. --set variants=2')
        out[key.strip()] = value.strip()
    return out


def _read(env: Env, brief: Path, sets: Sequence[str] | None) -> Campaign:
    from adloom.read import read_campaign

    campaign = read_campaign(brief, _overrides(sets))
    for w in campaign.warnings:
        env.warn(str(w))
    return campaign


def _registry(models: Sequence[Path] | None) -> Registry:
    return load_registry(models or ())


def _provider_name(option: str | None, campaign: Campaign) -> str:
    return option or campaign.settings.provider or "bedrock"


def _start(
    env: Env, campaign: Campaign, registry: Registry, name: str, config: ProviderConfig
) -> tuple[Provider, Plan]:
    """Provider and plan, checked before any work: a paid provider without
    credentials, or a model past its end of life, stops here, not at the first request."""
    from adloom.plan import make_plan

    provider = make_provider(name, config)
    plan = make_plan(campaign, registry, name)
    provider.check()
    _started(env, provider, plan)
    return provider, plan


def _started(env: Env, provider: Provider, plan: Plan) -> None:
    """The provider's checks before a run's first call; each warning said once."""
    for warning in provider.start([(plan.text_model, "text"), (plan.image_model, "image")]):
        env.warn(warning)


def _deliver(env: Env, summary: RunSummary, *, as_json: bool) -> None:
    """Print the run's summary; exit 1 when some ads failed or were not generated."""
    from adloom.report import print_summary

    if as_json:
        env.json(summary.as_json())
    else:
        print_summary(env, summary)
    if summary.failed or summary.not_generated:
        raise typer.Exit(ExitCode.SOME_FAILED)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        _env(ctx).out(f"adloom {__version__}")
        raise typer.Exit()
    _env(ctx).debug = debug


@app.command()
def validate(ctx: typer.Context, brief: BriefArg, set_: SetOpt = None) -> None:
    """Check a brief and print every problem with its place (exit 0 valid, 2 not)."""
    env = _env(ctx)
    campaign = _read(env, brief, set_)
    n = len(campaign.briefs)
    env.err(f"{brief}: valid — {n} brief(s), campaign “{campaign.settings.name}”.")


@app.command()
def lint(
    ctx: typer.Context,
    target: Annotated[
        Path,
        typer.Argument(
            metavar="WORKBOOK_OR_BRIEF",
            help="A variants.xlsx workbook (edited by hand or not), or a brief.",
        ),
    ],
    brief: Annotated[
        Path | None,
        typer.Option(help="The workbook's brief: its placements, banned words and disclaimers."),
    ] = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check copy against the platform rules and print each problem at its cell.

    Exit 0 when clean, 1 when problems were found, 2 when the file cannot be read.
    """
    from adloom.lintcmd import lint_file, print_report

    env = _env(ctx)
    report = lint_file(target, brief=brief, overrides=_overrides(set_))
    if as_json:
        env.json(report.as_json())
    else:
        print_report(env, report)
    if report.findings:
        raise typer.Exit(ExitCode.SOME_FAILED)


@app.command()
def plan(
    ctx: typer.Context,
    brief: BriefArg,
    set_: SetOpt = None,
    provider: Annotated[str | None, typer.Option(help="draft or bedrock.")] = None,
    models: ModelsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The variant matrix, the requests it takes and what it would cost; no model calls."""
    from adloom.generate import estimate
    from adloom.plan import make_plan
    from adloom.report import plan_report

    env = _env(ctx)
    campaign = _read(env, brief, set_)
    registry = _registry(models)
    name = _provider_name(provider, campaign)
    the_plan = make_plan(campaign, registry, name)
    settings, cells = dict(campaign.settings.extra), dict(campaign.cells)
    the_provider = make_provider(name, ProviderConfig(registry, settings=settings, cells=cells))
    _started(env, the_provider, the_plan)
    est = estimate(the_plan, the_provider)
    report = plan_report(the_plan, est, name)
    if as_json:
        env.json(report)
    else:
        from adloom.report import print_plan

        print_plan(env, report)


@app.command()
def run(
    ctx: typer.Context,
    brief: BriefArg,
    provider: Annotated[str | None, typer.Option(help="draft or bedrock.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    fresh: Annotated[bool, typer.Option(help="Ignore the journal's cached answers.")] = False,
    concurrency: Annotated[
        int, typer.Option(min=1, max=256, help="Requests in flight per model.")
    ] = DEFAULT_CONCURRENCY,
    max_cost: Annotated[float | None, typer.Option(help="Budget in USD (never exceeded).")] = None,
    templates: Annotated[Path | None, typer.Option(help="Folder overriding templates.")] = None,
    models: ModelsOpt = None,
    text_model: Annotated[str | None, typer.Option(help="Override the text model.")] = None,
    image_model: Annotated[str | None, typer.Option(help="Override the image model.")] = None,
    temperature: Annotated[float | None, typer.Option(min=0.0, max=1.0)] = None,
    max_tokens: Annotated[int | None, typer.Option(min=64, max=8192)] = None,
    latency: Annotated[str | None, typer.Option(help="standard or optimized.")] = None,
    guardrail: Annotated[str | None, typer.Option(help="Bedrock guardrail ID:VERSION.")] = None,
    profile: Annotated[str | None, typer.Option(help="AWS profile.")] = None,
    region: Annotated[str | None, typer.Option(help="AWS region.")] = None,
) -> None:
    """Run the whole pipeline and deliver ads, preview and workbook."""
    from adloom.engine import Quotas
    from adloom.pipeline import RunOptions, default_out, run_plan

    env = _env(ctx)
    sets = _overrides(set_)
    for key, value in (("text_model", text_model), ("image_model", image_model)):
        if value:
            sets[key] = value
    campaign = _read(env, brief, [f"{k}={v}" for k, v in sets.items()])
    registry = _registry(models)
    # Per-model quotas: the registry's, overridden by --set quota.<model-id>.tpm=N.
    quotas = Quotas(registry, campaign.settings.extra, campaign.cells)
    name = _provider_name(provider, campaign)
    if latency not in (None, "standard", "optimized"):
        raise InputError(f'--latency "{latency}": use standard or optimized')
    config = ProviderConfig(
        registry=registry,
        templates=templates,
        region=region,
        profile=profile,
        temperature=temperature,
        max_tokens=max_tokens,
        latency=latency,
        guardrail=guardrail,
        settings=dict(campaign.settings.extra),
        cells=dict(campaign.cells),
    )
    the_provider, the_plan = _start(env, campaign, registry, name, config)
    budget = max_cost if max_cost is not None else campaign.settings.max_cost_usd
    options = RunOptions(
        out=out or default_out(campaign),
        fresh=fresh,
        concurrency=concurrency,
        max_cost_usd=budget,
        templates=templates,
        quotas=quotas,
    )
    with env.progress() as tracker:
        summary = run_plan(the_plan, the_provider, options, tracker)
    _deliver(env, summary, as_json=as_json)


@app.command()
def review(
    ctx: typer.Context,
    workbook: Annotated[
        Path, typer.Argument(help="The variants workbook with the approval and notes filled in.")
    ],
    brief: Annotated[
        Path | None, typer.Option(help="The brief (default: the one the workbook records).")
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="draft or bedrock (default: the run's).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: the workbook's).")
    ] = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    concurrency: Annotated[
        int, typer.Option(min=1, max=256, help="Requests in flight per model.")
    ] = DEFAULT_CONCURRENCY,
    max_cost: Annotated[float | None, typer.Option(help="Budget in USD (never exceeded).")] = None,
    templates: Annotated[Path | None, typer.Option(help="Folder overriding templates.")] = None,
    models: ModelsOpt = None,
    profile: Annotated[str | None, typer.Option(help="AWS profile.")] = None,
    region: Annotated[str | None, typer.Option(help="AWS region.")] = None,
) -> None:
    """Next round: keep approved ads, regenerate rejected ones from the notes (docs/review.md)."""
    from adloom.engine import Quotas
    from adloom.pipeline import RunOptions
    from adloom.providers import names
    from adloom.review import find_brief, read_reviewed, run_review

    env = _env(ctx)
    reviewed = read_reviewed(workbook)
    campaign = _read(env, find_brief(reviewed, brief), set_)
    registry = _registry(models)
    # The run's provider (the Summary sheet names it) unless told otherwise.
    name = provider or (reviewed.provider if reviewed.provider in names() else "")
    name = name or _provider_name(None, campaign)
    config = ProviderConfig(
        registry=registry,
        templates=templates,
        region=region,
        profile=profile,
        settings=dict(campaign.settings.extra),
        cells=dict(campaign.cells),
    )
    the_provider, the_plan = _start(env, campaign, registry, name, config)
    options = RunOptions(
        out=out or workbook.parent,
        concurrency=concurrency,
        max_cost_usd=max_cost if max_cost is not None else campaign.settings.max_cost_usd,
        templates=templates,
        quotas=Quotas(registry, campaign.settings.extra, campaign.cells),
    )
    with env.progress() as tracker:
        summary = run_review(reviewed, the_plan, the_provider, options, tracker)
    _deliver(env, summary, as_json=as_json)


ProfileOpt = Annotated[str | None, typer.Option(help="AWS profile.")]
RegionOpt = Annotated[str | None, typer.Option(help="AWS region.")]


@app.command(name="models")
def models_cmd(
    ctx: typer.Context,
    models: ModelsOpt = None,
    as_json: JsonOpt = False,
    check: Annotated[
        bool, typer.Option("--check", help="Ask Bedrock what this account and region can use.")
    ] = False,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """List the model registry: ids, kinds, structured output, prices, lifecycle."""
    from adloom.report import models_report, print_models

    env = _env(ctx)
    if check:
        from adloom.doctor import as_json as rows_json
        from adloom.doctor import check_models, print_access
        from adloom.providers.bedrock.client import Clients

        clients = Clients(profile=profile, region=region)
        clients.check()
        rows = check_models(_registry(models), clients)
        if as_json:
            env.json({"region": clients.region(), "models": rows_json(rows)})
        else:
            print_access(env, rows, clients.region())
        return
    report = models_report(_registry(models))
    if as_json:
        env.json(report)
    else:
        print_models(env, report)


@app.command()
def doctor(
    ctx: typer.Context,
    brief: Annotated[
        Path | None, typer.Argument(help="Check the models this brief uses (default: defaults).")
    ] = None,
    set_: SetOpt = None,
    models: ModelsOpt = None,
    text_model: Annotated[str | None, typer.Option(help="Text model to check.")] = None,
    image_model: Annotated[str | None, typer.Option(help="Image model to check.")] = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Region, credential source and a cheap check per model; exit 3 if any check fails."""
    from adloom.doctor import as_json as checks_json
    from adloom.doctor import doctor as run_checks
    from adloom.doctor import print_checks
    from adloom.errors import ProviderError
    from adloom.providers.base import Kind
    from adloom.providers.bedrock.client import Clients

    env = _env(ctx)
    registry = _registry(models)
    settings = _read(env, brief, set_).settings if brief else None
    text_id = text_model or (settings.text_model if settings else "")
    image_id = image_model or (settings.image_model if settings else "")
    chosen: list[tuple[str, Kind]] = [
        (text_id or registry.default("bedrock", "text"), "text"),
        (image_id or registry.default("bedrock", "image"), "image"),
    ]
    checks = run_checks(registry, Clients(profile=profile, region=region), chosen)
    if as_json:
        env.json({"ok": all(c.ok for c in checks), "checks": checks_json(checks)})
    else:
        print_checks(env, checks)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        raise ProviderError(
            f"{len(failed)} check(s) failed: {', '.join(failed)}.",
            hint="Fix each as its 'what to do' line says, then run `adloom doctor` again.",
        )


def _report_error(env: Env, exc: AdloomError) -> None:
    if isinstance(exc, BriefError):
        for p in exc.problems:
            if not p.warning:
                env.err(f"error: {p}", style="red")
        errors = sum(1 for p in exc.problems if not p.warning)
        env.err(f"{errors} problem(s) found; fix them and run again.")
    else:
        env.err(f"error: {exc.message}", style="red")
    if exc.hint:
        env.err(f"hint: {exc.hint}")


def _exit_code(env: Env, exc: BaseException) -> ExitCode | int:
    """The one mapping from an exception to a message and an exit code."""
    if isinstance(exc, AdloomError):
        if env.debug:
            env.err(traceback.format_exc())
        _report_error(env, exc)
        return exc.exit_code
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, typer.Abort | KeyboardInterrupt):
        env.err("Stopped.")
        return ExitCode.INTERRUPTED
    if isinstance(exc, typer.TyperException):  # usage errors: unknown option, bad value
        show = getattr(exc, "show", None)
        if show is not None:
            show(file=env.stderr)
        else:
            env.err(f"error: {exc}")
        return ExitCode.BAD_INPUT
    if env.debug:
        env.err(traceback.format_exc())
    env.err(f"internal error: {type(exc).__name__}: {exc}", style="red")
    env.err("This is a bug in adloom. Rerun with --debug and report the traceback.")
    return ExitCode.INTERNAL


def main(argv: Sequence[str] | None = None, env: Env | None = None) -> int:
    """Entry point; returns the exit code (the console script exits with it)."""
    env = env or Env()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # Not standalone, typer returns a command's typer.Exit code instead of raising it.
        code = app(args=args, prog_name="adloom", standalone_mode=False, obj=env)
    except (Exception, KeyboardInterrupt) as exc:  # every error ends here, mapped once
        return int(_exit_code(env, exc))
    return int(code) if isinstance(code, int) else int(ExitCode.OK)
