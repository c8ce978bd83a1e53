from pathlib import Path

from adloom.engine.journal import Journal
from adloom.model import Usage
from adloom.providers.base import Request, Response

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 32


def test_key_is_content_hash() -> None:
    a = Request("text", "m", {"prompt": "x", "n": 1})
    b = Request("text", "m", {"n": 1, "prompt": "x"}, label="other label")
    c = Request("text", "m", {"prompt": "y", "n": 1})
    assert a.key == b.key != c.key


def test_answers_survive_reopen_and_images_are_files(tmp_path: Path) -> None:
    text = Request("text", "m", {"prompt": "hello"})
    image = Request("image", "i", {"seed": 1})
    j = Journal(tmp_path)
    j.start_run("r1", "brief.xlsx", "fake")
    j.record(text, Response("ok", output={"headline": "Hi"}, usage=Usage(10, 5, 0.01)), 2, "r1")
    rec = j.record(image, Response("ok", image=PNG), 1, "r1")
    j.close()
    assert rec.image_path is not None
    assert rec.image_path.read_bytes() == PNG

    j2 = Journal(tmp_path)
    hit = j2.lookup(text.key)
    assert hit is not None
    assert hit.response.output == {"headline": "Hi"}
    assert hit.response.usage == Usage(10, 5, 0.01)
    assert hit.attempts == 2
    img = j2.lookup(image.key)
    assert img is not None
    assert img.image_path == rec.image_path


def test_failures_are_kept_but_not_reused(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    req = Request("text", "m", {"prompt": "x"})
    j.record_failure(req, "throttled", 6, "r1")
    assert j.lookup(req.key) is None
    assert [r["status"] for r in j.rows()] == ["failed"]


def test_refusals_are_reused(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    req = Request("image", "i", {"prompt": "x"})
    j.record(req, Response("filtered", error="blocked by content filters"), 1, "r1")
    hit = j.lookup(req.key)
    assert hit is not None
    assert hit.response.status == "filtered"


def test_deleted_image_is_asked_again(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    req = Request("image", "i", {"seed": 2})
    rec = j.record(req, Response("ok", image=PNG), 1, "r1")
    assert rec.image_path is not None
    rec.image_path.unlink()
    assert j.lookup(req.key) is None
