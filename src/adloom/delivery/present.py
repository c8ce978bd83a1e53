"""What the preview and the workbook both say about a run and its ads, said once.

The preview (``adloom.delivery.render``) and the workbook (``adloom.delivery.export``) show the same
facts about each ad (its problems, where its creative is, which models made it) and
about the run (the statuses, the models, when it was made); these helpers are the one
way each is worded, so the two never disagree.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from adloom.model import Ad, Campaign, Status, short_alt

STATUSES: tuple[Status, ...] = ("ok", "flagged", "failed", "blocked", "filtered", "skipped")


def alt_text(ad: Ad) -> str:
    """A short description of the ad's picture for people who cannot see it: the
    ``--score`` judge's, which looked at the creative, else what the brief says it
    shows (its picture subject, else its product) and the words on it."""
    if ad.creative is None:
        return ""
    if ad.score is not None and ad.score.alt_text:
        return short_alt(ad.score.alt_text)
    brief = ad.spec.brief
    shows = brief.image_prompt or brief.product
    words = ad.copy.headline.strip()
    return short_alt(f"{shows}. {words}" if words and words != shows else shows)


def ai_label(ad: Ad) -> str:
    """The workbook's ai_generated cell: yes, no, or empty for an ad without a picture."""
    if ad.creative is None:
        return ""
    return "yes" if ad.ai_generated else "no"


class Links:
    """Links to files relative to one out folder, with ``/`` separators (works on Windows
    too), each through its real path. For many files (a workbook's rows): the out folder
    and each file's folder are resolved once, the file itself checked for a link."""

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        self.folders: dict[Path, Path] = {}

    def __call__(self, path: Path) -> str:
        folder = self.folders.get(path.parent)
        if folder is None:
            folder = self.folders[path.parent] = path.parent.resolve()
        real = folder / path.name
        if real.is_symlink():
            real = real.resolve()
        return Path(os.path.relpath(real, self.out)).as_posix()


def relative_link(path: Path, out: Path) -> str:
    """``path`` relative to the out folder (``Links``)."""
    return Links(out)(path)


def error_text(ad: Ad) -> str:
    """Why an ad has no copy or image: the copy and image errors, without repeats."""
    errors = [ad.copy.error, ad.image.error if ad.image else ""]
    return "; ".join(dict.fromkeys(e for e in errors if e))


def issues_besides(ad: Ad, error: str) -> tuple[str, ...]:
    """The ad's issues without those that restate ``error`` (the pipeline lists it as one)."""
    return tuple(i for i in ad.issues if not (error and error in i))


def problems(ad: Ad) -> tuple[str, ...]:
    """Everything wrong with an ad, once: its issues, led by the error unless one states it."""
    error = error_text(ad)
    if not error or any(error in i for i in ad.issues):
        return ad.issues
    return (error, *ad.issues)


def provider_label(ad: Ad) -> str:
    """``bedrock:<text model>, <image model>``, or just ``draft``: a draft used no model."""
    if ad.draft:
        return "draft"
    models = [m for m in (ad.copy.model, ad.image.model if ad.image else "") if m]
    return ":".join([ad.provider, ", ".join(dict.fromkeys(models))]) if models else ad.provider


def models_used(ads: Sequence[Ad]) -> tuple[str, str]:
    """The text and image models the ads were made with (drafts were made with none)."""
    text = dict.fromkeys(a.copy.model for a in ads if a.copy.model and not a.copy.draft)
    image = dict.fromkeys(
        a.image.model for a in ads if a.image and a.image.model and not a.image.draft
    )
    return ", ".join(text), ", ".join(image)


def providers_used(ads: Sequence[Ad], campaign: Campaign) -> str:
    return ", ".join(dict.fromkeys(a.provider for a in ads if a.provider)) or (
        campaign.settings.provider
    )


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_counts(ads: Sequence[Ad]) -> dict[str, int]:
    """How many ads have each status, for the statuses some ad has, in ``STATUSES`` order."""
    counts = Counter(a.status for a in ads)
    return {s: counts[s] for s in STATUSES if counts[s]}
