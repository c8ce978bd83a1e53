"""Copy rules: what an ad platform would reject, said in words a marketer can act on.

``check_copy`` checks one piece of copy (headline, body, cta and, where delivered
by hand, the disclaimer) against the limits of the placements it serves and the
brief's requirements; ``near_duplicates`` compares the variants of one ad once all
of them are written. Each problem is a ``Violation``; its text goes to the model
as repair feedback, and into the workbook's ``issues`` column and the preview.
docs/rules.md lists every rule with its thresholds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, cast

import regex
from rapidfuzz.distance import Indel

from adloom.copy import platforms, rulepacks, textlen
from adloom.copy.terms import IS_SPACED, SPACED_WORD_CHAR, TERM_PARTS, contains_term, fold
from adloom.model import BrandKit, Brief, Campaign, CopyLimits, GlossaryTerm, Placement

COPY_FIELDS = ("headline", "body", "cta")

RuleId = Literal[
    "empty",
    "length",
    "banned_word",
    "exclamation",
    "punctuation",
    "capitals",
    "phone",
    "characters",
    "tiktok_text",
    "product",
    "disclaimer",
    "near_duplicate",
    "placement",
    "glossary",
    # The Japanese pack (rulepacks): each set's name is its rule id.
    "keihyoho",
    "yakkiho",
    "yahoo",
]

# Similarity of normalised text (2 x longest common subsequence / total length) at which
# a variant is a near-duplicate.
DUPLICATE_RATIO = 0.9
NAMED_SHARE = 0.5  # share of a product name's (or message's) terms the copy must contain
CAPS_SHARE = 0.5  # more capitals than this, among at least CAPS_MIN_LETTERS letters, is shouting
CAPS_MIN_LETTERS = 6
CAPS_MIN_WORD = 3  # shorter all-caps words ("OK", "TV") are not counted as shouting
PHONE_DIGITS = (7, 15)  # E.164 numbers have at most 15 digits; local ones at least 7

# Capitalised words ad platforms accept as abbreviations. The brand and product names
# of the brief add their own (an all-caps brand is written as the brand writes it).
ACRONYMS = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        "USA UAE NYC USB HDMI LED LCD OLED UHD GPS NFC API CEO FAQ PDF SPF UVA UVB DIY VIP"
        " BBQ SUV ATM PIN SIM SMS DVD IPA CBD ISO XXL USD EUR GBP JPY"
    ).split()
)

_DOUBLE_WIDTH_LANGUAGES = {
    "ja": "Japanese",
    "ko": "Korean",
    "zh-Hans": "Chinese",
    "zh-Hant": "Chinese",
}

_CAPS_WORD = regex.compile(rf"(?<!\w)[^\W\d_]{{{CAPS_MIN_WORD},}}(?!\w)")
_REPEATED_PUNCTUATION = regex.compile(
    # "!!", "??", "!?!"; a symbol twice ("**", "$$", "、、"), dashes aside ("――" is
    # Japanese typography); two dots, or more than an ellipsis ("…" is NFKC "...",
    # and Japanese doubles it: "……").
    r"[!?]{2,}|([^\w\s.\p{Pd}])\1+|(?<!\.)\.\.(?!\.)|(?<!\.)\.{4,5}(?!\.)|\.{7,}"
)
_SEPARATORS = " .\\-ー−‐"  # after NFKC; Japanese often separates with the long-vowel mark
_PHONE_RUN = regex.compile(
    rf"(?<!{SPACED_WORD_CHAR}|[.,])\+?[\d(](?:[\d()]|[{_SEPARATORS}](?=[\d(]))*"
    rf"(?!{SPACED_WORD_CHAR})",
    regex.V1,
)
_DATE = regex.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_THOUSANDS = regex.compile(r"[1-9]\d{0,2}([ .])\d{3}(?:\1\d{3})*")
_EMOJI = regex.compile(
    r"\p{Emoji_Presentation}|\p{Extended_Pictographic}\ufe0f|\p{Regional_Indicator}"
)
_HALF_WIDTH_KATAKANA = regex.compile(r"[\uff61-\uff9f]+")
_PUNCTUATION = regex.compile(r"[\p{P}\p{S}]+")


@dataclass(frozen=True)
class Violation:
    """One broken rule in one field, with what to do about it."""

    rule: RuleId
    field: str  # "headline", "body", "cta", "disclaimer", or "copy" for the copy as a whole
    message: str  # starts with the field and ends with what to do
    supplied: bool = False  # the text at fault is the marketer's: flagged, never sent back

    def __str__(self) -> str:
        return f"{self.message} (supplied copy, not changed)" if self.supplied else self.message


@dataclass(frozen=True)
class CopyContext:
    """What copy is checked against besides its length limits; empty fields skip their rule."""

    placements: tuple[Placement, ...] = ()  # every placement the copy serves (equal limits)
    language: str = ""
    product: str = ""
    message: str = ""
    names: tuple[str, ...] = ()  # brand and product as written: their capitals are theirs
    banned_words: tuple[str, ...] = ()
    disclaimer: str = ""  # required on every ad of the brief
    supplied: frozenset[str] = field(default_factory=frozenset)  # fields the marketer wrote
    category: str = ""  # the brief's, for 薬機法
    evidence: tuple[tuple[str, str], ...] = ()  # the brief's backing for claims
    rules_off: frozenset[str] = frozenset()  # sets of the Japanese pack switched off
    glossary: tuple[GlossaryTerm, ...] = ()

    @classmethod
    def for_brief(
        cls,
        brief: Brief,
        brand: BrandKit,
        brand_name: str,
        placements: Sequence[Placement],
        language: str,
    ) -> CopyContext:
        """Everything a brief requires of copy written for ``placements`` in ``language``
        (the brief's own fields in that language, where the marketer wrote them)."""
        brief = brief.in_language(language)
        return cls(
            placements=tuple(placements),
            language=language,
            product=brief.product,
            message=brief.message,
            names=(brand_name, brief.product),
            banned_words=brand.banned_words,
            disclaimer=brief.disclaimer or brand.disclaimer,
            supplied=frozenset({"headline"} if brief.headline else ()),
            category=brief.category,
            evidence=brief.evidence,
        )

    @classmethod
    def for_campaign(
        cls, campaign: Campaign, brief: Brief, placements: Sequence[Placement], language: str
    ) -> CopyContext:
        """``for_brief`` with what the campaign adds: its glossary and the rule sets off."""
        made = cls.for_brief(brief, campaign.brand, campaign.settings.brand, placements, language)
        return replace(
            made,
            rules_off=frozenset(campaign.settings.rules_off),
            glossary=campaign.glossary,
        )

    @property
    def scope(self) -> rulepacks.Scope:
        """What decides which rules of the Japanese pack apply."""
        return rulepacks.Scope(
            language=self.language,
            category=self.category,
            platforms=tuple(p.platform for p in self.placements),
            evidence=self.evidence,
            off=self.rules_off,
            disclaimer=self.disclaimer,
        )

    @property
    def rules(self) -> frozenset[str]:
        """The editorial rules (``platforms.EDITORIAL``) the placements' platforms enforce."""
        return frozenset(
            rule for p in self.placements if (own := platforms.of(p)) for rule in own.rules
        )


# ---------------------------------------------------------------- one piece of copy


# The rules a platform's table may ask for (``platforms.EDITORIAL``), in the order
# their findings are listed.
_EDITORIAL: tuple[tuple[str, Callable[[str, str, CopyContext], Violation | None]], ...] = (
    ("exclamation", lambda name, text, _: _exclamation(name, text)),
    ("punctuation", lambda name, text, _: _repeated_punctuation(name, text)),
    ("capitals", lambda name, text, context: _capitals(name, text, context.names)),
    ("phone", lambda name, text, _: _phone(name, text)),
    ("characters", lambda name, text, _: _characters(name, text)),
    ("tiktok_text", lambda name, text, _: _tiktok_text(name, text)),
)


def check_copy(
    copy: Mapping[str, str], limits: CopyLimits, context: CopyContext | None = None
) -> list[Violation]:
    """Every rule ``copy`` breaks. Only the fields present in ``copy`` are checked, so
    a brief's supplied headline can be checked on its own."""
    context = context or CopyContext()
    found: list[Violation] = []
    for name in COPY_FIELDS:
        if name not in copy:
            continue
        text = copy[name]
        rules = [
            _length(name, text, limits, context),
            _banned(name, text, context.banned_words),
            _glossary(name, text, context),
        ]
        editorial = context.rules
        rules += [check(name, text, context) for r, check in _EDITORIAL if r in editorial]
        supplied = name in context.supplied
        found += [replace(v, supplied=supplied) for v in rules if v is not None]
    for rule in (_named(copy, context), _disclaimer(copy, context)):
        if rule is not None:
            found.append(rule)
    texts = {name: copy[name] for name in COPY_FIELDS if name in copy}
    for finding in rulepacks.check(texts, context.scope):
        law = cast(RuleId, finding.set)  # a set's name is its rule id (test_japan checks)
        supplied = finding.field in context.supplied
        found.append(Violation(law, finding.field, rulepacks.describe(finding), supplied))
    return found


def _length(name: str, text: str, limits: CopyLimits, context: CopyContext) -> Violation | None:
    limit: int = getattr(limits, f"{name}_max")
    if not text.strip():
        # Every ad needs a headline and a body; an empty call to action is the platform's
        # default button.
        if name != "cta" and limit > 0:
            return Violation("empty", name, f"{name} is empty — write one")
        return None
    used = textlen.measure(text, limits.width_rule)
    if used <= limit:
        return None
    double = limits.width_rule == "double_width"
    unit = "width units" if double else "characters"
    note = ""
    if double and textlen.is_wide(text):
        script = _DOUBLE_WIDTH_LANGUAGES.get(context.language)
        note = f" ({script} counts 2 per character)" if script else " (CJK characters count 2)"
    return Violation(
        "length",
        name,
        f"{name} is {used} {unit}, over {_the_limit(limit, context.placements)}{note}"
        f" — shorten it by {used - limit}",
    )


def _the_limit(limit: int, placements: Sequence[Placement]) -> str:
    """ "Google's limit of 30", or the placements' ids when they are not one known platform."""
    names = {own.name if (own := platforms.of(p)) else None for p in placements}
    if len(names) == 1 and None not in names:
        return f"{names.pop()}'s limit of {limit}"
    ids = f" for {', '.join(p.id for p in placements)}" if placements else ""
    return f"the limit of {limit}{ids}"


# ---------------------------------------------------------------- terms


def _banned(name: str, text: str, banned: Iterable[str]) -> Violation | None:
    hits = [word.strip() for word in banned if contains_term(text, word)]
    if not hits:
        return None
    listed = ", ".join(f'"{w}"' for w in hits)
    plural = "s" if len(hits) > 1 else ""
    return Violation(
        "banned_word", name, f"{name} uses the banned word{plural} {listed} — reword it"
    )


def _glossary(name: str, text: str, context: CopyContext) -> Violation | None:
    """A glossary term written another way than the glossary says for this language."""
    wrong: list[tuple[str, str]] = []
    for term in context.glossary:
        wanted = term.required(context.language)
        if not wanted or contains_term(text, wanted):
            continue
        seen = next((o for o in term.others(context.language) if contains_term(text, o)), None)
        if seen is not None:
            wrong.append((seen, wanted))
    if not wrong:
        return None
    listed = "; ".join(f'"{seen}" as "{wanted}"' for seen, wanted in wrong)
    return Violation("glossary", name, f"{name} does not follow the glossary — write {listed}")


# ---------------------------------------------------------------- Google editorial


def _exclamation(name: str, text: str) -> Violation | None:
    if name != "headline" or "!" not in unicodedata.normalize("NFKC", text):
        return None
    return Violation(
        "exclamation",
        name,
        f'{name} has "!" — Google does not allow exclamation marks in headlines; remove it',
    )


def _repeated_punctuation(name: str, text: str) -> Violation | None:
    runs = [m.group() for m in _REPEATED_PUNCTUATION.finditer(unicodedata.normalize("NFKC", text))]
    if not runs:
        return None
    listed = ", ".join(f'"{r}"' for r in dict.fromkeys(runs))
    return Violation(
        "punctuation",
        name,
        f"{name} repeats punctuation ({listed}) — Google rejects repeated punctuation or"
        " symbols; use one",
    )


def _capitals(name: str, text: str, names: Iterable[str]) -> Violation | None:
    text = unicodedata.normalize("NFKC", text)
    allowed = ACRONYMS | {w for n in names for w in _all_caps_words(n)}
    shouting = [w for w in dict.fromkeys(_all_caps_words(text)) if w not in allowed]
    if shouting:
        listed = ", ".join(f'"{w}"' for w in shouting)
        return Violation(
            "capitals",
            name,
            f"{name} has words in capitals ({listed}) — Google rejects gimmicky capitals;"
            " write them in normal case",
        )
    letters = [c for c in _without(text, allowed) if c.isupper() or c.islower()]
    upper = sum(c.isupper() for c in letters)
    if len(letters) >= CAPS_MIN_LETTERS and upper / len(letters) > CAPS_SHARE:
        return Violation(
            "capitals",
            name,
            f"{name} is {upper / len(letters):.0%} capitals — Google rejects excessive"
            " capitals; use sentence or title case",
        )
    return None


def _all_caps_words(text: str) -> list[str]:
    return [w for w in _CAPS_WORD.findall(text) if w.isupper()]


def _without(text: str, words: Collection[str]) -> str:
    return regex.sub(r"\w+", lambda m: "" if m.group() in words else m.group(), text)


def _phone(name: str, text: str) -> Violation | None:
    runs = [r for r in _PHONE_RUN.findall(unicodedata.normalize("NFKC", text)) if _is_phone(r)]
    if not runs:
        return None
    return Violation(
        "phone",
        name,
        f'{name} has a phone number ("{runs[0]}") — Google does not allow phone numbers in'
        " ad text; use a call asset instead",
    )


def _is_phone(run: str) -> bool:
    """A run of digits and separators that reads as a phone number, not a date or amount."""
    run = run.strip(" .-")
    groups = regex.findall(r"\d+", run)
    digits = sum(len(g) for g in groups)
    if not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        return False
    if run.startswith("+") or "(" in run:
        return True
    if _DATE.fullmatch(run) or _THOUSANDS.fullmatch(run):
        return False
    if len(groups) == 2:
        # 555-0199 is a local number; 2024-2025 or 1998 50000 are years and counts.
        return (len(groups[0]), len(groups[1])) == (3, 4)
    return len(groups) >= 3 or digits >= 10


def _characters(name: str, text: str) -> Violation | None:
    """Emoji and half-width katakana, which Google lists as unsupported characters."""
    emoji = "".join(dict.fromkeys(c for c in textlen.graphemes(text) if _EMOJI.search(c)))
    kana = _HALF_WIDTH_KATAKANA.findall(text)
    found: list[tuple[str, str]] = []  # (what is there, what to do)
    if emoji:
        found.append((f'emoji ("{emoji}")', "remove the emoji"))
    if kana:
        found.append((f'half-width katakana ("{kana[0]}")', "write katakana full-width"))
    if not found:
        return None
    whats, fixes = zip(*found, strict=True)
    return Violation(
        "characters",
        name,
        f"{name} has {' and '.join(whats)} — Google does not allow them in ads;"
        f" {' and '.join(fixes)}",
    )


# ---------------------------------------------------------------- TikTok

# What TikTok's ad text may not hold: emoji, braces and "#" (TikTok Ads Manager help,
# image ad specifications: "We do not support Emojis or these special characters:
# "{ }" or "#" in the description"). Full-width forms count: "＃" is "#" after NFKC.
_TIKTOK_SYMBOLS = regex.compile(r"[{}#]")


def _tiktok_text(name: str, text: str) -> Violation | None:
    """Emoji, braces or "#" in TikTok's ad text (the body; the headline is on the picture)."""
    if name != "body":
        return None
    emoji = [c for c in textlen.graphemes(text) if _EMOJI.search(c)]
    symbols = _TIKTOK_SYMBOLS.findall(unicodedata.normalize("NFKC", text))
    found = "".join(dict.fromkeys([*emoji, *symbols]))
    if not found:
        return None
    return Violation(
        "tiktok_text",
        name,
        f'{name} has "{found}" — TikTok does not allow emoji, {{ }} or # in ad text; remove them',
    )


# ---------------------------------------------------------------- the ad as a whole


def _named(copy: Mapping[str, str], context: CopyContext) -> Violation | None:
    """The headline or body should name the product or carry the brief's message."""
    if not (context.product or context.message) or not {"headline", "body"} <= copy.keys():
        return None  # nothing required, or only part of the copy (a supplied headline)
    text = " ".join(copy.get(name, "") for name in ("headline", "body"))
    phrases = [p for p in (context.product, context.message) if p]
    if any(names_phrase(text, p) for p in phrases):
        return None
    if context.product:
        return Violation(
            "product",
            "copy",
            f'copy names neither the product "{context.product}" nor the brief\'s message'
            f' — mention "{context.product}" in the headline or body',
        )
    return Violation(
        "product",
        "copy",
        f'copy does not carry the brief\'s message "{context.message}" — say it in the'
        " headline or body",
    )


def names_phrase(text: str, phrase: str) -> bool:
    """Whether ``text`` contains ``phrase`` closely enough: at least ``NAMED_SHARE`` of
    its terms.

    Terms are the words of spaced scripts (those of 4+ letters or with a digit, when
    there are any: "for" and "the" say nothing), and the character pairs of
    unspaced ones (コールドブリュー shares 7 of コールドブリューキット's 10 pairs).
    A word matches a word of the text that it begins or that begins it, from 4
    letters on, so "morning" finds "mornings".
    """
    terms = _terms(phrase)
    if not terms:
        return True
    folded = fold(text)
    words = set(IS_SPACED.findall(folded))
    found = sum(
        _word_in(term, words) if IS_SPACED.fullmatch(term) else term in folded for term in terms
    )
    return found / len(terms) >= NAMED_SHARE


def _terms(phrase: str) -> list[str]:
    words: list[str] = []
    pairs: list[str] = []
    for part in TERM_PARTS.findall(fold(phrase)):
        if IS_SPACED.fullmatch(part):
            words.append(part)
        else:
            pairs += [part[i : i + 2] for i in range(max(1, len(part) - 1))]
    telling = [w for w in words if len(w) >= 4 or any(c.isdigit() for c in w)]
    return [*(telling or words), *pairs]


def _word_in(term: str, words: Collection[str]) -> bool:
    return term in words or any(
        min(len(term), len(w)) >= 4 and (w.startswith(term) or term.startswith(w)) for w in words
    )


def _disclaimer(copy: Mapping[str, str], context: CopyContext) -> Violation | None:
    """A delivered disclaimer (a workbook edited by hand) must still carry the required one.

    In a run adloom delivers the disclaimer itself, on the image and in the export, so
    generated copy has no disclaimer field to check.
    """
    if "disclaimer" not in copy or not context.disclaimer.strip():
        return None
    given = copy["disclaimer"]
    if _normalised(context.disclaimer) in _normalised(given):
        return None
    if not given.strip():
        return Violation(
            "disclaimer",
            "disclaimer",
            f'disclaimer is missing — this ad must carry "{context.disclaimer}"',
            supplied=True,
        )
    return Violation(
        "disclaimer",
        "disclaimer",
        f'disclaimer "{given}" is not the required "{context.disclaimer}" — restore it',
        supplied=True,
    )


# ---------------------------------------------------------------- variants of one ad


def _normalised(text: str) -> str:
    """Folded, punctuation and symbols dropped, spaces collapsed: what a reader compares."""
    return " ".join(_PUNCTUATION.sub(" ", fold(text)).split())


def near_duplicates(
    copies: Sequence[Mapping[str, str]],
    labels: Sequence[str],
    *,
    skip: Collection[str] = (),
) -> list[Violation | None]:
    """For each of the variants of one ad (in variant order), the earlier variant it
    nearly repeats, as a violation of the later one; None where it reads differently.

    Headline and body are compared (not the call to action, which variants share by
    design), leaving out ``skip``: supplied fields, the same in every variant.
    """
    fields = [f for f in ("headline", "body") if f not in skip]
    texts = [_normalised(" ".join(c.get(f, "") for f in fields)) for c in copies]
    found: list[Violation | None] = []
    for i, text in enumerate(texts):
        repeats = None
        for j in range(i):
            ratio = _similarity(texts[j], text) if text and texts[j] else 0.0
            if ratio:
                repeats = _duplicate(labels[j], ratio)
                break
        found.append(repeats)
    return found


def _similarity(a: str, b: str) -> float:
    """``a`` and ``b``'s similarity when it reaches ``DUPLICATE_RATIO``, else 0.

    The normalised Indel similarity, 2 x LCS / (len a + len b): difflib's ratio with
    the exact longest common subsequence, which rapidfuzz computes bit-parallel
    (difflib took 16 ms for two search ads' pools of headlines; this takes 0.03 ms)."""
    return float(Indel.normalized_similarity(a, b, score_cutoff=DUPLICATE_RATIO))


def _duplicate(label: str, ratio: float) -> Violation:
    return Violation(
        "near_duplicate",
        "copy",
        f"copy reads almost the same as {label} ({ratio:.0%} alike) — rewrite it so the"
        " variants test different ideas",
    )
