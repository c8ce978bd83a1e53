"""The user cache: fresh answers are reused for a day, stale or broken ones asked again."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from adloom import usercache


def test_conftest_isolates_the_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert str(usercache.cache_dir()).startswith(str(tmp_path_factory.getbasetemp()))


def test_a_fresh_answer_is_reused_and_a_stale_one_asked_again() -> None:
    calls: list[int] = []

    def fetch() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    assert usercache.cached("lifecycle-us-east-1", fetch, _as_is) == {"n": 1}
    assert usercache.cached("lifecycle-us-east-1", fetch, _as_is) == {"n": 1}
    assert len(calls) == 1
    later = time.time() + usercache.DAY + 1
    assert usercache.load("lifecycle-us-east-1", _as_is, now=later) is None


def test_a_broken_cache_file_is_asked_again(tmp_path: Path) -> None:
    usercache.cache_dir().mkdir(parents=True, exist_ok=True)
    (usercache.cache_dir() / "quotas-x.json").write_text("{not json", encoding="utf-8")
    assert usercache.cached("quotas-x", lambda: [1, 2], _as_is) == [1, 2]
    stored = json.loads((usercache.cache_dir() / "quotas-x.json").read_text(encoding="utf-8"))
    assert stored["value"] == [1, 2]
    assert not list(usercache.cache_dir().glob(".tmp-*"))


def test_a_value_the_reader_does_not_take_is_asked_again() -> None:
    usercache.save("quotas-y", {"tpm": "lots"})
    whole = lambda v: v if isinstance(v, dict) and isinstance(v.get("tpm"), int) else None  # noqa: E731
    assert usercache.load("quotas-y", whole) is None
    assert usercache.cached("quotas-y", lambda: {"tpm": 5}, whole) == {"tpm": 5}
    assert usercache.load("quotas-y", whole) == {"tpm": 5}


def _as_is(value: Any) -> Any:
    return value


def test_a_name_cannot_leave_the_cache_folder() -> None:
    usercache.save("../../escape", {"x": 1})
    saved = list(usercache.cache_dir().iterdir())
    assert [p.parent for p in saved] == [usercache.cache_dir()]
