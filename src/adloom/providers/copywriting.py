"""Provider-neutral copy: what a copy request asks for, and how its answer is checked.

Every text provider uses this; only how its API carries the request and the answer
stays with the provider (for Bedrock: Converse's ``outputConfig``, ``toolConfig`` and
content blocks, in ``providers/bedrock/text.py``). Here:

- the answer's JSON schema for a job (an ad's headline, body and CTA; a search ad's
  headlines, descriptions and display paths), with its limits;
- token estimates, reserved against quotas and the budget before a request is sent;
- the system and user prompts, rendered from ``templates/prompts`` (``prompts``);
- the JSON object read out of a model's text, and the answer validated: an object
  with the asked-for fields as non-empty strings (a search ad's two pools: non-empty
  lists of them). Lengths are checked after that, in ``generate`` (``lint.check_copy``).

The structured-output ``Mode`` is the registry's ``structured_output``: ``native`` (the
service holds the answer to a schema), ``tool`` (a forced call of ``TOOL_NAME``) or
``prompt`` (the schema is written into the prompt and the JSON read out of the text).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adloom.copy import rsa
from adloom.copy.languages import LANGUAGES, Language
from adloom.model import CopyJob, CopyLimits
from adloom.providers.prompts import Prompts
from adloom.registry import ModelInfo

Mode = Literal["native", "tool", "prompt"]
TOOL_NAME = "write_ad_copy"
FIELDS = ("headline", "body", "cta")
SEARCH_FIELDS = ("headlines", "descriptions", "path1", "path2")  # a responsive search ad

# Output tokens per character of copy, with room for JSON keys and the odd retry in
# wording: ~1 token per 3 Latin characters, ~1 per CJK character, so 4/3 per char is
# generous for both. The overhead covers the JSON/tool-call wrapping.
_TOKENS_PER_CHAR = 4 / 3
_OUTPUT_OVERHEAD = 200
_DESCRIPTIONS = {
    "headline": "The headline",
    "body": "The body text (primary text / description)",
    "cta": "The call-to-action button label",
}


@dataclass(frozen=True)
class CopyPrompt:
    """What a copy request says: the prompts, and the schema the answer must match."""

    system: str
    user: str
    schema: dict[str, Any]


def estimate_tokens(text: str) -> int:
    """A conservative token estimate: ~3.5 Latin characters per token, 1 per CJK character."""
    latin = sum(1 for ch in text if ch < "\x80")
    return math.ceil(latin / 3.5 + (len(text) - latin))


def _counting_rule(limits: CopyLimits) -> str:
    if limits.width_rule == "double_width":
        return (
            "counted in width units as Google Ads counts them: full-width characters "
            "(Japanese, Chinese, Korean) count 2, all others count 1"
        )
    return "counted in characters; an emoji or an accented letter counts as 1"


def _copy_schema(fields: Sequence[str], limits: CopyLimits, *, bounded: bool) -> dict[str, Any]:
    """The JSON schema of the answer.

    ``bounded`` puts each limit in ``maxLength``. Grammar-constrained decoding (native
    structured output) rejects string-length keywords, so there the limit is only
    stated in the description. ``maxLength`` counts code points: for double-width
    platforms it is an upper bound (a width is never less than the character count),
    and the exact rule is in the description and checked after the answer.
    """
    unit = "width units" if limits.width_rule == "double_width" else "characters"
    properties: dict[str, Any] = {}
    for name in fields:
        limit = int(getattr(limits, f"{name}_max"))
        prop: dict[str, Any] = {
            "type": "string",
            "description": f"{_DESCRIPTIONS[name]}, at most {limit} {unit}.",
        }
        if bounded:
            prop["maxLength"] = limit
        properties[name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": list(fields),
        "additionalProperties": False,
    }


def search_schema(limits: CopyLimits, wanted: tuple[int, int], *, bounded: bool) -> dict[str, Any]:
    """The answer's schema for a responsive search ad: two lists and two paths.

    ``bounded`` adds ``maxLength`` to every text and the exact item count as
    ``minItems``/``maxItems``; native structured output rejects those keywords, so
    there, as for ``_copy_schema``, the limits are in the descriptions and checked after.
    """
    unit = "width units" if limits.width_rule == "double_width" else "characters"

    def pool(what: str, count: int, limit: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "type": "string",
            "description": f"One {what}, at most {limit} {unit}.",
        }
        prop: dict[str, Any] = {
            "type": "array",
            "items": item,
            "description": f"Exactly {count} {what}s, each different from every other one.",
        }
        if bounded:
            item["maxLength"] = limit
            prop["minItems"] = prop["maxItems"] = count
        return prop

    def path(number: int) -> dict[str, Any]:
        prop: dict[str, Any] = {
            "type": "string",
            "description": f"Display URL path {number}, at most {limits.path_max} {unit}: one or"
            " two words joined by a hyphen, no spaces or slashes.",
        }
        if bounded:
            prop["maxLength"] = limits.path_max
        return prop

    return {
        "type": "object",
        "properties": {
            "headlines": pool("headline", wanted[0], limits.headline_max),
            "descriptions": pool("description", wanted[1], limits.body_max),
            "path1": path(1),
            "path2": path(2),
        },
        "required": list(SEARCH_FIELDS),
        "additionalProperties": False,
    }


def _search_context(job: CopyJob) -> dict[str, Any]:
    """What the search-ad prompt needs beyond the brief: counts and the supplied copy."""
    headlines, descriptions = rsa.supplied(job.brief)
    wanted = rsa.to_write(job)
    return {
        "headlines": wanted[0],
        "descriptions": wanted[1],
        "path_max": job.limits.path_max,
        "supplied_headlines": headlines,
        "supplied_descriptions": descriptions,
    }


def _angle(job: CopyJob) -> str:
    """What this variant leads with, so variants of one ad differ by design."""
    angles = [
        "the core message",
        *(f'the benefit "{b}"' for b in job.brief.benefits),
        "what it changes for this audience",
    ]
    return angles[(job.variant - 1) % len(angles)]


def _default_max_tokens(limits: CopyLimits, info: ModelInfo) -> int:
    chars = (
        limits.headline_max * limits.headline_count
        + limits.body_max * limits.description_count
        + limits.cta_max
        + 2 * limits.path_max
    )
    return min(info.max_output_tokens, math.ceil(chars * _TOKENS_PER_CHAR) + _OUTPUT_OVERHEAD)


def output_tokens(limits: CopyLimits, info: ModelInfo, asked: int | None) -> int:
    """The output tokens to allow: ``asked`` (``--max-tokens``), else enough for the
    copy; never more than the model writes."""
    return min(asked or _default_max_tokens(limits, info), info.max_output_tokens)


def answer_fields(job: CopyJob) -> tuple[str, ...]:
    """What the answer to ``job`` must hold (``validated``'s ``fields``): a search ad's
    pools and paths; else body and CTA, and the headline unless the brief supplies it."""
    if job.limits.responsive:
        return SEARCH_FIELDS
    return FIELDS[1:] if job.brief.headline.strip() else FIELDS


def copy_prompt(job: CopyJob, feedback: Sequence[str], mode: Mode, prompts: Prompts) -> CopyPrompt:
    """The prompts and schema for ``job``; ``feedback`` lists what to fix."""
    supplied = job.brief.headline.strip()
    search = _search_context(job) if job.limits.responsive else None
    if search is not None:
        wanted = (search["headlines"], search["descriptions"])
        schema = search_schema(job.limits, wanted, bounded=mode != "native")
    else:
        schema = _copy_schema(answer_fields(job), job.limits, bounded=mode != "native")
    language = _language(job.language)
    context = {
        "campaign": job.campaign,
        "brief": job.brief,
        "audience": job.audience,
        "brand": job.brand,
        "language": job.language,
        "language_name": language.english,
        "language_native": language.native,
        "variant": job.variant,
        "angle": _angle(job),
        "limits": job.limits,
        "counting": _counting_rule(job.limits),
        "supplied_headline": supplied,
        "disclaimer": job.brief.disclaimer or job.brand.disclaimer,
        "feedback": list(feedback),
        "mode": mode,
        "tool_name": TOOL_NAME,
        "schema_json": json.dumps(schema, ensure_ascii=False, indent=2),
        "search": search,
        "localized": job.brief.written_in(job.language),
        "rules": list(job.rules),
        "glossary": list(job.glossary),
        "lessons": job.lessons,  # --learn-from: the winners' copy and the style guide
        # adloom localize: the approved ad to adapt, and the name of its language.
        "source": job.source,
        "source_language_name": _language(job.source.language).english if job.source else "",
    }
    system = prompts.render("copy_system.j2", context)
    user = prompts.render("copy_rsa_user.j2" if search else "copy_user.j2", context)
    return CopyPrompt(system, user, schema)


def _language(code: str) -> Language:
    return LANGUAGES.get(code, Language(code, code))


def prompt_fields(prompt: str) -> tuple[str, ...]:
    """The fields a ``prompt``-mode request asked for, read from its user prompt.

    There the schema is only prose: body and cta are required, a headline is taken
    when given (a missing one is caught by the copy checks in ``generate``, which ask
    again); for a search ad, whose schema names its ``"headlines"``, the two lists
    (missing paths are only an empty display path).
    """
    return SEARCH_FIELDS[:2] if '"headlines"' in prompt else FIELDS[1:]


_FENCED = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def json_in_text(text: str) -> Any:
    """The JSON object in a model's text: bare, in a ``json`` fence, or amid prose."""
    text = text.strip()
    if not text:
        raise ValueError("the answer was empty")
    candidates = [text]
    candidates += _FENCED.findall(text)
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise ValueError("the answer was not a JSON object")


def validated(answer: Any, fields: Sequence[str]) -> dict[str, Any]:
    """The copy in ``answer``, or ValueError saying what is wrong (sent back to the model)."""
    if not isinstance(answer, Mapping):
        raise ValueError("the answer was not a JSON object")
    if "headlines" in fields:
        return _validated_search(answer)
    missing = [f for f in fields if not isinstance(answer.get(f), str) or not answer[f].strip()]
    if missing:
        raise ValueError(
            f"the answer has no {' or '.join(missing)}: give every field "
            f"({', '.join(fields)}) as a non-empty string"
        )
    out = {f: str(answer[f]).strip() for f in fields}
    headline = answer.get("headline")
    # Absent when the brief supplies the headline: generate fills that one in.
    out.setdefault("headline", headline.strip() if isinstance(headline, str) else "")
    return out


def _validated_search(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A search ad's answer: two non-empty lists of strings; paths may be left empty
    (Google shows the bare domain), and their length is checked with the rest."""
    pools = SEARCH_FIELDS[:2]
    missing = [
        f
        for f in pools
        if not isinstance(answer.get(f), list)
        or not answer[f]
        or not all(isinstance(t, str) for t in answer[f])
    ]
    if missing:
        raise ValueError(
            f"the answer has no {' or '.join(missing)}: give {' and '.join(pools)} as"
            " non-empty lists of strings"
        )
    paths = {p: answer.get(p) for p in SEARCH_FIELDS[2:]}
    return {f: list(answer[f]) for f in pools} | {
        p: value.strip() if isinstance(value, str) else "" for p, value in paths.items()
    }
