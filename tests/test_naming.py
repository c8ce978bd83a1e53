from urllib.parse import parse_qs, urlsplit

from adloom.naming import ad_name, slugify, with_utm


def test_slugify_is_stable_and_keeps_japanese() -> None:
    assert slugify("Spring Launch 2026!") == "spring-launch-2026"
    assert slugify("春のセール") == "春のセール"
    assert slugify("  ") == "campaign"


def test_ad_name_slugs_values() -> None:
    name = ad_name("{campaign}_{brief}_{placement}_v{variant}", campaign="Spring Launch",
                   brief="Cold Brew", placement="meta_feed", variant=2)  # fmt: skip
    assert name == "spring-launch_cold-brew_meta_feed_v2"


def test_utm_added_and_encoded_keeping_own_query() -> None:
    url = with_utm(
        "https://example.com/p?ref=x&utm_source=old",
        {"utm_source": "meta", "utm_campaign": "春のセール", "utm_content": "a b&c"},
    )
    q = parse_qs(urlsplit(url).query)
    assert q == {"ref": ["x"], "utm_source": ["meta"], "utm_campaign": ["春のセール"],
                 "utm_content": ["a b&c"]}  # fmt: skip
    assert url.isascii()  # percent-encoded, also for Japanese
