"""Regenerate the example campaign: ``spring-launch.xlsx``, ``brand/logo.png`` and the
product packshot ``brand/house-blend.png`` (``build_packshot.py``).

    python campaigns/build_spring_launch.py

The workbook is the example from docs/brief-format.md: 5 briefs x 1 audience x
2 languages x 2 variants x 5 placements = 100 ads, with the draft provider so it runs
offline in seconds. Each brief also carries its fields in Japanese (``message@ja`` …),
written for Japanese readers, so the offline run's Japanese ads are Japanese; the
Glossary sheet says how names are written in each language. Edit the data below
rather than the workbook, so the two stay in step.
"""

from __future__ import annotations

from pathlib import Path

from build_packshot import build_packshot
from noto_cjk_sans_jp_bold import FONT_PATH
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent

ESPRESSO = "#3B2418"
AMBER = "#E8A33D"
CREAM = "#FFF6E9"

CAMPAIGN = [
    ("name", "Spring Launch 2026", "campaign name; its slug is the default utm_campaign"),
    ("brand", "Lumen Coffee", ""),
    ("languages", "en, ja", "comma list of language codes"),
    ("variants", 2, "versions of each ad (1-20)"),
    (
        "placements",
        "meta_feed, meta_story, linkedin_single, display_300x250, display_728x90",
        "placement ids; see docs/brief-format.md",
    ),
    ("provider", "draft", "draft = offline, no model, no cost; bedrock = Amazon Bedrock"),
    ("max_cost_usd", 5, "a run stops before spending more than this"),
    ("naming", "{campaign}_{brief}_{audience}_{language}_{placement}_v{variant}", "ad names"),
]

AUDIENCES = [
    (
        "commuters",
        "Office workers and students who grab coffee on the way to work or class;"
        " short on time, value speed and things that travel well.",
    ),
    (
        "home-baristas",
        "Coffee enthusiasts who brew at home; care about origin, roast date and"
        " technique, and enjoy getting better at it.",
    ),
]

BRIEF_COLUMNS = [
    "id",
    "product",
    "message",
    "audience",
    "benefits",
    "tone",
    "cta",
    "landing_url",
    "image_prompt",
    "headline",
    "disclaimer",
    "category",
    "product@ja",
    "message@ja",
    "benefits@ja",
    "cta@ja",
    "headline@ja",
    "disclaimer@ja",
    "product_image",
]

BRIEFS = [
    {
        "id": "cold-brew",
        "product": "Lumen Cold Brew Concentrate (1 L)",
        "message": "Café-strength iced coffee at home in 30 seconds: no machine, no queue.",
        "audience": "commuters",
        "benefits": "Slow-steeped for 18 hours\nMakes 12 glasses per bottle\nNo added sugar",
        "tone": "bright, upbeat, a little playful",
        "cta": "Shop cold brew",
        "landing_url": "https://lumencoffee.example/cold-brew",
        "image_prompt": "A tall glass of iced cold brew with condensation on a sunlit kitchen"
        " counter, keys and a transit card beside it, early morning light, fresh and airy",
        "category": "foods",
        "product@ja": "Lumen コールドブリュー 濃縮タイプ（1L）",
        "message@ja": "注ぐだけで、カフェの味のアイスコーヒー。マシンも行列もいりません。",
        "benefits@ja": "18時間かけてじっくり抽出\n1本でグラス12杯分\n砂糖不使用",
        "cta@ja": "購入する",
    },
    {
        "id": "travel-mug",
        "product": "Lumen Thermal Travel Mug (350 ml)",
        "message": "Coffee that stays hot for the whole commute and never leaks into your bag.",
        "audience": "commuters",
        "benefits": "Keeps drinks hot for 6 hours\nLeak-proof one-hand lid\n"
        "Fits car and bike cup holders",
        "tone": "confident, practical",
        "cta": "Get yours",
        "landing_url": "https://lumencoffee.example/travel-mug",
        "image_prompt": "A matte amber travel mug held by a cyclist waiting at a city crossing,"
        " soft spring morning, cherry blossoms blurred in the background",
        # Supplied copy is used as given in every ad of this brief, never rewritten.
        "headline": "Hot for 6 hours. No leaks.",
        "category": "other",
        "product@ja": "Lumen 保温トラベルマグ（350ml）",
        "message@ja": "通勤のあいだ、ずっと温かい。バッグの中でもこぼれません。",
        "benefits@ja": "6時間あたたかさをキープ\n片手で開け閉めできるフタ\n"
        "車や自転車のドリンクホルダーにも",
        "cta@ja": "詳しく見る",
        "headline@ja": "6時間あたたかい。こぼれない。",
    },
    {
        "id": "sunrise-blend",
        "product": "Sunrise Espresso Blend, whole beans (1 kg)",
        "message": "Our new spring espresso, with bright citrus and milk-chocolate notes:"
        " 20% off your first subscription delivery.",
        "audience": "home-baristas",
        "benefits": "Roasted within 48 hours of shipping\n"
        "Single-estate beans from Colombia and Ethiopia\nFree delivery on subscriptions",
        "tone": "warm, knowledgeable, never snobbish",
        "cta": "Subscribe",
        # An existing query string is kept; adloom adds the UTM parameters to it.
        "landing_url": "https://lumencoffee.example/sunrise-blend?ref=spring",
        "image_prompt": "Freshly roasted coffee beans spilling from a kraft paper bag beside"
        " an espresso cup with golden crema, wooden table, morning sun through a window",
        "disclaimer": "20% off the first delivery for new subscribers only."
        " Renews monthly; cancel anytime.",
        "category": "foods",
        "product@ja": "サンライズ エスプレッソブレンド（豆・1kg）",
        "message@ja": "春の新しいエスプレッソ。柑橘の明るさと、ミルクチョコのような甘さ。"
        "定期便なら初回20%オフ。",
        "benefits@ja": "出荷前48時間以内に焙煎\nコロンビアとエチオピアの単一農園の豆\n"
        "定期便は送料無料",
        "cta@ja": "定期便を始める",
        "disclaimer@ja": "初回20%オフは定期便を新しく始める方のみ。毎月自動でお届けし、"
        "いつでも解約できます。",
    },
    {
        "id": "pour-over-kit",
        "product": "Lumen Pour-Over Starter Kit",
        "message": "Everything you need for a clean, sweet pour-over: dripper, filters,"
        " scale and a step-by-step guide.",
        "audience": "home-baristas",
        "benefits": "Ceramic dripper that holds heat\nGram scale with built-in timer\n"
        "Illustrated brew guide",
        "tone": "calm, encouraging",
        "cta": "Shop the kit",
        "landing_url": "https://lumencoffee.example/pour-over-kit",
        "image_prompt": "A ceramic pour-over dripper on a glass carafe, a gooseneck kettle"
        " pouring a thin stream, digital scale, soft natural light, minimal kitchen",
        "category": "other",
        "product@ja": "Lumen ハンドドリップ スターターキット",
        "message@ja": "すっきり甘いハンドドリップを、今日から。道具も手順も、これひとつで。",
        "benefits@ja": "熱を逃がしにくい陶器のドリッパー\nタイマー付きのデジタルスケール\n"
        "イラストでわかる抽出ガイド",
        "cta@ja": "キットを見る",
    },
    {
        # The real product: the packshot is set, only scaled, on generated scenes.
        "id": "house-blend",
        "product": "Lumen House Blend, whole beans (250 g)",
        "message": "Our everyday blend, roasted every Monday: chocolatey, smooth, never bitter.",
        "audience": "home-baristas",
        "benefits": "Roasted every Monday\nChocolate and hazelnut notes\nRecyclable bag",
        "tone": "warm, down to earth",
        "cta": "Shop beans",
        "landing_url": "https://lumencoffee.example/house-blend",
        "image_prompt": "A rustic wooden kitchen counter by a sunny window, a ceramic cup"
        " and a few scattered coffee beans, soft morning light",
        "product_image": "brand/house-blend.png",
        "category": "foods",
        "product@ja": "Lumen ハウスブレンド（豆・250 g）",
        "message@ja": "毎週月曜に焙煎する、毎日のブレンド。チョコのようにまろやかで、苦すぎない。",
        "benefits@ja": "毎週月曜に焙煎\nチョコレートとヘーゼルナッツの香り\nリサイクルできる袋",
        "cta@ja": "豆を見る",
    },
]

BRAND = [
    ("primary_color", ESPRESSO),
    ("secondary_color", AMBER),
    ("text_color", CREAM),
    ("logo", "brand/logo.png"),
    (
        "voice",
        "Warm, bright and plain-spoken. Short sentences. Celebrates small morning rituals;"
        " never snobbish about coffee.",
    ),
    ("banned_words", "cheap, guaranteed, best in the world, miracle"),
]


# Names written one way per language: lint and the model follow it (docs/brief-format.md).
GLOSSARY_COLUMNS = ["term", "en", "ja", "avoid"]
GLOSSARY = [
    ("Lumen", "Lumen", "Lumen", "ルーメン, ルメン"),
    ("Cold Brew", "Cold Brew", "コールドブリュー", "コールドブルー"),
    ("Sunrise Espresso Blend", "Sunrise Espresso Blend", "サンライズ エスプレッソブレンド", ""),
]


def build_logo(path: Path) -> None:
    """A round badge: an amber sun rising behind a coffee bean, and the wordmark.

    Drawn at 4x and scaled down for smooth edges; the background outside the badge is
    transparent so the logo sits on any image. The badge itself is cream, so it stays
    legible on the dark brand colour as well as on light photos.
    """
    scale, size = 4, 512
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = big // 2

    def box(cx: float, cy: float, rx: float, ry: float) -> tuple[float, float, float, float]:
        return (cx - rx, cy - ry, cx + rx, cy + ry)

    draw.ellipse(box(centre, centre, big * 0.48, big * 0.48), fill=CREAM)
    draw.ellipse(box(centre, centre, big * 0.48, big * 0.48), outline=AMBER, width=10 * scale)
    # The sun: a disc with short rays, above the wordmark.
    sun_y = big * 0.40
    for angle in range(-80, 81, 20):
        ray = Image.new("RGBA", (big, big), (0, 0, 0, 0))
        ImageDraw.Draw(ray).rounded_rectangle(
            (centre - 7 * scale, sun_y - big * 0.30, centre + 7 * scale, sun_y - big * 0.22),
            radius=7 * scale,
            fill=AMBER,
        )
        image.alpha_composite(ray.rotate(-angle, center=(centre, sun_y)))
    draw.ellipse(box(centre, sun_y, big * 0.19, big * 0.19), fill=AMBER)
    # The bean: a rotated ellipse with a curved crease.
    bean = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    bean_draw = ImageDraw.Draw(bean)
    bean_draw.ellipse(box(centre, sun_y, big * 0.085, big * 0.125), fill=ESPRESSO)
    bean_draw.arc(
        box(centre + big * 0.05, sun_y, big * 0.07, big * 0.11),
        start=130,
        end=230,
        fill=CREAM,
        width=5 * scale,
    )
    image.alpha_composite(bean.rotate(-30, center=(centre, sun_y)))
    font = ImageFont.truetype(str(FONT_PATH), 70 * scale)
    draw.text((centre, big * 0.70), "LUMEN", font=font, fill=ESPRESSO, anchor="mm")
    small = ImageFont.truetype(str(FONT_PATH), 30 * scale)
    draw.text((centre, big * 0.82), "C O F F E E", font=small, fill=AMBER, anchor="mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.resize((size, size), Image.Resampling.LANCZOS).save(path, optimize=True)


def _style(sheet: Worksheet, widths: list[int]) -> None:
    """Bold header, wrapped text, sensible widths: the sheet is read by people too."""
    header_fill = PatternFill("solid", fgColor=AMBER.removeprefix("#"))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"


def build_workbook(path: Path) -> None:
    workbook = Workbook()
    campaign = workbook.worksheets[0]  # a new workbook comes with one sheet
    campaign.title = "Campaign"
    campaign.append(["setting", "value", "notes"])
    for row in CAMPAIGN:
        campaign.append(list(row))
    _style(campaign, [16, 60, 50])

    briefs = workbook.create_sheet("Briefs")
    briefs.append(BRIEF_COLUMNS)
    for brief in BRIEFS:
        briefs.append([brief.get(column, "") for column in BRIEF_COLUMNS])
    _style(briefs, [16, 30, 45, 16, 36, 24, 16, 40, 50, 28, 40, 12, 30, 45, 36, 16, 28, 40, 28])

    audiences = workbook.create_sheet("Audiences")
    audiences.append(["id", "description"])
    for audience in AUDIENCES:
        audiences.append(list(audience))
    _style(audiences, [18, 80])

    brand = workbook.create_sheet("Brand")
    brand.append(["setting", "value"])
    for setting in BRAND:
        brand.append(list(setting))
    _style(brand, [18, 80])

    glossary = workbook.create_sheet("Glossary")
    glossary.append(GLOSSARY_COLUMNS)
    for term in GLOSSARY:
        glossary.append(list(term))
    _style(glossary, [24, 24, 30, 30])
    workbook.save(path)


def main() -> None:
    build_logo(HERE / "brand" / "logo.png")
    build_packshot(HERE / "brand" / "house-blend.png")
    build_workbook(HERE / "spring-launch.xlsx")


if __name__ == "__main__":
    main()
