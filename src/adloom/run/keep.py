"""Keep the best: per slot, the top K ads by score are delivered, the rest are candidates.

A slot is one (brief, audience, language, placement): the variants of one ad a marketer
picks between. Within a slot ads are ranked by ``score.overall`` (highest first); an ad
that did not come out clean (flagged, failed, ...) never outranks one that did, and ties
go to the one with fewer issues, then to the lower variant number, so a rerun keeps the
same ads. With ``keep`` the ads past the K-th are marked ``candidate``: the workbook
lists them in its Candidates sheet, and neither the preview's pages nor the platform
files show them (docs/output.md). Without ``keep`` every ad is delivered, in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from adloom.errors import InputError
from adloom.model import Ad

Slot = tuple[str, str, str, str]


def slot(ad: Ad) -> Slot:
    spec = ad.spec
    return (spec.brief.id, spec.audience, spec.language, spec.placement.id)


def _rank(ad: Ad) -> tuple[bool, float, int, int]:
    """Sort key, best first: clean before not, higher score, fewer issues, lower variant."""
    overall = ad.score.overall if ad.score else 0.0
    return (ad.status != "ok", -overall, len(ad.issues), ad.spec.variant)


def require_scores(keep: int | None, scoring: bool, where: str = "--keep") -> None:
    """Refuse ``keep`` (given at ``where``) without scores to rank by, before anything
    is generated."""
    if keep is not None and not scoring:
        raise InputError(
            f"{where} {keep}: keep needs --score — the best are picked by their scores",
            hint="add --score (or the campaign setting score), or leave --keep out",
        )


def select(ads: Sequence[Ad], keep: int | None) -> list[Ad]:
    """``ads`` grouped by slot (slots in their first ad's order), each slot best first;
    with ``keep``, the ads past the best ``keep`` of a slot are marked candidates.
    Unscored ads without ``keep`` stay as they are: there is nothing to sort them by."""
    if keep is None and all(ad.score is None for ad in ads):
        return list(ads)
    slots: dict[Slot, list[Ad]] = {}
    for ad in ads:
        slots.setdefault(slot(ad), []).append(ad)
    ranked = []
    for members in slots.values():
        members.sort(key=_rank)
        for place, ad in enumerate(members):
            ranked.append(replace(ad, candidate=keep is not None and place >= keep))
    return ranked
