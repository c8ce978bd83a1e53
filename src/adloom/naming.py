"""Ad names from the campaign's naming template, and landing URLs with UTM parameters."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

NAME_FIELDS = ("campaign", "brief", "audience", "language", "placement", "variant", "product")


def slugify(text: str) -> str:
    """Lower-case, ASCII where possible, ``-`` between words; keeps CJK as it is.

    UTM values are case-sensitive and end up in analytics reports, so they must be
    stable: the same campaign name always gives the same slug.
    """
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE)
    return text.strip("-_") or "campaign"


def ad_name(template: str, **values: object) -> str:
    """Fill the naming template; every value is slugged so names are safe as file names."""
    clean = {k: slugify(str(v)) if k != "variant" else str(v) for k, v in values.items()}
    return template.format(**clean)


def with_utm(url: str, params: dict[str, str]) -> str:
    """Add UTM parameters to ``url``, keeping its own query.

    The result is plain ASCII, as ad platforms require: query values, and any
    non-ASCII path (``/商品/``), are percent-encoded, and an internationalised host
    name is written in IDNA (``xn--``) form. Escapes already in the URL are kept.
    """
    if not url:
        return ""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, v) for k, v in params.items() if v]
    return urlunsplit(
        parts._replace(
            netloc=_ascii_host(parts.netloc),
            path=quote(parts.path, safe=_URL_SAFE),
            query=urlencode(query),
            fragment=quote(parts.fragment, safe=_URL_SAFE),
        )
    )


def _ascii_host(netloc: str) -> str:
    if netloc.isascii():
        return netloc
    try:
        return netloc.encode("idna").decode("ascii")
    except UnicodeError:  # not a valid IDNA name: left for the platform to reject
        return netloc


# RFC 3986 reserved and unreserved characters, and "%" so existing escapes are kept.
_URL_SAFE = "%/:@!$&'()*+,;=-._~"
