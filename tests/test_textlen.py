import pytest

from adloom.textlen import measure, truncate


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
    ],
)
def test_measure(text: str, chars: int, double: int) -> None:
    assert measure(text, "chars") == chars
    assert measure(text, "double_width") == double


def test_truncate_keeps_whole_clusters() -> None:
    assert truncate("cafe\u0301s", 4) == "cafe\u0301"
    assert truncate("コーヒー豆", 5, "double_width") == "コー"
    assert measure(truncate("👍🏽👍🏽👍🏽", 2), "chars") == 2
