"""The preview's pages: a page per brief, split further so no page outgrows a browser.

One page holding every ad of a big run does not open (50,000 text ads made one
234 MB ``index.html``), so the preview is ``index.html`` — every brief with its
counts and links — and the ads on pages under ``preview/``: one per brief,
``brief-<n>-<slug>.html``, and when a brief has more ads than fit, numbered pages
after it (``brief-<n>-<slug>-2.html`` ...). A page holds at most
``CARDS_PER_PAGE`` ads and ``MAX_PAGE_BYTES`` of HTML: a page over the budget is
rendered again as two halves, down to a single ad.

A campaign of more than ``SHARED_FROM`` briefs would make a file per brief (50,000
briefs of one search ad each made 50,000 files): there, consecutive small briefs
share a page (``briefs-<first>-<last>.html``, each brief a section the index links
by its anchor), filled up to the same budget. The index is paged the same way:
``index.html`` and, past ``ENTRIES_PER_INDEX`` briefs or the byte budget,
``index-2.html`` ... beside it, each linking the others.

File names are fixed words, the brief's position and its id slugged (``\\w`` and
``-`` only, cut to ``SLUG_BYTES`` bytes of UTF-8), so they are safe on every file
system and in a zip, whatever the brief says. Pages an earlier render wrote and this
one does not are removed (``MANIFEST`` lists them); nothing else in the folder is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from adloom import safepath
from adloom.naming import slugify
from adloom.outdir import Deliverable

PAGES_DIR = "preview"
CARDS_PER_PAGE = 500  # ads on one page at most
MAX_PAGE_BYTES = 2 * 1024 * 1024  # HTML on one page at most (one ad's page may be bigger)
SLUG_BYTES = 48
SHARED_FROM = 100  # briefs: with more, small briefs share pages
ENTRIES_PER_INDEX = 1000  # briefs listed on one index page at most
MANIFEST = ".adloom-pages"  # the page files the last render wrote, one a line
# What adloom names its pages, so only those are ever removed: pages of ads in
# preview/, the index's later pages beside index.html.
_PAGE_NAME = re.compile(r"(brief-\d+-[\w-]+|briefs-\d+-\d+|index-\d+)\.html")
PAGES = Deliverable(
    "the preview's pages",
    (
        f"{PAGES_DIR}/brief-*.html",
        f"{PAGES_DIR}/briefs-*.html",
        f"{PAGES_DIR}/{MANIFEST}",
        "index-*.html",
        MANIFEST,  # the index's own pages, listed beside index.html
    ),
)

T = TypeVar("T")
Render = Callable[[Sequence[T], int, int], str]
"""Renders the items of part ``k`` of ``n`` (1-based) of a brief's pages."""


def page_name(number: int, brief_id: str, part: int = 1) -> str:
    """``brief-001-cold-brew.html``; later parts of the brief add ``-2``, ``-3`` ..."""
    # slugify() names an id without a word character "campaign"; this is a brief.
    slug = slugify(brief_id) if re.search(r"\w", brief_id) else "brief"
    slug = slug.encode("utf-8")[:SLUG_BYTES].decode("utf-8", "ignore").strip("-_") or "brief"
    suffix = f"-{part}" if part > 1 else ""
    return f"brief-{number:03d}-{slug}{suffix}.html"


def shared_name(first: int, last: int) -> str:
    """``briefs-040-079.html``: the page shared by briefs ``first`` to ``last``."""
    return f"briefs-{first:03d}-{last:03d}.html"


def index_name(part: int) -> str:
    """``index.html``, then ``index-2.html`` ...: the index's pages, in the out folder."""
    return "index.html" if part == 1 else f"index-{part}.html"


def packed(sizes: Sequence[int]) -> list[range]:
    """Consecutive items of ``sizes`` (ads per brief) packed into groups of at most
    ``CARDS_PER_PAGE`` (an item as big as that alone), as index ranges."""
    groups: list[range] = []
    start, total = 0, 0
    for i, size in enumerate(sizes):
        if i > start and total + size > CARDS_PER_PAGE:
            groups.append(range(start, i))
            start, total = i, 0
        total += size
    if sizes:
        groups.append(range(start, len(sizes)))
    return groups


def fit(
    items: Sequence[T], render: Render[T], per_page: int = CARDS_PER_PAGE
) -> list[tuple[Sequence[T], str]]:
    """``items`` split into pages of at most ``per_page`` within the byte budget, each
    with its HTML."""
    parts: list[Sequence[T]] = [
        items[i : i + per_page] for i in range(0, len(items), per_page)
    ] or [items]
    while True:
        pages = [(part, render(part, k, len(parts))) for k, part in enumerate(parts, 1)]
        over = {i for i, (part, html) in enumerate(pages) if over_budget(html) and len(part) > 1}
        if not over:
            return pages
        parts = [half for i, part in enumerate(parts) for half in _halves(part, i in over)]


def over_budget(html: str) -> bool:
    # Characters first: most pages are far from the budget, and encoding costs a copy.
    return len(html) * 4 > MAX_PAGE_BYTES and len(html.encode("utf-8")) > MAX_PAGE_BYTES


def _halves(part: Sequence[T], split: bool) -> Iterable[Sequence[T]]:
    if not split:
        return [part]
    middle = len(part) // 2
    return [part[:middle], part[middle:]]


def written_pages(out: Path, folder: Path) -> list[str]:
    """The pages the last render wrote into ``folder`` (in ``out``), in order; [] if none."""
    try:
        return (safepath.inside(out, folder / MANIFEST)).read_text(encoding="utf-8").split()
    except OSError:
        return []


def write_pages(out: Path, folder: Path, pages: Iterable[tuple[str, str]]) -> list[str]:
    """Write each (name, html) into ``folder`` (inside the out folder ``out``); remove
    the pages of an earlier render that are not among them. Returns the names written.

    Pages are written then renamed (safepath), so a browser tab reloading mid-run
    never sees half a page."""
    safepath.make_dirs(out, folder)
    manifest = folder / MANIFEST
    earlier = set(written_pages(out, folder))
    names = []
    for name, html in pages:
        safepath.write_bytes(out, folder / name, html.encode("utf-8"))
        names.append(name)
    safepath.write_bytes(out, manifest, "".join(f"{n}\n" for n in names).encode("utf-8"))
    for stale in earlier - set(names):
        if _PAGE_NAME.fullmatch(stale):  # only what adloom names its pages
            safepath.remove(out, folder / stale)
    return names
