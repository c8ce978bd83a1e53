"""compose: real images written, reopened and measured; layouts checked box by box."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from fontTools import subset  # type: ignore[import-untyped]
from PIL import Image, ImageChops, ImageDraw, ImageStat

from adloom.brief.placements import builtin_placements
from adloom.creative import typeset
from adloom.creative.compose import (
    AdCopy,
    Layout,
    TextElement,
    compose,
    compose_twin,
    composed,
    contrast_ratio,
    parse_color,
    plan_layout,
    readable_color,
    twin_key,
)
from adloom.creative.typeset import Box
from adloom.model import BrandKit, Placement
from adloom.providers.draft_art import draft_master

PLACEMENTS = {k: p for k, p in builtin_placements().items() if not p.text_only}
EN = AdCopy("Run farther with featherlight trail shoes", "Shop now", "Offer ends June 30.", "en")
JA = AdCopy(
    "軽さが変わる。新しいトレイルシューズで、もっと遠くへ。", "今すぐ購入", "6月30日まで。", "ja"
)
COPIES = {"en": EN, "ja": JA}
# Sizes a brief may add: odd aspects must lay out as cleanly as the built-in ones.
CUSTOM = [
    Placement("c468x60", "x", 468, 60, 30, 90, 15, 150),
    Placement("c336x280", "x", 336, 280, 30, 90, 15, 150),
    Placement("c120x600", "x", 120, 600, 30, 90, 15, 150),
    Placement("c300x1050", "x", 300, 1050, 30, 90, 15, 250),
    Placement("c970x90", "x", 970, 90, 30, 90, 15, 150),
    Placement("c720x900", "x", 720, 900, 70, 150, 20, 5120),
    Placement("c800x418", "x", 800, 418, 70, 150, 20, 5120),
    Placement("c250x250", "x", 250, 250, 30, 90, 15, 150),
]


def _noise(size: tuple[int, int]) -> Image.Image:
    return Image.merge("RGB", [Image.effect_noise(size, 90) for _ in range(3)])


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("assets")
    logo = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((0, 0, 79, 79), 18, fill=(255, 255, 255, 255))
    draw.ellipse((18, 18, 61, 61), fill=(245, 166, 35, 255))
    draw.rectangle((95, 20, 230, 60), fill=(255, 255, 255, 255))
    logo.save(root / "logo.png")
    master = root / "master.png"
    master.write_bytes(draft_master(BrandKit(), 1024, 1024, 7, "test"))
    # Photo-like noise: the worst case for the file-size cap.
    _noise((1024, 1024)).save(root / "noise.png")
    return {"logo": root / "logo.png", "master": master, "noise": root / "noise.png"}


def _assert_geometry(layout: Layout, placement: Placement) -> None:
    canvas = Box(0, 0, placement.width, placement.height)
    assert canvas.contains(layout.safe)
    boxes: list[Box] = []
    for element in layout.texts:
        assert element.block.lines
        assert element.box.contains(element.block.ink), element.role
        assert layout.safe.contains(element.box), element.role
        if element.role != "cta":  # the CTA sits inside its button
            boxes.append(element.block.ink)
    if layout.button is not None:
        assert layout.safe.contains(layout.button.box)
        cta = layout.text("cta")
        assert cta is not None
        assert layout.button.box.contains(cta.box)
        boxes.append(layout.button.box)
    if layout.logo is not None:
        assert layout.safe.contains(layout.logo)
        boxes.append(layout.logo)
    for i, a in enumerate(boxes):  # nothing overlaps anything else
        for b in boxes[i + 1 :]:
            overlap = a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1
            assert not overlap, (a, b)
    if layout.tag is not None:
        assert canvas.contains(layout.tag.chip.box)
        assert layout.tag.chip.box.contains(layout.tag.text.block.ink)


def _drawn(element: TextElement, size: tuple[int, int]) -> Box | None:
    """Where the element's glyphs actually land when drawn."""
    canvas = Image.new("L", size, 0)
    draw = ImageDraw.Draw(canvas)
    block = element.block
    face = typeset.font(block.font, block.size)
    for line in block.lines:
        draw.text((line.x, line.y), line.text, font=face, fill=255, anchor="ls")
    lit = canvas.getbbox()
    return Box(*lit) if lit else None


# ---------------------------------------------------------------- every placement


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("pid", sorted(PLACEMENTS))
def test_every_placement_with_master_logo_and_draft_tag(
    pid: str, lang: str, assets: dict[str, Path], tmp_path: Path
) -> None:
    placement = PLACEMENTS[pid]
    brand = BrandKit(logo=assets["logo"])
    creative = compose(
        assets["master"], COPIES[lang], brand, placement, tmp_path / "ads" / pid, draft=True
    )
    assert creative.issues == ()
    assert creative.path.parent == tmp_path / "ads"
    assert creative.path.suffix in (".png", ".jpg")
    assert creative.bytes == creative.path.stat().st_size
    assert creative.bytes <= placement.max_kb * 1024
    with Image.open(creative.path) as image:
        image.verify()
    with Image.open(creative.path) as image:
        assert image.size == (placement.width, placement.height)
        assert image.mode == "RGB"
        assert (creative.width, creative.height) == image.size

    layout = plan_layout(COPIES[lang], brand, placement, logo_size=(240, 80), draft=True)
    assert {e.role for e in layout.texts} == {"headline", "cta", "disclaimer"}
    assert layout.logo is not None
    assert layout.tag is not None
    _assert_geometry(layout, placement)
    for element in layout.texts:
        drawn = _drawn(element, (placement.width, placement.height))
        assert drawn is not None
        assert element.block.ink.contains(drawn), element.role


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("pid", sorted(PLACEMENTS))
def test_every_placement_flat_without_logo(pid: str, lang: str, tmp_path: Path) -> None:
    placement = PLACEMENTS[pid]
    creative = compose(None, COPIES[lang], BrandKit(), placement, tmp_path / pid, draft=False)
    assert creative.issues == ()
    # Flat art with crisp text compresses best as PNG.
    assert creative.path.suffix == ".png"
    assert creative.bytes <= placement.max_kb * 1024
    with Image.open(creative.path) as image:
        assert image.size == (placement.width, placement.height)
    layout = plan_layout(COPIES[lang], BrandKit(), placement)
    assert layout.logo is None
    assert layout.tag is None
    _assert_geometry(layout, placement)


@pytest.mark.parametrize("placement", CUSTOM, ids=lambda p: p.id)
def test_custom_sizes_lay_out_cleanly(placement: Placement) -> None:
    for copy in (EN, JA):
        layout = plan_layout(copy, BrandKit(), placement, logo_size=(240, 80), draft=True)
        assert layout.issues == ()
        _assert_geometry(layout, placement)


def test_stories_keep_copy_out_of_the_ui_bands() -> None:
    story = PLACEMENTS["meta_story"]
    top, bottom = story.safe_top * story.height, story.height * (1 - story.safe_bottom)
    for copy in (EN, JA):
        layout = plan_layout(copy, BrandKit(), story, logo_size=(240, 80), draft=False)
        assert layout.safe.y0 >= top
        assert layout.safe.y1 <= bottom
        assert layout.logo is not None
        things = [e.box for e in layout.texts] + [layout.logo]
        if layout.button is not None:
            things.append(layout.button.box)
        assert len(things) == 5
        for box in things:
            assert top <= box.y0
            assert box.y1 <= bottom


def test_draft_tag_marks_the_image(tmp_path: Path) -> None:
    placement = PLACEMENTS["display_300x250"]
    final = compose(None, EN, BrandKit(), placement, tmp_path / "final", draft=False)
    draft = compose(None, EN, BrandKit(), placement, tmp_path / "draft", draft=True)
    layout = plan_layout(EN, BrandKit(), placement, draft=True)
    assert layout.tag is not None
    chip = layout.tag.chip.box
    # Top-right corner, small.
    assert chip.x1 > placement.width * 0.9
    assert chip.y0 < placement.height * 0.1
    assert chip.width * chip.height < placement.width * placement.height * 0.05
    with Image.open(final.path) as a, Image.open(draft.path) as b:
        diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox()
    assert diff is not None
    assert chip.contains(Box(*diff))  # only the tag differs


# ---------------------------------------------------------------- fitting


def test_absurd_headline_is_left_out_with_advice(tmp_path: Path) -> None:
    placement = PLACEMENTS["display_320x50"]
    copy = replace(EN, headline="Incredible savings on absolutely everything " * 8)
    layout = plan_layout(copy, BrandKit(), placement, logo_size=(240, 80))
    assert layout.text("headline") is None
    assert len(layout.issues) == 1
    match = re.fullmatch(
        r"headline does not fit display_320x50 at 9 px — shorten it to about (\d+) characters",
        layout.issues[0],
    )
    assert match, layout.issues
    assert 10 < int(match.group(1)) < 120
    assert layout.text("cta") is not None
    _assert_geometry(layout, placement)
    # The advice is sound: a headline of that length fits.
    shorter = replace(copy, headline=copy.headline[: int(match.group(1))])
    assert plan_layout(shorter, BrandKit(), placement, logo_size=(240, 80)).issues == ()

    creative = compose(None, copy, BrandKit(), placement, tmp_path / "long", draft=False)
    assert creative.issues == plan_layout(copy, BrandKit(), placement).issues
    assert creative.issues[0].startswith("headline does not fit display_320x50 at 9 px")


def test_unbreakable_word_shrinks_before_it_breaks() -> None:
    placement = PLACEMENTS["display_300x250"]
    word = replace(EN, headline="Supercalifragilisticexpialidocious")
    layout = plan_layout(word, BrandKit(), placement)
    headline = layout.text("headline")
    assert headline is not None
    assert [line.text for line in headline.block.lines] == [word.headline]
    assert layout.issues == ()


def test_empty_cta_and_disclaimer_are_omitted() -> None:
    for placement in PLACEMENTS.values():
        layout = plan_layout(AdCopy("Summer sale", "", "  ", "en"), BrandKit(), placement)
        assert [e.role for e in layout.texts] == ["headline"]
        assert layout.button is None
        assert layout.issues == ()


# ---------------------------------------------------------------- colour and fonts


def test_contrast_math() -> None:
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast_ratio((10, 20, 30), (10, 20, 30)) == pytest.approx(1)
    assert readable_color((255, 255, 255), (31, 58, 147)) == (255, 255, 255)
    assert readable_color((255, 255, 255), (255, 230, 0)) == (0, 0, 0)
    assert readable_color((0, 0, 0), (20, 20, 60)) == (255, 255, 255)


def test_low_contrast_brand_text_falls_back(tmp_path: Path) -> None:
    brand = BrandKit(primary_color="#FFE600", secondary_color="#FFFFFF", text_color="#FFFFFF")
    placement = PLACEMENTS["meta_feed"]
    layout = plan_layout(EN, brand, placement)
    for element in layout.texts:
        assert element.color == (0, 0, 0)
    good = plan_layout(EN, BrandKit(primary_color="#111111"), placement)
    headline = good.text("headline")
    assert headline is not None
    assert headline.color == parse_color("#FFFFFF")
    # In the pixels: the headline's ink is dark on the yellow panel.
    creative = compose(None, EN, brand, placement, tmp_path / "yellow", draft=False)
    dark = layout.text("headline")
    assert dark is not None
    with Image.open(creative.path) as image:
        region = image.convert("L").crop(dark.block.ink.tuple())
        assert ImageStat.Stat(region).extrema[0][0] < 40


@pytest.fixture(scope="module")
def latin_font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fonts") / "BrandSans-Latin.otf"
    options = subset.Options()
    font = subset.load_font(str(typeset.noto(bold=True)), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=range(0x20, 0x7F))
    subsetter.subset(font)
    subset.save_font(font, str(out), options)
    return out


def test_brand_font_where_it_has_the_glyphs(latin_font: Path, tmp_path: Path) -> None:
    brand = BrandKit(font=latin_font)
    placement = PLACEMENTS["meta_feed"]
    en = plan_layout(EN, brand, placement)
    assert en.issues == ()
    assert {e.block.font for e in en.texts} == {latin_font}
    ja = plan_layout(JA, brand, placement)
    assert ja.issues == ()  # Japanese falls back to Noto: nothing to report
    fonts = {e.role: e.block.font for e in ja.texts}
    assert fonts["headline"] == typeset.noto(bold=True)
    assert fonts["disclaimer"] == typeset.noto(bold=False)
    mixed = plan_layout(replace(JA, cta="Shop now"), brand, placement)
    cta = mixed.text("cta")
    assert cta is not None
    assert cta.block.font == latin_font  # chosen per element
    creative = compose(None, JA, brand, placement, tmp_path / "ja", draft=False)
    assert creative.issues == ()


def test_characters_no_font_can_draw_are_reported(tmp_path: Path) -> None:
    copy = replace(EN, headline="Summer sale 😀 now on")
    creative = compose(None, copy, BrandKit(), PLACEMENTS["meta_feed"], tmp_path / "e", draft=False)
    assert creative.issues == ('headline has characters no font can draw: "😀" (U+1F600)',)
    layout = plan_layout(copy, BrandKit(), PLACEMENTS["meta_feed"])
    headline = layout.text("headline")
    assert headline is not None
    assert " ".join(line.text for line in headline.block.lines) == "Summer sale now on"


def test_unreadable_brand_font_and_logo(tmp_path: Path) -> None:
    font = tmp_path / "broken.ttf"
    font.write_bytes(b"\x00" * 64)
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"not a png")
    brand = BrandKit(font=font, logo=logo)
    creative = compose(None, EN, brand, PLACEMENTS["display_300x250"], tmp_path / "x", draft=False)
    assert len(creative.issues) == 2
    assert creative.issues[0].startswith(f"logo {logo} cannot be read")
    assert creative.issues[1].startswith(f"brand font {font} cannot be read")
    with Image.open(creative.path) as image:
        assert image.size == (300, 250)


# ---------------------------------------------------------------- files


def test_file_size_cap_steps_quality_down_then_reports(
    assets: dict[str, Path], tmp_path: Path
) -> None:
    tight = Placement("tight", "x", 600, 600, 30, 90, 15, max_kb=60)
    creative = compose(assets["noise"], EN, BrandKit(), tight, tmp_path / "tight", draft=False)
    assert creative.issues == ()
    assert creative.path.suffix == ".jpg"
    assert creative.bytes <= 60 * 1024
    impossible = replace(tight, id="impossible", max_kb=2)
    creative = compose(assets["noise"], EN, BrandKit(), impossible, tmp_path / "no", draft=False)
    assert len(creative.issues) == 1
    assert re.fullmatch(
        r"file is \d+ KB, over the 2 KB cap even at JPEG quality 20 of impossible",
        creative.issues[0],
    )
    assert creative.path.exists()


def test_deterministic_and_master_as_path_or_image(assets: dict[str, Path], tmp_path: Path) -> None:
    placement = PLACEMENTS["display_300x250"]
    brand = BrandKit(logo=assets["logo"])
    a = compose(assets["master"], JA, brand, placement, tmp_path / "a", draft=True)
    b = compose(assets["master"], JA, brand, placement, tmp_path / "b", draft=True)
    with Image.open(assets["master"]) as opened:
        opened.load()
        c = compose(opened, JA, brand, placement, tmp_path / "c", draft=True)
        assert opened.size == (1024, 1024)  # the caller's image is untouched
    assert a.path.read_bytes() == b.path.read_bytes() == c.path.read_bytes()


def test_cover_crop_keeps_the_centre(tmp_path: Path) -> None:
    # Green centre square, red bands left and right: a square ad shows only green.
    master = Image.new("RGB", (300, 100), (255, 0, 0))
    master.paste((0, 160, 0), (100, 0, 200, 100))
    square = Placement("sq", "x", 200, 200, 30, 90, 15, 150)
    copy = AdCopy("", "", "", "en")
    creative = compose(master, copy, BrandKit(), square, tmp_path / "sq", draft=False)
    with Image.open(creative.path) as image:
        for xy in ((3, 3), (196, 3), (3, 196), (196, 196), (100, 100)):
            r, g, _ = image.convert("RGB").getpixel(xy)  # type: ignore[misc]
            assert g > 120
            assert r < 60
    # Transparent masters sit on the brand colour, not on black.
    clear = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    creative = compose(clear, copy, BrandKit(), square, tmp_path / "clear", draft=False)
    with Image.open(creative.path) as image:
        assert image.convert("RGB").getpixel((100, 100)) == parse_color("#1F3A93")


def test_file_naming(tmp_path: Path) -> None:
    placement = PLACEMENTS["display_300x250"]
    stem = tmp_path / "deep" / "dir" / "spring.v1_en"
    flat = compose(None, EN, BrandKit(), placement, stem, draft=False)
    assert flat.path == stem.parent / "spring.v1_en.png"
    photo = _noise((400, 400))
    again = compose(photo, EN, BrandKit(), placement, stem, draft=False)
    assert again.path == stem.parent / "spring.v1_en.jpg"
    # The PNG from the earlier run is gone: one file per ad.
    assert sorted(p.name for p in stem.parent.iterdir()) == ["spring.v1_en.jpg"]


# ---------------------------------------------------------------- draft art


def test_draft_master_is_deterministic_and_varied() -> None:
    brand = BrandKit()
    a = draft_master(brand, 512, 384, 1, "brief/aud/v1/4:3")
    assert a == draft_master(brand, 512, 384, 1, "brief/aud/v1/4:3")
    assert a.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(a)) as image:
        assert image.size == (512, 384)
        first = image.convert("RGB")
    for seed in (2, 3):
        other = draft_master(brand, 512, 384, seed, "brief/aud/v1/4:3")
        with Image.open(io.BytesIO(other)) as image:
            diff = ImageStat.Stat(ImageChops.difference(first, image.convert("RGB")))
        assert sum(diff.mean) / 3 > 8  # visibly different, not a few stray pixels
    # Brand colours drive the palette.
    green = draft_master(BrandKit("#0B6E4F", "#F2C14E"), 256, 256, 1, "x")
    with Image.open(io.BytesIO(green)) as image:
        r, g, b = ImageStat.Stat(image.convert("RGB")).mean
    assert g > r
    assert g > b


def test_a_twin_is_the_same_file_linked_with_its_own_placements_issues(tmp_path: Path) -> None:
    """linkedin_single and x_card of one headline: one file, each ad's issues its own."""
    linkedin, x_card = builtin_placements()["linkedin_single"], builtin_placements()["x_card"]
    copy = AdCopy("Lighter every mile", "Shop now " * 10, "Terms apply.", "en")  # CTA too long
    assert twin_key(copy, linkedin, False) == twin_key(copy, x_card, False)
    assert twin_key(copy, linkedin, False) != twin_key(
        copy, builtin_placements()["meta_feed"], False
    )
    brand, out = BrandKit(), tmp_path
    first = composed(None, copy, brand, linkedin, out / "c" / "first", draft=False, out=out)
    twin = compose_twin(first, copy, brand, x_card, out / "c" / "twin", draft=False, out=out)
    alone = compose(None, copy, brand, x_card, out / "c" / "alone", draft=False, out=out)
    assert twin.path.name == "twin" + alone.path.suffix
    assert twin.path.stat().st_ino == first.creative.path.stat().st_ino  # linked, not made
    assert twin.path.read_bytes() == alone.path.read_bytes()  # what composing it would give
    assert (twin.issues, twin.checks) == (alone.issues, alone.checks)
    assert any("x_card" in issue for issue in twin.issues)
    assert not any("linkedin_single" in issue for issue in twin.issues)
