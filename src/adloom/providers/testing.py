"""A provider for tests: its answers come from a function (what httpx's MockTransport is
to an HTTP client).

``MockProvider(handler)`` builds real requests with the shared copy code
(``copywriting.copy_prompt``, ``prompts.image_prompts``, ``judging``'s prompts and
schema, prices from the registry), so the journal, budget, repair loop and prompt
templates work as with any provider; ``send`` hands each request to
``handler(request) -> Response`` and checks what comes back. ``registered(mock)``
puts it under its name for ``make_provider`` and the CLI, and takes it away after::

    def handler(request: Request) -> Response:
        if request.kind == "image":
            return Response("ok", image=PNG)
        return Response("ok", output={"headline": "Hi", "body": "Cold brew.", "cta": "Buy"})

    with registered(MockProvider(handler, name="mock"), models=models_file) as mock:
        main(["run", "brief.xlsx", "--provider", "mock", ...])
    assert len(mock.requests) == ...

The body of a request it builds (what a handler reads) holds ``task`` ("copy",
"image" or "judge"), ``model``, and: for copy, the ``system`` and ``user`` prompts,
the answer's ``schema``, ``max_tokens`` and the ``feedback`` sent back (also in the
prompt); for an image, the ``prompt``, ``negative`` prompt, ``width``, ``height``,
``aspect`` and ``seed``; for a judge, the prompts and schema. docs/providers.md,
"Fakes in tests".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args

from adloom.model import CopyJob, ImageJob, Usage
from adloom.providers import ProviderConfig, judging, names, register, unregister
from adloom.providers.base import Provider, Request, Response, ResponseStatus
from adloom.providers.copywriting import copy_prompt, estimate_tokens, output_tokens, validated
from adloom.providers.prompts import Prompts, image_prompts
from adloom.registry import load_registry, worst_text_cost

__all__ = ["Handler", "MockProvider", "registered"]

Handler = Callable[[Request], Response]
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG


class MockProvider(Provider):
    """A provider whose service is ``handler``. Thread-safe: ``requests`` lists every
    request ``send`` got, in order. ``draft``: its output counts as a placeholder."""

    def __init__(
        self,
        handler: Handler,
        *,
        name: str = "mock",
        config: ProviderConfig | None = None,
        draft: bool = False,
    ) -> None:
        self.name = name
        self.draft = draft
        self.handler = handler
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self.configure(config or ProviderConfig(registry=load_registry()))

    def configure(self, config: ProviderConfig) -> MockProvider:
        """Build requests with ``config`` (the run's registry, templates, token limit):
        the factory ``registered`` puts under the provider's name."""
        self.config = config
        self.prompts = Prompts(config.templates)
        return self

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    # ------------------------------------------------------------ building (no I/O)

    def text_request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        info = self.config.registry.get(job.model, kind="text")
        asked = copy_prompt(job, feedback, info.structured_output, self.prompts)
        most = output_tokens(job.limits, info, self.config.max_tokens)
        body: dict[str, Any] = {
            "task": "copy",
            "model": job.model,
            "system": asked.system,
            "user": asked.user,
            "schema": asked.schema,
            "max_tokens": most,
            "feedback": list(feedback),
        }
        tokens = estimate_tokens(asked.system + asked.user)
        cost = worst_text_cost(info, tokens, most)
        return Request("text", job.model, body, tokens, most, cost, label=job.label)

    def image_request(self, job: ImageJob) -> Request:
        info = self.config.registry.get(job.model, kind="image")
        prompt, negative = image_prompts(self.prompts, job, negation_in_prompt=False)
        body = {
            "task": "image",
            "model": job.model,
            "prompt": prompt,
            "negative": negative,
            "width": job.width,
            "height": job.height,
            "aspect": job.aspect,
            "seed": job.seed,
        }
        cost = info.image_cost_at(job.width, job.height, self.config.image_quality)
        return Request("image", job.model, body, max_cost_usd=cost, label=job.label)

    def judge_request(self, job: judging.JudgeJob) -> Request:
        info = self.config.registry.get(job.model, kind="text")
        system, user = judging.judge_prompts(job)
        most = min(judging.JUDGE_MAX_TOKENS, info.max_output_tokens)
        body = {
            "task": "judge",
            "model": job.model,
            "system": system,
            "user": user,
            "schema": judging.judge_schema(),
            "max_tokens": most,
        }
        tokens = estimate_tokens(system + user)
        cost = worst_text_cost(info, tokens, most)
        return Request("text", job.model, body, tokens, most, cost, label=job.name)

    # ------------------------------------------------------------ sending

    def send(self, request: Request) -> Response:
        with self._lock:
            self._requests.append(request)
        return self._checked(request, self.handler(request))

    def _checked(self, request: Request, answer: object) -> Response:
        """``answer`` if it is a Response a provider may return for ``request``; the
        copy or rating in it read as a real provider reads a model's (a wrong one is a
        ``failed`` answer, sent back to the model); anything else a ``TypeError``."""
        where = f"{self.name}: the handler's answer to {request.label or request.key[:12]}"
        if not isinstance(answer, Response):
            raise TypeError(f"{where} is a {type(answer).__name__}: return a Response")
        if answer.status not in get_args(ResponseStatus):
            raise TypeError(f"{where} has status {answer.status!r}: one of {_statuses()}")
        if not isinstance(answer.usage, Usage):
            raise TypeError(f"{where} has usage {answer.usage!r}: give a Usage")
        if answer.status != "ok":
            if not isinstance(answer.error, str) or not answer.error.strip():
                raise TypeError(f"{where} is {answer.status} without an error saying why")
            return answer
        if request.kind == "image":
            if not isinstance(answer.image, bytes) or not answer.image.startswith(_IMAGE_MAGIC):
                raise TypeError(f"{where} is ok without PNG or JPEG bytes in image=")
            return answer
        return self._read_output(request, answer, where)

    def _read_output(self, request: Request, answer: Response, where: str) -> Response:
        if not isinstance(answer.output, Mapping) or not answer.output:
            raise TypeError(f"{where} is ok without a dict in output=")
        task = request.body.get("task")
        try:
            if task == "copy":
                fields = request.body["schema"]["required"]
                return replace(answer, output=validated(answer.output, fields))
            if task == "judge":
                return replace(answer, output=judging.validated(answer.output))
        except ValueError as exc:
            return Response("failed", usage=answer.usage, error=str(exc), meta=answer.meta)
        return answer  # a request the test built itself: its output is the test's to read


def _statuses() -> str:
    return ", ".join(get_args(ResponseStatus))


@contextmanager
def registered(mock: MockProvider, *, models: Path | None = None) -> Iterator[MockProvider]:
    """``mock`` registered under its name while the block runs (``make_provider``, the
    CLI's ``--provider``), built with the run's ``ProviderConfig``; unregistered after.
    ``models``: a models file whose entries it serves (as a plugin ships one; the CLI's
    registry then holds them). A name already in use (built in, a plugin's,
    registered) is refused."""
    if mock.name in names():
        raise ValueError(f'provider "{mock.name}" already exists: give the mock another name')
    register(mock.name, models=models)(mock.configure)
    try:
        yield mock
    finally:
        unregister(mock.name)
