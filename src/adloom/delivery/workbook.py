"""``variants.xlsx``: the one codec of the export workbook, both ways.

``export`` writes the workbook through this module (its sheets and columns, in order;
the search-ad slots; the fingerprint of generated copy), and ``review`` and ``lint``
read it back through it, so the three cannot drift apart. docs/output.md describes
the layout for people.

Sheets are found by name as ``sheets.header_key`` compares them (so a workbook a
reviewer saved from Google Sheets as ``variants`` still reads) and named in messages
as the file titles them. Columns are found by header, so a reviewer may reorder them
or add their own; a repeated header is read from its first column.

**The brief a workbook came from** (``find_brief``) is, in this order, the first that
is a file: the ``Brief path`` the Summary sheet records (relative to the workbook's
folder, as ``brief_path`` writes it), then a file of the recorded ``Brief file`` name
next to the workbook, in the two folders above it (``output/<campaign>/`` sits two
below the project) or in the current folder. A ``--brief`` given by the user beats it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adloom.brief.sheets import Table, header_key, read_xlsx, table, text_sheet
from adloom.copy import rsa
from adloom.delivery.cells import cell_text
from adloom.delivery.thumbs import THUMB_PX
from adloom.errors import InputError
from adloom.model import MAX_DESCRIPTIONS, MAX_HEADLINES, Ad, Campaign, Criterion, Score
from adloom.outdir import Deliverable
from adloom.providers.judging import HEURISTIC, HEURISTIC_LABEL
from adloom.values import kind_of

WORKBOOK_FILE = "variants.xlsx"
# The first round's workbook, and each review round's beside it (never over the one reviewed).
WORKBOOKS = Deliverable("the workbooks", (WORKBOOK_FILE, "variants-round-*.xlsx"))


def round_file(number: int) -> str:
    """The workbook of review round ``number`` (2, 3, ...)."""
    return f"{Path(WORKBOOK_FILE).stem}-round-{number}.xlsx"


VARIANTS_SHEET = "Variants"
SEARCH_SHEET = "Search ads"
SUMMARY_SHEET = "Summary"
CANDIDATES_SHEET = "Candidates"  # with --keep: the ads past the best K of their slot
APPROVAL_CHOICES = ("Approved", "Rejected")
# Summary labels a later command reads back.
BRIEF_FILE = "Brief file"
BRIEF_PATH = "Brief path"
ROUND = "Round"
PROVIDER = "Provider"
# The hidden state's key for an ad ``adloom localize`` adapted from another.
ADAPTED_FROM = "adapted_from"

# The thumbnail column is as wide as the thumbnail's box plus a margin.
THUMB_PAD_PX = 4


@dataclass(frozen=True)
class Column:
    name: str
    width: float  # Excel character units
    wrap: bool = False


# The order is part of the contract (docs/output.md): tools read these by header name,
# people by position.
COLUMNS = (
    Column("ad_name", 44),
    Column("brief_id", 16),
    Column("audience", 14),
    Column("language", 9),
    Column("placement", 18),
    Column("variant", 8),
    Column("headline", 32, wrap=True),
    Column("body", 48, wrap=True),
    Column("cta", 16, wrap=True),
    Column("disclaimer", 28, wrap=True),
    Column("landing_url", 40),
    Column("image", 40),
    Column("status", 10),
    Column("issues", 40, wrap=True),
    Column("provider", 34, wrap=True),
    Column("approval", 12),
    Column("notes", 32, wrap=True),
    Column("round", 7),
    Column("changed", 12),
    Column("thumbnail", (THUMB_PX + 2 * THUMB_PAD_PX) / 7),  # ~7 px per character unit
    Column("generated", 12),  # hidden: what adloom wrote, for `adloom review`
    # What adloom.creative.checks measured on the creative (docs/output.md).
    Column("contrast", 10),
    Column("legibility", 14),
    Column("safe_zone", 16, wrap=True),
    Column("text_px", 9),
    Column("text_share", 11),
    Column("crop", 20),
    # With --score: the judge's overall 1-5 and its reasons (docs/output.md, "Scores").
    Column("score", 8),
    Column("score_reasons", 60, wrap=True),
    # How the picture was made (docs/output.md, "Provenance") and its description.
    Column("ai_generated", 12),
    Column("alt_text", 48, wrap=True),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
CHECK_COLUMNS = COLUMN_NAMES[COLUMN_NAMES.index("contrast") : COLUMN_NAMES.index("crop") + 1]

# Sheet Candidates has the same columns as Variants. score_reasons holds one reason a
# line, "criterion n/5: why", as ``reasons_cell`` writes and ``read_score`` reads them.
_REASON = re.compile(r"(?P<name>\w+) (?P<score>[1-5])/5: (?P<why>.*)")
_POLICY = "policy: "
_HEURISTIC = f"[{HEURISTIC_LABEL}]"

# Sheet "Search ads": one row per responsive search ad, every slot in its own column.
SEARCH_SLOTS = (
    *(f"headline {i}" for i in range(1, MAX_HEADLINES + 1)),
    *(f"description {i}" for i in range(1, MAX_DESCRIPTIONS + 1)),
    "path 1",
    "path 2",
)
SEARCH_COLUMNS = (
    Column("ad_name", 44),
    Column("brief_id", 16),
    Column("audience", 14),
    Column("language", 9),
    Column("variant", 8),
    Column("status", 10),
    Column("final_url", 40),
    *(Column(slot, 34 if slot.startswith("headline") else 48, wrap=True) for slot in SEARCH_SLOTS),
    Column("pins", 28, wrap=True),
)
SEARCH_COLUMN_NAMES = tuple(c.name for c in SEARCH_COLUMNS)

Value = str | int | float


def in_order(values: Mapping[str, Value], names: Sequence[str]) -> list[Value]:
    """A row's ``values`` by column name, in the order of ``names`` (all of them)."""
    if set(values) != set(names):
        raise ValueError(f"row columns {sorted(values)} are not {sorted(names)}")
    return [values[name] for name in names]


def brief_headers(campaign: Campaign) -> list[str]:
    """The brief's own columns, after ours: one sharing a name of ours (say "notes") is
    kept under a prefix, as two columns with one header would confuse a reader."""
    ours = {n.casefold() for n in COLUMN_NAMES}
    return [f"brief.{c}" if c.casefold() in ours else c for c in campaign.extra_columns]


# ---------------------------------------------------------------- what adloom wrote


def _copy_fields(ad: Ad) -> dict[str, str]:
    """The copy of ``ad`` a reviewer can edit, by field: a search ad's every slot
    (sheet Search ads), else headline, body and cta (sheet Variants)."""
    if ad.copy.search is not None:
        return rsa.fields(ad.copy.search)
    return {"headline": ad.copy.headline, "body": ad.copy.body, "cta": ad.copy.cta}


def fingerprint(text: str) -> str:
    """A short hash of ``text`` as a cell gives it back (line breaks, edge spaces aside)."""
    return hashlib.sha256(cell_text(text).strip().encode("utf-8")).hexdigest()[:12]


def generated_state(ad: Ad) -> dict[str, object]:
    """The hidden ``generated`` cell: fingerprints of the copy, its pins and its origin."""
    state: dict[str, object] = {
        "copy": {field: fingerprint(text) for field, text in _copy_fields(ad).items() if text},
        "provider": ad.provider,
        "draft": ad.draft,
        "text_model": ad.copy.model,
        "image_model": ad.image.model if ad.image else "",
    }
    if ad.copy.search is not None:
        state["pins"] = rsa.pins(ad.copy.search)
    if ad.copy.untranslated:  # a later round keeps its "not translated" badge
        state["untranslated"] = True
    source = ad.spec.copy_job.source
    if source is not None:  # adloom localize: what a later round adapts it from again
        state[ADAPTED_FROM] = {
            "ad": ad.spec.adapted_from,
            "language": source.language,
            "copy": [list(pair) for pair in source.fields],  # a list: its order kept
        }
    return state


def generated_cell(ad: Ad) -> str:
    return json.dumps(generated_state(ad), ensure_ascii=False, sort_keys=True)


def brief_path(campaign: Campaign, out: Path) -> str:
    """The brief's path as the Summary sheet records it: relative to the workbook's
    folder, so a project moved as a whole still finds it; absolute across drives."""
    try:
        return Path(os.path.relpath(campaign.source.resolve(), out.resolve())).as_posix()
    except ValueError:  # Windows: brief and output on different drives
        return str(campaign.source.resolve())


def reasons_cell(score: Score | None) -> str:
    """A score's reasons as the workbook shows them, one per line: the heuristic's label
    first when it is one, each criterion's score and why, then broken policies."""
    if score is None:
        return ""
    lines = [_HEURISTIC] if score.heuristic else []
    lines += [f"{c.name} {c.score}/5: {c.why}" for c in score.criteria]
    lines += [f"{_POLICY}{issue}" for issue in score.policy_issues]
    return "\n".join(lines)


def read_score(cells: Mapping[str, str]) -> Score | None:
    """The score a row holds (``score``, ``score_reasons`` and ``alt_text``); None
    without one."""
    try:
        overall = float(cells.get("score", ""))
    except ValueError:
        return None
    criteria, policies, heuristic = [], [], False
    for line in cells.get("score_reasons", "").splitlines():
        found = _REASON.fullmatch(line.strip())
        if found:
            criteria.append(Criterion(found["name"], int(found["score"]), found["why"]))
        elif line.startswith(_POLICY):
            policies.append(line.removeprefix(_POLICY))
        elif line.strip() == _HEURISTIC:
            heuristic = True
    judge = HEURISTIC if heuristic else ""
    # The alt text the row shows describes its creative, which a kept ad keeps.
    alt = cells.get("alt_text", "")
    return Score(overall, tuple(criteria), tuple(policies), judge, heuristic, alt)


# ---------------------------------------------------------------- reading it back


@dataclass(frozen=True)
class AdRow:
    """One ad of sheet Variants, as the workbook holds it now."""

    number: int  # the Variants row, for messages
    name: str
    cells: Mapping[str, str]  # the Variants row by normalised header
    slots: Mapping[str, str] | None  # a search ad's slots (sheet Search ads); None: no row there
    state: Mapping[str, Any]  # the hidden ``generated`` cell, parsed; {} when missing
    candidate: bool = False  # a row of sheet Candidates, not Variants

    @property
    def status(self) -> str:
        return self.cells.get("status", "") or "ok"

    @property
    def round(self) -> int:
        text = self.cells.get("round", "")
        return int(text) if text.isdigit() else 1


@dataclass(frozen=True)
class Variants:
    """A variants workbook as read: its sheets as tables and its Summary by label."""

    path: Path
    variants: Table
    search: Table | None  # None: the workbook has no Search ads sheet
    summary: Mapping[str, str]  # by normalised label: "brief_path", "round", ...
    candidates: Table | None = None  # None: the workbook has no Candidates sheet

    def said(self, label: str) -> str:
        """What the Summary sheet gives for ``label`` ("" when it has no such row)."""
        return self.summary.get(header_key(label), "")

    @property
    def round(self) -> int:
        text = self.said(ROUND)
        return int(text) if text.isdigit() else 1

    def rows(self) -> list[AdRow]:
        """Every row of sheets Variants and Candidates with an ad name, its search-ad
        slots joined."""
        search = _slots_by_name(self.search)
        rows = []
        sheets = [(self.variants, False)] + ([(self.candidates, True)] if self.candidates else [])
        for sheet, candidate in sheets:
            for number, cells in sheet.rows:
                record = sheet.record(cells)
                if record.get("ad_name"):
                    name = record["ad_name"]
                    state = _state(record.get("generated", ""))
                    rows.append(AdRow(number, name, record, search.get(name), state, candidate))
        return rows


def open_variants(path: Path) -> Variants | None:
    """The workbook at ``path``; None when it is not an .xlsx with a Variants sheet.
    Raises ``InputError`` when it is an .xlsx that cannot be read."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or kind_of(path) != "file":
        return None
    named = (VARIANTS_SHEET, SEARCH_SHEET, SUMMARY_SHEET, CANDIDATES_SHEET)
    keys = {header_key(s): s for s in named}
    _, raw = read_xlsx(path, keys)
    sheets = {keys[key]: text_sheet(title, rows) for key, (title, rows) in raw.items()}
    if VARIANTS_SHEET not in sheets:
        return None
    search = sheets.get(SEARCH_SHEET)
    candidates = sheets.get(CANDIDATES_SHEET)
    # The Summary sheet is label | value rows, without a header.
    pairs = [cells for _, cells in sheets[SUMMARY_SHEET].rows] if SUMMARY_SHEET in sheets else []
    return Variants(
        path=path,
        variants=table(sheets[VARIANTS_SHEET]),
        search=table(search) if search else None,
        summary={header_key(r[0]): r[1] for r in pairs if len(r) > 1 and r[0]},
        candidates=table(candidates) if candidates else None,
    )


def read_variants(path: Path) -> Variants:
    """The workbook at ``path``; raises ``InputError`` when it is not a variants workbook."""
    path = Path(path)
    if kind_of(path) != "file":
        raise InputError(f"{path}: no such file — give the variants workbook a run wrote")
    found = open_variants(path)
    if found is None:
        raise InputError(
            f'{path.name}: no "{VARIANTS_SHEET}" sheet — give the variants workbook'
            " `adloom run` wrote (docs/output.md)"
        )
    return found


def find_brief(workbook: Variants) -> Path | None:
    """The brief ``workbook`` was made from, by the rule in this module's docstring."""
    folder = workbook.path.resolve().parent
    recorded = workbook.said(BRIEF_PATH)
    candidates = [folder / recorded] if recorded else []
    name = workbook.said(BRIEF_FILE)
    if name:
        candidates += [place / name for place in (folder, *list(folder.parents)[:2], Path.cwd())]
    return next((c for c in candidates if c.is_file()), None)


def _slots_by_name(search: Table | None) -> dict[str, dict[str, str]]:
    """Sheet Search ads by ad name, slots labelled as ``SEARCH_SLOTS`` spell them."""
    if search is None:
        return {}
    by_name: dict[str, dict[str, str]] = {}
    for _, cells in search.rows:
        name = search.get(cells, "ad_name")
        if name:
            by_name[name] = {slot: search.get(cells, header_key(slot)) for slot in SEARCH_SLOTS}
    return by_name


def _state(text: str) -> dict[str, Any]:
    try:
        state = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return state if isinstance(state, dict) and isinstance(state.get("copy"), dict) else {}
