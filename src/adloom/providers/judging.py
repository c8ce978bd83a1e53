"""Provider-neutral judging: what a judge is asked, the answer's schema, and how an
answer (a model's, or the draft heuristic's) becomes a ``Score``.

A judge rates one ad on ``model.RUBRIC``, each criterion 1-5 with one sentence why,
plus an overall score and the brand policies it sees broken (docs/output.md, "Scores"),
and describes the creative it was shown for screen readers (``alt_text``, at most
``model.ALT_MAX`` characters: a longer one is cut at a word boundary).
How a provider carries the request stays with it (for Bedrock: Converse, with the
composed creative as an image block, ``providers/bedrock/text.build_judge``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adloom.copy import textlen
from adloom.model import ALT_MAX, RUBRIC, Criterion, Score, short_alt

JUDGE_TOOL = "rate_ad"  # the tool (and schema) name that marks a judge request
HEURISTIC = "heuristic"
HEURISTIC_LABEL = "heuristic score, not a model's judgement"
# Output tokens a judge's answer takes at most: six one-sentence reasons, the scores,
# a few policy issues and the alt text, in JSON.
JUDGE_MAX_TOKENS = 1100
_CRITERIA = {
    "message_clear": "Is the message clear at a glance?",
    "fits_audience": "Does it speak to the audience described?",
    "brand_voice": "Does it sound like the brand's voice?",
    "call_to_action": "Is the call to action clear and fitting?",
    "copy_and_picture": "Do copy and picture agree (copy only: does it hang together)?",
    "policy_risk": "5 = no policy or platform risk, 1 = likely rejected or breaks a brand policy.",
}


@dataclass(frozen=True)
class JudgeJob:
    """One ad to rate: the copy as delivered, what it was meant to say, and its picture."""

    name: str
    model: str
    product: str
    message: str
    benefits: tuple[str, ...]
    audience: str
    voice: str
    placement: str
    copy: Mapping[str, str]  # field -> text as delivered (a search ad's pools joined)
    limits: Mapping[str, int]  # field -> the placement's limit
    policies: tuple[str, ...] = ()
    image: Path | None = None  # the composed creative; None: a search ad, copy only
    subject: str = ""  # what the brief says the picture shows (image_prompt, else product)


def judge_schema() -> dict[str, Any]:
    """The answer: each criterion {score, why}, overall, policy_issues. No numeric bounds
    in the schema (grammar-constrained decoding rejects them): validated after."""
    criterion = {
        "type": "object",
        "properties": {
            "score": {"type": "integer", "description": "1 (poor) to 5 (excellent)"},
            "why": {"type": "string", "description": "One sentence why."},
        },
        "required": ["score", "why"],
        "additionalProperties": False,
    }
    properties: dict[str, Any] = {
        name: {**criterion, "description": question} for name, question in _CRITERIA.items()
    }
    properties["overall"] = {"type": "number", "description": "Overall score, 1 to 5."}
    properties["policy_issues"] = {
        "type": "array",
        "items": {"type": "string"},
        "description": "Each brand policy the ad breaks, quoted, with what breaks it.",
    }
    properties["alt_text"] = {
        "type": "string",
        "description": f"The attached creative described for a screen reader, as seen, in at"
        f" most {ALT_MAX} characters; an empty string when no creative is attached.",
    }
    return {
        "type": "object",
        "properties": properties,
        "required": [*RUBRIC, "overall", "policy_issues", "alt_text"],
        "additionalProperties": False,
    }


def judge_prompts(job: JudgeJob) -> tuple[str, str]:
    """(system, user) prompts: the rubric, then this ad."""
    system = (
        "You are an experienced advertising reviewer. Rate the ad on each criterion from 1"
        " (poor) to 5 (excellent) with one sentence why, give an overall score from 1 to 5,"
        " and list every brand policy the ad breaks (none: an empty list). Describe the"
        f" attached creative for people using a screen reader in alt_text: what it shows"
        f" and the words on it, at most {ALT_MAX} characters, without 'image of'; an empty"
        " string when no creative is attached. Criteria: "
        + " ".join(f"{name}: {q}" for name, q in _CRITERIA.items())
    )
    lines = [
        f"Product: {job.product}",
        f"Intended message: {job.message}",
        f"Benefits: {'; '.join(job.benefits) or '(none given)'}",
        f"Audience: {job.audience}",
        f"Brand voice: {job.voice or '(not given)'}",
        f"Placement: {job.placement}"
        + (" (the composed creative is attached)" if job.image else ""),
        *(f"{field}: {text}" for field, text in job.copy.items()),
        "Brand policies:",
        *([f"- {p}" for p in job.policies] or ["(none)"]),
    ]
    return system, "\n".join(lines)


def validated(answer: Any) -> dict[str, Any]:
    """A judge's answer, normalised, or ValueError saying what is wrong."""
    if not isinstance(answer, Mapping):
        raise ValueError("the judge's answer was not a JSON object")
    criteria = {}
    for name in RUBRIC:
        item = answer.get(name)
        score = item.get("score") if isinstance(item, Mapping) else None
        why = item.get("why") if isinstance(item, Mapping) else None
        if isinstance(score, bool) or not isinstance(score, int | float) or not 1 <= score <= 5:
            raise ValueError(f"the judge's {name} has no score from 1 to 5")
        if not isinstance(why, str) or not why.strip():
            raise ValueError(f"the judge's {name} says no why")
        criteria[name] = {"score": round(score), "why": why.strip()}
    overall = answer.get("overall")
    if isinstance(overall, bool) or not isinstance(overall, int | float) or not 1 <= overall <= 5:
        raise ValueError("the judge's overall is not a number from 1 to 5")
    issues = answer.get("policy_issues", [])
    if not isinstance(issues, list) or not all(isinstance(i, str) for i in issues):
        raise ValueError("the judge's policy_issues is not a list of strings")
    alt = answer.get("alt_text", "")  # missing, like no policy issues: none given
    if not isinstance(alt, str):
        raise ValueError("the judge's alt_text is not a string")
    return {
        **criteria,
        "overall": float(overall),
        "policy_issues": [i for i in issues if i.strip()],
        "alt_text": short_alt(alt),  # cut at a word boundary when longer than ALT_MAX
    }


def score_of(output: Mapping[str, Any], judge: str, *, saw_picture: bool = True) -> Score:
    """The Score in a validated answer; its alt text only when the judge was shown the
    creative (a judge shown the copy alone would be guessing at the picture)."""
    criteria = tuple(
        Criterion(name, int(output[name]["score"]), str(output[name]["why"])) for name in RUBRIC
    )
    heuristic = judge == HEURISTIC
    return Score(
        overall=round(float(output["overall"]), 2),
        criteria=criteria,
        policy_issues=tuple(output.get("policy_issues", ())),
        judge=judge,
        heuristic=heuristic,
        alt_text=short_alt(str(output.get("alt_text", ""))) if saw_picture else "",
    )


# ------------------------------------------------------------ the offline heuristic


def heuristic_body(job: JudgeJob) -> dict[str, Any]:
    """What the heuristic reads, so its journal key changes when (only when) that does."""
    return {
        "judge": HEURISTIC,
        "product": job.product,
        "message": job.message,
        "benefits": list(job.benefits),
        "copy": dict(job.copy),
        "limits": dict(job.limits),
        "subject": job.subject,
    }


def _words(text: str) -> set[str]:
    return {
        w for w in "".join(c.lower() if c.isalnum() else " " for c in text).split() if len(w) > 3
    }


def heuristic(body: Mapping[str, Any]) -> dict[str, Any]:
    """A transparent rule-based score: uses the benefit/message, names the product, has
    a CTA, uses the room the placement gives. Policies and audience are not checked."""
    copy: Mapping[str, str] = body["copy"]
    text = " ".join(copy.values())
    meant = _words(body["message"] + " " + " ".join(body["benefits"]))
    shared = len(meant & _words(text)) / max(1, len(meant))
    message = 5 if shared >= 0.5 else 4 if shared >= 0.25 else 3 if shared > 0 else 2
    named = body["product"].strip().lower() in text.lower()
    cta = bool(copy.get("cta", "").strip()) or "cta" not in copy
    used = [
        textlen.measure(copy[f]) / limit
        for f, limit in body["limits"].items()
        if f in copy and limit > 0
    ]
    fill = sum(used) / len(used) if used else 0.0
    length = 5 if 0.4 <= fill <= 1 else 3 if fill > 0.2 else 2
    rated = {
        "message_clear": (message, f"{shared:.0%} of the message's and benefits' words are used"),
        "fits_audience": (3, "not checked by the heuristic"),
        "brand_voice": (
            5 if named else 2,
            "names the product" if named else "does not name the product",
        ),
        "call_to_action": (5 if cta else 1, "has a call to action" if cta else "no call to action"),
        "copy_and_picture": (length, f"uses {fill:.0%} of the room the placement allows"),
        "policy_risk": (3, "policies not checked by the heuristic"),
    }
    out: dict[str, Any] = {k: {"score": s, "why": w} for k, (s, w) in rated.items()}
    out["overall"] = round(sum(s for s, _ in rated.values()) / len(rated), 2)
    out["policy_issues"] = []
    # It sees no picture: what the brief says it shows, and the words set on it.
    words = copy.get("headline", "").strip()
    subject = body.get("subject") or body["product"]
    out["alt_text"] = short_alt(
        f"Ad for {subject}" + (f" with the words “{words}”" if words else "")
    )
    return out


def joined(texts: Sequence[str]) -> str:
    return " / ".join(t for t in texts if t)
