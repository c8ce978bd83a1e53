"""Finding words and terms in copy as people read it: after NFKC and case folding,
whole words where the script spaces words, anywhere where it does not.

Used by the copy rules (``lint``: banned words, product names) and by whatever maps
copy to a platform's fixed choices (``platforms``: Meta's call-to-action types).
"""

from __future__ import annotations

import unicodedata
from functools import cache

import regex

# Scripts written without spaces between words (and Korean, which glues particles to
# words): a term in them has no word boundary to wait for, so 無料 is found inside
# 今なら無料体験 and "free" inside 今ならfree体験. Script extensions (scx) take in
# the marks those scripts share, such as the prolonged sound mark ー.
_UNSPACED = (
    r"\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}"
    r"\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}"
)
SPACED_WORD_CHAR = rf"[\w--[{_UNSPACED}]]"
TERM_PARTS = regex.compile(rf"{SPACED_WORD_CHAR}+|[{_UNSPACED}]+", regex.V1)
IS_SPACED = regex.compile(rf"{SPACED_WORD_CHAR}+", regex.V1)


def fold(text: str) -> str:
    """NFKC and case folding: full-width, half-width and case variants compare equal.

    Folding can leave text that NFKC would change again (``ﬃ`` folds through
    ``ffi``), so it is normalised on both sides.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


@cache
def _term_pattern(term: str) -> regex.Pattern[str] | None:
    """How ``term`` is found in folded text: whole words where its script spaces words.

    A trailing ``*`` also takes longer words (``guarantee*`` finds "guaranteed").
    """
    folded = fold(term).strip()
    prefix = folded.endswith("*")
    words = folded.rstrip("*").split()
    if not words:
        return None
    core = " ".join(words)
    pattern = r"\s+".join(regex.escape(w) for w in words)
    if IS_SPACED.match(core[0]):
        pattern = rf"(?<!{SPACED_WORD_CHAR}){pattern}"
    if IS_SPACED.match(core[-1]) and not prefix:
        pattern = rf"{pattern}(?!{SPACED_WORD_CHAR})"
    return regex.compile(pattern, regex.V1)


def contains_term(text: str, term: str) -> bool:
    """Whether ``term`` occurs in ``text`` after NFKC and case folding (see ``_term_pattern``)."""
    pattern = _term_pattern(term)
    return pattern is not None and pattern.search(fold(text)) is not None
