"""``adloom.providers.testing``: the provider tests (and plugin authors) script.

The docs' example in docs/providers.md is executed as written; the rest proves what the
guide promises: real requests through the shared copy code and the user's templates,
the handler's answer checked, recording that holds under threads, and a name that is
registered only while the block runs.
"""

from __future__ import annotations

import io
import re
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adloom.model import RUBRIC, Usage
from adloom.providers import ProviderConfig, make_provider, names
from adloom.providers.base import Request, Response, TransientError
from adloom.providers.judging import JudgeJob
from adloom.providers.testing import MockProvider, registered
from adloom.registry import load_registry
from adloom.run.plan import make_plan
from campaigns import make_campaign

ROOT = Path(__file__).resolve().parents[1]
COPY = {"headline": "Cold brew, fast", "body": "Ready in 30 seconds.", "cta": "Shop now"}


def png(width: int = 8, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, "PNG")
    return out.getvalue()


def answer(request: Request) -> Response:
    if request.kind == "image":
        return Response("ok", image=png())
    return Response("ok", output=COPY, usage=Usage(10, 20, 0.0))


def jobs() -> tuple[Any, Any]:
    plan = make_plan(make_campaign(), load_registry(), "draft")
    return plan.copy_jobs[0], plan.image_jobs[0]


def test_the_docs_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "providers.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- tested: tests/test_mock_provider.py -->\n(.*?)\n\s*```\n", text, re.S)
    assert found, "the tested example is gone from docs/providers.md"
    source = textwrap.dedent(found.group(1)).removeprefix("```python\n")
    scope: dict[str, Any] = {}
    exec(compile(source, "docs/providers.md", "exec"), scope)  # noqa: S102 - our own docs
    tests = [fn for name, fn in scope.items() if name.startswith("test_")]
    assert tests
    for test in tests:
        folder = tmp_path / test.__name__
        folder.mkdir()
        test(folder)


def test_requests_are_built_by_the_shared_copy_code_and_the_users_templates(
    tmp_path: Path,
) -> None:
    copy_job, image_job = jobs()
    mock = MockProvider(answer)
    request = mock.text_request(copy_job, ["shorten the body"])
    assert request.body["task"] == "copy"
    assert copy_job.brief.product in request.body["user"]
    assert "shorten the body" in request.body["user"]
    assert request.body["schema"]["required"] == ["headline", "body", "cta"]
    assert request.input_tokens > 0
    assert request.max_tokens > 0
    assert request.key == mock.text_request(copy_job, ["shorten the body"]).key
    image = mock.image_request(image_job)
    assert (image.body["width"], image.body["height"]) == (image_job.width, image_job.height)
    assert image.body["prompt"]
    assert image.body["negative"]

    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "copy_user.j2").write_text("Sell {{ brief.product }}.")
    with registered(MockProvider(answer, name="mine")) as registered_mock:
        made = make_provider("mine", ProviderConfig(registry=load_registry(), templates=tmp_path))
        assert made is registered_mock
        assert made.text_request(copy_job).body["user"] == f"Sell {copy_job.brief.product}."


@pytest.mark.parametrize(
    ("returned", "says"),
    [
        ({"headline": "x"}, "is a dict: return a Response"),
        (Response("ok"), "is ok without a dict in output="),
        (Response("weird", output=COPY), "has status 'weird'"),  # type: ignore[arg-type]
        (Response("failed"), "is failed without an error saying why"),
        (Response("ok", output=COPY, usage=(1, 2)), "has usage (1, 2)"),  # type: ignore[arg-type]
    ],
)
def test_a_handler_returning_the_wrong_thing_is_told_so(returned: object, says: str) -> None:
    copy_job, _ = jobs()
    mock = MockProvider(lambda _request: returned, name="wrong")  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=re.escape(says)) as raised:
        mock.send(mock.text_request(copy_job))
    assert str(raised.value).startswith(f"wrong: the handler's answer to {copy_job.label}")


def test_an_image_must_be_png_or_jpeg_bytes() -> None:
    _, image_job = jobs()
    mock = MockProvider(lambda _request: Response("ok", image=b"GIF89a..."))
    with pytest.raises(TypeError, match="is ok without PNG or JPEG bytes in image="):
        mock.send(mock.image_request(image_job))
    good = MockProvider(answer)
    assert good.send(good.image_request(image_job)).image == png()


def test_copy_missing_a_field_is_a_failed_answer_as_from_a_model() -> None:
    copy_job, _ = jobs()
    mock = MockProvider(lambda _r: Response("ok", output={"headline": "Hi", "body": " x "}))
    response = mock.send(mock.text_request(copy_job))
    assert response.status == "failed"
    assert response.error.startswith("the answer has no cta")
    fine = MockProvider(lambda _r: Response("ok", output={**COPY, "body": "  padded  "}))
    assert fine.send(fine.text_request(copy_job)).output["body"] == "padded"


def test_a_judge_request_and_its_rating_are_checked() -> None:
    registry = load_registry()
    job = JudgeJob(
        name="b1/a1/en/v1/feed",
        model=registry.default("draft", "judge"),
        product="Cold brew",
        message="Fast",
        benefits=(),
        audience="commuters",
        voice="warm",
        placement="feed",
        copy=COPY,
        limits={"headline": 40, "body": 125, "cta": 20},
    )
    rating = {
        **{name: {"score": 4, "why": "Clear."} for name in RUBRIC},
        "overall": 4,
        "policy_issues": [],
    }
    mock = MockProvider(lambda _r: Response("ok", output=rating))
    request = mock.judge_request(job)
    assert request.body["task"] == "judge"
    assert "Cold brew" in request.body["user"]
    assert mock.send(request).output["overall"] == 4.0
    bad = MockProvider(lambda _r: Response("ok", output={**rating, "overall": 9}))
    assert (
        bad.send(bad.judge_request(job)).error == "the judge's overall is not a number from 1 to 5"
    )


def test_errors_the_handler_raises_reach_the_engine_as_they_are() -> None:
    def throttled(_request: Request) -> Response:
        raise TransientError("slow down", throttled=True)

    mock = MockProvider(throttled)
    request = Request("text", "t", {"n": 1}, label="t1")
    with pytest.raises(TransientError, match="slow down"):
        mock.send(request)
    assert mock.requests == [request]  # recorded even so: it was sent


def test_requests_are_recorded_from_many_threads() -> None:
    mock = MockProvider(answer)
    sent = [Request("text", "t", {"n": i}, label=f"t{i}") for i in range(200)]
    chunks = [sent[i::8] for i in range(8)]
    threads = [
        threading.Thread(target=lambda chunk=chunk: [mock.send(r) for r in chunk])
        for chunk in chunks
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.label for r in mock.requests) == sorted(r.label for r in sent)


def test_registered_only_inside_the_block_and_never_over_another_name() -> None:
    with pytest.raises(ValueError, match='provider "draft" already exists'):
        registered(MockProvider(answer, name="draft")).__enter__()

    def fails_inside() -> None:
        with registered(MockProvider(answer, name="brief-lived")):
            assert "brief-lived" in names()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fails_inside()
    assert "brief-lived" not in names()


def test_each_batches_counts_its_own_skipped_lines() -> None:
    """A plugin's Batches need not set ``skipped``: each instance still gets its own,
    so one run's unreadable lines are never counted against another's."""
    from adloom.providers.base import Batches

    class Plain(Batches):
        pass

    Plain.__abstractmethods__ = frozenset()  # they are not called here
    first, second = Plain(), Plain()
    first.skipped.add("out.jsonl:1: not JSON")
    assert (first.skipped.count, second.skipped.count) == (1, 0)
    assert second.skipped.examples == []
    replaced = type(first.skipped)()
    first.skipped = replaced  # providers reset it per ``answers``
    assert first.skipped is replaced
