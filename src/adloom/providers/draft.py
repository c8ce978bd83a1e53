"""The offline ``draft`` provider: no network, no model, no cost.

Copy is assembled deterministically from the brief's own fields, within each
placement's limits; imagery is procedural art in the brand colours. Everything it
makes is labelled as a draft downstream, so it is never mistaken for final work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adloom import textlen
from adloom.model import BrandKit, CopyJob, ImageJob, Usage, WidthRule
from adloom.providers import ProviderConfig, register
from adloom.providers.base import Provider, Request, Response
from adloom.providers.draft_art import draft_master

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


def _fit(text: str, limit: int, rule: WidthRule) -> str:
    """Whole words within ``limit``; CJK text (no spaces) cut between characters."""
    text = " ".join(text.split())
    if textlen.measure(text, rule) <= limit:
        return text
    cut = textlen.truncate(text, limit, rule)
    if " " in cut and not cut.endswith(" "):
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-—")


def _first_fitting(candidates: Sequence[str], start: int, limit: int, rule: WidthRule) -> str:
    """The first candidate (rotating from ``start``) that fits whole; a cut one only if none does.

    A half sentence reads worse than a shorter whole one, even in a draft.
    """
    rotated = [*candidates[start:], *candidates[:start]]
    for text in rotated:
        if text and textlen.measure(text, rule) <= limit:
            return text
    return _fit(min(rotated, key=len), limit, rule)


def _sentences_within(parts: Sequence[str], limit: int, rule: WidthRule) -> str:
    """As many whole sentences as fit, in order."""
    out = ""
    for part in parts:
        sentence = part if part.endswith((".", "!", "?", "。", "！", "？")) else part + "."
        joined = f"{out} {sentence}".strip()
        if textlen.measure(joined, rule) > limit:
            break
        out = joined
    return out or _fit(parts[0], limit, rule)


def draft_copy(body: Mapping[str, Any]) -> dict[str, str]:
    """Headline, body and CTA from the brief's fields, varied by variant index."""
    f, variant, language = body["fields"], int(body["variant"]), str(body["language"])
    limits, rule = body["limits"], body["limits"]["width_rule"]
    benefits = list(f["benefits"]) or [f["message"]]
    index = variant - 1
    lead = benefits[index % len(benefits)]
    headlines = [f["message"], f"{f['product']}: {lead}", lead, f["product"]]
    rotated = benefits[index % len(benefits) :] + benefits[: index % len(benefits)]
    cta = f["cta"] or _DEFAULT_CTA.get(language, "Learn more")
    cta = _CTA.get(language, {}).get(cta.strip().lower(), cta)
    return {
        # Supplied copy is used as given, never shortened: lint flags it if too long.
        "headline": f["headline"]
        or _first_fitting(headlines, index % len(headlines), limits["headline_max"], rule),
        "body": _sentences_within([f["message"], *rotated], limits["body_max"], rule),
        "cta": _fit(cta, limits["cta_max"], rule),
    }


class DraftProvider(Provider):
    name = "draft"
    draft = True

    def text_request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        # The body holds exactly what the copy is assembled from, so the journal key
        # changes when (and only when) those fields change.
        body = {
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

    def send(self, request: Request) -> Response:
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
        return Response("ok", output=draft_copy(request.body), meta={"draft": True})


@register("draft")
def _make(config: ProviderConfig) -> Provider:
    return DraftProvider()
