"""Answers from the account kept for a while in the user's cache folder.

What the account can tell at run time (model lifecycle, applied quotas) changes
rarely and costs a round trip per model, so it is asked at most once a day per
(what, region) and kept as JSON in ``$XDG_CACHE_HOME/adloom`` (``~/.cache/adloom``).
A cache that cannot be read or written is only a cache: the answer is asked again,
never an error.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DAY = 24 * 60 * 60.0


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "adloom"


def _path(name: str) -> Path:
    # Names are built by adloom from fixed words and region/model ids; anything else
    # is replaced so a name can never leave the cache folder.
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return cache_dir() / f"{safe or '_'}.json"


def load(name: str, *, max_age: float = DAY, now: float | None = None) -> Any | None:
    """The value stored under ``name`` if younger than ``max_age`` seconds, else None."""
    try:
        stored = json.loads(_path(name).read_text(encoding="utf-8"))
        saved_at = float(stored["saved_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    age = (time.time() if now is None else now) - saved_at
    return stored.get("value") if 0 <= age < max_age else None


def save(name: str, value: Any) -> None:
    """Store ``value`` (JSON-serialisable) under ``name``; silently skipped on failure."""
    path = _path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"saved_at": time.time(), "value": value}, fh)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def cached(name: str, fetch: Callable[[], Any], *, max_age: float = DAY) -> Any:
    """``fetch()``'s answer, from the cache when fresh; a fresh answer is stored.

    ``fetch`` raising means nothing is stored: the next call asks again.
    """
    value = load(name, max_age=max_age)
    if value is None:
        value = fetch()
        save(name, value)
    return value
