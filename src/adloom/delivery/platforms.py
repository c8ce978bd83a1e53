"""Bulk files for the ad platforms' own import tools, written to ``exports/``.

- ``google-ads-editor.csv``: the responsive search ads, one row each, in the columns
  Google Ads Editor imports (File > Import > From file). Headers are English, which
  Editor matches ignoring case and spaces; an empty cell means "no value" for a new ad.
- ``meta-bulk.csv`` and ``meta-images/``: the Meta (Facebook/Instagram) image ads, one
  row each, in the columns of Ads Manager's bulk import sheet, with every creative the
  sheet names in ``meta-images/`` beside it (``Image File Name``: the creative's name
  with a tag of its content, so that a name always means one image).

The sheet and its images are replaced so that they agree at every instant, however a
run is killed: new images are added under new names, the sheet is renamed into place
(the one moment it changes), and only then are the images it no longer names removed.
Which names an export may leave behind is written first (``STAGED``), so a run killed
before the sheet changed has its extra images removed by the next export.

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
import hashlib
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from adloom import safepath
from adloom.copy import rsa
from adloom.copy.lint import contains_term
from adloom.delivery.cells import neutralise
from adloom.model import Ad, Campaign, Creative, SearchAd
from adloom.naming import ad_name

EXPORTS_DIR = "exports"
GOOGLE_FILE = "google-ads-editor.csv"
META_FILE = "meta-bulk.csv"
META_IMAGES = "meta-images"
STAGED = ".meta-images.staged"  # in exports/: image names an export under way may leave
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
    images = {creative.path: _image_name(creative.path) for _, creative in meta}
    # Every image adloom may have left there: what the sheet names, and what an export
    # killed before replacing the sheet had staged.
    earlier = _image_names(folder / META_FILE) | _listed(folder / STAGED)
    now = set(images.values())
    safepath.write_bytes(out, folder / STAGED, "\n".join(sorted(earlier | now)).encode())
    _stage_images(out, folder / META_IMAGES, images)
    meta_rows = [_meta(ad, campaign, images[creative.path]) for ad, creative in meta]
    bulk = _write_csv(out, folder / META_FILE, META_COLUMNS, meta_rows)
    for name in earlier - now:
        safepath.remove(out, folder / META_IMAGES / name)
    safepath.remove(out, folder / STAGED)
    return google, bulk


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


def _meta(ad: Ad, campaign: Campaign, image: str) -> list[str]:
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
        image,
        "",
    ]


def _image_names(bulk: Path) -> set[str]:
    """The images an earlier ``meta-bulk.csv`` named: the files adloom put beside it."""
    try:
        with bulk.open(encoding=ENCODING, newline="") as file:
            names = {row.get("Image File Name") or "" for row in csv.DictReader(file)}
    except (OSError, csv.Error, UnicodeDecodeError):
        return set()
    return _plain(names)


def _listed(staged: Path) -> set[str]:
    try:
        return _plain(set(staged.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError):
        return set()


def _plain(names: set[str]) -> set[str]:
    """Bare file names only: a name read back never leads out of meta-images/."""
    return {name for name in names if name and Path(name).name == name}


def _image_name(creative: Path) -> str:
    """The creative's name tagged with its content: an image under this name is this
    image, so a sheet naming it never meets another ad's later version of it."""
    digest = hashlib.sha256(creative.read_bytes()).hexdigest()[:10]
    return f"{creative.stem}-{digest}{creative.suffix}"


def _stage_images(out: Path, folder: Path, images: Mapping[Path, str]) -> None:
    """Put each creative in ``folder`` under its tagged name: a hard link where the file
    system allows (no extra space), a copy elsewhere. A name already there holds the
    same image, so it is kept; nothing is replaced or removed here."""
    safepath.make_dirs(out, folder)
    for source, name in images.items():
        target = folder / name
        if target.is_file() and not target.is_symlink():
            continue
        safepath.write_with(out, target, partial(_link_or_copy, source))


def _link_or_copy(source: Path, tmp: Path) -> None:
    try:
        os.link(source, tmp)
    except OSError:  # another device, or a file system without hard links
        shutil.copy2(source, tmp)


def _write_csv(out: Path, path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    # Written next to it, then renamed: an import never reads half a file.
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding=ENCODING, newline="") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            writer.writerows([neutralise(value) for value in row] for row in rows)

    return safepath.write_with(out, path, write)
