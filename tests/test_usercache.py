"""The user cache: fresh answers are reused for a day, stale or broken ones asked again,
in the folder it is handed (None: nothing is kept)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from adloom import usercache


def test_a_fresh_answer_is_reused_and_a_stale_one_asked_again(tmp_path: Path) -> None:
    calls: list[int] = []

    def fetch() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    assert usercache.cached(tmp_path, "lifecycle-us-east-1", fetch, _as_is) == {"n": 1}
    assert usercache.cached(tmp_path, "lifecycle-us-east-1", fetch, _as_is) == {"n": 1}
    assert len(calls) == 1
    later = time.time() + usercache.DAY + 1
    assert usercache.load(tmp_path, "lifecycle-us-east-1", _as_is, now=later) is None


def test_without_a_folder_nothing_is_kept() -> None:
    calls: list[int] = []
    for _ in range(2):
        assert (
            usercache.cached(None, "lifecycle-us-east-1", lambda: calls.append(1) or 7, _as_is) == 7
        )
    assert len(calls) == 2
    usercache.save(None, "x", 1)
    assert usercache.load(None, "x", _as_is) is None


def test_a_broken_cache_file_is_asked_again(tmp_path: Path) -> None:
    (tmp_path / "quotas-x.json").write_text("{not json", encoding="utf-8")
    assert usercache.cached(tmp_path, "quotas-x", lambda: [1, 2], _as_is) == [1, 2]
    stored = json.loads((tmp_path / "quotas-x.json").read_text(encoding="utf-8"))
    assert stored["value"] == [1, 2]
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_name_cannot_leave_the_cache_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    usercache.save(folder, "../../escape", {"x": 1})
    saved = list(folder.iterdir())
    assert [p.parent for p in saved] == [folder]


def test_a_value_the_reader_does_not_take_is_asked_again(tmp_path: Path) -> None:
    usercache.save(tmp_path, "quotas-y", {"tpm": "lots"})
    whole = lambda v: v if isinstance(v, dict) and isinstance(v.get("tpm"), int) else None  # noqa: E731
    assert usercache.load(tmp_path, "quotas-y", whole) is None
    assert usercache.cached(tmp_path, "quotas-y", lambda: {"tpm": 5}, whole) == {"tpm": 5}
    assert usercache.load(tmp_path, "quotas-y", whole) == {"tpm": 5}


def _as_is(value: Any) -> Any:
    return value
