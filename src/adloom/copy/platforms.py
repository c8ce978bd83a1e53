"""The ad platforms adloom knows: one table each, read by every stage that needs one.

A ``Platform`` says what its name is in messages ("Google's limit of 30", ``lint``),
which copy rules it enforces beyond length (``lint``), what ``utm_medium`` its ads get
(``plan``), and the bulk-import files its own tools read (``Upload``: file name,
columns, one row per ad; ``delivery.platforms`` writes them under ``exports/`` and
declares their names as the out folder's). Its placements (sizes, copy limits and how
they are counted, safe areas, byte caps) are rows of ``data/placements.json`` whose
``platform`` is its ``id``.

Adding a platform: a ``Platform`` here (and its rows writer, if it has an upload
file), its placements in ``data/placements.json``, and tests. Sources of each fact
are beside it; see also docs/output.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from adloom.copy.terms import contains_term
from adloom.model import (
    MAX_DESCRIPTIONS,
    MAX_HEADLINES,
    Ad,
    Campaign,
    PinField,
    Placement,
    SearchAd,
)
from adloom.naming import ad_name

# The rules ``lint`` applies to a platform's copy beyond length, banned words, the
# product and the disclaimer (docs/rules.md).
EDITORIAL = ("exclamation", "punctuation", "capitals", "phone", "characters", "tiktok_text")
GOOGLE_EDITORIAL = EDITORIAL[:5]

Row = Callable[[Ad, Campaign], Sequence[str] | None]
"""An upload's row for one ad, or None when the file does not take that ad."""


@dataclass(frozen=True)
class Upload:
    """One bulk-import file: written under ``exports/`` with a header row, then
    ``preamble`` rows, then one row per ad it takes (``row``)."""

    file: str
    columns: tuple[str, ...]
    row: Row
    preamble: tuple[tuple[str, ...], ...] = ()
    # A folder beside the file holding every creative it names, by the file name in
    # ``image_column``: the platform's tool uploads them with the sheet.
    images: str = ""
    image_column: str = ""


@dataclass(frozen=True)
class Platform:
    id: str  # a placement's ``platform``; "google" also takes "google_<x>" without a table
    name: str  # as messages say it
    medium: str  # the utm_medium its ads get unless the campaign sets one
    rules: tuple[str, ...] = ()  # of EDITORIAL
    uploads: tuple[Upload, ...] = ()


def group_name(ad: Ad, *, placement: bool = False) -> str:
    """An ad group (search) or ad set (Meta): brief, audience and language, slugged as
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


def padded(texts: Sequence[str], size: int) -> list[str]:
    return [*texts[:size], *[""] * (size - len(texts))]


def image_sheet(file: str, images: str, columns: Sequence[str]) -> Upload:
    """An upload sheet for a platform that documents no bulk-import format of its own:
    one image ad a row, in ``columns`` (campaign, ad group, ad name, placement,
    headline, body, call to action, landing page, image file), the creatives beside it
    in ``images/``. Labelled a sheet (file name, docs/output.md): its ads are entered by
    hand or by the platform's own tools from it."""
    return Upload(file, tuple(columns), _sheet_row, images=images, image_column=columns[-1])


def _sheet_row(ad: Ad, campaign: Campaign) -> list[str] | None:
    if ad.creative is None:
        return None
    return [
        campaign.settings.name,
        group_name(ad, placement=True),
        ad.spec.name,
        ad.spec.placement.id,
        ad.copy.headline,
        ad.copy.body,
        ad.copy.cta,
        ad.spec.landing_url,
        ad.creative.path.name,
    ]


# ---------------------------------------------------------------- Google

GOOGLE_FILE = "google-ads-editor.csv"
GOOGLE_AD_TYPE = "Responsive search ad"
# Google Ads Editor's CSV columns (File > Import > From file, Help 57747): headers
# are English, matched ignoring case and spaces; an empty cell is "no value".
GOOGLE_COLUMNS = (
    "Campaign",
    "Ad group",
    "Ad type",
    *(f"Headline {i}" for i in range(1, MAX_HEADLINES + 1)),
    *(f"Description {i}" for i in range(1, MAX_DESCRIPTIONS + 1)),
    *(f"Headline {i} position" for i in range(1, MAX_HEADLINES + 1)),
    *(f"Description {i} position" for i in range(1, MAX_DESCRIPTIONS + 1)),
    "Path 1",
    "Path 2",
    "Final URL",
)


def _google(ad: Ad, campaign: Campaign) -> list[str] | None:
    search = ad.copy.search
    if search is None:
        return None
    return [
        campaign.settings.name,
        group_name(ad),
        GOOGLE_AD_TYPE,
        *padded(search.headlines, MAX_HEADLINES),
        *padded(search.descriptions, MAX_DESCRIPTIONS),
        *(_position(search.pin("headline", i)) for i in range(MAX_HEADLINES)),
        *(_position(search.pin("description", i)) for i in range(MAX_DESCRIPTIONS)),
        search.path1,
        search.path2,
        ad.spec.landing_url,
    ]


def _position(pin: int) -> str:
    return str(pin) if pin else ""


GOOGLE_SEARCH = Upload(GOOGLE_FILE, GOOGLE_COLUMNS, _google)

# ---------------------------------------------------------------- Meta

META_FILE = "meta-bulk.csv"
META_IMAGES = "meta-images"
# Ads Manager's bulk import sheet: one image ad a row, ``Image File Name`` naming a
# creative in meta-images/ beside it.
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

# Meta's call-to-action types (the Marketing API's AdCreativeLinkDataCallToAction
# enum) for the button texts briefs use, tried in order: the first whose terms the
# CTA contains wins. Terms match as ``terms.contains_term`` does: after NFKC and case
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


def _meta(ad: Ad, campaign: Campaign) -> list[str] | None:
    if ad.creative is None:
        return None
    url = ad.spec.landing_url
    return [
        campaign.settings.name,
        group_name(ad, placement=True),
        ad.spec.name,
        ad.copy.headline,
        ad.copy.body,
        # The UTM parameters are in Link itself, as in every other export, so URL Tags
        # stays empty: Meta appends URL Tags to Link, which would send them twice.
        url,
        urlsplit(url).hostname or "",
        meta_cta(ad.copy.cta),
        ad.creative.path.name,
        "",
    ]


META_IMAGE_ADS = Upload(
    META_FILE, META_COLUMNS, _meta, images=META_IMAGES, image_column="Image File Name"
)

# ---------------------------------------------------------------- Microsoft Advertising

MICROSOFT_FILE = "microsoft-ads-bulk.csv"
# The Bulk file schema's Responsive Search Ad record (learn.microsoft.com/en-us/
# advertising/bulk-service/responsive-search-ad, read 2026-12): a header row, the
# Format Version row (6.0, in the Name column), then one record per ad. Campaign and
# Ad Group name ones in the account (or added by rows of the same file); Headline and
# Description are JSON lists of {"text", "pinnedField"} (Headline1-3, Description1-2).
MICROSOFT_COLUMNS = (
    "Type",
    "Status",
    "Id",
    "Parent Id",
    "Campaign",
    "Ad Group",
    "Name",
    "Final Url",
    "Headline",
    "Description",
    "Path 1",
    "Path 2",
)
MICROSOFT_FORMAT = (
    "Format Version",
    *("6.0" if c == "Name" else "" for c in MICROSOFT_COLUMNS[1:]),
)


def _microsoft(ad: Ad, campaign: Campaign) -> list[str] | None:
    search = ad.copy.search
    if search is None:
        return None
    return [
        "Responsive Search Ad",
        "Active",
        "",
        "",
        campaign.settings.name,
        group_name(ad),
        "",
        ad.spec.landing_url,
        _assets(search, "headline"),
        _assets(search, "description"),
        search.path1,
        search.path2,
    ]


def _assets(search: SearchAd, kind: PinField) -> str:
    """Headlines or descriptions as the record's JSON list, a pin as its position."""
    texts = search.headlines if kind == "headline" else search.descriptions
    links: list[dict[str, str]] = []
    for i, text in enumerate(texts):
        pin = search.pin(kind, i)
        links.append({"text": text, **({"pinnedField": f"{kind.title()}{pin}"} if pin else {})})
    return json.dumps(links, ensure_ascii=False, separators=(",", ":"))


MICROSOFT_SEARCH = Upload(MICROSOFT_FILE, MICROSOFT_COLUMNS, _microsoft, (MICROSOFT_FORMAT,))

# ---------------------------------------------------------------- Yahoo! JAPAN

YAHOO_FILE = "yahoo-search-ads.csv"
# Yahoo! JAPAN search ads' import file (広告管理ツール and キャンペーンエディター import a CSV
# or TSV whose 「コンポーネントの種類」 column says what each row is: Yahoo!広告ヘルプ
# aid=7664 and aid=7659, official). The column names are those of Yahoo!'s campaign
# export (CampaignExportService; names as listed by a third-party guide to it, and the
# asset fields as Yahoo!'s own help names them, aid=81326): docs/output.md says which
# were verified where. UTF-8 (Yahoo! reads UTF-8 and Shift_JIS: the API's export
# encodings, and the display import's spec, aid=51674).
YAHOO_COLUMNS = (
    "キャンペーン名",
    "広告グループ名",
    "コンポーネントの種類",
    "配信設定",
    "広告名",
    "広告タイプ",
    *(
        name
        for i in range(1, MAX_HEADLINES + 1)
        for name in (f"タイトル{i}（アセット）", f"タイトル{i}の表示位置")
    ),
    *(
        name
        for i in range(1, MAX_DESCRIPTIONS + 1)
        for name in (f"説明文{i}（アセット）", f"説明文{i}の表示位置")
    ),
    "ディレクトリ1",
    "ディレクトリ2",
    "最終リンク先URL",
)
YAHOO_AD_TYPE = "レスポンシブ検索広告"


def _yahoo(ad: Ad, campaign: Campaign) -> list[str] | None:
    search = ad.copy.search
    if search is None:
        return None
    headlines = padded(search.headlines, MAX_HEADLINES)
    descriptions = padded(search.descriptions, MAX_DESCRIPTIONS)
    return [
        campaign.settings.name,
        group_name(ad),
        "広告",
        "オン",
        ad.spec.name,
        YAHOO_AD_TYPE,
        *(c for i, t in enumerate(headlines) for c in (t, _yahoo_position(search, "headline", i))),
        *(
            c
            for i, t in enumerate(descriptions)
            for c in (t, _yahoo_position(search, "description", i))
        ),
        search.path1,
        search.path2,
        ad.spec.landing_url,
    ]


def _yahoo_position(search: SearchAd, kind: PinField, index: int) -> str:
    """A pin as Yahoo!'s import writes it ("1番目"); empty: not pinned."""
    pin = search.pin(kind, index)
    return f"{pin}番目" if pin else ""


YAHOO_SEARCH = Upload(YAHOO_FILE, YAHOO_COLUMNS, _yahoo)

# Yahoo! JAPAN's display import (aid=51674) names each image by the media id Yahoo!
# gave it on upload, which adloom cannot know: a sheet instead, in Yahoo!'s words.
YAHOO_DISPLAY = image_sheet(
    "yahoo-display-upload-sheet.csv",
    "yahoo-display-images",
    (
        "キャンペーン名",
        "広告グループ名",
        "広告名",
        "掲載サイズ",
        "タイトル",
        "説明文",
        "ボタン",
        "最終リンク先URL",
        "画像ファイル",
    ),
)

# ---------------------------------------------------------------- LINE and TikTok

LINE_SHEET = image_sheet(
    "line-upload-sheet.csv",
    "line-images",
    (
        "キャンペーン名",
        "広告グループ名",
        "広告名",
        "フォーマット",
        "タイトル",
        "ディスクリプション",
        "アクションボタン",
        "ランディングページ",
        "画像ファイル",
    ),
)
TIKTOK_SHEET = image_sheet(
    "tiktok-upload-sheet.csv",
    "tiktok-images",
    (
        "Campaign name",
        "Ad group name",
        "Ad name",
        "Placement",
        "Headline on image",
        "Ad text",
        "Call to action",
        "Landing page URL",
        "Image file",
    ),
)

# ---------------------------------------------------------------- the table

GOOGLE = Platform("google", "Google", "cpc", GOOGLE_EDITORIAL, (GOOGLE_SEARCH,))
PLATFORMS: tuple[Platform, ...] = (
    GOOGLE,
    Platform("google_display", "Google", "display", GOOGLE_EDITORIAL),
    Platform("meta", "Meta", "paid_social", uploads=(META_IMAGE_ADS,)),
    Platform("linkedin", "LinkedIn", "paid_social"),
    Platform("x", "X", "paid_social"),
    # Microsoft's style policies (random capitals, phone numbers in ad text, needless
    # symbols) resemble Google's, but the editorial rules' messages name Google: not
    # checked yet. Length, banned words, product and disclaimer are.
    Platform("microsoft", "Microsoft", "cpc", uploads=(MICROSOFT_SEARCH,)),
    # Yahoo!'s symbol rules are the Japanese rule pack's "yahoo" set (rulepacks), which
    # applies to every platform starting with "yahoo"; Google's editorial rules are not
    # Yahoo!'s, and their messages name Google.
    Platform("yahoo_search", "Yahoo! JAPAN", "cpc", uploads=(YAHOO_SEARCH,)),
    Platform("yahoo_display", "Yahoo! JAPAN", "display", uploads=(YAHOO_DISPLAY,)),
    Platform("line", "LINE", "paid_social", uploads=(LINE_SHEET,)),
    Platform("tiktok", "TikTok", "paid_social", ("tiktok_text",), (TIKTOK_SHEET,)),
)
_BY_ID = {p.id: p for p in PLATFORMS}
OTHER_MEDIUM = "paid_social"  # a platform without a table (a brief's own placement)


def of(placement: Placement) -> Platform | None:
    """The platform whose rules and name ``placement``'s copy takes: its own table, else
    that of the platform its id starts with ("google_youtube": Google's); None for
    one adloom has no table for."""
    platform = placement.platform
    return _BY_ID.get(platform) or _BY_ID.get(platform.split("_", 1)[0])


def medium(placement: Placement) -> str:
    """The utm_medium of ``placement``'s ads unless the campaign sets one."""
    own = _BY_ID.get(placement.platform)
    return own.medium if own is not None else OTHER_MEDIUM


def uploads_of(placement: Placement) -> tuple[Upload, ...]:
    """The files an ad on ``placement`` may go to (each takes the ads it has a row
    for): its platform's; Google's search file for a platform without upload files of
    its own, so a brief's own search placement still gets one."""
    own = _BY_ID.get(placement.platform)
    return own.uploads if own is not None and own.uploads else GOOGLE.uploads


def uploads() -> tuple[Upload, ...]:
    """Every upload file adloom writes, each once, in the table's order."""
    return tuple(dict.fromkeys(u for p in PLATFORMS for u in p.uploads))
