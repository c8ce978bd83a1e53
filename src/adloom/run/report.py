"""What the commands print: the plan, the run summary, the model list."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from rich.table import Table

from adloom.aspects import CROP_BOUND, kept, parse_ratio
from adloom.console import Env
from adloom.model import Plan, RunSummary
from adloom.registry import Registry, base_id, profile_of, worst_text_cost
from adloom.run.generate import Estimate
from adloom.run.jobs import JobState

# Where a geographic inference profile keeps processing (docs/bedrock.md).
_GEOGRAPHY = {
    "us": "the US",
    "eu": "the EU",
    "apac": "Asia Pacific",
    "jp": "Japan",
    "au": "Australia",
    "ca": "Canada and the US",
    "us-gov": "AWS GovCloud (US)",
}


def _tier_costs(plan: Plan, est: Estimate, registry: Registry, sent: str) -> dict[str, float]:
    """The plan's worst-case cost in each service tier its text model (priced as ``sent``,
    the id it goes out with) takes."""
    info = registry.find(sent)
    if info is None:
        return {}
    return {
        tier: round(
            est.image_cost_usd_max
            + worst_text_cost(
                info,
                est.text_input_tokens,
                est.text_output_tokens_max,
                cache_tokens=est.text_cache_tokens,
                tier=tier,
            ),
            4,
        )
        for tier in info.tiers()
    }


def _mode_costs(
    plan: Plan,
    est: Estimate,
    batch: Estimate | None,
    registry: Registry,
    batch_model: str | None = None,
) -> dict[str, Any]:
    """The plan's worst case on-demand and with copy in batch jobs (``batch``: the
    estimate of the requests built for batch), when its text model is offered in batch
    and a job can name it in the region (``batch_model``: the id its jobs name)."""
    info = registry.find(plan.text_model)
    if batch is None or info is None or not info.batch or batch_model is None:
        return {}
    text = info.batch_cost(batch.text_input_tokens, batch.text_output_tokens_max)
    return {
        "on-demand": round(est.cost_usd_max, 4),
        "batch": round(batch.image_cost_usd_max + text, 4),
        "batch_min_records": info.batch_min_records,
        "batch_model": batch_model,
    }


def global_option(est: Estimate, registry: Registry, sent: str, tier: str) -> dict[str, Any]:
    """The cheaper ``global.`` profile of the text model sent as ``sent``, with the
    plan's worst case through it; empty when there is none or it costs no less."""
    prefix = profile_of(sent)
    cheaper = registry.find(f"global.{base_id(sent)}")
    if prefix == "global" or cheaper is None or "global" not in cheaper.profiles:
        return {}
    text = worst_text_cost(
        cheaper,
        est.text_input_tokens,
        est.text_output_tokens_max,
        cache_tokens=est.text_cache_tokens,
        tier=tier,
    )
    cost = round(est.image_cost_usd_max + text, 4)
    if cost >= round(est.cost_usd_max, 4):
        return {}
    where = _GEOGRAPHY.get(prefix or "", "this region")
    return {
        "id": f"global.{base_id(sent)}",
        "cost_usd_max": cost,
        "saves_usd": round(est.cost_usd_max - cost, 4),
        "note": (
            "a global. profile may process requests in any commercial AWS Region, not only "
            f"in {where}: choose it (--set profile=global) only where the campaign's data "
            "may leave it"
        ),
    }


def plan_report(
    plan: Plan,
    est: Estimate,
    provider: str,
    registry: Registry,
    tier: str = "default",
    *,
    batch: Estimate | None = None,
    text_sent: str = "",
    batch_model: str | None = None,
) -> dict[str, Any]:
    """``text_sent``: the id the text model goes out with (an inference profile the
    provider picked), which prices it; default the model as configured."""
    ads = plan.ads
    sent = text_sent or plan.text_model
    return {
        "campaign": plan.campaign.settings.name,
        "provider": provider,
        "models": {
            "text": plan.text_model,
            "image": plan.image_model,
            "outpaint": plan.outpaint_model,
            "text_sent": sent,
        },
        "ads": len(ads),
        "by_brief": dict(Counter(a.brief.id for a in ads)),
        "by_audience": dict(Counter(a.audience for a in ads)),
        "by_language": dict(Counter(a.language for a in ads)),
        "by_placement": dict(Counter(a.placement.id for a in ads)),
        "copy_jobs": len(plan.copy_jobs),
        "image_jobs": len(plan.image_jobs),
        "requests": {"text": est.text_requests, "image": est.image_requests},
        # Packshots on busy backgrounds, cut out by the provider's model (their cost is
        # in cost_usd_max): one request each, whatever the number of ads.
        "cutouts": {
            "requests": est.cutout_requests,
            "model": plan.cutouts[0].model if plan.cutouts else "",
            "cost_usd_max": round(est.cutout_cost_usd_max, 4),
        },
        "outpaint": {
            "model": plan.outpaint_model,
            "requests": est.outpaint_requests,
            "requests_max": est.outpaint_requests_max,
            "cost_usd_max": round(est.outpaint_cost_usd_max, 4),
        },
        "tokens": {"input": est.input_tokens, "output_max": est.output_tokens_max},
        "tier": tier,
        "cost_usd_max": round(est.cost_usd_max, 4),
        "cost_usd_max_by_tier": _tier_costs(plan, est, registry, sent),
        "global_option": global_option(est, registry, sent, tier),
        "cost_usd_max_by_mode": _mode_costs(plan, est, batch, registry, batch_model),
        "prompt_cache_tokens": est.text_cache_tokens,
        "masters": masters_report(plan),
    }


def masters_report(plan: Plan) -> dict[str, Any]:
    """Which aspect family each image placement is composed from, and the share of its
    master the crop keeps, under ``aspects.CROP_BOUND``."""
    families: dict[str, dict[str, float]] = {}
    for spec in plan.ads:
        job = spec.image_job
        if job is not None:
            share = kept(parse_ratio(job.aspect), spec.placement.aspect)
            families.setdefault(job.aspect, {})[spec.placement.id] = round(share, 3)
    return {"crop_bound": CROP_BOUND, "families": families}


def _counts_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(title.rsplit(maxsplit=1)[-1])
    table.add_column("ads", justify="right")
    for key, n in counts.items():
        table.add_row(key, str(n))
    return table


def print_plan(env: Env, r: dict[str, Any]) -> None:
    c = env.out_console
    c.print(
        f"[bold]{r['campaign']}[/] — provider {r['provider']}, "
        f"text {r['models']['text']}, image {r['models']['image']}"
    )
    for key in ("brief", "audience", "language", "placement"):
        c.print(_counts_table(f"Ads by {key}", r[f"by_{key}"]))
    c.print(
        f"{r['ads']} ads from {r['requests']['text']} text request(s) and "
        f"{r['requests']['image']} image request(s)."
    )
    cutouts = r["cutouts"]
    if cutouts["requests"]:
        c.print(
            f"Product cut-outs: {cutouts['requests']} packshot(s) on a busy background sent to"
            f" {cutouts['model']} (one request each), at most ${cutouts['cost_usd_max']:.4f};"
            " included in the cost below."
        )
    outpaint = r["outpaint"]
    if outpaint["requests_max"]:
        sure, most = outpaint["requests"], outpaint["requests_max"]
        count = f"{sure}" if sure == most else f"{sure} to {most}"
        c.print(
            f"Outpaint (fit): {count} request(s) to {outpaint['model']} extending masters a "
            f"crop would spoil, at most ${outpaint['cost_usd_max']:.4f} (included below)"
            + ("." if sure == most else "; fit auto decides on each master once it is made."),
            markup=False,
        )
    c.print(
        f"Input tokens ~{r['tokens']['input']:,}, output at most "
        f"{r['tokens']['output_max']:,}; cost at most ${r['cost_usd_max']:.4f} "
        f"in the {r['tier']} tier "
        "(every answer at its token limit; what a budget reserves)."
    )
    by_tier = r["cost_usd_max_by_tier"]
    if len(by_tier) > 1:
        tiers = ", ".join(f"{tier} ${cost:.4f}" for tier, cost in by_tier.items())
        c.print(f"By service tier (--tier): {tiers}.")
    by_mode = r["cost_usd_max_by_mode"]
    if by_mode:
        fewer = r["requests"]["text"] < by_mode["batch_min_records"]
        c.print(
            f"On-demand ${by_mode['on-demand']:.4f} vs copy in batch jobs (--mode batch, "
            f"jobs naming {by_mode['batch_model']}) ${by_mode['batch']:.4f}"
            + (
                f"; but {r['requests']['text']} copy request(s) are fewer than the "
                f"{by_mode['batch_min_records']} a batch job must hold: they would go on-demand."
                if fewer
                else "."
            )
        )
    cheaper = r["global_option"]
    if cheaper:
        c.print(
            f"Through {cheaper['id']} instead of {r['models']['text_sent']}: at most "
            f"${cheaper['cost_usd_max']:.4f} (${cheaper['saves_usd']:.4f} less); "
            f"{cheaper['note']}.",
            markup=False,
        )
    judge = r.get("judge")
    if judge:  # --score
        c.print(
            f"Scoring (--score): {judge['requests']} judge request(s) to {judge['model']}, "
            f"at most ${judge['cost_usd_max']:.4f} more"
            + (" (sees each creative)." if judge.get("sees_images") else ".")
        )
    masters = r["masters"]
    if masters["families"]:
        uses = "; ".join(
            f"{family}: " + ", ".join(f"{p} {share:.0%}" for p, share in kept_by.items())
            for family, kept_by in masters["families"].items()
        )
        c.print(
            f"Masters in {len(masters['families'])} aspect famil"
            f"{'y' if len(masters['families']) == 1 else 'ies'}, each placement with the share "
            f"of its master its crop keeps: {uses} (the fewest families keeping every "
            f"placement within {masters['crop_bound']:.0%} of its best fit)."
        )
    if r["prompt_cache_tokens"]:
        c.print(
            f"~{r['prompt_cache_tokens']:,} of the input tokens are in prompt-cached prefixes: "
            "after the first request of each, they are read from the cache at a lower price."
        )


def print_summary(env: Env, s: RunSummary) -> None:
    c = env.out_console
    c.print(
        f"[bold]{s.campaign}[/]: {s.variants} ads, {s.creatives} image files, "
        f"{s.failed} failed, {s.flagged} flagged, {s.not_generated} not generated."
    )
    if s.review:  # a review or localize round: what it did with each ad
        counts = ", ".join(f"{n} {kind}" for kind, n in s.review.items() if kind != "round")
        c.print(f"Round {s.review.get('round', '')}: {counts}.", markup=False)
    if s.flagged:
        c.print(
            f"[yellow]{s.flagged} ads break a platform rule and are left out of the upload "
            "files (exports/): fix them in the workbook, approve them and run `adloom review`.[/]"
        )
    batched = sum(job.answered for job in s.batch_jobs)
    in_jobs = f" (and {batched} answered in batch jobs)" if s.batch_jobs else ""
    c.print(
        f"Model calls: {s.model_calls_text} text{in_jobs}, {s.model_calls_image} image; "
        f"{s.cache_hits} from the journal. Tokens {s.input_tokens:,} in / "
        f"{s.output_tokens:,} out; cost ${s.cost_usd:.4f}."
    )
    if s.cache_read_tokens or s.cache_write_tokens:
        c.print(
            f"Prompt cache: {s.cache_read_tokens:,} input tokens read, "
            f"{s.cache_write_tokens:,} written; saved ${s.cache_saved_usd:.4f} against no "
            "caching."
        )
    if set(s.tiers) - {"default"}:
        served = ", ".join(f"{n} {tier}" for tier, n in sorted(s.tiers.items()))
        c.print(f"Service tiers served: {served}.")
    for job in s.batch_jobs:
        c.print(
            f"Batch job {job.name}: {job.status}, {job.answered} of {job.records} records"
            f" answered, {job.on_demand} sent on-demand.",
            markup=False,
        )
    if s.not_generated:
        c.print(
            f"[yellow]Budget reached: {s.not_generated} ads not generated "
            f"(at most ${s.not_generated_cost_usd:.4f} more would finish them).[/]"
        )
    for quota in s.quotas:
        c.print(f"Quota {quota.line()}", markup=False)
    for warning in s.warnings:
        c.print(warning, style="yellow", markup=False)
    c.print(f"Preview:  {s.preview}")
    c.print(f"Workbook: {s.workbook}")


def models_report(
    registry: Registry, today: date | None = None, *, show_all: bool = False
) -> list[dict[str, Any]]:
    """The registry's models; one past its end of life only with ``show_all`` (it stays in
    the registry to explain why a run refuses it)."""
    day = today or date.today()
    return [
        {
            "id": m.id,
            "provider": m.provider,
            "kind": m.kind,
            "family": m.family,
            "structured_output": m.structured_output if m.kind == "text" else None,
            "price": (
                {"input_per_m": m.input_per_m, "output_per_m": m.output_per_m}
                if m.kind == "text"
                else dict(m.image_prices)
            ),
            # Profile families priced apart (global. below geographic), USD per 1M tokens.
            "profile_prices": {
                p: {"input_per_m": v.input_per_m, "output_per_m": v.output_per_m}
                for p, v in m.profile_prices.items()
            },
            "api": m.api,
            "unusable": m.unreachable() or None,
            "on_demand": m.on_demand,
            "profiles": list(m.profiles),
            "tiers": m.tiers() if m.kind == "text" else [],
            # Offered in batch inference (--mode batch), at this price per 1M tokens.
            "batch": (
                {"input_per_m": m.batch_input_per_m, "output_per_m": m.batch_output_per_m}
                if m.batch
                else None
            ),
            "min_cache_tokens": m.min_cache_tokens if m.prompt_caching else None,
            "lifecycle": m.lifecycle.status_on(day),
            "eol_date": m.lifecycle.eol_date.isoformat() if m.lifecycle.eol_date else None,
            "notes": m.notes,
        }
        for m in registry.models.values()
        if show_all or m.lifecycle.status_on(day) != "retired"
    ]


def print_models(env: Env, rows: list[dict[str, Any]]) -> None:
    table = Table(title="Model registry", title_justify="left")
    for col in (
        "id",
        "kind",
        "family",
        "output",
        "price (USD)",
        "ids",
        "tiers, batch, cache",
        "lifecycle",
    ):
        table.add_column(col)
    for r in rows:
        price = r["price"]
        if r["kind"] == "text":
            cost = f"{price['input_per_m']}/{price['output_per_m']} per M"
            for prefix, p in r["profile_prices"].items():
                cost += f" ({prefix}. {p['input_per_m']}/{p['output_per_m']})"
        else:
            cost = ", ".join(f"{k} {v}" for k, v in price.items())
        ids = "base" if r["on_demand"] else "profile only"
        if r["profiles"]:
            ids += " + " + "/".join(f"{p}." for p in r["profiles"])
        life = r["lifecycle"] + (f" (EOL {r['eol_date']})" if r["eol_date"] else "")
        extras = [t for t in r["tiers"] if t != "default"]
        if r["batch"]:
            extras.append(f"batch {r['batch']['input_per_m']}/{r['batch']['output_per_m']}")
        if r["min_cache_tokens"] is not None:
            extras.append(f"cache ≥{r['min_cache_tokens']:,} tok")
        output = r["structured_output"] or ""
        if r["unusable"]:  # served outside Converse: listed so the refusal is understood
            output = "Messages API only: not usable" if r["api"] == "messages" else "not usable"
        table.add_row(r["id"], r["kind"], r["family"], output, cost, ids, ", ".join(extras), life)
    env.out_console.print(table)


def print_jobs(env: Env, out: object, states: list[JobState]) -> None:
    c = env.out_console
    if not states:
        c.print(f"No batch jobs in {out}.", markup=False)
        return
    table = Table(title=f"Batch jobs of {out}", title_justify="left")
    for column in ("job", "model", "records", "status", "processed", "message"):
        table.add_column(column, justify="right" if column in ("records", "processed") else "left")
    for s in states:
        p = s.progress
        processed = f"{p.processed:,}" if p.processed is not None else ""
        status = p.status + (" (stopping)" if s.stopping else "")
        status += "" if s.job.collected or not p.ended else " (not read back yet)"
        table.add_row(s.job.name, s.job.model, f"{s.job.records:,}", status, processed, p.message)
    c.print(table)
    stopped = sum(s.stopping for s in states)
    if stopped:
        c.print(
            f"Asked the service to stop {stopped} job(s). A run waiting for them reads what they"
            " answered and sends the rest on-demand; so does the next `adloom run`.",
            markup=False,
        )
    elif any(not s.job.collected for s in states):
        c.print(
            "Jobs not read back yet are read by the next `adloom run` of the same brief and"
            " --out (nothing is submitted twice).",
            markup=False,
        )
