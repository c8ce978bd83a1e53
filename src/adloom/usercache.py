"""Answers from the account kept for a while in the user's cache folder.

What the account can tell at run time (model lifecycle, applied quotas) changes
rarely and costs a round trip per model, so it is asked at most once a day per
(what, region) and kept as JSON in the folder each call is given (the CLI's is
``console.Env.cache_dir``: ``$XDG_CACHE_HOME/adloom``, ``~/.cache/adloom``; None keeps
nothing). A cache that cannot be read or written is only a cache: the answer is asked
again, never an error.
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


def _path(folder: Path, name: str) -> Path:
    # Names are built by adloom from fixed words and region/model ids; anything else
    # is replaced so a name can never leave the cache folder.
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return folder / f"{safe or '_'}.json"


def load(
    folder: Path | None, name: str, *, max_age: float = DAY, now: float | None = None
) -> Any | None:
    """The value stored under ``name`` if younger than ``max_age`` seconds, else None."""
    if folder is None:
        return None
    try:
        stored = json.loads(_path(folder, name).read_text(encoding="utf-8"))
        saved_at = float(stored["saved_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    age = (time.time() if now is None else now) - saved_at
    return stored.get("value") if 0 <= age < max_age else None


def save(folder: Path | None, name: str, value: Any) -> None:
    """Store ``value`` (JSON-serialisable) under ``name``; silently skipped on failure."""
    if folder is None:
        return
    path = _path(folder, name)
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


def cached(
    folder: Path | None, name: str, fetch: Callable[[], Any], *, max_age: float = DAY
) -> Any:
    """``fetch()``'s answer, from the cache when fresh; a fresh answer is stored.

    ``fetch`` raising means nothing is stored: the next call asks again.
    """
    value = load(folder, name, max_age=max_age)
    if value is None:
        value = fetch()
        save(folder, name, value)
    return value
