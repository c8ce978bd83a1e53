"""The languages adloom writes ads in.

The list is limited to languages the bundled Noto Sans CJK JP font draws (Latin
scripts, Japanese, Korean, Chinese) and that lay out left to right without complex
shaping, so every ad it composes renders correctly on any machine.
"""

from __future__ import annotations

from typing import NamedTuple


class Language(NamedTuple):
    english: str  # for prompts and messages: "Write in Japanese"
    native: str  # for people reviewing the preview


# BCP 47 codes as the brief writes them; ``zh-Hans``/``zh-Hant`` keep the script subtag
# because simplified and traditional Chinese are different copy, not a regional variant.
LANGUAGES: dict[str, Language] = {
    "en": Language("English", "English"),
    "ja": Language("Japanese", "日本語"),
    "es": Language("Spanish", "Español"),
    "fr": Language("French", "Français"),
    "de": Language("German", "Deutsch"),
    "it": Language("Italian", "Italiano"),
    "pt": Language("Portuguese", "Português"),
    "nl": Language("Dutch", "Nederlands"),
    "ko": Language("Korean", "한국어"),
    "zh-Hans": Language("Chinese (Simplified)", "简体中文"),
    "zh-Hant": Language("Chinese (Traditional)", "繁體中文"),
}

_BY_LOWER = {code.lower(): code for code in LANGUAGES}


def normalise_language(text: str) -> str | None:
    """The supported code ``text`` names (``"EN"`` -> ``"en"``, ``"zh_hans"`` -> ``"zh-Hans"``).

    None when the language is not supported.
    """
    return _BY_LOWER.get(text.strip().replace("_", "-").lower())
