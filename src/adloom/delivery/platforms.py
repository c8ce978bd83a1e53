"""Bulk files for the ad platforms' own import tools, written to ``exports/``.

- ``google-ads-editor.csv``: the responsive search ads, one row each, in the columns
  Google Ads Editor imports (File > Import > From file). Headers are English, which
  Editor matches ignoring case and spaces; an empty cell means "no value" for a new ad.
- ``meta-bulk.csv`` and ``meta-images/``: the Meta (Facebook/Instagram) image ads, one
  row each, in the columns of Ads Manager's bulk import sheet, with every creative the
  sheet names in ``meta-images/`` beside it (``Image File Name`` is its file name).

Only ads that came out (status ``ok``) are exported; after a review, only approved
ones (the caller passes those). Both files are rewritten every time, with a header
row even when empty, so a stale file from an earlier round never lingers.

The files are UTF-8 with a byte-order mark: Google Ads Editor reads UTF-8 and UTF-16,
and the mark is what makes Excel (where people check such files first) read Japanese
correctly instead of guessing a legacy code page. Every text cell that a spreadsheet
would run as a formula is neutralised (``cells.neutralise``). Formats and sources are
in docs/output.md.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from adloom import safepath
from adloom.copy import rsa
from adloom.copy.lint import contains_term
from adloom.delivery.cells import neutralise
from adloom.model import Ad, Campaign, Creative, SearchAd
from adloom.naming import ad_name
from adloom.outdir import Deliverable

EXPORTS_DIR = "exports"
GOOGLE_FILE = "google-ads-editor.csv"
META_FILE = "meta-bulk.csv"
META_IMAGES = "meta-images"
ENCODING = "utf-8-sig"

GOOGLE_AD_TYPE = "Responsive search ad"
GOOGLE_COLUMNS = (
    "Campaign",
    "Ad group",
    "Ad type",
    *(f"Headline {i}" for i in range(1, rsa.MAX_HEADLINES + 1)),
    *(f"Description {i}" for i in range(1, rsa.MAX_DESCRIPTIONS + 1)),
    *(f"Headline {i} position" for i in range(1, rsa.MAX_HEADLINES + 1)),
    *(f"Description {i} position" for i in range(1, rsa.MAX_DESCRIPTIONS + 1)),
    "Path 1",
    "Path 2",
    "Final URL",
)
META_COLUMNS = (
    "Campaign Name",
    "Ad Set Name",
    "Ad Name",
    "Title",
    "Body",
    "Link",
    "Display Link",
    "Call to Action",
    "Image File Name",
    "URL Tags",
)
META_PLATFORM = "meta"
UPLOADS = Deliverable(
    "the platforms' upload files",
    (
        f"{EXPORTS_DIR}/{GOOGLE_FILE}",
        f"{EXPORTS_DIR}/{META_FILE}",
        f"{EXPORTS_DIR}/{META_IMAGES}/*",
    ),
)

# Meta's call-to-action types (the Marketing API's AdCreativeLinkDataCallToAction
# enum) for the button texts briefs use, tried in order: the first whose terms the
# CTA contains wins. Terms match as ``lint.contains_term`` does: after NFKC and case
# folding, whole words in spaced scripts (a trailing * takes longer words), anywhere
# in Japanese. Japanese labels are those copywriters (and the draft provider) write.
META_CTA: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SUBSCRIBE", ("subscribe*", "定期", "購読")),
    ("ORDER_NOW", ("order*", "注文")),
    ("BUY_NOW", ("buy",)),
    ("SHOP_NOW", ("shop*", "store", "購入", "ショップ", "買う")),
    ("BOOK_NOW", ("book*", "reserve", "予約")),
    ("SIGN_UP", ("sign up", "signup", "register", "join", "try", "登録", "試す", "無料体験")),
    ("GET_OFFER", ("offer*", "deal*", "coupon*", "特典", "クーポン")),
    ("GET_QUOTE", ("quote*", "見積")),
    ("APPLY_NOW", ("apply", "申し込", "申込")),
    ("CONTACT_US", ("contact", "問い合わせ", "問合せ")),
    ("DOWNLOAD", ("download*", "ダウンロード")),
    ("DONATE_NOW", ("donate", "寄付")),
    ("WATCH_MORE", ("watch", "video*", "動画")),
    ("GET_STARTED", ("get started", "start", "始める", "はじめる")),
)
META_DEFAULT_CTA = "LEARN_MORE"  # "Learn more", 詳しく見る, and whatever matches nothing


def meta_cta(text: str) -> str:
    """The Meta call-to-action type closest to a CTA text (``LEARN_MORE`` by default)."""
    for cta, terms in META_CTA:
        if any(contains_term(text, term) for term in terms):
            return cta
    return META_DEFAULT_CTA


def exported(ads: Iterable[Ad]) -> tuple[list[tuple[Ad, SearchAd]], list[tuple[Ad, Creative]]]:
    """The search ads and the Meta image ads among ``ads`` that a platform file takes."""
    # A candidate (not among the best --keep of its slot) is never uploaded.
    done = [a for a in ads if a.status == "ok" and not a.candidate]
    search = [(a, a.copy.search) for a in done if a.copy.search is not None]
    meta = [
        (a, a.creative)
        for a in done
        if a.spec.placement.platform == META_PLATFORM and a.creative is not None
    ]
    return search, meta


def export_platforms(ads: Sequence[Ad], campaign: Campaign, out: Path) -> tuple[Path, Path]:
    """Write ``exports/google-ads-editor.csv`` and ``exports/meta-bulk.csv`` (with
    ``exports/meta-images/``); return the two CSV paths."""
    folder = out / EXPORTS_DIR
    search, meta = exported(ads)
    google_rows = [_google(ad, copy, campaign) for ad, copy in search]
    google = _write_csv(out, folder / GOOGLE_FILE, GOOGLE_COLUMNS, google_rows)
    written = _image_names(folder / META_FILE)  # before the file is replaced
    _stage_images(out, folder / META_IMAGES, [creative for _, creative in meta], written)
    meta_rows = [_meta(ad, creative, campaign) for ad, creative in meta]
    return google, _write_csv(out, folder / META_FILE, META_COLUMNS, meta_rows)


def _group_name(ad: Ad, *, placement: bool = False) -> str:
    """An ad group (Google) or ad set (Meta): brief, audience and language, slugged as
    ad names are; Meta's also by placement, since an ad set picks its placements."""
    template = "{brief}_{audience}_{language}" + ("_{placement}" if placement else "")
    spec = ad.spec
    return ad_name(
        template,
        brief=spec.brief.id,
        audience=spec.audience,
        language=spec.language,
        placement=spec.placement.id,
    )


def _google(ad: Ad, search: SearchAd, campaign: Campaign) -> list[str]:
    headlines = _padded(search.headlines, rsa.MAX_HEADLINES)
    descriptions = _padded(search.descriptions, rsa.MAX_DESCRIPTIONS)
    return [
        campaign.settings.name,
        _group_name(ad),
        GOOGLE_AD_TYPE,
        *headlines,
        *descriptions,
        *(_position(search.pin("headline", i)) for i in range(rsa.MAX_HEADLINES)),
        *(_position(search.pin("description", i)) for i in range(rsa.MAX_DESCRIPTIONS)),
        search.path1,
        search.path2,
        ad.spec.landing_url,
    ]


def _padded(texts: Sequence[str], size: int) -> list[str]:
    return [*texts[:size], *[""] * (size - len(texts))]


def _position(pin: int) -> str:
    return str(pin) if pin else ""


def _meta(ad: Ad, creative: Creative, campaign: Campaign) -> list[str]:
    url = ad.spec.landing_url
    return [
        campaign.settings.name,
        _group_name(ad, placement=True),
        ad.spec.name,
        ad.copy.headline,
        ad.copy.body,
        # The UTM parameters are in Link itself, as in every other export, so URL Tags
        # stays empty: Meta appends URL Tags to Link, which would send them twice.
        url,
        urlsplit(url).hostname or "",
        meta_cta(ad.copy.cta),
        creative.path.name,
        "",
    ]


def _image_names(bulk: Path) -> set[str]:
    """The images an earlier ``meta-bulk.csv`` named: the files adloom put beside it."""
    try:
        with bulk.open(encoding=ENCODING, newline="") as file:
            names = {row.get("Image File Name") or "" for row in csv.DictReader(file)}
    except (OSError, csv.Error, UnicodeDecodeError):
        return set()
    return {name for name in names if name and Path(name).name == name}


def _stage_images(
    out: Path, folder: Path, creatives: Sequence[Creative], written: set[str]
) -> None:
    """Put ``creatives`` in ``folder``: hard links where the file system allows (no extra
    space), copies elsewhere; names are ad names, so they never clash. Images an earlier
    export put there and this one does not name are removed, nothing else: a file the
    user keeps there stays."""
    safepath.make_dirs(out, folder)
    for name in written - {c.path.name for c in creatives}:
        safepath.remove(out, folder / name)
    for creative in creatives:
        source, target = creative.path, folder / creative.path.name
        safepath.remove(out, target)  # a link to last round's creative, or a stale copy
        try:
            os.link(source, target)
        except OSError:  # another device, or a file system without hard links
            safepath.write_with(out, target, partial(shutil.copy2, source))


def _write_csv(out: Path, path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    # Written next to it, then renamed: an import never reads half a file.
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding=ENCODING, newline="") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            writer.writerows([neutralise(value) for value in row] for row in rows)

    return safepath.write_with(out, path, write)
