"""Copy length as ad platforms count it.

Most platforms count user-perceived characters (grapheme clusters: an emoji with
modifiers, or a letter with combining marks, is one). Google Ads and Microsoft
Advertising count double-width characters (CJK, full-width forms) as two.
"""

from __future__ import annotations

import unicodedata

import regex

from adloom.model import WidthRule

_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    found: list[str] = _GRAPHEME.findall(text)
    return found


def _cluster_width(cluster: str) -> int:
    return 2 if unicodedata.east_asian_width(cluster[0]) in ("W", "F") else 1


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
