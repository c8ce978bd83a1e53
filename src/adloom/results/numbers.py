"""Numbers as ad platforms write them in their exports, in any locale.

``1,234`` and ``1.234`` (a count in a German export), ``12.3%``, ``¥1,200``,
``￥1,200`` (full width), ``1 234,5`` (French: a space, often a no-break one, between
thousands), ``$1,234.56``, ``JPY 1200``, and the dashes a report shows for "none"
(``--``, ``-``, ``—``). The rules, in order (docs/results.md):

1. full-width characters become ASCII (NFKC); currency signs and codes, ``%`` and
   spaces go;
2. both ``.`` and ``,`` present: the last one is the decimal mark;
3. one of them, more than once: thousands separators;
4. one of them, once, followed by exactly three digits (and not after a lone ``0``):
   thousands in a count (a count is whole); for money and other amounts a ``,`` so
   placed is thousands and a ``.`` a decimal point;
5. otherwise it is the decimal mark.
"""

from __future__ import annotations

import re
import unicodedata

# Never a quantity: what exports write in an empty metric cell.
NONE_SHOWN = frozenset({"", "-", "--", "—", "–", "n/a", "na", "—-"})
_CURRENCY = re.compile(r"^[A-Z]{3}\s*|\s*[A-Z]{3}$|[¥$€£₩₹円]")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")  # ' : Swiss thousands
_SHAPE = re.compile(r"\d[\d.,]*")
MAX_CHARS = 40


def parse_number(text: str, *, count: bool) -> float | str:
    """``text`` as a non-negative number, or why it is not one (said to the user).

    ``count``: a whole quantity (impressions, clicks), where ``1.234`` is 1234."""
    plain = text.strip()
    if plain.isascii() and plain.isdigit():  # most cells of most reports: no work to do
        return float(plain)
    raw = unicodedata.normalize("NFKC", plain)
    if raw.casefold() in NONE_SHOWN:
        return 0.0
    if len(raw) > MAX_CHARS:
        return "too long for a number"
    cleaned = _SPACES.sub("", _CURRENCY.sub("", raw)).removesuffix("%")
    if not _SHAPE.fullmatch(cleaned):
        negative = cleaned.startswith("-") or (cleaned.startswith("(") and cleaned.endswith(")"))
        return "a negative number — a metric is never below 0" if negative else "not a number"
    value = float(_plain(cleaned, count=count))  # digits and one point: always finite
    if count and not value.is_integer():
        return "not a whole number — a count of impressions or clicks is whole"
    return value


def _plain(text: str, *, count: bool) -> str:
    """The digits with a ``.`` decimal point, by the rules of the module docstring."""
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        return text.replace(thousands, "").replace(decimal, ".")
    mark = "." if dots else "," if commas else ""
    if not mark:
        return text
    if text.count(mark) > 1:
        return text.replace(mark, "")
    before, after = text.split(mark)
    grouped = len(after) == 3 and before != "0" and (count or mark == ",")
    return text.replace(mark, "" if grouped else ".")
