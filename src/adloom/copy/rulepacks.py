"""Japan's advertising rules, as data: 景品表示法, 薬機法 and Yahoo! JAPAN's symbol rules.

The rules are rows of ``data/rules-ja.json`` (the set, the claim, a pattern, the
message in Japanese a marketer acts on, the source), so adding a phrase is a data
change. ``check`` finds them in one piece of copy; ``lint.check_copy`` turns each
finding into a violation that holds the ad back (``verdict``), goes to the model as
repair feedback and keeps the ad out of every upload file. ``prompt_lines`` is what
the model is told before it writes, so repair rarely has to. docs/rules.md describes
the pack for people.

Which sets apply: 景品表示法 to Japanese copy; 薬機法 to Japanese copy of a brief whose
``category`` it covers; Yahoo!'s rules to copy for a placement whose platform is
Yahoo!'s. A set is switched off only by name (the ``rules.off`` setting, checked
against ``SETS`` when the brief is read).
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

import regex

Check = Literal["pattern", "symbols", "successive"]

# The Briefs column ``category``: ids and the Japanese a marketer may write instead.
CATEGORIES: dict[str, str] = {
    "cosmetics": "cosmetics",
    "化粧品": "cosmetics",
    "quasi_drugs": "quasi_drugs",
    "医薬部外品": "quasi_drugs",
    "薬用化粧品": "quasi_drugs",
    "supplements": "supplements",
    "サプリメント": "supplements",
    "health_foods": "health_foods",
    "健康食品": "health_foods",
    "foods": "foods",
    "食品": "foods",
    "other": "other",
    "その他": "other",
}

_KANA_OR_KANJI = regex.compile(r"[\p{Hiragana}\p{Katakana}\p{Han}]")
# Sentence punctuation Yahoo! does not count (、。・ , .), and what is no symbol at all.
_UNCOUNTED = frozenset("、。・,.")
# Yahoo! counts "!" and "?" as one type of symbol; a bracket pair counts once (its opener).
_SAME_TYPE = {"?": "!", "」": "「", "』": "『", ")": "(", "]": "[", "}": "{", "】": "【"}


@dataclass(frozen=True)
class RuleSet:
    name: str  # keihyoho, yakkiho, yahoo: what rules.off names
    law: str  # as a flag names it: 景品表示法
    about: str
    source: str
    categories: frozenset[str] = frozenset()  # empty: every brief
    platforms: tuple[str, ...] = ()  # empty: every placement; else platform prefixes


@dataclass(frozen=True)
class Rule:
    set: str
    claim: str  # what the brief's evidence names to back it
    message: str  # Japanese; {phrase} (and {count}) filled in
    prompt: str  # what the model is told before it writes
    source: str
    check: Check = "pattern"
    pattern: regex.Pattern[str] | None = None
    unless: regex.Pattern[str] | None = None  # the copy (or disclaimer) matching it is fine
    evidence: bool = False  # the brief's evidence can back the claim
    max: int = 0  # symbols: how many of one type


@dataclass(frozen=True)
class Finding:
    set: str
    law: str
    field: str  # headline, body, cta, or copy (headline and body together)
    phrase: str
    message: str


@dataclass(frozen=True)
class Scope:
    """What decides which rules apply to a piece of copy."""

    language: str = ""  # "": unknown (a brief's supplied headline): Japanese script decides
    category: str = ""
    platforms: tuple[str, ...] = ()
    evidence: tuple[tuple[str, str], ...] = ()  # (claim, basis) from the brief
    off: frozenset[str] = frozenset()
    disclaimer: str = ""


@cache
def _load() -> tuple[dict[str, RuleSet], tuple[Rule, ...]]:
    data = json.loads(files("adloom").joinpath("data/rules-ja.json").read_text("utf-8"))
    sets = {
        name: RuleSet(
            name,
            s["law"],
            s["about"],
            s["source"],
            frozenset(s.get("categories", ())),
            tuple(s.get("platforms", ())),
        )
        for name, s in data["sets"].items()
    }
    rules = tuple(
        Rule(
            set=r["set"],
            claim=r["claim"],
            message=r["message"],
            prompt=r["prompt"],
            source=r["source"],
            check=r.get("check", "pattern"),
            pattern=regex.compile(r["pattern"], regex.V1) if "pattern" in r else None,
            unless=regex.compile(r["unless"], regex.V1) if "unless" in r else None,
            evidence=bool(r.get("evidence")),
            max=int(r.get("max", 0)),
        )
        for r in data["rules"]
    )
    return sets, rules


def set_names() -> tuple[str, ...]:
    return tuple(_load()[0])


_HIDDEN = regex.compile(r"[\s\p{Cf}]+")


def _fold(text: str) -> str:
    """NFKC, case folded, spaces and invisible characters dropped: "Ｎｏ．１", "最　安" and
    "日本\u200b一" read as the claims they are (Japanese copy has no spaces to lose)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return _HIDDEN.sub("", folded)


def _japanese(scope: Scope, text: str) -> bool:
    if scope.language:
        return scope.language == "ja"
    return _KANA_OR_KANJI.search(text) is not None


def _applies(ruleset: RuleSet, scope: Scope, text: str) -> bool:
    if ruleset.name in scope.off:
        return False
    if ruleset.platforms:
        return any(p.startswith(ruleset.platforms) for p in scope.platforms)
    if ruleset.categories and scope.category not in ruleset.categories:
        return False
    return _japanese(scope, text)


def _backed(rule: Rule, phrase: str, evidence: Iterable[tuple[str, str]]) -> bool:
    """Whether the brief's evidence names this claim: its claim part holds the rule's
    claim or the phrase found ("最安値: 2026年11月 自社調べ" backs 最安 and 最安値)."""
    if not rule.evidence:
        return False
    wanted = {_fold(rule.claim), _fold(phrase)}
    return any(any(w in _fold(claim) or _fold(claim) in w for w in wanted) for claim, _ in evidence)


def check(copy: Mapping[str, str], scope: Scope) -> list[Finding]:
    """Every rule of the pack that ``copy`` (headline, body, cta: those present) breaks."""
    sets, rules = _load()
    whole = " ".join(copy.values())
    active = {name for name, s in sets.items() if _applies(s, scope, whole)}
    if not active:
        return []
    found: list[Finding] = []
    context = _fold(f"{whole} {scope.disclaimer}")
    for rule in rules:
        if rule.set not in active:
            continue
        law = sets[rule.set].law
        if rule.pattern is not None:
            found += _patterns(rule, rule.pattern, law, copy, context=context, scope=scope)
        elif {"headline", "body"} <= copy.keys():
            # Yahoo! counts symbols across title and description together.
            text = _fold(f"{copy['headline']} {copy['body']}")
            found += _symbols(rule, law, text)
    return found


def _patterns(
    rule: Rule,
    pattern: regex.Pattern[str],
    law: str,
    copy: Mapping[str, str],
    *,
    context: str,
    scope: Scope,
) -> list[Finding]:
    if rule.unless is not None and rule.unless.search(context):
        return []
    found = []
    for field, text in copy.items():
        for phrase in dict.fromkeys(m.group() for m in pattern.finditer(_fold(text))):
            if not _backed(rule, phrase, scope.evidence):
                found.append(
                    Finding(rule.set, law, field, phrase, rule.message.format(phrase=phrase))
                )
    return found


def _symbols(rule: Rule, law: str, text: str) -> list[Finding]:
    types = [
        (_SAME_TYPE.get(c, c), c)
        for c in text
        if c not in _UNCOUNTED and unicodedata.category(c)[0] in "PS" and c not in "―-ー"
    ]
    if rule.check == "symbols":
        # Closing brackets are counted with their openers: a pair is one.
        counts = Counter(t for t, c in types if c not in _SAME_TYPE or c in "?")
        return [
            Finding(rule.set, law, "copy", t, rule.message.format(phrase=t, count=n))
            for t, n in counts.items()
            if n > rule.max
        ]
    runs = regex.finditer(r"([^\w\s])\s*([^\w\s])", text, overlapped=True)
    found = []
    for m in runs:
        a, b = m.group(1), m.group(2)
        pair = {a, b}
        if (
            pair & _UNCOUNTED
            or pair & set("―-ー")
            or _SAME_TYPE.get(a, a) != _SAME_TYPE.get(b, b)
            or (a in "「『([{【" and b in "」』)]}】")  # an empty pair, not a run
        ):
            continue
        phrase = m.group()
        found.append(Finding(rule.set, law, "copy", phrase, rule.message.format(phrase=phrase)))
    return found


def prompt_lines(scope: Scope) -> tuple[str, ...]:
    """What the model is told before it writes Japanese copy: each rule that applies,
    and the claims the brief's evidence backs, named as allowed."""
    if scope.language != "ja":
        return ()
    sets, rules = _load()
    lines = []
    for rule in rules:
        ruleset = sets[rule.set]
        if not _applies(ruleset, scope, ""):
            continue
        backed = [b for c, b in scope.evidence if _backed(rule, rule.claim, [(c, b)])]
        if backed:
            lines.append(
                f"{ruleset.law}: 「{rule.claim}」は根拠あり（{'、'.join(backed)}）— 使ってよい"
            )
        else:
            lines.append(f"{ruleset.law}: {rule.prompt}")
    return tuple(lines)


def describe(finding: Finding) -> str:
    return f'{finding.field} has "{finding.phrase}" — {finding.law}: {finding.message}'
