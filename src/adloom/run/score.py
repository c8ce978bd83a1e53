"""The score stage (``--score``): a judge rates every written ad after compose.

Each ad becomes one judge request (``providers/judging``): for an image placement the
judge sees the composed creative, for a search ad the copy. The requests go through
the engine like any other (paced, journalled by content hash, budgeted), so a rerun of
an unchanged campaign re-scores nothing: the composed bytes are the same. Policy
issues the judge reports become issues on the ad (docs/output.md, "Scores").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from adloom.console import Tracker
from adloom.engine import Engine, Outcome
from adloom.errors import InputError
from adloom.model import Ad, AdSpec, Campaign, Plan, Score, Status
from adloom.providers import judging
from adloom.providers.base import Provider, Request
from adloom.providers.judging import JudgeJob
from adloom.registry import Registry, worst_text_cost

_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off", ""}


def wanted(campaign: Campaign) -> bool:
    """The ``score`` setting (``--score`` sets it): true or false."""
    value = campaign.settings.extra.get("score", "").strip().lower()
    if value not in _TRUE | _FALSE:
        where = campaign.cells.get("score", "the score setting")
        raise InputError(f'{where}: score "{value}" is not true or false')
    return value in _TRUE


def judge_model(campaign: Campaign, registry: Registry, provider: str) -> str:
    """The ``judge_model`` setting (``--judge-model``), else the registry's default judge."""
    chosen = campaign.settings.extra.get("judge_model", "").strip()
    model = chosen or registry.default(provider, "judge") or registry.default(provider, "text")
    where = campaign.cells.get("judge_model", "--judge-model") if chosen else ""
    # An unknown, image or unreachable model stops here, named.
    registry.callable(model, kind="text", where=where)
    return model


def check_judge(provider: Provider, registry: Registry, judge: str) -> list[str]:
    """Before any work: a provider that cannot score stops the run (exit 2); a judge that
    takes no images is said once (it is shown the copy only)."""
    if type(provider).judge_request is Provider.judge_request:
        raise InputError(
            f"--score: the {provider.name} provider has no judge", hint="run without --score"
        )
    if provider.draft or registry.get(judge).image_input:
        return []
    return [
        f"judge model {judge} takes no images: it rates each ad's copy only, not the"
        " composed creative (judges that see it: `adloom models`, image_input)"
    ]


def _judge_job(ad: Ad, campaign: Campaign, model: str, *, images: bool) -> JudgeJob | None:
    """What the judge is shown for ``ad``; None for an ad without copy to rate."""
    copy, placement = ad.copy, ad.spec.placement
    if ad.status not in ("ok", "flagged") or (not placement.text_only and ad.creative is None):
        return None  # nothing written, or an image ad without its picture: nothing to rate
    if copy.search is not None:
        shown = {
            "headlines": judging.joined(copy.search.headlines),
            "descriptions": judging.joined(copy.search.descriptions),
        }
    else:
        shown = {"headline": copy.headline, "body": copy.body, "cta": copy.cta}
    picture = ad.creative.path if images and ad.creative is not None else None
    return _judge_job_for(ad.spec, campaign, model, shown, picture)


def _judge_job_for(
    spec: AdSpec,
    campaign: Campaign,
    model: str,
    copy: Mapping[str, str],
    image: Path | None = None,
) -> JudgeJob:
    limits = spec.copy_job.limits
    caps = {"headline": limits.headline_max, "body": limits.body_max, "cta": limits.cta_max}
    audience = campaign.audiences.get(spec.audience)
    return JudgeJob(
        name=spec.name,
        model=model,
        product=spec.brief.product,
        message=spec.brief.message,
        benefits=spec.brief.benefits,
        audience=(audience.description if audience else "") or spec.audience,
        voice=campaign.brand.voice or spec.brief.tone,
        placement=spec.placement.id,
        copy=copy,
        limits={f: n for f, n in caps.items() if f in copy},
        policies=campaign.brand.policies,
        image=image,
        subject=spec.brief.image_prompt or spec.brief.product,
    )


def score_ads(
    ads: Sequence[Ad],
    campaign: Campaign,
    provider: Provider,
    engine: Engine,
    model: str,
    *,
    images: bool,
    tracker: Tracker | None = None,
) -> list[Ad]:
    """``ads`` with their scores (and policy issues) from one judge request each."""
    requests: dict[str, Request] = {}
    saw: dict[str, bool] = {}  # whether the judge is shown the creative (its alt text used)
    for ad in ads:
        job = _judge_job(ad, campaign, model, images=images)
        if job is not None:
            requests[ad.spec.name] = provider.judge_request(job)
            # The draft's heuristic sees no picture but describes it from the brief.
            saw[ad.spec.name] = job.image is not None or provider.draft
    answers: dict[str, Outcome] = {}
    if tracker is not None:
        tracker.add("score", len({r.key for r in requests.values()}))

    def answered(outcome: Outcome) -> None:
        answers[outcome.request.key] = outcome
        if tracker is not None:
            tracker.advance("score", outcome.request.label)

    engine.run(list(requests.values()), answered)
    judge = judging.HEURISTIC if provider.draft else model
    return [
        _scored(ad, answers.get(requests[ad.spec.name].key), judge, saw[ad.spec.name])
        if ad.spec.name in requests
        else ad
        for ad in ads
    ]


def _scored(ad: Ad, outcome: Outcome | None, judge: str, saw_picture: bool) -> Ad:
    record = outcome.record if outcome else None
    if record is None or record.response.status != "ok":
        why = (outcome.error if outcome else "") or (record.response.error if record else "")
        return replace(ad, issues=(*ad.issues, f"not scored: {why or 'the judge did not answer'}"))
    score = judging.score_of(record.response.output, judge, saw_picture=saw_picture)
    broken = _policy_issues(score)
    # A broken brand policy is held for a person, like any other flag.
    status: Status = "flagged" if broken and ad.status == "ok" else ad.status
    return replace(ad, score=score, status=status, issues=(*ad.issues, *broken))


def _policy_issues(score: Score) -> tuple[str, ...]:
    return tuple(f"brand policy: {issue}" for issue in score.policy_issues)


def summary(ads: Sequence[Ad]) -> Mapping[str, object]:
    """For ``--json``: how many ads were scored, their average, and by what."""
    scored = [a.score for a in ads if a.score is not None]
    if not scored:
        return {}
    average = sum(s.overall for s in scored) / len(scored)
    return {
        "scored": len(scored),
        "average": round(average, 2),
        "judge": scored[0].judge,
        "heuristic": scored[0].heuristic,
    }


def estimate(plan: Plan, registry: Registry, provider: Provider, judge: str) -> dict[str, object]:
    """What scoring ``plan`` would ask for and cost at most (for ``adloom plan``): one
    judge request per ad, its copy at the placement's limits, its creative at the
    placement's size, priced as the id the judge is sent with. No model calls; the draft
    provider's heuristic costs nothing."""
    sent = provider.sent_id(judge, "text")
    info = registry.get(sent, kind="text")
    if provider.draft:  # the offline heuristic: no model, no tokens, no cost
        return {"model": judging.HEURISTIC, "requests": len(plan.ads), "cost_usd_max": 0.0}
    from adloom.providers.bedrock import text  # boto3 only where a model is asked

    input_tokens = 0
    for spec in plan.ads:
        limits = spec.copy_job.limits
        copy = {
            "headline": "x" * limits.headline_max,
            "body": "x" * limits.body_max,
            "cta": "x" * limits.cta_max,
        }
        job = _judge_job_for(spec, plan.campaign, judge, copy)
        placement = spec.placement
        shown = info.image_input and not placement.text_only
        input_tokens += text.judge_tokens(
            job, info, (placement.width, placement.height) if shown else None
        )
    output = judging.JUDGE_MAX_TOKENS * len(plan.ads)
    cost = worst_text_cost(info, input_tokens, output)
    return {
        "model": judge,
        "sent_as": sent,
        "requests": len(plan.ads),
        "input_tokens": input_tokens,
        "output_tokens_max": output,
        "cost_usd_max": round(cost, 4),
        "sees_images": info.image_input,
    }


def scoring_report(plan: Plan, registry: Registry, provider: Provider) -> dict[str, object]:
    """``adloom plan``'s part for ``--score``: the judge requests and their cost, added
    to the plan's worst case; nothing without ``--score``."""
    if not wanted(plan.campaign):
        return {}
    judge = judge_model(plan.campaign, registry, provider.name)
    return {"judge": estimate(plan, registry, provider, judge)}
