"""The columns of the reports adloom reads, by platform and language.

Each report column adloom reads fills one of a few fields: the ad's name, a URL
carrying ``utm_content``, impressions, clicks, conversions and cost. Headers are
compared as ``sheets.header_key`` does (case, spaces, ``_`` and ``-`` ignored), after
a currency in brackets is taken off (``Amount spent (JPY)``, ``費用 (JPY)``).

Where the names come from (docs/results.md, "Where the names come from", has the
sources in full). None could be checked against a live account or an export of
the platforms' own; each is marked below by the best evidence found:

- **Meta Ads Manager** (*Export table data*): ``Ad name``, ``Impressions``, ``Link
  clicks``, ``Results``, ``Amount spent (USD)`` — seen in independent public code
  that reads real exports (third-party); ``Website URL`` unverified. Japanese UI
  ``広告の名前``, ``インプレッション``, ``リンクのクリック``, ``結果``, ``消化金額 (JPY)``
  — seen together in public code reading a Japanese Ads Manager .xlsx export
  (third-party); ``広告名`` and ``リンククリック`` are variants other public code
  reads (third-party, weaker).
- **Google Ads** (ads report download): ``Impr.``, ``Clicks``, ``Conversions``,
  ``Cost``, ``Final URL`` as the English UI shows them (third-party mappings);
  Japanese ``最終ページ URL``, ``表示回数``, ``クリック数``, ``コンバージョン``, ``費用``
  — the header of the Japanese "広告のパフォーマンス" CSV as public code reproduces
  it (third-party). ``Ad name`` / ``広告名`` unverified: that report has no ad-name
  column (search ads have no names), so Google rows join by ``utm_content``.
- **Yahoo! JAPAN Ads** (performance report): ``広告名``, ``最終リンク先URL``,
  ``インプレッション数``, ``クリック数``, ``コンバージョン数``, ``コスト`` (Yahoo!広告
  Help, and public code reading exports); English UI ``Ad Name``, ``Final URL``,
  ``Impressions``, ``Clicks``, ``Conversions``, ``Cost`` (help.glu.jp's mapping,
  third-party).

Every other column is never read into adloom: only these aggregate metrics and the
join keys are. A header that names personal data (an e-mail, a phone number, a
user's name or id) is listed as ignored, so the marketer sees it was not used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from adloom.brief.sheets import header_key

Field = Literal["ad_name", "url", "utm_content", "impressions", "clicks", "conversions", "cost"]
FIELDS: tuple[Field, ...] = (
    "ad_name",
    "url",
    "utm_content",
    "impressions",
    "clicks",
    "conversions",
    "cost",
)
COUNTS: frozenset[Field] = frozenset({"impressions", "clicks"})
METRICS: tuple[Field, ...] = ("impressions", "clicks", "conversions", "cost")

PLATFORMS: Mapping[str, Mapping[str, Field]] = {
    "meta": {
        "Ad name": "ad_name",
        "Website URL": "url",
        "Impressions": "impressions",
        "Link clicks": "clicks",
        "Results": "conversions",
        "Amount spent": "cost",
        "広告の名前": "ad_name",
        "広告名": "ad_name",
        "インプレッション": "impressions",
        "リンクのクリック": "clicks",
        "リンククリック": "clicks",
        "結果": "conversions",
        "消化金額": "cost",
    },
    "google": {
        "Ad name": "ad_name",
        "Final URL": "url",
        "Impr.": "impressions",
        "Clicks": "clicks",
        "Conversions": "conversions",
        "Cost": "cost",
        "最終ページ URL": "url",
        "表示回数": "impressions",
        "クリック数": "clicks",
        "コンバージョン": "conversions",
        "費用": "cost",
    },
    "yahoo": {
        "Ad Name": "ad_name",
        "Final URL": "url",
        "Impressions": "impressions",
        "Clicks": "clicks",
        "Conversions": "conversions",
        "Cost": "cost",
        "広告名": "ad_name",
        "最終リンク先URL": "url",
        "インプレッション数": "impressions",
        "クリック数": "clicks",
        "コンバージョン数": "conversions",
        "コスト": "cost",
    },
}
# What tells the platforms apart where their column names overlap.
_SIGNATURES: Mapping[str, frozenset[str]] = {
    "meta": frozenset({"link_clicks", "amount_spent", "リンクのクリック", "消化金額", "結果"}),
    "google": frozenset({"impr.", "表示回数", "費用", "最終ページ_url"}),
    "yahoo": frozenset({"インプレッション数", "コスト", "最終リンク先url", "コンバージョン数"}),
}
# Generic reports (and the ones above): the adloom names themselves.
GENERIC: Mapping[str, Field] = {name: name for name in FIELDS}

_CURRENCY_NOTE = re.compile(r"\s*[(（][^)）]{1,12}[)）]\s*$")
# Parts of a header that name data about a person, never an aggregate (English, Japanese).
_PERSONAL = re.compile(
    r"e-?mail|phone|telephone|mobile|first.?name|last.?name|full.?name|user.?(id|name)"
    r"|customer|address|birth|gclid|fbclid|ip.?address|device.?id|メール|電話|氏名|住所|生年月日|顧客",
    re.IGNORECASE,
)


def column_key(header: str) -> str:
    """A report header as compared: no trailing ``(JPY)``, then ``sheets.header_key``."""
    return header_key(_CURRENCY_NOTE.sub("", header))


def personal(header: str) -> bool:
    return bool(_PERSONAL.search(header))


def _keyed(table: Mapping[str, Field]) -> dict[str, Field]:
    return {column_key(name): field for name, field in table.items()}


KNOWN: dict[str, Field] = {
    key: field for table in (*PLATFORMS.values(), GENERIC) for key, field in _keyed(table).items()
}


def platform_of(keys: set[str]) -> str:
    """The platform whose column names the header ``keys`` fit best; "generic" if none."""
    scores = {name: len(keys & signature) for name, signature in _SIGNATURES.items()}
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else "generic"
