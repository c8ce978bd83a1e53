import pytest

from adloom.copy.textlen import is_wide, measure, truncate


@pytest.mark.parametrize(
    ("text", "chars", "double"),
    [
        ("Hello", 5, 5),
        ("コーヒー", 4, 8),  # katakana and the prolonged sound mark are wide
        ("ｺｰﾋｰ", 4, 4),  # half-width katakana count 1 everywhere
        ("ＡＢＣ", 3, 6),  # full-width Latin is wide
        ("春のセール 50%オフ", 11, 18),
        ("👍🏽 great", 7, 8),  # emoji + skin tone modifier is one grapheme cluster, wide
        ("café", 4, 4),  # precomposed
        ("cafe\u0301", 4, 4),  # e + combining acute: one cluster
        ("👨‍👩‍👧", 1, 2),  # ZWJ family: one cluster
        ("", 0, 0),
        # Mixed Latin, Japanese and emoji, as ads are written.
        ("Aero Runner 2 — 春の新作", 20, 24),  # the em dash is ambiguous width: 1
        ("春のセール！最大50%オフ", 13, 23),  # full-width ！ is wide, ASCII digits are not
        ("ｺｰﾋｰ豆 100g", 10, 11),
        ("Café ☕ time", 11, 12),  # ☕ has emoji presentation by default: wide
        ("☺️", 1, 2),  # text-style smiley made an emoji by variation selector 16: wide
        ("🇯🇵 Japan", 7, 8),  # a flag is one cluster of two regional indicators, wide
        ("1️⃣ one", 5, 6),  # keycap: digit + VS16 + enclosing keycap, one wide cluster
        ("👩🏽‍💻 devs", 6, 7),
        ("한국어 광고", 6, 11),  # Hangul syllables are wide
        ("Ｎｅｗ ｂａｇ", 7, 13),  # the ASCII space between full-width words counts 1
        ("コーヒー…※", 6, 10),  # … and ※ are ambiguous width: 1, as outside CJK encodings
        ("naïve cafe\u0301", 10, 10),
    ],
)
def test_measure(text: str, chars: int, double: int) -> None:
    assert measure(text, "chars") == chars
    assert measure(text, "double_width") == double
    assert is_wide(text) == (double > chars)


def test_truncate_keeps_whole_clusters() -> None:
    assert truncate("cafe\u0301s", 4) == "cafe\u0301"
    assert truncate("コーヒー豆", 5, "double_width") == "コー"
    assert measure(truncate("👍🏽👍🏽👍🏽", 2), "chars") == 2
    assert truncate("🇯🇵🇯🇵", 3, "double_width") == "🇯🇵"  # never half a flag
