"""The offline ``draft`` provider: no network, no model, no cost.

Copy is assembled deterministically from the brief's own fields, within each
placement's limits; imagery is procedural art in the brand colours. Everything it
makes is labelled as a draft downstream, so it is never mistaken for final work.
A search ad gets distinct headlines and descriptions from the same fields. Feedback
(a reviewer's notes) shifts which field leads, so a rejected draft comes back changed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from adloom.aspects import extension
from adloom.copy import rsa, textlen
from adloom.model import BrandKit, CopyJob, CutoutJob, ImageJob, OutpaintJob, Usage, WidthRule
from adloom.providers import ProviderConfig, judging, register
from adloom.providers.base import Attachment, Provider, Request, Response
from adloom.providers.draft_art import draft_master, extended, rough_cutout
from adloom.providers.judging import JudgeJob

# Standard CTA labels in the languages adloom ships, so draft buttons read naturally.
_CTA = {
    "ja": {
        "learn more": "詳しく見る",
        "shop now": "今すぐ購入",
        "buy now": "今すぐ購入",
        "sign up": "登録する",
        "order now": "今すぐ注文",
        "get started": "はじめる",
        "try it free": "無料で試す",
        "subscribe": "定期便を始める",
        "book now": "予約する",
    },
}
_DEFAULT_CTA = {"en": "Learn more", "ja": "詳しく見る"}
_FULL_STOP = ("ja", "zh-Hans", "zh-Hant")  # languages that end a sentence with 。


def _fit(text: str, limit: int, rule: WidthRule) -> str:
    """Whole words within ``limit``; CJK text (no spaces) cut between characters."""
    text = " ".join(text.split())
    if textlen.measure(text, rule) <= limit:
        return text
    cut = textlen.truncate(text, limit, rule)
    if " " in cut and not cut.endswith(" "):
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-—")


def _first_fitting(
    candidates: Sequence[str],
    start: int,
    limit: int,
    rule: WidthRule,
    spare: Sequence[str] = (),
) -> str:
    """The first candidate (rotating from ``start``) that fits whole, else the first of
    ``spare`` that does; a cut one only if none does.

    A half sentence (or half a Japanese word) reads worse than a shorter whole one, even
    in a draft.
    """
    rotated = [*candidates[start:], *candidates[:start]]
    for text in [*rotated, *spare]:
        if text and textlen.measure(text, rule) <= limit:
            return text
    return _fit(min(rotated, key=len), limit, rule)


def _sentences_within(parts: Sequence[str], limit: int, rule: WidthRule, stop: str = ".") -> str:
    """As many whole sentences as fit, in order; ``stop`` ends one ("。": no spaces between)."""
    out = ""
    space = "" if stop == "。" else " "
    for part in parts:
        sentence = _sentence(part, stop)
        joined = f"{out}{space}{sentence}".strip()
        if textlen.measure(joined, rule) > limit:
            break
        out = joined
    return out or _fit(parts[0], limit, rule)


def _labelled(label: str, text: str, language: str) -> str:
    """ "Product: benefit"; Japanese and Chinese take the full-width colon, no space."""
    return f"{label}：{text}" if language in _FULL_STOP else f"{label}: {text}"


def _cta_label(cta: str, language: str) -> str:
    cta = cta or _DEFAULT_CTA.get(language, "Learn more")
    return _CTA.get(language, {}).get(cta.strip().lower(), cta)


def _rework(body: Mapping[str, Any]) -> int:
    """How far feedback or lessons shift the rotation: one step, so the rework leads
    with another field."""
    return 1 if body.get("feedback") or body.get("lessons") else 0


def _winning_length(body: Mapping[str, Any]) -> float | None:
    """The winners' average headline length (--learn-from), which a draft aims at."""
    examples = body.get("lessons", {}).get("examples", [])
    lengths = [textlen.measure(e["headline"], "chars") for e in examples if e["headline"]]
    return sum(lengths) / len(lengths) if lengths else None


def _draft_copy(body: Mapping[str, Any]) -> dict[str, str]:
    """Headline, body and CTA from the brief's fields, varied by variant index."""
    f, variant, language = body["fields"], int(body["variant"]), str(body["language"])
    limits, rule = body["limits"], body["limits"]["width_rule"]
    benefits = list(f["benefits"]) or [f["message"]]
    index = variant - 1 + _rework(body)
    lead = benefits[index % len(benefits)]
    headlines = [f["message"], _labelled(f["product"], lead, language), lead, f["product"]]
    rotated = benefits[index % len(benefits) :] + benefits[: index % len(benefits)]
    cta = _cta_label(f["cta"], language)
    stop = "。" if language in _FULL_STOP else "."
    target = _winning_length(body)
    if target is not None:  # the winners' length: this variant's own lead, long or short
        own = sorted(headlines[1:3], key=lambda h: abs(textlen.measure(h, rule) - target))
        headlines, index = [*own, *headlines[:1], *headlines[3:]], 0
    return {
        # Supplied copy is used as given, never shortened: lint flags it if too long.
        "headline": f["headline"]
        or _first_fitting(
            headlines, index % len(headlines), limits["headline_max"], rule, spare=rotated
        ),
        "body": _sentences_within([f["message"], *rotated], limits["body_max"], rule, stop),
        "cta": _fit(cta, limits["cta_max"], rule),
    }


def _draft_search_copy(body: Mapping[str, Any]) -> dict[str, Any]:
    """A search ad's headlines, descriptions and paths from the brief's fields.

    Only whole texts that fit are used (a draft never cuts a phrase to fit a pool),
    none repeating another or the supplied copy, rotated by variant.
    """
    f, language = body["fields"], str(body["language"])
    limits, rule = body["limits"], body["limits"]["width_rule"]
    start = int(body["variant"]) - 1 + _rework(body)
    product, benefits = f["product"], list(f["benefits"])
    cta = _cta_label(f["cta"], language)
    stop = "。" if language in _FULL_STOP else "."
    sentences = [_sentence(s, stop) for s in [f["message"], *benefits]]
    headline_pool = [
        product,
        f["message"],
        *benefits,
        cta,
        *(_labelled(product, b, language) for b in benefits),
        _labelled(cta, product, language),
    ]
    description_pool = [
        *(
            _sentences_within(sentences[i:] + sentences[:i], limits["body_max"], rule, stop)
            for i in range(len(sentences))
        ),
        *(f"{s} {_sentence(cta, stop)}" for s in sentences),
    ]
    taken = [*f["supplied"], f["headline"]]
    headlines = _distinct(headline_pool, start, limits["headline_max"], rule, taken)
    descriptions = _distinct(description_pool, start, limits["body_max"], rule, taken)
    second = benefits[start % len(benefits)] if benefits else cta
    return {
        "headlines": headlines[: limits["headlines"]],
        "descriptions": descriptions[: limits["descriptions"]],
        "path1": _path(product, limits["path_max"], rule),
        "path2": _path(second, limits["path_max"], rule),
    }


def _sentence(text: str, stop: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "。", "！", "？")) else text + stop


def _distinct(
    pool: Sequence[str], start: int, limit: int, rule: WidthRule, taken: Sequence[str]
) -> list[str]:
    """The texts of ``pool`` (rotated by ``start``) that fit whole, without repeats."""
    rotated = [*pool[start % len(pool) :], *pool[: start % len(pool)]]
    chosen: list[str] = []
    for text in (" ".join(t.split()) for t in rotated):
        fits = text and textlen.measure(text, rule) <= limit
        if fits and not any(rsa.same(text, other) for other in [*taken, *chosen] if other):
            chosen.append(text)
    return chosen


def _path(text: str, limit: int, rule: WidthRule) -> str:
    """A display-URL path: the leading words that fit, joined by hyphens."""
    words = re.findall(r"\w+", text)
    path = ""
    for word in words:
        longer = f"{path}-{word}" if path else word
        if textlen.measure(longer, rule) > limit:
            break
        path = longer
    return path or textlen.truncate(words[0] if words else "", limit, rule)


class DraftProvider(Provider):
    name = "draft"
    draft = True

    def text_request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        # The body holds exactly what the copy is assembled from, so the journal key
        # changes when (and only when) those fields change.
        body: dict[str, Any] = {
            "fields": {
                "product": job.brief.product,
                "message": job.brief.message,
                "benefits": list(job.brief.benefits),
                "headline": job.brief.headline,
                "cta": job.brief.cta,
            },
            "language": job.language,
            "variant": job.variant,
            "limits": {
                "headline_max": job.limits.headline_max,
                "body_max": job.limits.body_max,
                "cta_max": job.limits.cta_max,
                "width_rule": job.limits.width_rule,
            },
        }
        # Keys only where they apply, so every other request keeps its journal key.
        if job.limits.responsive:
            headlines, descriptions = rsa.supplied(job.brief)
            body["fields"]["supplied"] = [text for text, _ in (*headlines, *descriptions)]
            wanted = rsa.to_write(job)
            body["limits"] |= {
                "headlines": wanted[0],
                "descriptions": wanted[1],
                "path_max": job.limits.path_max,
            }
        if feedback:
            body["feedback"] = list(feedback)
        if job.lessons is not None:
            body["lessons"] = {
                "examples": [
                    {"headline": e.headline, "body": e.body, "cta": e.cta}
                    for e in job.lessons.examples
                ],
                "style_guide": job.lessons.style_guide,
            }
        return Request("text", job.model, body, label=job.label)

    def image_request(self, job: ImageJob) -> Request:
        brand = job.brand
        body = {
            "colors": [brand.primary_color, brand.secondary_color, brand.text_color],
            "width": job.width,
            "height": job.height,
            "seed": job.seed,
        }
        return Request("image", job.model, body, label=job.label)

    def cutout_request(self, job: CutoutJob) -> Request:
        # Offline, a rough local cut-out stands in for the model's (``rough_cutout``):
        # keyed by the file's content, so an edited packshot is cut out again.
        digest = hashlib.sha256(job.path.read_bytes()).hexdigest()
        body = {"cutout": str(job.path), "sha256": digest}
        return Request("image", job.model, body, label=job.label)

    def outpaint_request(self, job: OutpaintJob) -> Request:
        """As the Bedrock request is made (one per master that needs it, journalled), but
        extended here at the master's own size: no service limits how far."""
        left, right, up, down = extension(job.width, job.height, job.aspects)
        body = {
            "image": f"sha256:{job.digest}@{job.width}x{job.height}",
            "left": left,
            "right": right,
            "up": up,
            "down": down,
        }
        picture = Attachment(job.source, job.digest, job.width, job.height)
        return Request("image", job.model, body, label=job.label, attachment=picture)

    def judge_request(self, job: JudgeJob) -> Request:
        return Request("text", job.model, judging.heuristic_body(job), label=job.name)

    def send(self, request: Request) -> Response:
        if request.body.get("judge") == judging.HEURISTIC:
            return Response("ok", output=judging.heuristic(request.body), meta={"draft": True})
        if "cutout" in request.body:
            png = rough_cutout(Path(request.body["cutout"]))
            return Response("ok", image=png, usage=Usage(), meta={"draft": True})
        if request.attachment is not None:  # an outpaint: the master extended locally
            b = request.body
            png = extended(request.attachment.picture(), b["left"], b["right"], b["up"], b["down"])
            return Response("ok", image=png, usage=Usage(), meta={"draft": True})
        if request.kind == "image":
            colors = request.body["colors"]
            brand = BrandKit(colors[0], colors[1], colors[2])
            png = draft_master(
                brand,
                request.body["width"],
                request.body["height"],
                request.body["seed"],
                request.label,
            )
            return Response("ok", image=png, usage=Usage(), meta={"draft": True})
        write = _draft_search_copy if "headlines" in request.body["limits"] else _draft_copy
        return Response("ok", output=write(request.body), meta={"draft": True})


@register("draft")
def _make(config: ProviderConfig) -> Provider:
    return DraftProvider()
