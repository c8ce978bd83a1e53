"""Line breaking (kinsoku, Latin, hard breaks), font choice by glyph coverage, fitting."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools import subset  # type: ignore[import-untyped]
from PIL import Image, ImageDraw

from adloom.creative import typeset
from adloom.creative.typeset import NO_LINE_END, NO_LINE_START, Box

JAPANESE = [
    "夏のセールが始まります。「今だけ」の特別価格でお届けします！",
    "コーヒーとショッピング、ぜひお楽しみください。",
    "ちょっと待って！？ショッピングモールへ行こう……。",
    "新商品『ライトシューズ』登場（数量限定）。お早めに、どうぞ。",
    "キャンペーン実施中・ポイント最大10倍・送料無料",
    "iPhoneケースが50%オフ（期間限定）。Shop now!",
]


def _check_kinsoku(lines: list[str]) -> None:
    for line in lines:
        assert line, lines
        assert line[0] not in NO_LINE_START, lines
        assert line[-1] not in NO_LINE_END, lines


@pytest.mark.parametrize("text", JAPANESE)
@pytest.mark.parametrize("width", range(3, 16))
def test_kinsoku(text: str, width: int) -> None:
    lines = typeset.wrap(text, width)
    if lines is None:  # an unbreakable run (e.g. "「今だけ」") is wider than the line
        hard = typeset.wrap(text, width, hard=True)
        assert hard is not None
        if width >= 4:  # the longest kinsoku group here, "う……。", is 4 wide
            _check_kinsoku(hard)
        return
    _check_kinsoku(lines)
    assert all(len(line) <= width for line in lines), lines
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    balanced = typeset.wrap(text, width, balance=True)
    assert balanced is not None
    assert len(balanced) == len(lines)
    _check_kinsoku(balanced)


def test_kinsoku_examples() -> None:
    # "ー" and "。" stay with what precedes them; "「" goes down with what follows.
    assert typeset.wrap("コーヒー", 1) is None  # "コー" cannot be split
    assert typeset.wrap("コーヒー", 2) == ["コー", "ヒー"]
    assert typeset.wrap("これです。", 3) == ["これで", "す。"]
    assert typeset.wrap("これです。", 2) == ["これ", "で", "す。"]
    lines = typeset.wrap("今日は「特売」です", 5)
    assert lines is not None
    assert not any(line.endswith("「") for line in lines)
    assert "「特売」" in "".join(lines)


def test_latin_breaks_at_spaces() -> None:
    text = "Big summer sale on all running shoes and well-known trail brands"
    lines = typeset.wrap(text, 14)
    assert lines is not None
    assert all(len(line) <= 14 for line in lines)
    words = set(text.split())
    for line in lines:
        for word in line.split():
            # whole words, or a hyphenated word split after its hyphen
            assert word in words or any(w.startswith(word) or w.endswith(word) for w in words)
    assert " ".join(lines).replace("- ", "-") == text


def test_hyphen_and_hard_breaks() -> None:
    assert typeset.wrap("state-of-the-art", 9) == ["state-of-", "the-art"]
    assert typeset.wrap("Supercalifragilistic deal", 8) is None  # shrink first
    hard = typeset.wrap("Supercalifragilistic deal", 8, hard=True)
    assert hard is not None
    assert all(len(line) <= 8 for line in hard)
    assert "".join(hard).replace(" ", "") == "Supercalifragilisticdeal"


def test_mixed_latin_and_japanese() -> None:
    lines = typeset.wrap("新しいiPhone 15ケースが登場", 8)
    assert lines is not None
    assert any("iPhone" in line for line in lines)  # Latin words are not split
    _check_kinsoku(lines)


def test_newlines_are_forced_breaks_and_balance() -> None:
    assert typeset.wrap("Summer\nsale", 40) == ["Summer", "sale"]
    text = "Run farther with featherlight trail shoes"
    greedy = typeset.wrap(text, 30)
    balanced = typeset.wrap(text, 30, balance=True)
    assert greedy == ["Run farther with featherlight", "trail shoes"]
    assert balanced is not None
    assert len(balanced) == 2
    spread = max(map(len, balanced)) - min(map(len, balanced))
    assert spread < max(map(len, greedy)) - min(map(len, greedy))


def test_fit_real_font_shrinks_and_fails() -> None:
    bold = typeset.noto(bold=True)
    sizes = typeset.sizes(60, 10)
    assert sizes[0] == 60
    assert sizes[-1] == 10
    assert sizes == sorted(sizes, reverse=True)
    wide = typeset.fit("Summer sale", bold, 600, 200, sizes)
    narrow = typeset.fit("Summer sale", bold, 150, 200, sizes)
    assert wide is not None
    assert narrow is not None
    assert wide.size == 60
    assert narrow.size < wide.size
    for f, w in ((wide, 600), (narrow, 150)):
        assert f.width <= w
        assert f.height <= 200
    assert typeset.fit("Summer sale " * 40, bold, 150, 30, sizes) is None
    assert typeset.fit("", bold, 150, 30, sizes) is None
    assert typeset.fit("Summer sale", bold, 150, 0, sizes) is None


def test_capacity() -> None:
    bold = typeset.noto(bold=True)
    n = typeset.capacity("Summer sale on everything " * 10, bold, 200, 30, 12, line_height=1.2)
    assert 10 < n < 250
    fitted = typeset.fit(("Summer sale on everything " * 10)[:n], bold, 200, 30, [12])
    assert fitted is not None


@pytest.mark.parametrize("halign", ["left", "center", "right"])
@pytest.mark.parametrize("valign", ["top", "middle", "bottom"])
@pytest.mark.parametrize(
    "text", ["Ágjpq | Shop now", "軽さが変わる。「新しい」トレイルシューズで、もっと遠くへ。"]
)
def test_placed_glyphs_stay_in_the_box(text: str, halign: str, valign: str) -> None:
    bold = typeset.noto(bold=True)
    box = Box(13, 17, 213, 160)
    fitted = typeset.fit(text, bold, box.width, box.height, typeset.sizes(40, 9))
    assert fitted is not None
    block = fitted.place(box, halign, valign)  # type: ignore[arg-type]
    assert box.contains(block.ink)
    # Draw it for real: every lit pixel lies within the reported ink box.
    canvas = Image.new("L", (240, 180), 0)
    draw = ImageDraw.Draw(canvas)
    face = typeset.font(block.font, block.size)
    for line in block.lines:
        draw.text((line.x, line.y), line.text, font=face, fill=255, anchor="ls")
    lit = canvas.getbbox()
    assert lit is not None
    assert block.ink.contains(Box(*lit))


@pytest.fixture(scope="module")
def latin_font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Noto Sans CJK JP cut down to ASCII: a brand font without Japanese."""
    out = tmp_path_factory.mktemp("fonts") / "latin.otf"
    options = subset.Options()
    font = subset.load_font(str(typeset.noto(bold=False)), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=range(0x20, 0x7F))
    subsetter.subset(font)
    subset.save_font(font, str(out), options)
    return out


def test_choose_font_by_coverage(latin_font: Path) -> None:
    noto = typeset.noto(bold=True)
    assert max(typeset.coverage(latin_font)) < 0x80
    latin = typeset.choose_font("Shop now", latin_font, noto)
    assert latin == typeset.Run("Shop now", latin_font)
    japanese = typeset.choose_font("今すぐ購入", latin_font, noto)
    assert japanese == typeset.Run("今すぐ購入", noto)
    # One missing glyph (é) moves the whole element to the fallback.
    assert typeset.choose_font("Café", latin_font, noto).font == noto
    assert typeset.choose_font("Shop now", None, noto).font == noto


def test_characters_no_font_has_are_dropped_and_listed() -> None:
    noto = typeset.noto(bold=True)
    run = typeset.choose_font("Sale 😀 now ❤️ 50%\u200boff", None, noto)
    assert run.missing == ("😀", "❤")  # the variation selector and ZWSP are invisible
    assert run.text == "Sale now 50%off"
    assert run.font == noto


def test_font_problem(tmp_path: Path, latin_font: Path) -> None:
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font")
    assert typeset.font_problem(bad)
    assert typeset.font_problem(tmp_path / "missing.otf")
    assert typeset.font_problem(latin_font) is None


def test_fonts_are_cached() -> None:
    bold = typeset.noto(bold=True)
    assert typeset.font(bold, 31) is typeset.font(bold, 31)
    assert typeset.coverage(bold) is typeset.coverage(bold)
