"""Answers from the account kept for a while in the user's cache folder.

What the account can tell at run time (model lifecycle, applied quotas) changes
rarely and costs a round trip per model, so it is asked at most once a day per
(what, region) and kept as JSON in the folder each call is given (the CLI's is
``console.Env.cache_dir``: ``$XDG_CACHE_HOME/adloom``, ``~/.cache/adloom``; None keeps
nothing). A cache that cannot be read or written is only a cache: the answer is asked
again, never an error. What it holds is read like input, since anyone (or anything) may
have written it: only a regular file is opened (a FIFO there must not hang the run),
at most ``MAX_BYTES`` of it, and every value goes through the reader's ``valid``,
whose None means "ask again".
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

DAY = 24 * 60 * 60.0
MAX_BYTES = 4_000_000  # the quota list of a region is some 100 KB

T = TypeVar("T")


def _path(folder: Path, name: str) -> Path:
    # Names are built by adloom from fixed words and region/model ids; anything else
    # is replaced so a name can never leave the cache folder.
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return folder / f"{safe or '_'}.json"


def load(
    folder: Path | None,
    name: str,
    valid: Callable[[Any], T | None],
    *,
    max_age: float = DAY,
    now: float | None = None,
) -> T | None:
    """The value stored under ``name`` if younger than ``max_age`` seconds and ``valid``
    takes it (returning what to use), else None."""
    if folder is None:
        return None
    try:
        stored = json.loads(_read(_path(folder, name)))
        saved_at = float(stored["saved_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    age = (time.time() if now is None else now) - saved_at
    return valid(stored.get("value")) if 0 <= age < max_age else None


def _read(path: Path) -> str:
    """A regular file's text: opened without blocking (a FIFO would wait for a writer),
    anything else refused, and no more than MAX_BYTES read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            raise ValueError(f"{path}: not a cache file")
        with os.fdopen(os.dup(fd), "rb") as file:
            return file.read(MAX_BYTES).decode("utf-8")
    finally:
        os.close(fd)


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
    folder: Path | None,
    name: str,
    fetch: Callable[[], T],
    valid: Callable[[Any], T | None],
    *,
    max_age: float = DAY,
) -> T:
    """``fetch()``'s answer, from the cache when fresh and ``valid``; a fresh answer is
    stored.

    ``fetch`` raising means nothing is stored: the next call asks again.
    """
    value = load(folder, name, valid, max_age=max_age)
    if value is None:
        value = fetch()
        save(folder, name, value)
    return value
