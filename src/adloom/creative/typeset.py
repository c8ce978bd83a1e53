"""Text on ad images: which font draws a string, where lines may break, how big it fits.

Nothing here draws. ``compose`` asks for fitted, positioned lines and paints them; tests
check the positions and line breaks without looking at pixels.

Fonts: the brand kit's font where it has every glyph of a string, Noto Sans CJK JP
otherwise (it covers Latin and Japanese, so ads render the same on every machine).
Characters no font has are left out and reported, never drawn as tofu boxes.

Line breaking: Latin breaks at spaces and after hyphens; CJK between any two characters,
with Japanese kinsoku shori (no line starts with closing punctuation, small kana or the
prolonged sound mark; no line ends with an opening bracket). A word longer than the line
is split only as a last resort, after shrinking to the smallest size has failed.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import as_file
from pathlib import Path
from typing import Literal

import noto_cjk_sans_jp_bold  # type: ignore[import-untyped]
import noto_cjk_sans_jp_regular  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from PIL import ImageFont

from adloom.copy.textlen import graphemes

HAlign = Literal["left", "center", "right"]
VAlign = Literal["top", "middle", "bottom"]

# Kinsoku shori (JIS X 4051 line-start / line-end prohibitions, the common subset) plus
# the ASCII and Western equivalents, so mixed text follows the same rules.
NO_LINE_START = frozenset(
    "。、，．・：；！？…‥ー～〜"
    "」』）】〕〉》］｝〙〗"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    "ゝゞヽヾ々〻"
    ".,:;!?)]}’”»›%"
)
NO_LINE_END = frozenset("「『（【〔〈《［｛〘〖([{‘“«‹")
# After these a break reads naturally (end of a clause), so the wrapper prefers it.
_CLAUSE_END = frozenset("。、，．！？」』）】.,;:!?")

_REF_SIZE = 100  # px; advances are measured once at this size and scaled linearly
_SPACE_RUN = re.compile(r"[^\S\n]+")  # any whitespace except a newline

_resources = contextlib.ExitStack()
atexit.register(_resources.close)


@cache
def noto(*, bold: bool) -> Path:
    """Noto Sans CJK JP on disk (bold for headline and CTA, regular for small print)."""
    package = noto_cjk_sans_jp_bold if bold else noto_cjk_sans_jp_regular
    # A no-op for an installed package directory; from a zip it extracts once per process.
    return _resources.enter_context(as_file(package.FONT_PATH))


@lru_cache(maxsize=32)
def coverage(path: Path) -> frozenset[int]:
    """Code points the font has glyphs for; the cmap of a 16 MB CJK font is read once."""
    with TTFont(path, lazy=True, fontNumber=0) as tt:
        return frozenset(tt.getBestCmap() or {})


@lru_cache(maxsize=256)
def font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """The font at a pixel size, loaded once per (file, size): ads reuse a handful of sizes."""
    return ImageFont.truetype(str(path), size)


@lru_cache(maxsize=16)
def font_problem(path: Path) -> str | None:
    """Why a user-supplied font cannot be used, or None when it can."""
    try:
        coverage(path)
        font(path, _REF_SIZE)
    # fontTools and FreeType raise many kinds of errors on a broken file; any means
    # "cannot use it", and the caller falls back and says why.
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@lru_cache(maxsize=65536)
def _ref_width(path: Path, text: str) -> float:
    return font(path, _REF_SIZE).getlength(text)


def _is_cjk(char: str) -> bool:
    """Wide/full-width characters (kanji, kana, hangul, CJK punctuation) and half-width kana."""
    return unicodedata.east_asian_width(char) in ("W", "F") or "\uff61" <= char <= "\uff9f"


def has_cjk(text: str) -> bool:
    return any(_is_cjk(c) for c in text)


def _ignorable(char: str) -> bool:
    """Invisible format characters (ZWJ, variation selectors, soft hyphen): no glyph needed."""
    cp = ord(char)
    return unicodedata.category(char) == "Cf" or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def normalize(text: str) -> str:
    """NFC (fonts carry precomposed letters), one space for any run of spaces, no blank lines."""
    text = unicodedata.normalize("NFC", text)
    lines = (_SPACE_RUN.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------- fonts per text run


@dataclass(frozen=True)
class Run:
    """A string ready to set: the font chosen for it and what had to be left out."""

    text: str
    font: Path
    missing: tuple[str, ...] = ()  # visible characters the chosen font cannot draw


def choose_font(text: str, preferred: Path | None, fallback: Path) -> Run:
    """The preferred font if it has every glyph of ``text``, else the fallback.

    One font per element keeps a headline in a single typeface; the brand font loses
    the whole element as soon as it lacks one glyph (e.g. a Latin-only brand font and
    Japanese copy). Characters the chosen font lacks are dropped and listed in ``missing``
    (invisible format characters are dropped silently).
    """
    text = normalize(text)
    visible = {c for c in text if not c.isspace() and not _ignorable(c)}
    wanted = {ord(c) for c in visible}
    chosen = fallback
    if preferred is not None and wanted <= coverage(preferred):
        chosen = preferred
    cmap = coverage(chosen)
    missing = tuple(sorted((c for c in visible if ord(c) not in cmap), key=text.index))
    kept = "".join(c for c in text if c.isspace() or ord(c) in cmap)
    return Run(normalize(kept), chosen, missing)


# ---------------------------------------------------------------- line breaking


@dataclass(frozen=True)
class _Atom:
    """Text that must stay on one line; a line may break only before an atom."""

    text: str
    space_before: bool  # a space separates it from the previous atom (dropped at a break)
    preferred: bool  # breaking before it reads naturally (a space, a clause end, a new phrase)


def _hiragana(char: str) -> bool:
    return "\u3041" <= char <= "\u309f"


def _may_break(word: str, nxt: str) -> bool:
    """Whether a line may break between ``word`` (so far, no spaces) and the next cluster."""
    prev = word[-1]
    if _is_cjk(prev) or _is_cjk(nxt[0]):
        return True
    # "well-known" may break after the hyphen; "-5" or "--" may not.
    return prev == "-" and len(word) > 1 and word[-2].isalpha() and nxt[0].isalpha()


def _pieces(paragraph: str) -> list[tuple[str, bool]]:
    """(text, space before) for each stretch between break opportunities."""
    pieces: list[tuple[str, bool]] = []
    word = ""
    space = False
    for cluster in graphemes(paragraph):
        if cluster.isspace():
            if word:
                pieces.append((word, space))
                word = ""
            space = bool(pieces)
            continue
        if word and _may_break(word, cluster):
            pieces.append((word, space))
            word, space = "", False
        word += cluster
    if word:
        pieces.append((word, space))
    return pieces


def _kinsoku(pieces: Sequence[tuple[str, bool]]) -> list[_Atom]:
    atoms: list[_Atom] = []
    for text, space_before in pieces:
        # A forbidden line-start sticks to what precedes it, an opening bracket to what
        # follows it (the "oikomi" way: the pair moves to the next line together).
        if atoms and (text[0] in NO_LINE_START or atoms[-1].text[-1] in NO_LINE_END):
            prev = atoms.pop()
            joined = prev.text + (" " if space_before else "") + text
            atoms.append(_Atom(joined, prev.space_before, prev.preferred))
            continue
        prev_char = atoms[-1].text[-1] if atoms else ""
        preferred = (
            space_before
            or prev_char in _CLAUSE_END
            # Japanese has no spaces; a phrase (bunsetsu) usually ends where hiragana
            # particles/endings meet a new kanji, katakana or Latin word.
            or (_hiragana(prev_char) and not _hiragana(text[0]))
        )
        atoms.append(_Atom(text, space_before, preferred))
    return atoms


def _atoms(text: str) -> list[list[_Atom]]:
    return [_kinsoku(_pieces(p)) for p in normalize(text).split("\n")]


def _split_long(
    atoms: list[_Atom], max_width: float, measure: Callable[[str], float]
) -> list[_Atom]:
    """Last resort: cut atoms wider than the line between any two characters.

    Kinsoku still holds where the line allows: "け」" stays one piece, so "」" starts no line.
    """
    pieces: list[tuple[str, bool]] = []
    for atom in atoms:
        if measure(atom.text) <= max_width:
            pieces.append((atom.text, atom.space_before))
            continue
        space = atom.space_before
        for cluster in graphemes(atom.text):
            if cluster.isspace():
                space = True
                continue
            pieces.append((cluster, space))
            space = False
    out: list[_Atom] = []
    for atom in _kinsoku(pieces):
        if measure(atom.text) <= max_width:
            out.append(atom)
            continue
        # Even a kinsoku group ("う……。") is wider than a line only a few characters wide.
        clusters = [c for c in graphemes(atom.text) if not c.isspace()]
        out.extend(_Atom(c, atom.space_before and not i, False) for i, c in enumerate(clusters))
    return out


def _line_text(atoms: Sequence[_Atom]) -> str:
    return "".join((" " if a.space_before and i else "") + a.text for i, a in enumerate(atoms))


class _Widths:
    """Line widths of one paragraph's atoms in O(1) from prefix sums."""

    def __init__(self, atoms: Sequence[_Atom], measure: Callable[[str], float]) -> None:
        space = measure(" ")
        self.text = [0.0]  # sum of atom widths before index k
        self.gaps = [0.0]  # sum of the spaces before atoms 1..k-1
        for i, atom in enumerate(atoms):
            self.text.append(self.text[-1] + measure(atom.text))
            self.gaps.append(self.gaps[-1] + (space if atom.space_before and i else 0.0))

    def line(self, start: int, end: int) -> float:
        """Width of atoms[start:end] on one line (the space before the first is dropped)."""
        return self.text[end] - self.text[start] + self.gaps[end] - self.gaps[start + 1]


def _greedy(atoms: Sequence[_Atom], max_width: float, widths: _Widths) -> list[int] | None:
    """Start indexes of the lines, filling each line as far as it goes."""
    starts = [0]
    for j in range(1, len(atoms) + 1):
        if widths.line(j - 1, j) > max_width:
            return None
        start = starts[-1]
        if j == len(atoms) or widths.line(start, j + 1) <= max_width:
            continue
        cut = j
        if not atoms[j].preferred:
            # Move back to a natural break if the line stays at least 60% full and what
            # moves down still fits; otherwise break right here.
            for k in range(j - 1, start, -1):
                if (
                    atoms[k].preferred
                    and widths.line(start, k) >= 0.6 * max_width
                    and widths.line(k, j + 1) <= max_width
                ):
                    cut = k
                    break
        starts.append(cut)
    return starts


def _balance(
    atoms: Sequence[_Atom], count: int, max_width: float, widths: _Widths
) -> list[int] | None:
    """Start indexes of ``count`` lines as even as possible (least squared deviation).

    Display type wants "Run farther / with featherlight / trail shoes", not a full first
    line and a lone last word. Breaking where no natural break is (mid-phrase in
    Japanese) costs extra, so phrases stay together when the lengths allow.
    """
    n = len(atoms)
    target = widths.line(0, n) / count
    penalty = (0.25 * target) ** 2
    inf = math.inf
    # cost[k][j]: best cost of setting atoms[:j] in k lines; back[k][j]: where line k starts.
    cost = [[inf] * (n + 1) for _ in range(count + 1)]
    back = [[0] * (n + 1) for _ in range(count + 1)]
    cost[0][0] = 0.0
    for k in range(1, count + 1):
        for j in range(k, n + 1):
            for i in range(j - 1, k - 2, -1):
                width = widths.line(i, j)
                if width > max_width:
                    break  # earlier starts only make the line wider
                if cost[k - 1][i] == inf:
                    continue
                c = cost[k - 1][i] + (target - width) ** 2
                if i and not atoms[i].preferred:
                    c += penalty
                if c < cost[k][j]:
                    cost[k][j], back[k][j] = c, i
    if cost[count][n] == inf:
        return None
    starts = []
    j = n
    for k in range(count, 0, -1):
        j = back[k][j]
        starts.append(j)
    return starts[::-1]


def wrap(
    text: str,
    max_width: float,
    measure: Callable[[str], float] = len,
    *,
    hard: bool = False,
    balance: bool = False,
) -> list[str] | None:
    """Lines of ``text`` no wider than ``max_width`` as ``measure`` counts, or None.

    None means some unbreakable word is wider than the line; with ``hard`` such words
    are cut anywhere instead. ``balance`` evens out the line lengths without adding a
    line. Newlines in ``text`` are kept as forced breaks.
    """
    out: list[str] = []
    for paragraph in _atoms(text):
        atoms = _split_long(paragraph, max_width, measure) if hard else paragraph
        widths = _Widths(atoms, measure)
        starts = _greedy(atoms, max_width, widths)
        if starts is None:
            return None
        if balance and len(starts) > 1:
            starts = _balance(atoms, len(starts), max_width, widths) or starts
        ends = [*starts[1:], len(atoms)]
        out.extend(_line_text(atoms[a:b]) for a, b in zip(starts, ends, strict=True))
    return out


# ---------------------------------------------------------------- fitting


@dataclass(frozen=True)
class Box:
    """A pixel rectangle, x1/y1 exclusive (like Pillow's boxes)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def contains(self, other: Box) -> bool:
        return (
            self.x0 <= other.x0
            and self.y0 <= other.y0
            and other.x1 <= self.x1
            and other.y1 <= self.y1
        )

    def tuple(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class Line:
    text: str
    x: int  # left end of the baseline (Pillow anchor "ls"), canvas px
    y: int


@dataclass(frozen=True)
class TextBlock:
    """Lines placed on the canvas, and the rectangle their glyphs cover."""

    lines: tuple[Line, ...]
    font: Path
    size: int
    ink: Box


@dataclass(frozen=True)
class Fit:
    """Wrapped lines at one size, measured from the real glyph outlines."""

    lines: tuple[str, ...]
    font: Path
    size: int
    pitch: int  # baseline to baseline, px
    # Glyph bounds of each line relative to its own left baseline point.
    bounds: tuple[tuple[int, int, int, int], ...]

    @property
    def top(self) -> int:
        return min(b[1] + i * self.pitch for i, b in enumerate(self.bounds))

    @property
    def bottom(self) -> int:
        return max(b[3] + i * self.pitch for i, b in enumerate(self.bounds))

    @property
    def width(self) -> int:
        return max(b[2] - b[0] for b in self.bounds)

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def place(self, box: Box, halign: HAlign = "left", valign: VAlign = "top") -> TextBlock:
        """Position the lines so their glyphs sit inside ``box`` (which must be big enough)."""
        slack_y = box.height - self.height
        ink_top = box.y0 + {"top": 0, "middle": slack_y // 2, "bottom": slack_y}[valign]
        lines: list[Line] = []
        x0s: list[int] = []
        x1s: list[int] = []
        for i, (text, b) in enumerate(zip(self.lines, self.bounds, strict=True)):
            slack_x = box.width - (b[2] - b[0])
            ink_left = box.x0 + {"left": 0, "center": slack_x // 2, "right": slack_x}[halign]
            lines.append(Line(text, ink_left - b[0], ink_top - self.top + i * self.pitch))
            x0s.append(ink_left)
            x1s.append(ink_left + b[2] - b[0])
        ink = Box(min(x0s), ink_top, max(x1s), ink_top + self.height)
        return TextBlock(tuple(lines), self.font, self.size, ink)


def sizes(largest: int, smallest: int) -> list[int]:
    """Font sizes to try, largest first, in steps of about 6% (1 px at small sizes)."""
    out: list[int] = []
    size = max(largest, smallest)
    while size > smallest:
        out.append(size)
        size -= max(1, round(size * 0.06))
    out.append(smallest)
    return out


def _measure(lines: Sequence[str], path: Path, size: int, line_height: float) -> Fit:
    face = font(path, size)
    bounds = []
    for line in lines:
        x0, y0, x1, y1 = face.getbbox(line, anchor="ls")
        bounds.append((math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)))
    return Fit(tuple(lines), path, size, round(size * line_height), tuple(bounds))


def _lonely(lines: Sequence[str], measure: Callable[[str], float]) -> bool:
    """Whether a line is stranded: under a third of the widest ("with" alone on a line)."""
    if len(lines) < 2:
        return False
    widths = [measure(line) for line in lines]
    return min(widths) < max(widths) / 3


def fit(
    text: str,
    path: Path,
    max_width: int,
    max_height: int,
    sizes_: Sequence[int],
    *,
    line_height: float = 1.2,
    max_lines: int | None = None,
    balance: bool = True,
) -> Fit | None:
    """The largest size at which ``text`` wraps into the box, or None if even the smallest fails.

    Widths for wrapping are scaled from cached advances (fast); a candidate is checked
    against the real glyph bounds at its size, so nothing is ever outside the box. Words
    wider than the box are split only at the smallest size, when shrinking has not helped.
    """
    text = normalize(text)
    if not text or max_width <= 0 or max_height <= 0:
        return None
    for i, size in enumerate(sizes_):
        scale = size / _REF_SIZE

        def measure(s: str, scale: float = scale) -> float:
            return _ref_width(path, s) * scale

        lines = wrap(text, max_width, measure, balance=balance)
        if lines is None and i == len(sizes_) - 1:
            lines = wrap(text, max_width, measure, hard=True, balance=balance)
        if lines is None or (max_lines is not None and len(lines) > max_lines):
            continue
        if balance and i < len(sizes_) - 1 and _lonely(lines, measure):
            continue  # a smaller size will set it more evenly
        # Cheap lower bound on the block height before measuring real glyphs.
        if (len(lines) - 1) * round(size * line_height) + 0.6 * size > max_height:
            continue
        candidate = _measure(lines, path, size, line_height)
        if candidate.width <= max_width and candidate.height <= max_height:
            return candidate
    return None


def capacity(
    text: str,
    path: Path,
    max_width: int,
    max_height: int,
    size: int,
    *,
    line_height: float = 1.2,
    max_lines: int | None = None,
) -> int:
    """How many characters (grapheme clusters) of ``text`` fit the box at ``size``."""
    clusters = graphemes(normalize(text))
    lo, hi = 0, len(clusters)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        prefix = "".join(clusters[:mid])
        fitted = fit(
            prefix,
            path,
            max_width,
            max_height,
            [size],
            line_height=line_height,
            max_lines=max_lines,
        )
        if fitted is not None:
            lo = mid
        else:
            hi = mid - 1
    return lo
