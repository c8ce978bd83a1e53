"""The provider interface: build a request for a job, and send it.

A provider turns a job into a ``Request`` (pure: no I/O, so its content hash can
key the journal before anything is paid for) and sends requests with one method,
``send``. Everything above a provider (engine, journal, budget, retries) only sees
``Request`` and ``Response``; tests register a fake provider, or point the real
Bedrock provider at a fake HTTP server. docs/providers.md is the guide to adding one.

Errors ``send`` may raise, besides returning a non-ok ``Response``:

- ``TransientError``: try again later (throttling, 5xx, timeouts); the engine retries.
- ``RequestFailed``: this request can never succeed as sent (validation error,
  content filter on the prompt); the variant fails with the reason.
- ``adloom.errors.ProviderError``: nothing will succeed (credentials, model access);
  the run stops with exit code 3.

A provider that can run copy requests as batch jobs (written to storage, answered by
the service on its own fleet, at a lower price) returns a ``Batches`` from
``batches``; ``adloom.run.batching`` decides what goes there and waits for it.
"""

from __future__ import annotations

import hashlib
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from PIL import Image

from adloom.model import CopyJob, CutoutJob, ImageJob, OutpaintJob, Usage

if TYPE_CHECKING:
    from adloom.providers.judging import JudgeJob

Kind = Literal["text", "image"]
ResponseStatus = Literal["ok", "blocked", "filtered", "failed"]


@dataclass(frozen=True)
class Attachment:
    """A picture a request sends (an outpaint's source). The body holds its digest and
    the size it is sent at, so the journal keeps a hash, not megabytes of base64; the
    provider reads, scales and encodes it in ``send`` (``picture``)."""

    path: Path
    digest: str  # SHA-256 of the file when the request was built
    width: int  # sent at this size
    height: int

    def picture(self) -> Image.Image:
        """The pixels to send, at the size the request names. Raises ``RequestFailed``
        when the file changed since (its key would name other pixels)."""
        data = self.path.read_bytes()
        if hashlib.sha256(data).hexdigest() != self.digest:
            raise RequestFailed(f"{self.path.name} changed while the run used it; run again")
        with Image.open(io.BytesIO(data)) as image:
            rgb = image.convert("RGB")
        if rgb.size != (self.width, self.height):
            rgb = rgb.resize((self.width, self.height), Image.Resampling.LANCZOS)
        return rgb


@dataclass(frozen=True)
class Request:
    kind: Kind
    model: str
    body: Mapping[str, Any]  # exactly what is sent, JSON-serialisable
    input_tokens: int = 0  # estimate, reserved against the model's quota before sending
    max_tokens: int = 0  # output tokens the service reserves at request start
    max_cost_usd: float = 0.0  # worst case, reserved against the budget before sending
    cache_tokens: int = 0  # of input_tokens, the estimate in a prompt-cached prefix
    label: str = ""  # for progress and messages; not part of the key
    attachment: Attachment | None = None  # in the key through the body's digest of it

    @cached_property
    def key(self) -> str:
        """Content hash of everything that determines the answer (model, body)."""
        blob = json.dumps(
            {"kind": self.kind, "model": self.model, "body": self.body},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Response:
    status: ResponseStatus
    output: Mapping[str, Any] = field(default_factory=dict)  # text: the structured answer
    image: bytes | None = None  # image: encoded PNG/JPEG bytes
    usage: Usage = field(default_factory=Usage)
    latency_ms: int = 0
    error: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)  # e.g. served latency, stop reason


@dataclass(frozen=True)
class Applied:
    """One per-minute quota the account reports for a model id."""

    per_minute: int
    name: str  # the quota's name where the account keeps it (Service Quotas)


@dataclass(frozen=True)
class Account:
    """The account's own quotas: model id as sent -> unit (tpm, ipm) -> quota.

    ``warnings`` say once why some could not be read (the registry's are used then).
    """

    quotas: Mapping[str, Mapping[str, Applied]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


class TransientError(Exception):
    """Retry later. ``throttled`` tells the engine to slow this model down."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


class RequestFailed(Exception):
    """This request fails as sent; the variant is marked failed with this reason."""

    def __init__(self, message: str, *, status: ResponseStatus = "failed") -> None:
        super().__init__(message)
        self.status = status


class Provider(ABC):
    name: str
    draft: bool = False  # output is a placeholder, labelled as such everywhere

    @abstractmethod
    def text_request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        """The request that writes copy for ``job``; ``feedback`` lists what to fix."""

    @abstractmethod
    def image_request(self, job: ImageJob) -> Request:
        """The request that makes the master image for ``job``."""

    @abstractmethod
    def send(self, request: Request) -> Response:
        """Send one request. The only method that does I/O; safe to call from threads."""

    def outpaint_request(self, job: OutpaintJob) -> Request:
        """The request that extends a master (``fit`` outpaint or auto); a provider
        without one says so, and ``unavailable`` tells the run before any call."""
        from adloom.errors import InputError

        raise InputError(f"the {self.name} provider cannot extend pictures: set fit to crop")

    def unavailable(self, model_id: str) -> str:
        """Why ``model_id`` (an image model) cannot be called in this run's set-up, e.g.
        its region does not offer it; "" when it can. Asked before any call."""
        return ""

    def judge_request(self, job: JudgeJob) -> Request:
        """The request that rates one ad (``--score``); a provider without a judge says so."""
        from adloom.errors import InputError

        raise InputError(f"the {self.name} provider cannot score ads: run without --score")

    def cutout_request(self, job: CutoutJob) -> Request:
        """The request that cuts a busy packshot out (an ``image`` request whose answer is
        the product on a transparent background); a provider without one says so at the
        packshot's cell. Raises ``BriefError`` for a packshot it cannot send."""
        from adloom.errors import BriefError, Problem

        raise BriefError(
            [
                Problem(
                    job.where,
                    f"product_image {job.path.name} has a busy background and the {self.name}"
                    " provider cannot remove one — supply a PNG with a transparent background"
                    " or a photo on a plain background",
                )
            ]
        )

    def check(self) -> None:  # noqa: B027 - optional hook, most providers need no check
        """Fail fast, before any work, when the provider cannot run at all (exit 3)."""

    def start(self, models: Sequence[tuple[str, Kind]], judge: str = "") -> list[str]:
        """Checks before the first call of a run using ``models`` ((id, kind) pairs) and,
        with ``--score``, the text model ``judge``, e.g. whether the service still serves
        them; raises to stop the run. Returns what the user must be told (warnings), each
        once. Default: nothing to check."""
        return []

    def sent_id(self, model_id: str, kind: Kind) -> str:
        """The id requests for ``model_id`` go out with (e.g. an inference profile the
        provider picked); quotas are the sent id's. Default: the id itself."""
        return model_id

    def batch_job_model(self, model_id: str) -> str | None:
        """The id a batch job for the text model ``model_id`` would name (for ``plan``);
        None: no batch job can run it here. Default: the id requests are sent with."""
        return self.sent_id(model_id, "text")

    def account_quotas(self, models: Sequence[tuple[str, Kind]]) -> Account:
        """The per-minute quotas the account applies to ``models`` (none known: empty)."""
        return Account()

    def batches(self) -> Batches | None:
        """Batch jobs for copy requests (``--mode batch``); None: the provider has none.
        Raises ``InputError`` (exit 2) when batch settings are missing or malformed."""
        return None

    def faults(self) -> list[str]:
        """What the provider's own code did wrong so far, each once (a plugin's, as
        ``providers.guard`` saw it); a run with any ends with exit 3. Default: none."""
        return []


# ---------------------------------------------------------------------------- batch jobs

# A batch job's states (Bedrock's ModelInvocationJob status), and those it ends in.
BATCH_ENDED = frozenset({"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"})


@dataclass(frozen=True)
class BatchLimits:
    """What one batch job of a model may hold (the registry's, or the account's quotas)."""

    min_records: int  # fewer is refused by the service: such requests go on-demand
    max_records: int  # per job (adloom writes one input file a job)
    max_bytes: int  # of the job's input file
    max_jobs: int = 0  # submitted or running at once (the account's quota); 0: not known


@dataclass(frozen=True)
class BatchSubmission:
    """One job to start: its records are requests built with ``batch`` structured output.

    ``name`` and ``token`` derive from the content (model and record keys), so a
    retried or resumed submit of the same work never starts a second job."""

    name: str
    model: str  # the id the job runs (as sent)
    token: str  # the service's idempotency token (clientRequestToken)
    records: Sequence[Request]


@dataclass(frozen=True)
class Submitted:
    """A started job: where to find it again (kept in the journal before any wait)."""

    job_id: str  # the service's id (Bedrock: the job ARN)
    input_uri: str
    output_uri: str


@dataclass(frozen=True)
class BatchProgress:
    status: str  # Submitted, Validating, Scheduled, InProgress, ... (BATCH_ENDED)
    message: str = ""  # the service's, e.g. why a job failed
    total: int | None = None  # records, when the service says
    processed: int | None = None
    succeeded: int | None = None
    errors: int | None = None

    @property
    def ended(self) -> bool:
        return self.status in BATCH_ENDED


@dataclass(frozen=True)
class BatchAnswer:
    """One record of a finished job, read back.

    ``response`` is the answer exactly as ``send`` would have returned it (validated
    the same way, priced at the batch price); without one, ``error`` says why (the
    request is then sent on-demand once: a batch refusal is no proof on-demand would
    refuse it too). ``structured_refused``: the job refused the record's native
    structured output (the rest of the run's batch records go in prompt form)."""

    key: str  # the record id: the request's journal key
    response: Response | None = None
    error: str = ""
    structured_refused: bool = False


@dataclass
class Skipped:
    """Output lines the last ``answers`` could not use: how many, and the first few
    ("where: why"), so that millions of junk lines cost a counter, not memory."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, where_why: str) -> None:
        self.count += 1
        if len(self.examples) < SKIPPED_EXAMPLES:
            self.examples.append(where_why)


SKIPPED_EXAMPLES = 3


class Batches(ABC):
    """A provider's batch jobs. Every method may raise ``adloom.errors.ProviderError``
    (exit 3) for what the account or its storage refuses, naming the permission."""

    @property
    def skipped(self) -> Skipped:
        """Output lines the last ``answers`` could not use (told the user). Each
        instance's own, made on first use: a class-level default would be one object
        shared by every provider's batches, counting another run's lines."""
        found = self.__dict__.get("_skipped")
        if not isinstance(found, Skipped):
            found = self.__dict__["_skipped"] = Skipped()
        return found

    @skipped.setter
    def skipped(self, value: Skipped) -> None:
        self.__dict__["_skipped"] = value

    @abstractmethod
    def limits(self, model: str) -> BatchLimits | None:
        """The job limits of ``model`` (id as sent); None: it is not offered in batch."""

    def job_model(self, model: str) -> str:
        """The id a job for ``model`` (id as sent on-demand) names; default: the same."""
        return model

    def use_prompt_form(self, model: str) -> None:  # noqa: B027 - optional hook
        """From now on, build ``model``'s batch requests with the schema in the prompt
        (its jobs refused native structured output). Default: nothing to change."""

    @abstractmethod
    def worst_cost(self, request: Request) -> float:
        """The most ``request`` can cost answered in a batch job (the budget reserves it)."""

    @abstractmethod
    def submit(self, job: BatchSubmission) -> Submitted:
        """Upload the job's input and start it; the same ``token`` returns the same job."""

    @abstractmethod
    def progress(self, job_id: str) -> BatchProgress:
        """The job's state now."""

    @abstractmethod
    def answers(self, job: Submitted, records: Mapping[str, Request]) -> Iterator[BatchAnswer]:
        """A finished job's answers, by record id (``records``: id -> request); records
        the output does not hold are not yielded."""

    @abstractmethod
    def manifest(self, job: Submitted) -> Mapping[str, int]:
        """A finished job's own counts (records, successes, errors, tokens), as the
        service wrote them; empty when it wrote none."""

    @abstractmethod
    def stop(self, job_id: str) -> None:
        """Ask the service to stop the job (what it answered so far is still read)."""
