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

import difflib
import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import ImageFont

from adloom import safepath
from adloom.errors import BriefError, Problem
from adloom.inputs import font_problem, image_problem
from adloom.languages import LANGUAGES, normalise_language
from adloom.model import (
    Audience,
    BrandKit,
    Brief,
    Campaign,
    Pin,
    PinField,
    Placement,
    Settings,
)
from adloom.naming import NAME_FIELDS, slugify
from adloom.placements import builtin_placements
from adloom.registry import TIERS
from adloom.sheets import Book, Sheet, header_key, load_sheets
from adloom.values import BUDGET_USD, MAX_DIGITS, Range, parse

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
SIZE_RANGE = (16, 8192)  # px; Bedrock image models and Pillow both stay sane inside it

_DEFAULTS = Settings(name="", brand="")
_REQUIRED_BRIEF_FIELDS = {
    "id": "an id (it goes into every ad name)",
    "product": "the product it advertises",
    "message": "the one thing the ad must say",
}
_LIST_SEP = re.compile(r"[,;\n]")
_BENEFIT_SEP = re.compile(r"[;\n]")  # benefits are phrases that may contain commas
_LINES = re.compile(r"\n")
_COLOR = re.compile(r"#?([0-9a-f]{3}|[0-9a-f]{6})", re.IGNORECASE)
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def _names(fields: str, **aliases: str) -> dict[str, str]:
    """Normalised header or setting name -> the field it fills."""
    return {field: field for field in fields.split()} | aliases


_SETTING_KEYS = _names(
    "name brand languages variants placements text_model image_model max_cost_usd provider"
    " utm_source utm_medium utm_campaign naming banned_words tier",
    campaign_name="name",
    brand_name="brand",
    language="languages",
    placement="placements",
    max_cost="max_cost_usd",
)
# Settings only a later stage reads, kept in ``Settings.extra`` without a warning:
# the inference-profile geography (providers/bedrock/profiles.py).
_STAGE_KEYS = frozenset({"profile"})
_BRAND_KEYS = _names(
    "primary_color secondary_color text_color font logo voice banned_words disclaimer",
    primary_colour="primary_color",
    secondary_colour="secondary_color",
    text_colour="text_color",
)
# Search-ad copy a marketer pins to a position (Google: headlines 1-3, descriptions 1-2).
_PIN_COLUMNS: dict[str, tuple[PinField, int]] = {
    "pin_headline_1": ("headline", 1),
    "pin_headline_2": ("headline", 2),
    "pin_headline_3": ("headline", 3),
    "pin_description_1": ("description", 1),
    "pin_description_2": ("description", 2),
}
BRIEF_COLUMNS = _names(
    "id product message audience benefits tone cta landing_url image_prompt headline"
    " disclaimer placements languages " + " ".join(_PIN_COLUMNS),
    brief_id="id",
    audiences="audience",
    benefit="benefits",
    url="landing_url",
    landing_page="landing_url",
    cta_text="cta",
    call_to_action="cta",
    placement="placements",
    language="languages",
)
_AUDIENCE_COLUMNS = _names("id description", audience="id")
_PLACEMENT_INTS = {  # field -> what it holds, for messages
    "width": "the width in pixels",
    "height": "the height in pixels",
    "headline_max": "the headline limit in characters",
    "body_max": "the body text limit in characters",
    "cta_max": "the call-to-action limit in characters",
    "max_kb": "the platform's file-size cap in KB",
}
_PLACEMENT_COLUMNS = _names(
    " ".join(_PLACEMENT_INTS) + " id platform width_rule safe_top safe_bottom source"
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


def _items(text: str, separator: re.Pattern[str] = _LIST_SEP) -> tuple[str, ...]:
    """A list cell: items in order, stripped, blanks and repeats dropped."""
    return tuple(dict.fromkeys(item.strip() for item in separator.split(text) if item.strip()))


# Numbers in cells before each field's own range check: finite, of sane size.
_ANY_WHOLE = Range(-(10**15), 10**15, whole=True)
_ANY_NUMBER = Range(-1e15, 1e15)


def _int(text: str) -> int | None:
    number = parse(text, _ANY_WHOLE)  # "3", "3.0" and "3e0" all mean 3
    return None if isinstance(number, str) else int(number)


def _float(text: str) -> float | None:
    # No thousands separators: "12,50" means 12.50 in much of Europe, 1250 elsewhere.
    number = parse(text.removeprefix("$"), _ANY_NUMBER)
    return None if isinstance(number, str) else number


def _color(text: str) -> str | None:
    """``#abc`` / ``aabbcc`` -> ``#AABBCC``; None if it is not a hex colour."""
    match = _COLOR.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1).upper()
    return "#" + (digits if len(digits) == 6 else "".join(d * 2 for d in digits))


def _is_web_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    has_space = re.search(r"\s", text) is not None
    return parts.scheme.lower() in ("http", "https") and bool(host) and not has_space


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


def _quoted(items: Iterable[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


# ---------------------------------------------------------------- sheets as tables


@dataclass(frozen=True)
class _Pair:
    """One ``setting | value`` row."""

    key: str  # as written
    value: str
    key_ref: str  # "Campaign!A3"
    value_ref: str  # "Campaign!B3"


@dataclass(frozen=True)
class _Table:
    """A sheet with a header row: one record per row below it."""

    sheet: Sheet
    header_row: int
    columns: Mapping[str, int]  # field -> column index
    extra: Mapping[str, int]  # unknown header as written -> column index, in sheet order
    rows: tuple[tuple[int, tuple[str, ...]], ...]

    def get(self, cells: tuple[str, ...], field: str) -> str:
        index = self.columns.get(field)
        return cells[index] if index is not None and index < len(cells) else ""

    def ref(self, field: str, row: int) -> str:
        return self.sheet.ref(self.columns[field], row)


class _Reader:
    """Reads one brief, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path, book: Book, overrides: Mapping[str, str]) -> None:
        self.path = path
        self.book = book
        self.overrides = overrides
        self.problems: list[Problem] = list(book.problems)
        self.cells: dict[str, str] = {}
        self.banned_words: tuple[str, ...] = ()  # the Campaign sheet's, added to the brand's

    def error(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def warn(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message, warning=True))

    def campaign(self) -> Campaign:
        sheets = self.book.sheets
        self._check_sheets()
        placements = self._placements(sheets.get("placements"))
        settings = self._settings(placements)
        brand = self._brand(sheets.get("brand"))
        # Both lists bind every ad of the campaign; the brand kit carries them to the
        # copywriter and to the copy checks.
        brand = replace(
            brand, banned_words=tuple(dict.fromkeys([*brand.banned_words, *self.banned_words]))
        )
        defined = self._audiences(sheets.get("audiences"))
        briefs, audiences, extra_columns = self._briefs(sheets.get("briefs"), placements, defined)
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

    # ------------------------------------------------------------ generic shapes

    def _pairs(self, sheet: Sheet) -> list[_Pair]:
        """The ``setting | value`` rows of a sheet; its ``setting | value`` header is optional."""
        rows = list(sheet.rows)
        if rows and [header_key(text) for text in rows[0][1][:2]] == ["setting", "value"]:
            rows = rows[1:]
        pairs: list[_Pair] = []
        seen: dict[str, str] = {}
        for number, cells in rows:
            key = cells[0]
            if not key:  # a value or a note without a setting name: nothing to apply
                continue
            value = cells[1] if len(cells) > 1 else ""
            pair = _Pair(key, value, sheet.ref(0, number), sheet.ref(1, number))
            if header_key(key) in seen:
                self.error(
                    pair.key_ref,
                    f'setting "{key}" is given twice (also {seen[header_key(key)]}) — keep one',
                )
                continue
            seen[header_key(key)] = pair.key_ref
            pairs.append(pair)
        return pairs

    def _table(
        self, sheet: Sheet, known: Mapping[str, str], required: Iterable[str], unknown: str
    ) -> _Table:
        """The sheet's first non-empty row is its header; ``unknown`` says what happens
        to columns adloom does not know."""
        if not sheet.rows:
            self.error(sheet.title, "the sheet is empty — put the column names in row 1")
            return _Table(sheet, 1, {}, {}, ())
        header_row, header = sheet.rows[0]
        columns: dict[str, int] = {}
        extra: dict[str, int] = {}
        for index, text in enumerate(header):
            if not text:
                continue
            field = known.get(header_key(text))
            where = sheet.ref(index, header_row)
            if field is None:
                self.warn(where, f'unknown column "{text}" — {unknown}')
                extra.setdefault(text, index)
            elif field in columns:
                other = sheet.ref(columns[field], header_row)
                self.error(where, f'column "{text}" repeats {other} ({field}) — remove one')
            else:
                columns[field] = index
        for field in required:
            if field not in columns:
                # A misspelt header is the usual cause: point at it.
                close = difflib.get_close_matches(field, [header_key(t) for t in extra], n=1)
                typo = next((t for t in extra if close and header_key(t) == close[0]), None)
                fix = (
                    f'rename column "{typo}" ({sheet.ref(extra[typo], header_row)}) to "{field}"'
                    if typo
                    else "add it to the header row"
                )
                self.error(
                    f"{sheet.title}!{header_row}", f'missing required column "{field}" — {fix}'
                )
        data = sheet.rows[1:]
        headless = sorted(
            {
                index
                for _, cells in data
                for index, text in enumerate(cells)
                if text and (index >= len(header) or not header[index])
            }
        )
        for index in headless:
            self.warn(
                sheet.ref(index, header_row),
                "this column has values but no header — they are ignored; give it a name",
            )
        return _Table(sheet, header_row, columns, extra, data)

    def _languages(self, text: str, where: str) -> tuple[str, ...]:
        codes = [(item, normalise_language(item)) for item in _items(text)]
        unknown = [item for item, code in codes if code is None]
        if unknown:
            self.error(
                where,
                f"unknown language {_quoted(unknown)} — use codes from: {', '.join(LANGUAGES)}",
            )
        return tuple(dict.fromkeys(code for _, code in codes if code is not None))

    def _placement_ids(
        self, text: str, where: str, placements: Mapping[str, Placement]
    ) -> tuple[str, ...]:
        ids = tuple(dict.fromkeys(header_key(item) for item in _items(text)))
        unknown = [pid for pid in ids if pid not in placements]
        if unknown:
            self.error(
                where,
                f"unknown placement {_quoted(unknown)} — use ids from: "
                f"{', '.join(sorted(placements))} (or define it in a Placements sheet)",
            )
        return tuple(pid for pid in ids if pid in placements)

    # ------------------------------------------------------------ Campaign

    def _settings(self, placements: Mapping[str, Placement]) -> Settings:
        sheet = self.book.sheets.get("campaign")
        entries = [(p.key, p.value, p.value_ref) for p in self._pairs(sheet)] if sheet else []
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
        languages = self._languages(value, where) if _items(value) else _DEFAULTS.languages
        self.banned_words = _items(setting("banned_words")[0])
        value, where = setting("placements")
        placement_ids = (
            self._placement_ids(value, where, placements) if _items(value) else DEFAULT_PLACEMENTS
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
            utm_source=setting("utm_source")[0],
            utm_medium=setting("utm_medium")[0],
            utm_campaign=setting("utm_campaign")[0] or slugify(name),
            naming=self._naming(*setting("naming")),
            extra=extra,
        )

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

    def _variants(self, text: str, where: str) -> int:
        if not text:
            return _DEFAULTS.variants
        number = _int(text)
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

    def _provider(self, text: str, where: str) -> str:
        provider = text.lower()
        if provider not in ("", "bedrock", "draft"):
            self.error(
                where,
                f'provider "{text}" is not supported'
                " — use bedrock (Amazon Bedrock) or draft (offline, no model, no cost)",
            )
        return provider

    def _tier(self, text: str, where: str) -> str:
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
        for pair in self._pairs(sheet):
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
                values[key] = self._font(pair.value, pair.value_ref)
            elif key == "logo":
                values[key] = self._logo(pair.value, pair.value_ref)
            elif key == "banned_words":
                values[key] = _items(pair.value)
            else:
                values[key] = pair.value
        return BrandKit(**values)

    def _file(self, text: str, where: str, what: str) -> Path | None:
        path = Path(text).expanduser()
        path = (path if path.is_absolute() else self.path.parent / path).resolve()
        if not path.is_file():
            self.error(
                where,
                f'{what} "{text}" not found (looked for {path})'
                " — put the file there; paths are relative to the workbook's folder",
            )
            return None
        return path

    def _font(self, text: str, where: str) -> Path | None:
        path = self._file(text, where, "font")
        if path is None:
            return None
        if path.suffix.lower() not in _FONT_SUFFIXES:
            self.error(where, f'font "{text}" is not a .ttf, .otf or .ttc font file')
            return None
        problem = font_problem(path, f'font "{text}"')
        if problem:
            self.error(where, problem)
            return None
        try:
            ImageFont.truetype(str(path), 12)
        except OSError as exc:
            self.error(where, f'font "{text}" cannot be opened ({exc}) — use another font file')
            return None
        return path

    def _logo(self, text: str, where: str) -> Path | None:
        path = self._file(text, where, "logo")
        if path is None:
            return None
        problem = image_problem(path, f'logo "{text}"')
        if problem:
            self.error(where, problem)
            return None
        return path

    # ------------------------------------------------------------ Placements

    def _placements(self, sheet: Sheet | None) -> dict[str, Placement]:
        placements = dict(builtin_placements())
        if sheet is None:
            return placements
        table = self._table(sheet, _PLACEMENT_COLUMNS, ("id",), "ignored")
        seen: dict[str, int] = {}
        for row, cells in table.rows:
            text = table.get(cells, "id")
            if not text:
                if "id" in table.columns:
                    self.error(table.ref("id", row), "id is empty — name the placement")
                continue
            pid = header_key(text)
            problem = safepath.name_problem(pid, safepath.MAX_ID_BYTES)
            if problem:
                # The id names a folder of creatives/ and is part of every ad name.
                self.error(table.ref("id", row), f"placement id {problem} — use a short name")
                continue
            if pid in seen:
                self.error(
                    table.ref("id", row),
                    f'placement "{pid}" is already defined in row {seen[pid]} — keep one row',
                )
                continue
            seen[pid] = row
            base = placements.get(pid)
            values = self._placement_values(table, row, cells)
            missing = [f for f in _PLACEMENT_INTS if f not in values and not table.get(cells, f)]
            here = f"{self.path.name}, {sheet.title} row {row}"
            if base is not None:
                # Overriding a built-in: blank cells keep its values, and its source
                # still cites where those came from.
                values.setdefault("source", f"{base.source}; changed in {here}")
                placements[pid] = replace(base, **values)
            elif missing:
                self.error(
                    table.ref("id", row),
                    f'new placement "{pid}" needs {", ".join(missing)}'
                    " — fill in those cells (only a built-in placement may leave them blank)",
                )
            elif all(field in values for field in _PLACEMENT_INTS):
                values.setdefault("platform", "custom")
                values.setdefault("source", here)
                placements[pid] = Placement(id=pid, **values)
        return placements

    def _placement_values(self, table: _Table, row: int, cells: tuple[str, ...]) -> dict[str, Any]:
        """The valid, non-blank cells of one Placements row, as Placement fields."""
        values: dict[str, Any] = {}
        for field, what in _PLACEMENT_INTS.items():
            text = table.get(cells, field)
            if not text:
                continue
            low, high = SIZE_RANGE if field in ("width", "height") else (1, math.inf)
            number = _int(text)
            if number is not None and low <= number <= high:
                values[field] = number
            else:
                expected = f"from {low} to {high}" if high != math.inf else "of 1 or more"
                self.error(
                    table.ref(field, row),
                    f'{field} "{text}" is not a whole number {expected} — give {what}',
                )
        for field in ("safe_top", "safe_bottom"):
            text = table.get(cells, field)
            if not text:
                continue
            fraction = _float(text)
            if fraction is not None and 0 <= fraction < 0.5:
                values[field] = fraction
            else:
                self.error(
                    table.ref(field, row),
                    f'{field} "{text}" is not a fraction of the height from 0 to 0.5'
                    " — e.g. 0.13 keeps the top 13% free of copy",
                )
        rule = header_key(table.get(cells, "width_rule"))
        if rule in ("chars", "double_width"):
            values["width_rule"] = rule
        elif rule:
            self.error(
                table.ref("width_rule", row),
                f'width_rule "{table.get(cells, "width_rule")}" is not chars or double_width'
                " — double_width counts CJK characters as 2, as Google and Microsoft do",
            )
        for field in ("platform", "source"):
            if table.get(cells, field):
                values[field] = table.get(cells, field)
        return values

    # ------------------------------------------------------------ Audiences and Briefs

    def _audiences(self, sheet: Sheet | None) -> dict[str, Audience] | None:
        """Defined audiences by case-folded id; None when the workbook has no such sheet."""
        if sheet is None:
            return None
        table = self._table(sheet, _AUDIENCE_COLUMNS, ("id",), "ignored")
        audiences: dict[str, Audience] = {}
        seen: dict[str, str] = {}
        for row, cells in table.rows:
            aid = table.get(cells, "id")
            if not aid:
                if "id" in table.columns:
                    self.error(table.ref("id", row), "id is empty — name the audience")
                continue
            where = table.ref("id", row)
            self._id_length(slugify(aid), where, "audience")
            if aid.casefold() in seen:
                self.error(where, f'audience "{aid}" is already defined at {seen[aid.casefold()]}')
                continue
            seen[aid.casefold()] = where
            audiences[aid.casefold()] = Audience(aid, table.get(cells, "description"))
        return audiences

    def _id_length(self, slug: str, where: str, what: str) -> None:
        """Ids are parts of ad names, which are file names: they must stay short."""
        size = len(slug.encode("utf-8"))
        if size > safepath.MAX_ID_BYTES:
            self.error(
                where,
                f"{what} id is {size} bytes long in UTF-8 (at most {safepath.MAX_ID_BYTES}:"
                " ad names made of it are file names) — use a short id",
            )

    def _briefs(
        self,
        sheet: Sheet | None,
        placements: Mapping[str, Placement],
        defined: Mapping[str, Audience] | None,
    ) -> tuple[tuple[Brief, ...], dict[str, Audience], tuple[str, ...]]:
        """The briefs, every audience of the campaign by id, and the unknown columns."""
        if sheet is None:
            return (), {}, ()
        table = self._table(
            sheet, BRIEF_COLUMNS, _REQUIRED_BRIEF_FIELDS, "kept in the export as is"
        )
        if not table.rows and sheet.rows:
            self.error(
                f"{sheet.title}!{table.header_row + 1}",
                "no briefs — add one row per brief under the header row",
            )
        audiences = dict(defined or {})  # grows with the audiences briefs use
        ids: dict[str, int] = {}  # id slug -> row, since ids meet in ad names as slugs
        briefs = tuple(
            self._brief(
                table,
                row,
                cells,
                placements=placements,
                sheet_defines_audiences=defined is not None,
                audiences=audiences,
                ids=ids,
            )
            for row, cells in table.rows
        )
        by_id = {audience.id: audience for audience in audiences.values()}
        return briefs, by_id, tuple(table.extra)

    def _brief(
        self,
        table: _Table,
        row: int,
        cells: tuple[str, ...],
        *,
        placements: Mapping[str, Placement],
        sheet_defines_audiences: bool,
        audiences: dict[str, Audience],
        ids: dict[str, int],
    ) -> Brief:
        def get(field: str) -> str:
            return table.get(cells, field)

        for field, what in _REQUIRED_BRIEF_FIELDS.items():
            if field in table.columns and not get(field):
                self.error(table.ref(field, row), f"{field} is empty — every brief needs {what}")
        brief_id = get("id")
        if brief_id:
            slug = slugify(brief_id)
            self._id_length(slug, table.ref("id", row), "brief")
            if slug in ids:
                self.error(
                    table.ref("id", row),
                    f'id "{brief_id}" is already used by row {ids[slug]}'
                    " — give each brief its own id (case and punctuation do not count)",
                )
            ids.setdefault(slug, row)

        audience_ids: list[str] = []
        unknown: list[str] = []
        for aid in _items(get("audience")) or ("general",):
            key = aid.casefold()
            if key not in audiences and (key == "general" or not sheet_defines_audiences):
                audiences[key] = Audience(key if key == "general" else aid)
            if key in audiences:
                audience_ids.append(audiences[key].id)
            else:
                unknown.append(aid)
        if unknown:
            known = ", ".join(dict.fromkeys([*(a.id for a in audiences.values()), "general"]))
            self.error(
                table.ref("audience", row),
                f"audience {_quoted(unknown)} is not in the Audiences sheet (known: {known})"
                " — add it there or fix the spelling",
            )

        url = get("landing_url")
        if url and not _is_web_url(url):
            self.error(
                table.ref("landing_url", row),
                f'landing_url "{url}" is not an http(s) URL — use a full https://… address',
            )
        placement_ids = get("placements")
        languages = get("languages")
        return Brief(
            id=brief_id,
            product=get("product"),
            message=get("message"),
            audiences=tuple(dict.fromkeys(audience_ids)),
            benefits=_items(get("benefits"), _BENEFIT_SEP),
            tone=get("tone"),
            cta=get("cta"),
            landing_url=url,
            image_prompt=get("image_prompt"),
            headline=get("headline"),
            disclaimer=get("disclaimer"),
            # Several texts pinned to one position (one per line) take turns there.
            pins=tuple(
                Pin(field, position, text)
                for column, (field, position) in _PIN_COLUMNS.items()
                for text in _items(get(column), _LINES)
            ),
            placements=(
                self._placement_ids(placement_ids, table.ref("placements", row), placements)
                if placement_ids
                else ()
            ),
            languages=(
                self._languages(languages, table.ref("languages", row)) if languages else ()
            ),
            extra={
                header: cells[index] if index < len(cells) else ""
                for header, index in table.extra.items()
            },
            row=row,
            cells={field: table.ref(field, row) for field in table.columns},
        )
