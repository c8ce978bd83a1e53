"""The read stage: a brief spreadsheet becomes a validated ``Campaign``.

A brief is an .xlsx workbook (sheets Campaign, Briefs and optionally Audiences, Brand,
Placements) or a .csv holding the Briefs sheet alone; docs/brief-format.md is the
user-facing description of the format implemented here.

Everything wrong with a brief is collected and raised at once as a ``BriefError``,
each problem with the cell it is in, so a marketer fixes the sheet in one pass
instead of meeting one error per run. A file that cannot be opened at all is an
``InputError`` naming the file and what to do about it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import ImageFont

from adloom import providers, safepath, values
from adloom.brief.inputs import font_problem, image_problem, signing_problem
from adloom.brief.readtables import TableRules
from adloom.brief.sheets import (
    Book,
    Sheet,
    cell_int,
    header_key,
    list_items,
    load_sheets,
    names,
    quoted,
)
from adloom.copy import rulepacks
from adloom.errors import BriefError, InputError
from adloom.model import (
    BrandKit,
    Campaign,
    Placement,
    Settings,
)
from adloom.naming import NAME_FIELDS, slugify
from adloom.values import BUDGET_USD, KEEP, MAX_DIGITS, parse

DEFAULT_PLACEMENTS = (
    "meta_feed",
    "meta_story",
    "linkedin_single",
    "display_300x250",
    "display_728x90",
)
"""Used when the Campaign sheet names no placements: one of each main shape (square,
9:16 story, 1.91:1 landscape, medium rectangle, leaderboard) across Meta, LinkedIn and
Google display, so a first run shows how one concept adapts to every format."""

MAX_VARIANTS = 20

_DEFAULTS = Settings(name="", brand="")
_COLOR = re.compile(r"#?([0-9a-f]{3}|[0-9a-f]{6})", re.IGNORECASE)
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


_SETTING_KEYS = names(
    "name brand languages variants placements text_model image_model max_cost_usd provider"
    " utm_source utm_medium utm_campaign naming banned_words tier keep signing_cert signing_key"
    " fit image_region",
    campaign_name="name",
    brand_name="brand",
    language="languages",
    placement="placements",
    max_cost="max_cost_usd",
) | {"rules.off": "rules_off", "rules_off": "rules_off", "source_language": "source_language"}
# Settings only a later stage reads, kept in ``Settings.extra`` without a warning:
# the inference-profile geography (providers/bedrock/profiles.py), scoring, and the
# run mode (batching.py).
_POLICY_SEP = re.compile(r"[;\n]")
_STAGE_KEYS = frozenset({"profile", "score", "judge_model", "mode"})
_BRAND_KEYS = names(
    "primary_color secondary_color text_color font logo voice banned_words disclaimer policies",
    primary_colour="primary_color",
    secondary_colour="secondary_color",
    text_colour="text_color",
)


def read_campaign(path: Path, overrides: Mapping[str, str] | None = None) -> Campaign:
    """Read and validate the brief at ``path``; ``overrides`` (``--set key=value``) beat
    the Campaign sheet.

    Raises ``InputError`` when the file cannot be read and ``BriefError`` listing every
    problem when its content is wrong.
    """
    path = Path(path)
    return _Reader(path, load_sheets(path), overrides or {}).campaign()


# ---------------------------------------------------------------- small parsers


def _color(text: str) -> str | None:
    """``#abc`` / ``aabbcc`` -> ``#AABBCC``; None if it is not a hex colour."""
    match = _COLOR.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1).upper()
    return "#" + (digits if len(digits) == 6 else "".join(d * 2 for d in digits))


def _naming_problem(template: str) -> str | None:
    try:
        parts = [part for part in string.Formatter().parse(template) if part[1] is not None]
    except ValueError as exc:
        return f'naming "{template}" is not a valid template ({exc})'
    unknown = [f"{{{field}}}" for _, field, _, _ in parts if field not in NAME_FIELDS]
    if unknown:
        return f'naming "{template}" uses unknown field(s) {", ".join(unknown)}'
    # Every value is filled in as text (naming.ad_name), so "{variant:02d}" cannot work.
    if any(spec or conversion for _, _, spec, conversion in parts):
        return f'naming "{template}" formats a field (":" or "!" inside braces)'
    return None


# ---------------------------------------------------------------- sheets as tables


class _Reader(TableRules):
    """Reads one brief, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path, book: Book, overrides: Mapping[str, str]) -> None:
        super().__init__(book.problems)
        self.path = path
        self.book = book
        self.overrides = overrides
        self.cells: dict[str, str] = {}
        self.banned_words: tuple[str, ...] = ()  # the Campaign sheet's, added to the brand's

    def campaign(self) -> Campaign:
        sheets = self.book.sheets
        self._check_sheets()
        placements = self.placements(sheets.get("placements"))
        settings = self._settings(placements)
        brand = self._brand(sheets.get("brand"))
        # Both lists bind every ad of the campaign; the brand kit carries them to the
        # copywriter and to the copy checks.
        brand = replace(
            brand, banned_words=tuple(dict.fromkeys([*brand.banned_words, *self.banned_words]))
        )
        defined = self.audiences(sheets.get("audiences"))
        briefs, audiences, extra_columns = self.briefs(sheets.get("briefs"), placements, defined)
        glossary = self.glossary(sheets.get("glossary"))
        if any(not problem.warning for problem in self.problems):
            raise BriefError(self.problems)
        return Campaign(
            settings=settings,
            briefs=briefs,
            audiences=audiences,
            brand=brand,
            placements=placements,
            source=self.path.resolve(),
            warnings=tuple(self.problems),
            extra_columns=extra_columns,
            cells=self.cells,
            glossary=glossary,
        )

    def _check_sheets(self) -> None:
        if self.book.is_csv:
            return
        found = ", ".join(f'"{title}"' for title in self.book.titles)
        for key, title, content in (
            ("campaign", "Campaign", "setting | value rows"),
            ("briefs", "Briefs", "a header row and one row per brief"),
        ):
            if key not in self.book.sheets:
                self.error(
                    self.path.name,
                    f'no "{title}" sheet (sheets found: {found})'
                    f" — add a sheet named {title} with {content}, or rename yours",
                )

    # ------------------------------------------------------------ Campaign

    def _settings(self, placements: Mapping[str, Placement]) -> Settings:
        sheet = self.book.sheets.get("campaign")
        entries = [(p.key, p.value, p.value_ref) for p in self.pairs(sheet)] if sheet else []
        entries += [(key, value, f"--set {key.strip()}") for key, value in self.overrides.items()]
        given: dict[str, tuple[str, str]] = {}  # setting -> (value, where)
        extra: dict[str, str] = {}
        for raw_key, value, where in entries:  # overrides come last, so they win
            key = _SETTING_KEYS.get(header_key(raw_key))
            if key is None:
                name = raw_key.strip()
                if header_key(name) in _STAGE_KEYS:
                    name = header_key(name)  # "Profile" in a sheet is `profile`
                # Dotted keys (quota.<model-id>.tpm) belong to later stages; keep them
                # as written because model ids contain "-", "." and ":".
                elif "." not in name:
                    self.warn(
                        where,
                        f'unknown setting "{name}" — kept, but adloom does not use it;'
                        f" known settings: {', '.join(sorted(set(_SETTING_KEYS.values())))}",
                    )
                extra[name] = value.strip()
                self.cells[name] = where
            else:
                given[key] = (value.strip(), where)
                self.cells[key] = where

        def setting(key: str) -> tuple[str, str]:
            return given.get(key, ("", ""))

        name = self._required(setting("name"), "name", "campaign name")
        brand = self._required(setting("brand"), "brand", "brand name")
        value, where = setting("languages")
        languages = self.languages(value, where) if list_items(value) else _DEFAULTS.languages
        self.banned_words = list_items(setting("banned_words")[0])
        value, where = setting("placements")
        placement_ids = (
            self.placement_ids(value, where, placements)
            if list_items(value)
            else DEFAULT_PLACEMENTS
        )
        return Settings(
            name=name,
            brand=brand,
            languages=languages,
            variants=self._variants(*setting("variants")),
            placements=placement_ids,
            text_model=setting("text_model")[0],
            image_model=setting("image_model")[0],
            max_cost_usd=self._max_cost(*setting("max_cost_usd")),
            provider=self._provider(*setting("provider")),
            tier=self._tier(*setting("tier")),
            keep=self._keep(*setting("keep")),
            utm_source=setting("utm_source")[0],
            utm_medium=setting("utm_medium")[0],
            utm_campaign=setting("utm_campaign")[0] or slugify(name),
            naming=self._naming(*setting("naming")),
            rules_off=self._rules_off(*setting("rules_off")),
            source_language=self._source_language(*setting("source_language")),
            **self._signing(setting("signing_cert"), setting("signing_key")),
            fit=self.fit(*setting("fit")) or _DEFAULTS.fit,
            image_region=self._image_region(*setting("image_region")),
            extra=extra,
        )

    def _signing(self, cert: tuple[str, str], key: tuple[str, str]) -> dict[str, Path]:
        """The C2PA signing files, both or neither, checked before anything is made."""
        if not cert[0] and not key[0]:
            return {}
        if not (cert[0] and key[0]):
            where = (key if key[0] else cert)[1]
            self.error(where, "signing_cert and signing_key go together — give both, or neither")
            return {}
        paths = {
            name: self.file(value, where, name, lambda _path, _what: None)
            for name, (value, where) in (("signing_cert", cert), ("signing_key", key))
        }
        if paths["signing_cert"] is None or paths["signing_key"] is None:
            return {}
        problem = signing_problem(paths["signing_cert"], paths["signing_key"])
        if problem:
            self.error(key[1], problem)
            return {}
        return {name: path for name, path in paths.items() if path is not None}

    def _required(self, given: tuple[str, str], key: str, what: str) -> str:
        value, where = given
        if value:
            return value
        if where:
            self.error(where, f"{key} is empty — give the {what}")
        elif self.book.is_csv:
            self.error(
                self.path.name,
                f"{key} is missing — a .csv brief has no Campaign sheet: pass --set {key}=…",
            )
        elif "campaign" in self.book.sheets:
            self.error(
                self.book.sheets["campaign"].title,
                f'{key} is missing — add a row "{key} | <{what}>"',
            )
        # With no Campaign sheet at all, _check_sheets has said so already.
        return ""

    def _rules_off(self, text: str, where: str) -> tuple[str, ...]:
        """Rule sets of the Japanese pack switched off, each by its exact name."""
        named = list_items(text)
        unknown = [n for n in named if n not in rulepacks.set_names()]
        if unknown:
            self.error(
                where,
                f"rules.off names unknown rule set {quoted(unknown)} — use the names of"
                f" docs/rules.md: {', '.join(rulepacks.set_names())}",
            )
        return tuple(n for n in named if n not in unknown)

    def _source_language(self, text: str, where: str) -> str:
        if not text:
            return _DEFAULTS.source_language
        return (self.languages(text, where) or (_DEFAULTS.source_language,))[0]

    def _variants(self, text: str, where: str) -> int:
        if not text:
            return _DEFAULTS.variants
        number = cell_int(text)
        if number is None or not 1 <= number <= MAX_VARIANTS:
            self.error(
                where,
                f'variants "{text}" is not a whole number from 1 to {MAX_VARIANTS}'
                " — give how many versions of each ad to write",
            )
            return _DEFAULTS.variants
        return number

    def _max_cost(self, text: str, where: str) -> float | None:
        if not text:
            return None
        number = parse(text.removeprefix("$"), BUDGET_USD)
        if isinstance(number, str):
            self.error(
                where,
                f'max_cost_usd "{text[:MAX_DIGITS]}" is {number} (US dollars, e.g. 25 or 12.50)',
            )
            return None
        return number

    def _keep(self, text: str, where: str) -> int | None:
        if not text:
            return None
        number = parse(text, KEEP)
        if isinstance(number, str):
            self.error(where, f'keep "{text[:MAX_DIGITS]}" is {number} (the best ads per slot)')
            return None
        return int(number)

    def _provider(self, text: str, where: str) -> str:
        provider, known = text.lower(), providers.names()
        if provider and provider not in known:
            self.error(
                where,
                f'provider "{text}" is not supported — use {", ".join(known)}'
                " (draft: offline, no model, no cost), or install its plugin (docs/providers.md)",
            )
        return provider

    def _image_region(self, text: str, where: str) -> str:
        try:
            values.region(text or None, where)
        except InputError as exc:
            self.error(where, exc.message)
            return ""
        return text

    def _tier(self, text: str, where: str) -> str:
        # Only for a brief naming a tier: the registry loads pydantic, slow to import.
        from adloom.registry import TIERS

        tier = text.lower()
        if tier and tier not in TIERS:
            self.error(
                where,
                f'tier "{text}" is not a Bedrock service tier — use {", ".join(TIERS)}'
                " (flex: cheaper, slower; priority: faster, dearer)",
            )
            return ""
        return tier

    def _naming(self, text: str, where: str) -> str:
        if not text:
            return _DEFAULTS.naming
        problem = _naming_problem(text)
        if problem:
            fields = ", ".join(f"{{{field}}}" for field in NAME_FIELDS)
            self.error(where, f"{problem} — use only the fields {fields}, e.g. {_DEFAULTS.naming}")
            return text
        # Names are file names: the template's own text must not make them paths.
        literal = "".join(part[0] for part in string.Formatter().parse(text))
        bad = safepath.forbidden(literal)
        if bad:
            self.error(
                where,
                f'naming "{text}" holds {bad}, which a file name cannot hold'
                f" — join the fields with _ or -, e.g. {_DEFAULTS.naming}",
            )
        return text

    # ------------------------------------------------------------ Brand

    def _brand(self, sheet: Sheet | None) -> BrandKit:
        if sheet is None:
            return BrandKit()
        values: dict[str, Any] = {}
        for pair in self.pairs(sheet):
            key = _BRAND_KEYS.get(header_key(pair.key))
            if key is None:
                self.warn(
                    pair.key_ref,
                    f'unknown brand setting "{pair.key}" — ignored;'
                    f" known: {', '.join(sorted(set(_BRAND_KEYS.values())))}",
                )
                continue
            self.cells[f"brand.{key}"] = pair.value_ref
            if not pair.value:
                continue
            if key.endswith("_color"):
                color = _color(pair.value)
                if color is None:
                    self.error(
                        pair.value_ref,
                        f'{key} "{pair.value}" is not a colour — use a hex code like #1F3A93',
                    )
                else:
                    values[key] = color
            elif key == "font":
                values[key] = self.file(pair.value, pair.value_ref, "font", _font_problem)
            elif key == "logo":
                values[key] = self.file(pair.value, pair.value_ref, "logo", image_problem)
            elif key == "banned_words":
                values[key] = list_items(pair.value)
            elif key == "policies":
                # One per line or ";"-separated: a policy may itself hold a comma.
                values[key] = list_items(pair.value, _POLICY_SEP)
            else:
                values[key] = pair.value
        return BrandKit(**values)


def _font_problem(path: Path, label: str) -> str | None:
    if path.suffix.lower() not in _FONT_SUFFIXES:
        return f"{label} is not a .ttf, .otf or .ttc font file"
    problem = font_problem(path, label)
    if problem:
        return problem
    try:
        ImageFont.truetype(str(path), 12)
    except OSError as exc:
        return f"{label} cannot be opened ({exc}) — use another font file"
    return None
