"""The brief's table sheets: Placements, Audiences and Briefs, row by row.

Part of the read stage (``adloom.brief.read`` reads the Campaign and Brand sheets and
puts the campaign together); docs/brief-format.md describes these sheets for people.
Every problem is collected at its cell, as in ``read``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adloom import safepath
from adloom.aspects import parse_ratio
from adloom.brief.inputs import image_problem
from adloom.brief.placements import builtin_placements
from adloom.brief.sheets import (
    Checker,
    FieldTable,
    Sheet,
    cell_float,
    cell_int,
    header_key,
    list_items,
    names,
    quoted,
)
from adloom.copy.languages import LANGUAGES, normalise_language
from adloom.copy.rulepacks import CATEGORIES
from adloom.errors import InputError
from adloom.model import (
    FITS,
    LOCALIZED_FIELDS,
    Audience,
    Brief,
    BriefImage,
    Fit,
    GlossaryTerm,
    Pin,
    PinField,
    Placement,
)
from adloom.naming import slugify
from adloom.values import kind_of

SIZE_RANGE = (16, 8192)  # px; Bedrock image models and Pillow both stay sane inside it
_REQUIRED_BRIEF_FIELDS = {
    "id": "an id (it goes into every ad name)",
    "product": "the product it advertises",
    "message": "the one thing the ad must say",
}
_BENEFIT_SEP = re.compile(r"[;\n]")  # benefits are phrases that may contain commas
_LINES = re.compile(r"\n")
_FILE_SEP = re.compile(r"[;\n]")  # file names may hold commas
MAX_BRIEF_IMAGES = 50  # own photos per brief, a folder's included
# What a folder of own photos is read for; other files (notes, sidecars) are left alone.
# Each one taken is still checked by its content.
_PHOTO_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
# Search-ad copy a marketer pins to a position (Google: headlines 1-3, descriptions 1-2).
_PIN_COLUMNS: dict[str, tuple[PinField, int]] = {
    "pin_headline_1": ("headline", 1),
    "pin_headline_2": ("headline", 2),
    "pin_headline_3": ("headline", 3),
    "pin_description_1": ("description", 1),
    "pin_description_2": ("description", 2),
}
# ``message@ja``: a field the marketer wrote in one language (header key -> field@code).
_LOCALIZED_COLUMNS = {
    f"{name}@{header_key(code)}": f"{name}@{code}"
    for name in LOCALIZED_FIELDS
    for code in LANGUAGES
}
_LOCALIZED_HEADER = re.compile(rf"({'|'.join(LOCALIZED_FIELDS)})\s*@\s*(.+)")
_CLAIM_SEP = re.compile(r"[:：]")
BRIEF_COLUMNS = _LOCALIZED_COLUMNS | names(
    "id product message audience benefits tone cta landing_url image_prompt headline"
    " disclaimer placements languages category evidence images product_image "
    + " ".join(_PIN_COLUMNS),
    brief_id="id",
    audiences="audience",
    benefit="benefits",
    url="landing_url",
    landing_page="landing_url",
    cta_text="cta",
    call_to_action="cta",
    placement="placements",
    language="languages",
    photos="images",
    product_photo="product_image",
    packshot="product_image",
)
_AUDIENCE_COLUMNS = names("id description", audience="id")
_PLACEMENT_INTS = {  # field -> what it holds, for messages
    "width": "the width in pixels",
    "height": "the height in pixels",
    "headline_max": "the headline limit in characters",
    "body_max": "the body text limit in characters",
    "cta_max": "the call-to-action limit in characters",
    "max_kb": "the platform's file-size cap in KB",
}
# The safe-zone columns: fractions of the height (top, bottom) or width kept free of copy.
_SAFE_SIDES = {f"safe_{side}": side for side in ("top", "bottom", "left", "right")}
_PLACEMENT_COLUMNS = names(
    " ".join([*_PLACEMENT_INTS, *_SAFE_SIDES]) + " id platform width_rule source fit"
)


def _is_ratio(text: str) -> bool:
    width, sep, height = text.partition(":")
    try:
        return bool(sep) and parse_ratio(text) > 0 and float(width) > 0 and float(height) > 0
    except (ValueError, ZeroDivisionError):
        return False


def _is_web_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    has_space = re.search(r"\s", text) is not None
    return parts.scheme.lower() in ("http", "https") and bool(host) and not has_space


class TableRules(Checker):
    """The rules of the table sheets; ``read``'s reader is one, with the sheet rules."""

    path: Path  # the brief file: paths in it are relative to its folder

    def languages(self, text: str, where: str) -> tuple[str, ...]:
        codes = [(item, normalise_language(item)) for item in list_items(text)]
        unknown = [item for item, code in codes if code is None]
        if unknown:
            self.error(
                where,
                f"unknown language {quoted(unknown)} — use codes from: {', '.join(LANGUAGES)}",
            )
        return tuple(dict.fromkeys(code for _, code in codes if code is not None))

    def placement_ids(
        self, text: str, where: str, placements: Mapping[str, Placement]
    ) -> tuple[str, ...]:
        ids = tuple(dict.fromkeys(header_key(item) for item in list_items(text)))
        unknown = [pid for pid in ids if pid not in placements]
        if unknown:
            self.error(
                where,
                f"unknown placement {quoted(unknown)} — use ids from: "
                f"{', '.join(sorted(placements))} (or define it in a Placements sheet)",
            )
        return tuple(pid for pid in ids if pid in placements)

    def file(
        self, text: str, where: str, what: str, problem: Callable[[Path, str], str | None]
    ) -> Path | None:
        """The file a cell names, relative to the brief's folder, if ``problem`` finds
        nothing wrong with it."""
        path = Path(text).expanduser()
        path = path if path.is_absolute() else self.path.parent / path
        try:
            kind = kind_of(path)
        except InputError as err:  # a name too long, a loop of links
            self.error(where, f"{what} {err.message}")
            return None
        path = path.resolve()
        if kind != "file":
            self.error(
                where,
                f'{what} "{text}" not found (looked for {path})'
                " — put the file there; paths are relative to the workbook's folder",
            )
            return None
        found = problem(path, f'{what} "{text}"')
        if found:
            self.error(where, found)
            return None
        return path

    def _inside(self, text: str, where: str, what: str) -> Path | None:
        """The path a cell names, resolved; a relative one must stay in the workbook's
        folder (no ``..`` or link out of it): a brief passed on cannot read elsewhere."""
        given = Path(text).expanduser()
        folder = self.path.parent.resolve()
        path = (given if given.is_absolute() else folder / given).resolve()
        if not given.is_absolute() and not path.is_relative_to(folder):
            self.error(
                where,
                f'{what} "{text}" leads out of the workbook\'s folder ({folder})'
                " — put the file beside the workbook, or give an absolute path",
            )
            return None
        return path

    def product_image(self, text: str, where: str) -> Path | None:
        path = self._inside(text, where, "product_image")
        # The cell's own text in messages; ``file`` finds the same path from it.
        return None if path is None else self.file(text, where, "product_image", image_problem)

    def images(self, text: str, where: str) -> tuple[BriefImage, ...]:
        """A brief's own photos: files or folders, ``;`` or one per line, each optionally
        for one aspect family only (``9:16=story.jpg``)."""
        found: list[BriefImage] = []
        for item in list_items(text, _FILE_SEP):
            aspect, sep, name = item.partition("=")
            aspect = aspect.strip() if sep else ""
            name = name.strip() if sep else item
            if aspect and not _is_ratio(aspect):
                self.error(
                    where,
                    f'"{aspect}" in "{item}" is not an aspect ratio — write e.g. 9:16=story.jpg',
                )
                continue
            path = self._inside(name, where, "images")
            if path is None:
                continue
            files = self._folder_photos(path, name, where) if path.is_dir() else [path]
            for file in files:
                checked = self.file(str(file), where, "image", image_problem)
                if checked is not None:
                    found.append(BriefImage(checked, aspect))
        images = tuple(dict.fromkeys(found))
        if len(images) > MAX_BRIEF_IMAGES:
            self.error(
                where,
                f"{len(images)} images is over the {MAX_BRIEF_IMAGES} a brief may use"
                " — pick the best, or split the brief",
            )
            return ()
        return images

    def _folder_photos(self, folder: Path, name: str, where: str) -> list[Path]:
        photos = []
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(".") or entry.suffix.lower() not in _PHOTO_SUFFIXES:
                continue
            resolved = entry.resolve()
            if not resolved.is_relative_to(folder):
                self.error(
                    where,
                    f'images folder "{name}": {entry.name} links out of the folder'
                    " — copy the picture into it instead",
                )
                continue
            photos.append(resolved)
        if not photos:
            self.error(
                where,
                f'images folder "{name}" holds no .png, .jpg or .webp pictures'
                f" (looked in {folder})",
            )
        return photos

    # ------------------------------------------------------------ Placements

    def placements(self, sheet: Sheet | None) -> dict[str, Placement]:
        placements = dict(builtin_placements())
        if sheet is None:
            return placements
        table = self.table(sheet, _PLACEMENT_COLUMNS, ("id",), "ignored")
        seen: dict[str, int] = {}
        for row, cells, text in self._named_rows(table, "placement"):
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

    def _placement_values(
        self, table: FieldTable, row: int, cells: tuple[str, ...]
    ) -> dict[str, Any]:
        """The valid, non-blank cells of one Placements row, as Placement fields."""
        values: dict[str, Any] = {}
        for field, what in _PLACEMENT_INTS.items():
            text = table.get(cells, field)
            if not text:
                continue
            low, high = SIZE_RANGE if field in ("width", "height") else (1, math.inf)
            number = cell_int(text)
            if number is not None and low <= number <= high:
                values[field] = number
            else:
                expected = f"from {low} to {high}" if high != math.inf else "of 1 or more"
                self.error(
                    table.ref(field, row),
                    f'{field} "{text}" is not a whole number {expected} — give {what}',
                )
        for field, side in _SAFE_SIDES.items():
            text = table.get(cells, field)
            if not text:
                continue
            fraction = cell_float(text)
            if fraction is not None and 0 <= fraction < 0.5:
                values[field] = fraction
            else:
                dimension = "height" if side in ("top", "bottom") else "width"
                self.error(
                    table.ref(field, row),
                    f'{field} "{text}" is not a fraction of the {dimension} from 0 to 0.5'
                    f" — e.g. 0.13 keeps the {side} 13% free of copy",
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
        return values | self._placement_texts(table, row, cells)

    def _placement_texts(
        self, table: FieldTable, row: int, cells: tuple[str, ...]
    ) -> dict[str, Any]:
        """The Placements row's words: platform, source and fit."""
        values: dict[str, Any] = {
            field: table.get(cells, field)
            for field in ("platform", "source")
            if table.get(cells, field)
        }
        if table.get(cells, "fit"):
            values["fit"] = self.fit(table.get(cells, "fit"), table.ref("fit", row))
        return values

    def fit(self, text: str, where: str) -> Fit | None:
        """A ``fit`` cell (Campaign setting or Placements column); None when it is blank
        or wrong (the error is kept)."""
        value = header_key(text)
        for known in FITS:
            if value == known:
                return known
        if text.strip():
            self.error(
                where,
                f'fit "{text.strip()}" is not one of {", ".join(FITS)} — auto extends a '
                "master where a crop would cut its subject, crop always cuts, outpaint "
                "always extends, pad sets it whole on its blurred edges",
            )
        return None

    # ------------------------------------------------------------ Audiences and Briefs

    def audiences(self, sheet: Sheet | None) -> dict[str, Audience] | None:
        """Defined audiences by case-folded id; None when the workbook has no such sheet."""
        if sheet is None:
            return None
        table = self.table(sheet, _AUDIENCE_COLUMNS, ("id",), "ignored")
        audiences: dict[str, Audience] = {}
        seen: dict[str, str] = {}
        for row, cells, aid in self._named_rows(table, "audience"):
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

    def briefs(
        self,
        sheet: Sheet | None,
        placements: Mapping[str, Placement],
        defined: Mapping[str, Audience] | None,
    ) -> tuple[tuple[Brief, ...], dict[str, Audience], tuple[str, ...]]:
        """The briefs, every audience of the campaign by id, and the unknown columns."""
        if sheet is None:
            return (), {}, ()
        table = self.table(sheet, BRIEF_COLUMNS, _REQUIRED_BRIEF_FIELDS, "kept in the export as is")
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
        for header, index in table.extra.items():
            # "message@xx": meant as a field in a language adloom does not write.
            match = _LOCALIZED_HEADER.fullmatch(header_key(header))
            if match:
                self.error(
                    sheet.ref(index, table.header_row),
                    f'column "{header}": unknown language "{match.group(2)}" — name it'
                    f" {match.group(1)}@<code> with a code from: {', '.join(LANGUAGES)}",
                )
        by_id = {audience.id: audience for audience in audiences.values()}
        return briefs, by_id, tuple(table.extra)

    def _brief(
        self,
        table: FieldTable,
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
            self._brief_id(brief_id, table.ref("id", row), row, ids)
        audience_ids = self._brief_audiences(
            get("audience"), table, row, audiences, sheet_defines_audiences
        )
        url = get("landing_url")
        if url and not _is_web_url(url):
            self.error(
                table.ref("landing_url", row),
                f'landing_url "{url}" is not an http(s) URL — use a full https://… address',
            )
        placement_ids = get("placements")
        languages = get("languages")
        product, photos = get("product_image"), get("images")
        if product and photos:
            self.error(
                table.ref("product_image", row),
                "a brief takes its own photos (images) or a product on generated scenes"
                " (product_image), not both — split it into two briefs",
            )
        return Brief(
            id=brief_id,
            product=get("product"),
            message=get("message"),
            audiences=audience_ids,
            benefits=list_items(get("benefits"), _BENEFIT_SEP),
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
                for text in list_items(get(column), _LINES)
            ),
            placements=(
                self.placement_ids(placement_ids, table.ref("placements", row), placements)
                if placement_ids
                else ()
            ),
            languages=(self.languages(languages, table.ref("languages", row)) if languages else ()),
            category=self._category(get("category"), table, row),
            evidence=self._evidence(get("evidence"), table, row),
            localized=tuple(
                (column.split("@", 1)[1], column.split("@", 1)[0], _localized(column, get(column)))
                for column in _LOCALIZED_COLUMNS.values()
                if get(column)
            ),
            images=self.images(photos, table.ref("images", row)) if photos else (),
            product_image=(
                self.product_image(product, table.ref("product_image", row)) if product else None
            ),
            extra={
                header: cells[index] if index < len(cells) else ""
                for header, index in table.extra.items()
            },
            row=row,
            cells={field: table.ref(field, row) for field in table.columns},
        )

    def _category(self, text: str, table: FieldTable, row: int) -> str:
        if not text:
            return ""
        where = table.ref("category", row)
        category = CATEGORIES.get(header_key(text)) or CATEGORIES.get(text.strip())
        if category is None:
            known = ", ".join(dict.fromkeys(CATEGORIES.values()))
            self.error(
                where,
                f'category "{text}" is not known — use one of: {known} (or 化粧品, 医薬部外品,'
                " サプリメント, 健康食品, 食品); it decides which 薬機法 rules apply",
            )
        return category or ""

    def _evidence(self, text: str, table: FieldTable, row: int) -> tuple[tuple[str, str], ...]:
        """``claim: basis`` items, one per line (or ``;``): what backs a claim the copy makes."""
        items: list[tuple[str, str]] = []
        where = table.ref("evidence", row) if text else ""
        for item in list_items(text, _BENEFIT_SEP):
            parts = _CLAIM_SEP.split(item, 1)
            claim, basis = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
            if not claim or not basis:
                self.error(
                    where,
                    f'evidence "{item}" does not say what backs the claim — write it as'
                    " claim: basis, e.g. 最安: 2026年11月 国内EC 5社の価格を自社調査",
                )
                continue
            items.append((claim, basis))
        return tuple(items)

    def glossary(self, sheet: Sheet | None) -> tuple[GlossaryTerm, ...]:
        """The Glossary sheet: a term per row, how it must be written per language column."""
        if sheet is None:
            return ()
        known = names("term avoid") | {header_key(code): code for code in LANGUAGES}
        table = self.table(sheet, known, ("term",), "ignored (columns are term, avoid and"
                           f" language codes: {', '.join(LANGUAGES)})")  # fmt: skip
        terms: list[GlossaryTerm] = []
        for row, cells in table.rows:
            term = table.get(cells, "term")
            spellings = tuple(
                (code, table.get(cells, code)) for code in LANGUAGES if table.get(cells, code)
            )
            where = table.ref("term", row) if "term" in table.columns else sheet.title
            if not term:
                self.error(where, "term is empty — name the term this row spells out")
                continue
            if not spellings:
                self.error(
                    where,
                    f'"{term}" has no spelling in any language column — write how it must be'
                    " written, e.g. in a ja column",
                )
                continue
            avoid = list_items(table.get(cells, "avoid"))
            terms.append(GlossaryTerm(term, spellings, avoid, where))
        return tuple(terms)

    def _brief_id(self, brief_id: str, where: str, row: int, ids: dict[str, int]) -> None:
        """Ids meet in ad names as slugs: each must be short and its own."""
        slug = slugify(brief_id)
        self._id_length(slug, where, "brief")
        if slug in ids:
            self.error(
                where,
                f'id "{brief_id}" is already used by row {ids[slug]}'
                " — give each brief its own id (case and punctuation do not count)",
            )
        ids.setdefault(slug, row)

    def _brief_audiences(
        self,
        text: str,
        table: FieldTable,
        row: int,
        audiences: dict[str, Audience],
        sheet_defines_audiences: bool,
    ) -> tuple[str, ...]:
        """The brief's audience ids; ``audiences`` grows with those it may define."""
        audience_ids: list[str] = []
        unknown: list[str] = []
        for aid in list_items(text) or ("general",):
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
                f"audience {quoted(unknown)} is not in the Audiences sheet (known: {known})"
                " — add it there or fix the spelling",
            )
        return tuple(dict.fromkeys(audience_ids))

    def _named_rows(
        self, table: FieldTable, what: str
    ) -> Iterator[tuple[int, tuple[str, ...], str]]:
        """The rows with an id, each with it; a row without one is reported."""
        for row, cells in table.rows:
            text = table.get(cells, "id")
            if text:
                yield row, cells, text
            elif "id" in table.columns:
                self.error(table.ref("id", row), f"id is empty — name the {what}")


def _localized(column: str, text: str) -> str:
    """A localized cell as ``Brief.in_language`` takes it: benefits one per line."""
    if column.startswith("benefits@"):
        return "\n".join(list_items(text, _BENEFIT_SEP))
    return text
