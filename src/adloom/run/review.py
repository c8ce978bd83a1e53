"""``adloom review``: the next round, from a workbook a reviewer has marked up.

The reviewer works in ``variants.xlsx`` (in Excel, LibreOffice or Google Sheets): an
``approval`` and ``notes`` per row, and maybe copy edited by hand. A review round:

- keeps **approved** ads as they are (copy and creative untouched);
- **regenerates rejected** ones: the copy request goes through the same provider,
  engine and journal as a run, with the reviewer's notes (and the copy rejected) as
  the feedback the model is asked to act on; the creative is composed anew;
- **retries** ads that did not come out (failed, blocked, filtered, skipped);
- keeps copy **edited by hand** as edited: checked by the copy rules, flagged (and
  held back from the platform files) while it breaks one, ``ok`` once it passes, never
  rewritten, and its creative recomposed with the new headline and CTA;
- leaves undecided ads for the next round.

Edits are found with the workbook's hidden ``generated`` column, which holds a
fingerprint of each piece of copy as adloom wrote it (``workbook.generated_state``).
The round is written next to the reviewed workbook (or to ``--out``): a new
``variants-round-N.xlsx`` (never over the reviewed one), the preview marking what
changed, and the platform exports holding only approved ads. The plan is rebuilt
from the brief the workbook came from (``workbook.find_brief``, or ``--brief``); the
journal in the out folder makes everything already generated free. The workbook is
read through ``adloom.delivery.workbook``, as ``lint`` reads it. docs/review.md is the user's
guide.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Literal, get_args

from adloom.brief.sheets import Table
from adloom.console import Tracker
from adloom.copy import rsa
from adloom.copy.languages import normalise_language
from adloom.copy.lint import CopyContext, Violation, check_copy
from adloom.copy.verdict import judge, judge_search
from adloom.creative import checks
from adloom.creative.compose import AdCopy, compose, creative_stem
from adloom.delivery.workbook import (
    ADAPTED_FROM,
    BRIEF_FILE,
    BRIEF_PATH,
    PROVIDER,
    SEARCH_SLOTS,
    AdRow,
    Variants,
    fingerprint,
    read_score,
    read_variants,
    round_file,
)
from adloom.delivery.workbook import find_brief as find_brief_of
from adloom.engine.journal import Journal
from adloom.errors import InputError
from adloom.model import (
    Ad,
    Adaptation,
    AdSpec,
    Campaign,
    Change,
    CopyJob,
    CopyResult,
    Creative,
    ImageJob,
    ImageResult,
    Plan,
    ReviewMark,
    RunSummary,
    Status,
)
from adloom.providers.base import Provider, Request, Response
from adloom.providers.judging import JudgeJob
from adloom.run.generate import outpaint_job
from adloom.run.pipeline import (
    RunOptions,
    held_back,
    model_edits,
    run_plan,
    signing,
    write_deliverables,
)
from adloom.run.plan import adapted

APPROVED, REJECTED = "Approved", "Rejected"
Decision = Literal["approved", "rejected", ""]

# What reviewers type or tick, compared after NFKC, case folding and edge punctuation:
# the drop-down's words and their stems, yes/no, ticks and crosses, Google Sheets'
# checkbox (TRUE; an unticked FALSE is no decision), and the Japanese for each.
# A word list reads best as words:
_APPROVE = frozenset("approved approve ok okay yes y true 1 ✓ ✔ ☑ ◯ ○ 承認 可 採用".split())  # noqa: SIM905
_REJECT = frozenset("rejected reject no n ✗ ✘ × ☒ ng 却下 不可 不採用 差し戻し".split())  # noqa: SIM905
_UNDECIDED = frozenset("false 0 - — pending tbd 保留".split())  # noqa: SIM905

Action = Literal["keep", "regenerate", "retry", "edit"]


@dataclass(frozen=True)
class Row(AdRow):
    """One ad of the reviewed workbook, as the reviewer left it."""

    decision: Decision = ""

    @property
    def notes(self) -> str:
        return self.cells.get("notes", "")


@dataclass(frozen=True)
class Reviewed:
    """A reviewed workbook: its rows and what its Summary sheet says about the run."""

    workbook: Variants
    rows: tuple[Row, ...]
    warnings: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return self.workbook.path

    @property
    def round(self) -> int:
        """The round the workbook is."""
        return self.workbook.round

    @property
    def provider(self) -> str:
        """The run's provider when it used one."""
        return self.workbook.said(PROVIDER)


# ---------------------------------------------------------------- reading


def decision(value: str) -> Decision | None:
    """The reviewer's decision in an approval cell; None when it cannot be read."""
    text = unicodedata.normalize("NFKC", value).casefold().strip().strip(".!。！")
    if not text or text in _UNDECIDED:
        return ""
    if text in _APPROVE:
        return "approved"
    if text in _REJECT:
        return "rejected"
    return None


def read_reviewed(path: Path) -> Reviewed:
    """The rows of a reviewed ``variants.xlsx``; raises ``InputError`` if it is not one."""
    workbook = read_variants(path)
    table = workbook.variants
    table.require(("ad_name", "approval"), path.name, "review")
    rows: list[Row] = []
    warnings: list[str] = []
    for row in workbook.rows():
        found = decision(row.cells.get("approval", ""))
        if found is None:
            where = _sheet(workbook, row).ref("approval", row.number)
            warnings.append(
                f'{where}: approval "{row.cells["approval"]}" is'
                f" neither {APPROVED} nor {REJECTED} (docs/review.md lists what is understood)"
                " — left undecided"
            )
        rows.append(
            Row(row.number, row.name, row.cells, row.slots, row.state, row.candidate, found or "")
        )
    damaged = sum(1 for row in rows if not row.state)
    if damaged:
        warnings.append(
            f'{damaged} row(s) have no readable hidden "generated" cell, so hand edits in'
            " them cannot be told apart: they are kept as they are"
        )
    return Reviewed(workbook, tuple(rows), tuple(warnings))


def _sheet(book: Variants, row: AdRow) -> Table:
    """The sheet ``row`` is on: Candidates for a candidate, else Variants."""
    return (book.candidates or book.variants) if row.candidate else book.variants


def where_is(reviewed: Reviewed, row: AdRow) -> str:
    """The cell of ``row``'s ad name, for messages: ``Variants!A7``."""
    return _sheet(reviewed.workbook, row).ref("ad_name", row.number)


def find_brief(reviewed: Reviewed, given: Path | None) -> Path:
    """The brief to rebuild the plan from: ``given``, else the one the workbook came
    from (``workbook.find_brief``)."""
    if given is not None:
        return given
    found = find_brief_of(reviewed.workbook)
    if found is not None:
        return found
    named = reviewed.workbook.said(BRIEF_PATH) or reviewed.workbook.said(BRIEF_FILE)
    raise InputError(
        f"{reviewed.path.name}: cannot find the brief it was made from"
        + (f' ("{named}")' if named else ""),
        hint="pass it with --brief BRIEF",
    )


# ---------------------------------------------------------------- what each row needs


def edited(row: Row, spec: AdSpec) -> dict[str, str] | None:
    """The row's copy when a reviewer changed any of it by hand, else None.

    A search ad's copy is its slots in sheet Search ads; its Variants headline and body
    show headline 1 and description 1, and an edit there counts as one of those.
    """
    prints: Mapping[str, str] = row.state.get("copy", {})
    if not prints:
        return None  # no fingerprints: nothing can be told apart
    if spec.placement.limits.responsive:
        if row.slots is None:
            return None
        current = {slot: row.slots.get(slot, "") for slot in SEARCH_SLOTS}
        for mirror, slot in (("headline", "headline 1"), ("body", "description 1")):
            text = row.cells.get(mirror, "")
            if _changed(text, prints.get(slot)) and not _changed(current[slot], prints.get(slot)):
                current[slot] = text
    else:
        current = {f: row.cells.get(f, "") for f in ("headline", "body", "cta")}
    if any(_changed(text, prints.get(f)) for f, text in current.items()):
        return current
    return None


def _changed(text: str, printed: str | None) -> bool:
    return fingerprint(text) != (printed or fingerprint(""))


def action(row: Row, spec: AdSpec) -> Action:
    """A flagged ad is written copy like an ok one: fixed by hand (``edit``, checked
    again) or left as it is (``keep``, still flagged). A candidate is promoted by
    approving it; otherwise it stays a candidate, as it is."""
    if row.candidate and row.decision != "approved":
        return "keep"
    if row.decision == "rejected":
        return "regenerate"
    if row.status not in ("ok", "flagged"):
        return "retry"
    return "edit" if edited(row, spec) is not None else "keep"


def rejection(row: Row) -> str:
    """The reviewer's verdict as feedback for the model, with the copy it is about."""
    headline = row.cells.get("headline", "")
    body = row.cells.get("body", "")
    notes = row.notes or "no notes given; write a clearly different version"
    return f'a reviewer rejected this copy (headline "{headline}", body "{body}"): {notes}'


class WithNotes(Provider):
    """The run's provider, sending each rejected job's review notes as feedback.

    The notes lead every request for the job, repairs included, so they are part of
    the request's journal key: a rerun of the same review is free, new notes are not.
    """

    def __init__(self, inner: Provider, notes: Mapping[CopyJob, Sequence[str]]) -> None:
        self.inner = inner
        self.notes = notes
        self.name = inner.name
        self.draft = inner.draft

    def text_request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        return self.inner.text_request(job, [*self.notes.get(job, ()), *feedback])

    def image_request(self, job: ImageJob) -> Request:
        return self.inner.image_request(job)

    def judge_request(self, job: JudgeJob) -> Request:
        return self.inner.judge_request(job)

    def send(self, request: Request) -> Response:
        return self.inner.send(request)

    def check(self) -> None:
        self.inner.check()


# ---------------------------------------------------------------- the round


@dataclass
class Round:
    """Everything one round works from: the reviewed rows, each with its ad's spec and
    what the round does with it, and the ads the round adds (``adloom localize``)."""

    reviewed: Reviewed
    plan: Plan
    provider: Provider
    options: RunOptions
    number: int
    rows: list[tuple[Row, AdSpec, Action]] = field(default_factory=list)
    added: list[AdSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def campaign(self) -> Campaign:
        return self.plan.campaign

    @property
    def workbook(self) -> Path:
        return self.options.out / round_file(self.number)


def open_round(
    reviewed: Reviewed,
    plan: Plan,
    provider: Provider,
    options: RunOptions,
    decide: Callable[[Row, AdSpec], Action] = action,
) -> Round:
    """The round after ``reviewed``: each row matched to its ad in ``plan`` (an ad that
    ``adloom localize`` adapted, to its source's) and ``decide``'s action for it."""
    job = Round(reviewed, plan, provider, options, reviewed.round + 1)
    if job.workbook.resolve() == reviewed.path.resolve():
        raise InputError(
            f"{reviewed.path.name} would be overwritten by round {job.number}",
            hint="review it into another folder with --out DIR",
        )
    specs = {spec.name: spec for spec in plan.ads}
    for row in reviewed.rows:
        # An adapted ad is made as its cell says, even where the plan names its slot too.
        spec = _adapted(row, specs, job.campaign) or specs.get(row.name)
        if spec is None:
            job.warnings.append(
                f"{where_is(reviewed, row)}: ad {row.name} is not in the brief's plan"
                " any more (brief or --set changed?) — left out of this round"
            )
            continue
        specs[row.name] = spec  # an ad adapted from this one finds it, in a later row
        job.rows.append((row, spec, decide(row, spec)))
    return job


def _adapted(row: Row, specs: Mapping[str, AdSpec], campaign: Campaign) -> AdSpec | None:
    """The spec of an ad ``adloom localize`` made, from what its hidden ``generated``
    cell says it adapted; None when it says nothing readable, or names no ad here."""
    said = row.state.get(ADAPTED_FROM)
    if not isinstance(said, dict):
        return None
    source = specs.get(str(said.get("ad", "")))
    language = normalise_language(row.cells.get("language", ""))
    pairs = said.get("copy")
    if source is None or language is None or not isinstance(pairs, list):
        return None
    if not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(t, str) for t in p) for p in pairs
    ):
        return None
    adaptation = Adaptation(str(said.get("language", "")), tuple((f, t) for f, t in pairs))
    spec = adapted(campaign, source, language, adaptation)
    return spec if spec.name == row.name else None


def run_round(job: Round, tracker: Tracker) -> RunSummary:
    """Make what ``job`` sends again (rejected and failed ads, with the reviewer's
    notes) and adds, then deliver the round; return its summary."""
    redo = [spec for _, spec, act in job.rows if act in ("regenerate", "retry")]
    recompose = [spec for _, spec, act in job.rows if act == "edit"]
    notes: dict[CopyJob, list[str]] = {}
    for row, spec, act in job.rows:
        if act == "regenerate":
            notes.setdefault(spec.copy_job, []).append(rejection(row))
    made = [*redo, *job.added]
    subplan = replace(
        job.plan,
        copy_jobs=tuple(dict.fromkeys(s.copy_job for s in made)),
        # The masters of edited ads too: from the journal, free, to recompose them on.
        image_jobs=tuple(dict.fromkeys(s.image_job for s in (*made, *recompose) if s.image_job)),
        ads=tuple(made),
    )
    return run_plan(
        subplan,
        WithNotes(job.provider, {job_: tuple(n) for job_, n in notes.items()}),
        job.options,
        tracker,
        deliver=partial(_deliver, job),
    )


def run_review(
    reviewed: Reviewed, plan: Plan, provider: Provider, options: RunOptions, tracker: Tracker
) -> RunSummary:
    """Make and deliver the round after ``reviewed``; return its summary."""
    return run_round(open_round(reviewed, plan, provider, options), tracker)


def _deliver(job: Round, made: Sequence[Ad], summary: RunSummary) -> RunSummary:
    """Merge what this round made with what it kept, and write the round."""
    by_name = {ad.spec.name: ad for ad in made}
    ads: list[Ad] = []
    journal = Journal(job.options.out)
    try:
        for row, spec, act in job.rows:
            if act in ("regenerate", "retry"):
                change: Change = "regenerated" if act == "regenerate" else "retried"
                mark = ReviewMark(job.number, change, "", row.notes)
                ads.append(replace(by_name[spec.name], review=mark))
            elif act == "edit":
                ads.append(_edited(job, row, spec, journal))
            else:
                ads.append(_kept(job, row, spec))
        for spec in job.added:
            ads.append(replace(by_name[spec.name], review=ReviewMark(job.number, "localized")))
    finally:
        journal.close()
    counts: Counter[str] = Counter(a.review.change or "kept" for a in ads)
    counts.update(approved=sum(a.review.approval == APPROVED for a in ads))
    summary = replace(
        summary,
        workbook=job.workbook,
        variants=len(ads),
        creatives=sum(1 for a in ads if a.creative is not None),
        failed=sum(1 for a in ads if a.status in ("failed", "blocked", "filtered")),
        flagged=sum(1 for a in ads if a.status == "flagged"),
        not_generated=sum(1 for a in ads if a.status == "skipped"),
        warnings=(*job.reviewed.warnings, *job.warnings, *summary.warnings),
        review={"round": job.number, **counts},
        checks=held_back(ads),
    )
    write_deliverables(
        ads,
        summary,
        job.campaign,
        job.options.out,
        job.options.templates,
        round_number=job.number,
        workbook=job.workbook.name,
        uploads=[a for a in ads if a.review.approval == APPROVED],
    )
    return summary


def _approval(row: Row) -> str:
    return {"approved": APPROVED, "rejected": REJECTED}.get(row.decision, "")


def _disclaimer(spec: AdSpec, campaign: Campaign) -> str:
    return spec.copy_job.brief.disclaimer or campaign.brand.disclaimer  # in the ad's language


def _origin(row: Row) -> tuple[str, bool, str, str]:
    """(provider, draft, text model, image model) the row's ad was made with."""
    state = row.state
    provider = str(state.get("provider") or row.cells.get("provider", "").partition(":")[0])
    draft = bool(state.get("draft", provider == "draft"))
    return provider, draft, str(state.get("text_model", "")), str(state.get("image_model", ""))


def copy_texts(row: Row, spec: AdSpec) -> Mapping[str, str]:
    """The row's copy as the workbook holds it: a search ad's slots, else its cells.

    A search ad without its Search ads row keeps what Variants shows of it.
    """
    if not spec.placement.limits.responsive:
        return row.cells
    if row.slots is not None:
        return row.slots
    return {"headline 1": row.cells.get("headline", ""), "description 1": row.cells.get("body", "")}


def _copy(spec: AdSpec, row: Row, texts: Mapping[str, str], draft: bool, model: str) -> CopyResult:
    """Copy as the workbook holds it (kept or edited), in the shape generate makes it."""
    search = None
    if spec.placement.limits.responsive:
        search = rsa.from_fields(texts, row.state.get("pins", {}))
        texts = rsa.summary(search)
    return CopyResult(
        job=spec.copy_job,
        status="ok",
        headline=texts.get("headline", ""),
        body=texts.get("body", ""),
        cta=texts.get("cta", ""),
        draft=draft,
        model=model,
        search=search,
    )


def _kept(job: Round, row: Row, spec: AdSpec) -> Ad:
    """An ad this round leaves as it is: copy, creative and issues from the workbook."""
    provider, draft, text_model, image_model = _origin(row)
    copy = _copy(spec, row, copy_texts(row, spec), draft, text_model)
    # Draft copy no one translated stays labelled so until someone writes it anew.
    copy = replace(copy, untranslated=row.state.get("untranslated") is True)
    image = _image(spec, draft, image_model)
    issues = [i for i in row.cells.get("issues", "").split("; ") if i]
    creative = None
    if row.cells.get("image"):
        path = job.reviewed.path.resolve().parent / row.cells["image"]
        if path.is_file():
            placement = spec.placement
            creative = Creative(path, placement.width, placement.height, path.stat().st_size)
        else:
            issues.append(f"the creative {row.cells['image']} is missing")
    return Ad(
        spec=spec,
        copy=copy,
        image=image,
        creative=creative,
        disclaimer=_disclaimer(spec, job.campaign),
        status=_kept_status(row),
        issues=tuple(issues),
        provider=provider,
        review=ReviewMark(row.round, "", _approval(row), row.notes),
        score=read_score(row.cells),
        candidate=row.candidate and row.decision != "approved",
    )


def _kept_status(row: Row) -> Status:
    """A kept ad's status as the workbook has it (a localize round keeps failed ads
    too), ``ok`` when the cell holds something else."""
    return next((s for s in get_args(Status) if s == row.status), "ok")


def _by_hand(violation: Violation) -> str:
    return f"{violation.message} (edited by hand)"


def _image(spec: AdSpec, draft: bool, model: str, path: Path | None = None) -> ImageResult | None:
    if spec.image_job is None:
        return None
    return ImageResult(spec.image_job, "ok", path=path, draft=draft, model=model)


def _packshot(spec: AdSpec, provider: Provider, journal: Journal) -> tuple[Path | None, bool]:
    """The packshot set on ``spec``'s creative (a model's cut-out of it, from the journal),
    and whether the cut-out it needs is missing there."""
    cutout = spec.image_job.cutout if spec.image_job else None
    if cutout is None:
        return spec.brief.product_image, False
    record = journal.lookup(provider.cutout_request(cutout).key)
    path = record.image_path if record else None
    return path, path is None


def _extended(job: Round, image: ImageResult, journal: Journal) -> ImageResult:
    """``image`` with the master the run extended for some placements (``fit``), found in
    the journal as the run left it."""
    model = job.plan.outpaint_model
    wanted = outpaint_job(image, model) if model else None
    if wanted is None:
        return image
    record = journal.lookup(job.provider.outpaint_request(wanted).key)
    if record is None or record.image_path is None:
        return image
    return replace(image, extended=record.image_path, extended_for=wanted.placements)


def _edited(job: Round, row: Row, spec: AdSpec, journal: Journal) -> Ad:
    """An ad whose copy the reviewer rewrote: checked, flagged, recomposed, not changed."""
    texts = edited(row, spec) or {}
    provider, draft, text_model, image_model = _origin(row)
    copy = _copy(spec, row, texts, draft, text_model)
    context = CopyContext.for_campaign(job.campaign, spec.brief, [spec.placement], spec.language)
    limits = spec.placement.limits
    if copy.search is not None:
        found = rsa.check(copy.search, limits, context, brief=spec.brief)
        verdict = judge_search(
            copy.search, found, limits, context, brief=spec.brief, describe=_by_hand
        )
        shown = rsa.summary(verdict.search or copy.search)
        copy = replace(copy, search=verdict.search, headline=shown["headline"], body=shown["body"])
    else:
        found = check_copy(
            {f: texts.get(f, "") for f in ("headline", "body", "cta")}, limits, context
        )
        verdict = judge(found, _by_hand)
    issues = list(verdict.issues)
    image, creative = None, None
    if spec.image_job is not None:
        source = spec.image_job.source
        record = None if source else journal.lookup(job.provider.image_request(spec.image_job).key)
        master = source or (record.image_path if record else None)
        image = _image(spec, draft, image_model, master)
        packshot, uncut = _packshot(spec, job.provider, journal)
        if image is not None:
            image = _extended(job, image, journal)
            master = image.master_for(spec.placement.id)
        if master is None:
            issues.append("the master image is not in the journal: the creative was not recomposed")
        elif uncut:
            issues.append(
                "the packshot's cut-out is not in the journal: the creative was not recomposed"
            )
        else:
            words = AdCopy(copy.headline, copy.cta, _disclaimer(spec, job.campaign), spec.language)
            stem = creative_stem(job.options.out, spec)
            brand, out = job.campaign.brand, job.options.out
            creative = compose(
                master,
                words,
                brand,
                spec.placement,
                stem,
                draft=draft,
                out=out,
                packshot=packshot,
                source_type=image.source_type_for(spec.placement.id) if image else "",
                signing=signing(job.campaign.settings),
                model="" if source else image_model,
                edits=model_edits(
                    replace(image, product=packshot) if image else None,
                    spec.placement.id,
                    job.plan.outpaint_model,
                ),
            )
            issues += creative.issues
    return Ad(
        spec=spec,
        copy=copy,
        image=image,
        creative=creative,
        disclaimer=_disclaimer(spec, job.campaign),
        # fixed by hand, it goes to the platform files again (if its text can be read)
        status=checks.status_with(verdict.status, creative),
        issues=tuple(issues),
        provider=provider,
        review=ReviewMark(job.number, "edited", _approval(row), row.notes),
    )
