"""A provider plugin is someone else's code: everything it does passes through here.

``make_provider`` wraps a plugin's provider in a ``GuardedProvider``; importing a
plugin and calling its factory go through ``running``. While plugin code runs:

- **Its prints go to stderr**, each line marked ``[plugin NAME]``: adloom's own
  stdout (the ``--json`` object, tables) is never written by a plugin. (Python-level
  ``sys.stdout`` only: output a plugin writes to file descriptor 1 itself, or from a
  child process it starts, is beyond this.)
- **What it raises is its own.** The documented errors pass on as they are
  (``TransientError`` is retried, ``RequestFailed`` fails the request, an ``AdloomError``
  such as ``CredentialsError`` stops the run with exit 3, named after the plugin).
  Anything else, ``sys.exit`` and ``KeyboardInterrupt`` included, is the plugin's
  fault: in ``send`` that request fails with the reason and the run goes on; anywhere
  else (import, factory, ``text_request`` ...) the run stops with a ``ProviderError``
  naming the plugin (exit 3). A ``KeyboardInterrupt`` is the user's only when a Ctrl-C
  or SIGTERM actually reached adloom (``lifeline.stop_signalled``); then it stops the
  run as Ctrl-C does, resumable.
- **Its answers are checked like the service's**: a ``Response`` with the documented
  field types; copy through the same validation as Bedrock's answers
  (``copywriting.validated``, ``judging.validated``); an image opened with Pillow as PNG
  or JPEG within ``inputs``' byte and pixel limits. A malformed answer is a failed
  answer (copy is asked again, as for Bedrock), charged what it says it cost, or its
  reservation when its usage is not a ``Usage`` of numbers.

Each misbehaviour is also kept (``faults``): the run delivers what succeeded, says
what the plugin did, and ends with exit 3.
"""

from __future__ import annotations

import io
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import IO, TYPE_CHECKING, TypeVar

from adloom.errors import AdloomError, ProviderError
from adloom.lifeline import stop_signalled
from adloom.model import CopyJob, CutoutJob, ImageJob, OutpaintJob, Usage
from adloom.providers import judging
from adloom.providers.base import (
    Account,
    BatchAnswer,
    Batches,
    BatchLimits,
    BatchProgress,
    BatchSubmission,
    Kind,
    Provider,
    Request,
    RequestFailed,
    Response,
    Submitted,
    TransientError,
)
from adloom.providers.copywriting import answer_fields, validated
from adloom.providers.pictures import data_problem

if TYPE_CHECKING:
    from adloom.providers.judging import JudgeJob

T = TypeVar("T")
STATUSES = ("ok", "blocked", "filtered", "failed")
IMAGE_FORMATS = ("PNG", "JPEG")  # what the journal stores a master as
SHOWN_FAULTS = 10  # kinds of misbehaviour told one by one; the rest counted
_JUDGE = ("judge",)  # what a judge request's answer must be, in ``GuardedProvider._asked``


@dataclass(frozen=True)
class Plugin:
    """Who to blame: the provider's name, the entry point and distribution it came from."""

    name: str
    where: str  # 'provider plugin "acme" (adloom_acme, from adloom-acme)'
    fix: str  # what the user can do about it


# --------------------------------------------------------------- the plugin's stdout


class _Marked(io.TextIOBase):
    """A text stream that writes each line to ``target`` marked as the plugin's.

    Each thread's text is held until its line ends (``print`` writes the text and the
    newline apart), so lines the plugin prints from many threads at once never run
    into each other."""

    def __init__(self, target: IO[str], name: str) -> None:
        self.target, self.mark = target, f"[plugin {name}] "
        self._pending = threading.local()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        *lines, rest = (getattr(self._pending, "text", "") + str(text)).split("\n")
        self._pending.text = rest
        if lines:
            self._emit(lines)
        return len(text)

    def flush(self) -> None:
        rest = getattr(self._pending, "text", "")
        if rest:  # a line flushed before it ends is shown as it is
            self._pending.text = ""
            self._emit([rest])
        self.target.flush()

    def _emit(self, lines: list[str]) -> None:
        with self._lock:
            self.target.write("".join(f"{self.mark}{line}\n" for line in lines))

    def isatty(self) -> bool:
        return False


class _Redirect:
    """``sys.stdout`` goes to stderr while any thread runs plugin code (counted, since
    ``send`` runs in many threads at once); put back when the last one leaves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: IO[str] = sys.stdout

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._saved = sys.stdout
                sys.stdout = _Marked(sys.stderr, name)
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    sys.stdout = self._saved


_stdout_to_stderr = _Redirect()


# --------------------------------------------------------------- what it raises


def _described(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    if isinstance(exc, KeyboardInterrupt):
        return "raised KeyboardInterrupt (no Ctrl-C reached adloom)"
    text = str(exc)
    return f"raised {type(exc).__name__}{': ' + text[:500] if text else ''}"


def _passes(exc: BaseException) -> bool:
    """What plugin code may raise and adloom handles as it is: the documented errors,
    and the user's own Ctrl-C."""
    if isinstance(exc, KeyboardInterrupt):
        return stop_signalled()
    return isinstance(exc, TransientError | RequestFailed | AdloomError)


def _named(plugin: Plugin, exc: AdloomError) -> AdloomError:
    """A ``ProviderError`` the plugin raised, said to be its (same class where it can be)."""
    if not isinstance(exc, ProviderError) or exc.message.startswith(plugin.where):
        return exc
    message = f"{plugin.where}: {exc.message}"
    try:
        named = type(exc)(message, hint=exc.hint)
    except TypeError:  # a subclass of the plugin's own, built another way
        named = ProviderError(message, hint=exc.hint)
    return named


@contextmanager
def running(plugin: Plugin, what: str) -> Iterator[None]:
    """Run plugin code (``what`` it is doing, for the message): its prints to stderr,
    and what it raises besides the documented errors a ``ProviderError`` naming it."""
    try:
        with _stdout_to_stderr(plugin.name):
            yield
    except BaseException as exc:
        if isinstance(exc, AdloomError):
            raise _named(plugin, exc) from exc
        if _passes(exc):
            raise
        raise ProviderError(
            f"{plugin.where} failed {what}: {_described(exc)}", hint=plugin.fix
        ) from exc


# --------------------------------------------------------------- the provider


def _usage_problem(usage: object) -> str:
    if not isinstance(usage, Usage):
        return f"usage is {type(usage).__name__}, not a Usage"
    for f in fields(Usage):
        value = getattr(usage, f.name)
        numbers = (int,) if f.type == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, numbers):
            return f"usage.{f.name} is {type(value).__name__} {value!r}, not a number"
    return ""


def _response_problem(response: object) -> str:
    """What is wrong with the shape of what ``send`` returned ("" if nothing)."""
    if not isinstance(response, Response):
        return f"send returned {type(response).__name__}, not a Response"
    if response.status not in STATUSES:
        return f"send answered status {response.status!r}, not one of {', '.join(STATUSES)}"
    shapes: list[tuple[str, object, type | tuple[type, ...]]] = [
        ("output", response.output, Mapping),
        ("image", response.image, (bytes, type(None))),
        ("error", response.error, str),
        ("meta", response.meta, Mapping),
        ("latency_ms", response.latency_ms, int),
    ]
    for name, value, kind in shapes:
        if not isinstance(value, kind):
            return f"send answered a Response whose {name} is {type(value).__name__}"
    return _usage_problem(response.usage)


class GuardedProvider(Provider):
    """A plugin's provider, with everything it does checked (the module's docstring)."""

    def __init__(self, inner: Provider, plugin: Plugin) -> None:
        self.inner, self.plugin = inner, plugin
        self.name = plugin.name
        self.draft = inner.draft is True
        # Request key -> the fields its copy answer must hold (``_JUDGE``: a judge's).
        self._asked: dict[str, tuple[str, ...]] = {}
        self._faults: Counter[str] = Counter()
        self._lock = threading.Lock()

    def faults(self) -> list[str]:
        with self._lock:
            kinds = list(self._faults.items())
        told = [
            f"{self.plugin.where}: {fault}" + (f" ({n} times)" if n > 1 else "")
            for fault, n in kinds[:SHOWN_FAULTS]
        ]
        rest = kinds[SHOWN_FAULTS:]
        if rest:  # each request's own message: the first few say enough
            told.append(f"{self.plugin.where}: {sum(n for _, n in rest)} more, in {len(rest)}"
                        " other ways (each failed request says how)")  # fmt: skip
        return told

    def _fault(self, fault: str) -> str:
        with self._lock:
            self._faults[fault] += 1
        return f"{self.plugin.where}: {fault}"

    def call(self, what: str, call: Callable[[], T]) -> T:
        """``call`` (plugin code doing ``what``) guarded: ``running``."""
        with running(self.plugin, f"in {what}"):
            return call()

    def _returned(self, what: str, value: object, kind: type | tuple[type, ...]) -> None:
        if not isinstance(value, kind):
            raise ProviderError(
                f"{self.plugin.where} returned {type(value).__name__} from {what}",
                hint=self.plugin.fix,
            )

    def _request(self, what: str, call: Callable[[], Request], kind: Kind) -> Request:
        request = self.call(what, call)
        self._returned(what, request, Request)
        problem = "" if request.kind == kind else f"a {request.kind!r} request, not {kind!r}"
        if not problem:
            try:
                request.key  # noqa: B018 - the body hashed: JSON, or the plugin's fault
            except (TypeError, ValueError) as exc:
                problem = f"a request whose body is not JSON ({exc})"
        if problem:
            raise ProviderError(
                f"{self.plugin.where} built {problem} in {what}", hint=self.plugin.fix
            )
        return request

    # ---------------------------------------------------------------- requests

    def text_request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        request = self._request(
            "text_request", lambda: self.inner.text_request(job, feedback), "text"
        )
        self._asked[request.key] = answer_fields(job)
        return request

    def image_request(self, job: ImageJob) -> Request:
        return self._request("image_request", lambda: self.inner.image_request(job), "image")

    def cutout_request(self, job: CutoutJob) -> Request:
        return self._request("cutout_request", lambda: self.inner.cutout_request(job), "image")

    def outpaint_request(self, job: OutpaintJob) -> Request:
        return self._request("outpaint_request", lambda: self.inner.outpaint_request(job), "image")

    def unavailable(self, model_id: str) -> str:
        why = self.call("unavailable", lambda: self.inner.unavailable(model_id))
        self._returned("unavailable", why, str)
        return why

    def judge_request(self, job: JudgeJob) -> Request:
        request = self._request("judge_request", lambda: self.inner.judge_request(job), "text")
        self._asked[request.key] = _JUDGE
        return request

    def send(self, request: Request) -> Response:
        try:
            with _stdout_to_stderr(self.plugin.name):
                response = self.inner.send(request)
        except BaseException as exc:
            if isinstance(exc, AdloomError):
                raise _named(self.plugin, exc) from exc
            if _passes(exc):
                raise
            raise RequestFailed(self._fault(f"send {_described(exc)}")) from exc
        return self.checked(request, response)

    def checked(self, request: Request, response: object) -> Response:
        """``response`` to ``request`` as adloom may use it: a malformed one failed."""
        problem = _response_problem(response)
        if problem:
            # Nothing it says can be believed: charged what it might have cost at most.
            reserved = Usage(cost_usd=request.max_cost_usd)
            return Response("failed", usage=reserved, error=self._fault(problem))
        assert isinstance(response, Response)  # noqa: S101 - what _response_problem proved
        if response.status != "ok":
            return response
        if request.kind == "image":
            return self._image(response)
        return self._copy(request, response)

    def _image(self, response: Response) -> Response:
        if response.image is None:
            return replace(response, status="failed", error=self._fault("answered no image"))
        problem = data_problem(response.image, "its image", IMAGE_FORMATS)
        if problem:
            return replace(response, status="failed", image=None, error=self._fault(problem))
        return response

    def _copy(self, request: Request, response: Response) -> Response:
        asked = self._asked.get(request.key)
        if asked is None:  # not built here (cannot be): nothing to check it against
            return response
        try:
            if asked == _JUDGE:
                output = judging.validated(response.output)
            else:
                output = validated(response.output, asked)
        except ValueError as exc:
            # As a malformed Bedrock answer: failed, and copy is asked again with the reason.
            self._fault(f"answered copy of the wrong shape ({exc})")
            return replace(response, status="failed", output={}, error=str(exc))
        return replace(response, output=output)

    # ---------------------------------------------------------------- optional hooks

    def check(self) -> None:
        self.call("check", self.inner.check)

    def start(self, models: Sequence[tuple[str, Kind]], judge: str = "") -> list[str]:
        warnings = self.call("start", lambda: self.inner.start(models, judge=judge))
        self._returned("start", warnings, list)
        return [str(w) for w in warnings]

    def sent_id(self, model_id: str, kind: Kind) -> str:
        sent = self.call("sent_id", lambda: self.inner.sent_id(model_id, kind))
        self._returned("sent_id", sent, str)
        return sent

    def account_quotas(self, models: Sequence[tuple[str, Kind]]) -> Account:
        account = self.call("account_quotas", lambda: self.inner.account_quotas(models))
        self._returned("account_quotas", account, Account)
        return account

    def batches(self) -> Batches | None:
        batches = self.call("batches", self.inner.batches)
        self._returned("batches", batches, (Batches, type(None)))
        return None if batches is None else GuardedBatches(batches, self)


class GuardedBatches(Batches):
    """A plugin's batch jobs: each method run as plugin code, each answer checked as
    ``send``'s is."""

    def __init__(self, inner: Batches, provider: GuardedProvider) -> None:
        self.inner, self.provider = inner, provider

    def call(self, what: str, call: Callable[[], T]) -> T:
        return self.provider.call(what, call)

    def limits(self, model: str) -> BatchLimits | None:
        return self.call("batches().limits", lambda: self.inner.limits(model))

    def worst_cost(self, request: Request) -> float:
        return self.call("batches().worst_cost", lambda: self.inner.worst_cost(request))

    def submit(self, job: BatchSubmission) -> Submitted:
        return self.call("batches().submit", lambda: self.inner.submit(job))

    def progress(self, job_id: str) -> BatchProgress:
        return self.call("batches().progress", lambda: self.inner.progress(job_id))

    def answers(self, job: Submitted, records: Mapping[str, Request]) -> Iterator[BatchAnswer]:
        answers = self.call("batches().answers", lambda: iter(self.inner.answers(job, records)))
        while (answer := self.call("batches().answers", lambda: next(answers, None))) is not None:
            request = records.get(answer.key) if isinstance(answer, BatchAnswer) else None
            if request is None or answer.response is None:
                yield answer
                continue
            yield replace(answer, response=self.provider.checked(request, answer.response))
        self.skipped = self.inner.skipped  # what the last answers could not use

    def manifest(self, job: Submitted) -> Mapping[str, int]:
        return self.call("batches().manifest", lambda: self.inner.manifest(job))

    def stop(self, job_id: str) -> None:
        self.call("batches().stop", lambda: self.inner.stop(job_id))
