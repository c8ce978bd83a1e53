"""Copy length as ad platforms count it.

Most platforms count user-perceived characters (grapheme clusters: an emoji with
modifiers, or a letter with combining marks, is one). Google Ads and Microsoft
Advertising count double-width characters (CJK, full-width forms) as two.

A cluster is double-width when its first character is East Asian Wide or Fullwidth
(Unicode UAX #11), or when it is an emoji shown as a picture (a variation selector
16 or a flag's regional indicators): those are drawn two cells wide even where
their base character is "neutral". Ambiguous-width characters (``…``, ``※``, ``é``)
count one, as they do outside East Asian legacy encodings: counting them two would
shorten every French or German ad.
"""

from __future__ import annotations

import unicodedata

import regex

from adloom.model import WidthRule

_GRAPHEME = regex.compile(r"\X")
_EMOJI_PRESENTATION = "\ufe0f"
_REGIONAL_INDICATORS = ("\U0001f1e6", "\U0001f1ff")


def graphemes(text: str) -> list[str]:
    found: list[str] = _GRAPHEME.findall(text)
    return found


def _cluster_width(cluster: str) -> int:
    first = cluster[0]
    wide = (
        unicodedata.east_asian_width(first) in ("W", "F")
        or _EMOJI_PRESENTATION in cluster
        or _REGIONAL_INDICATORS[0] <= first <= _REGIONAL_INDICATORS[1]
    )
    return 2 if wide else 1


def is_wide(text: str) -> bool:
    """Whether ``text`` holds any cluster that counts two under ``double_width``."""
    return any(_cluster_width(c) == 2 for c in graphemes(text))


def measure(text: str, rule: WidthRule = "chars") -> int:
    clusters = graphemes(text)
    if rule == "chars":
        return len(clusters)
    return sum(_cluster_width(c) for c in clusters)


def truncate(text: str, limit: int, rule: WidthRule = "chars") -> str:
    """The longest prefix of whole grapheme clusters within ``limit``."""
    used = 0
    out: list[str] = []
    for cluster in graphemes(text):
        width = 1 if rule == "chars" else _cluster_width(cluster)
        if used + width > limit:
            break
        out.append(cluster)
        used += width
    return "".join(out)
