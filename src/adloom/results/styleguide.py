"""The style guide: what the copy that won did, against the copy that lost.

It is distilled from simple measured features of the copy (length, numbers,
questions, exclamation marks, the CTA, words only winners use), the same for every
provider, so it costs nothing and a marketer can check every line against the
Results sheet. It is written to ``style-guide.md`` in the out folder for the marketer
to read and edit before the next round. Its first line is a stamp holding the hash
of what adloom wrote: a file whose text no longer matches its stamp was edited by a
person and is used exactly as it is, never overwritten.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from adloom import safepath
from adloom.copy import textlen
from adloom.outdir import Deliverable
from adloom.results.analysis import Analysis
from adloom.results.join import AdInfo
from adloom.results.stats import MIN_TRIALS

GUIDE_FILE = "style-guide.md"
GUIDE = Deliverable("the style guide (adloom results)", (GUIDE_FILE,))
_STAMP = re.compile(r"<!-- adloom style guide, generated: sha256 ([0-9a-f]{64})\b.*?-->\n?")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
LOSER_P_BEST = 0.05  # a loser: in a slot with enough data, best in under 5% of draws


@dataclass(frozen=True)
class Guide:
    text: str  # what a copy request carries (the stamp taken off)
    edited: bool  # a person changed it: used as is


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamped(text: str) -> str:
    return (
        f"<!-- adloom style guide, generated: sha256 {_digest(text)}. Edit it freely:"
        " an edited guide is used as it is and never overwritten. -->\n" + text
    )


def read_guide(out: Path) -> Guide | None:
    """The guide in ``out``, if there is one."""
    path = out / GUIDE_FILE
    if not path.is_file():
        return None
    content = path.read_text(encoding="utf-8", errors="replace")
    stamp = _STAMP.match(content)
    body = content[stamp.end() :] if stamp else content
    edited = stamp is None or stamp[1] != _digest(body)
    return Guide(body.strip(), edited)


def write_guide(out: Path, text: str) -> Guide:
    """Write ``text`` as the generated guide unless a person edited the one there."""
    found = read_guide(out)
    if found is not None and found.edited:
        return found
    safepath.write_bytes(out, out / GUIDE_FILE, stamped(text).encode("utf-8"))
    return Guide(text.strip(), edited=False)


def winners_and_losers(analysis: Analysis) -> tuple[list[AdInfo], list[AdInfo]]:
    """Ads named best by CTR in their slot, and ads their slot's evidence ranks last."""
    winners, losers = [], []
    for slot in analysis.slots:
        if slot.ctr.winner is None:
            continue
        for line in slot.lines:
            if line.winner:
                winners.append(analysis.ads[line.label])
            elif (
                line.p_best_ctr is not None
                and line.p_best_ctr < LOSER_P_BEST
                and line.counts.impressions >= MIN_TRIALS["ctr"]
            ):
                losers.append(analysis.ads[line.label])
    return winners, losers


def distil(analysis: Analysis, campaign: str) -> str:
    """The guide's text, from the measured features of winners against losers."""
    winners, losers = winners_and_losers(analysis)
    head = f"# Style guide: {campaign}\n\n"
    if not winners:
        return head + (
            "No ad has won its slot yet (docs/results.md: a winner needs 95% probability of"
            " being best), so there is nothing to learn from. Write your own guidance here"
            " if you like: an edited guide is sent with the next round as it is.\n"
        )
    lines = [
        f"From {len(winners)} winning and {len(losers)} losing ads"
        " (by CTR, within their slot). Write new copy in this spirit; do not copy it.",
        "",
        _length("Headlines", [a.headline for a in winners], [a.headline for a in losers]),
        _length("Body text", [a.body for a in winners], [a.body for a in losers]),
        _share("Headlines with a number", r"\d", winners, losers),
        _share("Copy asking a question", r"[?？]", winners, losers),
        _share("Copy with an exclamation mark", r"[!！]", winners, losers),
    ]
    ctas = Counter(a.cta for a in winners if a.cta)
    if ctas:
        best = ", ".join(f'"{cta}"' for cta, _ in ctas.most_common(3))
        lines.append(f"- Winning calls to action: {best}")
    words = _only_winners(winners, losers)
    if words:
        lines.append("- Words the winners use and the losers do not: " + ", ".join(words))
    return head + "\n".join(lines) + "\n"


def _mean(texts: Sequence[str]) -> float:
    return sum(textlen.measure(t, "chars") for t in texts) / len(texts) if texts else 0.0


def _length(what: str, won: Sequence[str], lost: Sequence[str]) -> str:
    w = _mean(won)
    if not lost:
        return f"- {what}: winners average {w:.0f} characters."
    lo = _mean(lost)
    advice = "length did not matter"
    if w < lo * 0.9:
        advice = "keep them short"
    elif w > lo * 1.1:
        advice = "use the room"
    return f"- {what}: winners average {w:.0f} characters, losers {lo:.0f}: {advice}."


def _share(what: str, pattern: str, won: Sequence[AdInfo], lost: Sequence[AdInfo]) -> str:
    def has(ad: AdInfo) -> bool:
        text = ad.headline if what.startswith("Headlines") else f"{ad.headline} {ad.body}"
        return bool(re.search(pattern, text))

    w, lo = sum(map(has, won)), sum(map(has, lost))
    return f"- {what}: {w} of {len(won)} winners, {lo} of {len(lost)} losers."


def _only_winners(won: Sequence[AdInfo], lost: Sequence[AdInfo]) -> list[str]:
    """Words in at least half the winners' copy and in none of the losers'."""

    def words(ad: AdInfo) -> set[str]:
        return {w.casefold() for w in _WORD.findall(f"{ad.headline} {ad.body}")}

    lost_words = set().union(*(words(a) for a in lost)) if lost else set()
    counted = Counter(w for ad in won for w in words(ad))
    half = max(1, (len(won) + 1) // 2)
    return sorted(w for w, n in counted.items() if n >= half and w not in lost_words)[:8]
