"""The command line: parse, call a stage, map errors to messages and exit codes.

Exit codes (docs/cli.md): 0 all succeeded, 1 some variants need attention (failed,
not generated, or flagged; the rest are delivered), 2 bad input or usage, 3
provider/auth/config problem, 74 the machine refused a file (disk full, read-only,
name too long), 75 another run holds the out folder, 130 interrupted (Ctrl-C), 143
stopped by SIGTERM.
"""

from __future__ import annotations

import enum
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adloom import values
from adloom.console import Env
from adloom.errors import AdloomError, BriefError, ExitCode, InputError, Interrupted, ProviderError
from adloom.lifeline import interrupted_exit, sigterm_stops
from adloom.values import DEFAULT_CONCURRENCY, overrides

# Each command imports what it uses when it runs: the engine, the registry (pydantic),
# boto3 and the package metadata are not loaded for `--version` or `validate`
# (benchmarks/README.md, "Start-up").
if TYPE_CHECKING:
    from adloom.model import Campaign
    from adloom.providers.base import Kind
    from adloom.registry import Registry
    from adloom.run.review import Reviewed
    from adloom.run.runsettings import Settled

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
# A string, not a Path: Path("") is ".", and an empty --out must be refused, not the cwd.
OutOpt = Annotated[str | None, typer.Option("--out", help="Output folder.")]
ForceOpt = Annotated[
    bool,
    typer.Option(help="Write into a folder holding other files (never replaces them)."),
]
WaitOpt = Annotated[
    bool, typer.Option(help="If another run holds the out folder, wait for it to finish.")
]


def _out(option: str | None) -> Path | None:
    if option is None:
        return None
    if not option.strip():
        raise InputError('--out "": name a folder, e.g. --out output/spring')
    return Path(option)


class Tier(enum.StrEnum):
    default = "default"
    flex = "flex"
    priority = "priority"


class Mode(enum.StrEnum):
    on_demand = "on-demand"
    batch = "batch"
    auto = "auto"


# The options that shape a run, declared once: `run` and `review` both take every one
# (tests/test_run_settings.py checks), and runsettings.Choices reads them by name.
ProviderOpt = Annotated[
    str | None, typer.Option(help="draft, bedrock, or an installed plugin's provider.")
]
TierOpt = Annotated[
    Tier | None,
    typer.Option(help="Bedrock service tier: flex is cheaper and slower, priority faster, dearer."),
]
FreshOpt = Annotated[bool, typer.Option(help="Ignore the journal's cached answers.")]
ConcurrencyOpt = Annotated[
    int | None,
    typer.Option(
        min=1, max=256, help=f"Requests in flight per model (default {DEFAULT_CONCURRENCY})."
    ),
]
MaxCostOpt = Annotated[float | None, typer.Option(help="Budget in USD (never exceeded).")]
TemplatesOpt = Annotated[Path | None, typer.Option(help="Folder overriding templates.")]
TextModelOpt = Annotated[str | None, typer.Option(help="Override the text model.")]
ImageModelOpt = Annotated[str | None, typer.Option(help="Override the image model.")]
ScoreOpt = Annotated[
    bool, typer.Option("--score", help="Rate every ad with a judge model (docs/output.md).")
]
JudgeModelOpt = Annotated[
    str | None, typer.Option(help="The judge model for --score (default: the registry's).")
]
TemperatureOpt = Annotated[float | None, typer.Option(min=0.0, max=1.0)]
MaxTokensOpt = Annotated[int | None, typer.Option(min=64, max=8192)]
LatencyOpt = Annotated[str | None, typer.Option(help="standard or optimized.")]
GuardrailOpt = Annotated[str | None, typer.Option(help="Bedrock guardrail ID:VERSION.")]
ProfileOpt = Annotated[str | None, typer.Option(help="AWS profile.")]
RegionOpt = Annotated[str | None, typer.Option(help="AWS region.")]
ModeOpt = Annotated[
    Mode | None,
    typer.Option(
        help="Copy in Bedrock batch jobs (about half the price, answered within hours), "
        "on-demand, or auto: batch when there are enough requests (docs/batch.md)."
    ),
]
LearnOpt = Annotated[
    Path | None,
    typer.Option(
        help="An out folder with results (adloom results): rewrite its losers with the"
        " winners as examples and its style guide (docs/results.md)."
    ),
]
KeepOpt = Annotated[
    int | None,
    typer.Option(help="Deliver the best K ads per slot by score; the rest are candidates."),
]


def _env(ctx: typer.Context) -> Env:
    env: Env = ctx.obj
    return env


def _read(env: Env, brief: Path, settings: Mapping[str, str]) -> Campaign:
    from adloom.brief.read import read_campaign

    campaign = read_campaign(brief, settings)
    for w in campaign.warnings:
        env.warn(str(w))
    return campaign


def _registry(env: Env, models: Sequence[Path] | None) -> Registry:
    from adloom.providers import plugin_models
    from adloom.registry import load_registry

    return load_registry(models or (), plugin_files=plugin_models(), user_file=env.models_file)


def _go(
    env: Env,
    settled: Settled,
    as_json: bool,
    review: Reviewed | None = None,
    languages: Sequence[str] = (),
) -> None:
    """Run (or, given ``review``, run the review round of; with ``languages`` too, the
    localize round of) what was settled, and deliver it: print the summary; exit 3 when
    a provider plugin misbehaved (what succeeded is delivered all the same), else 1 when
    some ads failed, were not generated or are flagged (held back from the platform
    files)."""
    from adloom.run.localize import run_localize
    from adloom.run.pipeline import run_plan
    from adloom.run.report import print_summary
    from adloom.run.review import run_review

    plan, provider, options = settled.plan, settled.provider, settled.options
    with env.progress() as tracker:
        if review is None:
            summary = run_plan(plan, provider, options, tracker)
        elif languages:
            summary = run_localize(review, plan, provider, options, tracker, languages=languages)
        else:
            summary = run_review(review, plan, provider, options, tracker)
    if as_json:
        env.json(summary.as_json())
    else:
        print_summary(env, summary)
    if summary.provider_faults:
        raise ProviderError(
            "\n  ".join(["the provider misbehaved:", *summary.provider_faults]),
            hint="What succeeded is delivered; the requests it failed are asked again by the "
            "same command once the plugin is fixed (or uninstall it).",
        )
    if summary.failed or summary.not_generated or summary.flagged:
        raise typer.Exit(ExitCode.SOME_FAILED)


def _print_version(ctx: typer.Context, value: bool) -> None:
    # Eager, so `adloom --version` needs no command (a plain option would ask for one).
    if value:
        from adloom import __version__

        _env(ctx).out(f"adloom {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    _env(ctx).debug = debug


@app.command()
def validate(ctx: typer.Context, brief: BriefArg, set_: SetOpt = None) -> None:
    """Check a brief and print every problem with its place (exit 0 valid, 2 not)."""
    from adloom.run.plan import check_names

    env = _env(ctx)
    campaign = _read(env, brief, overrides(set_))
    check_names(campaign)  # ad names are file names: checked before any model call
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
    from adloom.run.lintcmd import lint_file, print_report

    env = _env(ctx)
    report = lint_file(target, brief=brief, overrides=overrides(set_))
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
    provider: ProviderOpt = None,
    models: ModelsOpt = None,
    tier: TierOpt = None,
    score: ScoreOpt = False,
    judge_model: JudgeModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The variant matrix, the requests it takes and what it would cost; no model calls."""
    from adloom.providers import make_provider
    from adloom.run.generate import estimate
    from adloom.run.plan import make_plan
    from adloom.run.report import plan_report, print_plan
    from adloom.run.runsettings import Choices, judge_of, provider_config, provider_name, started
    from adloom.run.score import scoring_report

    env = _env(ctx)
    choices = Choices.given(ctx.params)
    campaign = _read(env, brief, choices.sets)
    registry = _registry(env, models)
    name = provider_name(choices, campaign)
    config = provider_config(choices, campaign, registry, cache=env.cache_dir)
    the_provider = make_provider(name, config)  # an unknown provider: exit 2
    the_plan = make_plan(campaign, registry, name)
    the_plan = started(env, the_provider, the_plan, judge_of(campaign, registry, name))
    est = estimate(the_plan, the_provider)
    # The same requests as a batch run would build them (structured output a job takes),
    # for a text model offered in batch only: a big plan is not built twice for nothing.
    text = registry.find(the_plan.text_model)
    batched = make_provider(name, replace(config, batch=True)) if text and text.batch else None
    batch = estimate(the_plan, batched) if batched else None
    text_sent = the_provider.sent_id(the_plan.text_model, "text")
    job_model = batched.batch_job_model(the_plan.text_model) if batched else None
    report = plan_report(
        the_plan, est, name, registry, config.tier,
        batch=batch, text_sent=text_sent, batch_model=job_model,
    )  # fmt: skip
    report |= scoring_report(the_plan, registry, the_provider)
    if as_json:
        env.json(report)
    else:
        print_plan(env, report)


@app.command()
def run(
    ctx: typer.Context,
    brief: BriefArg,
    provider: ProviderOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    wait: WaitOpt = False,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    fresh: FreshOpt = False,
    concurrency: ConcurrencyOpt = None,
    max_cost: MaxCostOpt = None,
    templates: TemplatesOpt = None,
    models: ModelsOpt = None,
    text_model: TextModelOpt = None,
    image_model: ImageModelOpt = None,
    score: ScoreOpt = False,
    judge_model: JudgeModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    latency: LatencyOpt = None,
    guardrail: GuardrailOpt = None,
    tier: TierOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    keep: KeepOpt = None,
    mode: ModeOpt = None,
    learn_from: LearnOpt = None,
) -> None:
    """Run the whole pipeline and deliver ads, preview and workbook."""
    from adloom.run.pipeline import default_out
    from adloom.run.runsettings import Choices, settle

    env = _env(ctx)
    out_dir = _out(out)
    choices = Choices.given(ctx.params)
    choices.check()
    campaign = _read(env, brief, choices.sets)
    out_dir = out_dir or default_out(campaign)
    settled = settle(
        env, campaign, _registry(env, models), choices, out=out_dir, force=force, wait=wait
    )
    if learn_from is not None:
        settled = _learned(env, settled, learn_from, every=False)
    _go(env, settled, as_json)


def _learned(env: Env, settled: Settled, source: Path, *, every: bool) -> Settled:
    """``settled`` with the lessons of the results in ``source`` (adloom.results.learn)."""
    from adloom.results.learn import learn

    learned = learn(settled.plan, source, every=every)
    kept = ", ".join(f"{n} {why}" for why, n in learned.kept.items()) or "none"
    guide = "edited by hand" if learned.guide_edited else "as generated"
    env.err(
        f"learning from {source}: {len(learned.replaced)} copy job(s) written again with"
        f" {learned.examples} winning example(s) and the style guide ({guide}); kept: {kept}"
    )
    return replace(settled, plan=learned.plan)


@app.command()
def review(
    ctx: typer.Context,
    workbook: Annotated[
        Path, typer.Argument(help="The variants workbook with the approval and notes filled in.")
    ],
    brief: Annotated[
        Path | None, typer.Option(help="The brief (default: the one the workbook records).")
    ] = None,
    provider: ProviderOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    wait: WaitOpt = False,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    fresh: FreshOpt = False,
    concurrency: ConcurrencyOpt = None,
    max_cost: MaxCostOpt = None,
    templates: TemplatesOpt = None,
    models: ModelsOpt = None,
    text_model: TextModelOpt = None,
    image_model: ImageModelOpt = None,
    score: ScoreOpt = False,
    judge_model: JudgeModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    latency: LatencyOpt = None,
    guardrail: GuardrailOpt = None,
    tier: TierOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    keep: KeepOpt = None,
    mode: ModeOpt = None,
    learn_from: LearnOpt = None,
) -> None:
    """Next round: keep approved ads, regenerate rejected ones from the notes (docs/review.md).

    Options as for run; those not given are the run's (docs/review.md).
    """
    from adloom.results.store import has_results
    from adloom.run.review import read_reviewed

    env = _env(ctx)
    out_dir = _out(out) or workbook.parent
    reviewed = read_reviewed(workbook)
    settled = _settle_round(ctx, reviewed, brief, models, out=out_dir, force=force, wait=wait)
    # What ran teaches the ads this round writes again: the given folder's results,
    # else those of the workbook's own folder when it has some.
    source = learn_from or (workbook.parent if has_results(workbook.parent) else None)
    if source is not None:
        settled = _learned(env, settled, source, every=True)
    _go(env, settled, as_json, review=reviewed)


@app.command()
def localize(
    ctx: typer.Context,
    workbook: Annotated[
        Path, typer.Argument(help="A variants workbook with the ads to take abroad Approved.")
    ],
    languages: Annotated[
        str,
        typer.Option("--languages", help="The markets' languages, comma-separated (e.g. ja,ko)."),
    ],
    brief: Annotated[
        Path | None, typer.Option(help="The brief (default: the one the workbook records).")
    ] = None,
    provider: ProviderOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    wait: WaitOpt = False,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    fresh: FreshOpt = False,
    concurrency: ConcurrencyOpt = None,
    max_cost: MaxCostOpt = None,
    templates: TemplatesOpt = None,
    models: ModelsOpt = None,
    text_model: TextModelOpt = None,
    image_model: ImageModelOpt = None,
    score: ScoreOpt = False,
    judge_model: JudgeModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    latency: LatencyOpt = None,
    guardrail: GuardrailOpt = None,
    tier: TierOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    keep: KeepOpt = None,
    mode: ModeOpt = None,
) -> None:
    """Adapt the approved ads for other markets, as the next round (docs/review.md).

    Options as for review (but --learn-from); those not given are the run's.
    """
    from adloom.run.localize import parse_languages, read_approved

    wanted = parse_languages(languages)
    out_dir = _out(out) or workbook.parent
    reviewed = read_approved(workbook)
    settled = _settle_round(ctx, reviewed, brief, models, out=out_dir, force=force, wait=wait)
    _go(_env(ctx), settled, as_json, review=reviewed, languages=wanted)


def _settle_round(
    ctx: typer.Context,
    reviewed: Reviewed,
    brief: Path | None,
    models: Sequence[Path] | None,
    *,
    out: Path,
    force: bool,
    wait: bool,
) -> Settled:
    """The round after ``reviewed`` settled: the user's options over the run's (its
    journal), on the brief it was made from (``review`` and ``localize``)."""
    from adloom.run.review import find_brief
    from adloom.run.runsettings import Choices, for_review, settle

    env = _env(ctx)
    choices = for_review(env, Choices.given(ctx.params), reviewed)
    choices.check()
    campaign = _read(env, find_brief(reviewed, brief), choices.sets)
    return settle(env, campaign, _registry(env, models), choices, out=out, force=force, wait=wait)


@app.command()
def results(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The out folder of the run whose ads ran.")],
    reports: Annotated[
        list[Path],
        typer.Argument(help="Reports exported from Meta, Google Ads or Yahoo! (.csv, .xlsx)."),
    ],
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            help="field=Header for a report adloom does not know (repeatable; docs/results.md).",
        ),
    ] = None,
    templates: TemplatesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read the platforms' reports, join them to the run's ads and show what won."""
    from adloom.results.command import parse_mapping, print_outcome
    from adloom.results.command import results as read_results

    env = _env(ctx)
    values.folder(templates, "--templates")
    outcome = read_results(out, reports, parse_mapping(column), templates=templates, notify=env.err)
    if as_json:
        env.json(outcome.as_json())
    else:
        print_outcome(env, outcome)


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
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help="Also list models past their end of life (kept to explain refusals)."
        ),
    ] = False,
) -> None:
    """List the model registry: ids, kinds, structured output, prices, lifecycle."""
    from adloom.run.report import models_report, print_models

    env = _env(ctx)
    values.region(region)
    if check:
        from adloom.providers.bedrock.client import Clients
        from adloom.run.doctor import as_json as rows_json
        from adloom.run.doctor import check_models, print_access

        clients = Clients(profile=profile, region=region, cache=env.cache_dir)
        clients.check()
        rows = check_models(_registry(env, models), clients, show_all=show_all)
        if as_json:
            env.json({"region": clients.region(), "models": rows_json(rows)})
        else:
            print_access(env, rows, clients.region())
        return
    report = models_report(_registry(env, models), show_all=show_all)
    if as_json:
        env.json(report)
    else:
        print_models(env, report)


@app.command()
def jobs(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The out folder of a run with --mode batch.")],
    stop: Annotated[bool, typer.Option("--stop", help="Stop the jobs still running.")] = False,
    models: ModelsOpt = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A run's batch jobs as the service sees them now; --stop stops those still running."""
    from adloom.run.jobs import job_states
    from adloom.run.report import print_jobs

    env = _env(ctx)
    states = job_states(
        out, _registry(env, models), profile=profile, stop=stop, cache=env.cache_dir
    )
    if as_json:
        env.json({"out": str(out), "jobs": [s.as_json() for s in states]})
    else:
        print_jobs(env, out, states)


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
    from adloom.errors import ProviderError
    from adloom.providers.bedrock.client import Clients
    from adloom.run.doctor import applied_quotas, print_checks, print_quotas
    from adloom.run.doctor import as_json as checks_json
    from adloom.run.doctor import doctor as run_checks

    env = _env(ctx)
    values.region(region)
    registry = _registry(env, models)
    settings = _read(env, brief, overrides(set_)).settings if brief else None
    text_id = text_model or (settings.text_model if settings else "")
    image_id = image_model or (settings.image_model if settings else "")
    chosen: list[tuple[str, Kind]] = [
        (text_id or registry.default("bedrock", "text"), "text"),
        (image_id or registry.default("bedrock", "image"), "image"),
    ]
    clients = Clients(profile=profile, region=region, cache=env.cache_dir)
    checks = run_checks(registry, clients, chosen)
    quotas, warnings = applied_quotas(
        registry, clients, chosen, settings.extra if settings else None
    )
    for warning in warnings:
        env.warn(warning)
    if as_json:
        env.json(
            {
                "ok": all(c.ok for c in checks),
                "checks": checks_json(checks),
                "quotas": [q.as_json() for q in quotas],
            }
        )
    else:
        print_checks(env, checks)
        print_quotas(env, quotas)
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
        return interrupted_exit(exc.exit_code) if isinstance(exc, Interrupted) else exc.exit_code
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, typer.Abort | KeyboardInterrupt):
        env.err("Stopped.")
        return interrupted_exit(ExitCode.INTERRUPTED)
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
        with sigterm_stops():  # SIGTERM stops a command as Ctrl-C does
            # Not standalone, typer returns a command's typer.Exit code instead of raising it.
            code = app(args=args, prog_name="adloom", standalone_mode=False, obj=env)
            env.flush()
    except (Exception, KeyboardInterrupt) as exc:  # every error ends here, mapped once
        return int(_exit_code(env, exc))
    if code == ExitCode.INTERRUPTED:
        # typer turns a KeyboardInterrupt that no stage caught (Ctrl-C, or SIGTERM while
        # waiting for the out folder) into a returned 130, unsaid; no command returns 130.
        return int(_exit_code(env, KeyboardInterrupt()))
    return int(code) if isinstance(code, int) else int(ExitCode.OK)
