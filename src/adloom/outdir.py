"""The out folder: adloom writes only into a new or empty folder or one of its own,
never over a file it did not write, and one run at a time.

An adloom folder is recognised positively: by the marker file adloom writes into
it (``.adloom``), or, for a folder an older version made, by an adloom journal.
``--force`` lets a run share a folder with other files, as long as none of them
takes a name adloom writes: those are never replaced or deleted.

What adloom writes is declared, not listed here: each deliverable (the workbook, the
preview, each platform's upload files, the creatives, ...) declares the names it
owns as a ``Deliverable`` next to its writer, and the run hands them all to
``claimed``. While a folder is claimed, ``safepath`` refuses to write or delete a
name no deliverable owns (``safepath.owning``), so a new file cannot go undeclared:
the names ``--force`` protects, the marker's list and docs/safety.md's table (a test
compares it) all come from the declarations.

The lock is an ``flock`` on ``.adloom.lock`` held for the whole run; the kernel
releases it when the process ends however it ends, so a killed run never leaves a
stale lock. The file says who holds it, for the message a second run prints.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from adloom import safepath
from adloom.errors import Busy, InputError, MachineError

MARKER = ".adloom"
LOCK = ".adloom.lock"
JOURNAL = "journal.sqlite"


@dataclass(frozen=True)
class Deliverable:
    """One thing a run keeps in the out folder and the names it owns there.

    ``names`` are patterns relative to the out folder, with ``/`` between folders:
    ``*`` stands for any part of one name, ``**`` for any part of a path (folders
    included). The first part of each is what ``--force`` never lets a user's file
    take: ``preview/brief-*.html`` protects the whole ``preview`` folder.
    """

    what: str  # as docs/safety.md names it
    names: tuple[str, ...]

    def tops(self) -> tuple[str, ...]:
        """The names (or patterns) this deliverable takes at the top of the out folder."""
        return tuple(dict.fromkeys(name.split("/", 1)[0] for name in self.names))


# The out folder's own files: the marker says it is adloom's, the lock who writes it.
FOLDER = Deliverable("the out folder's marker and lock", (MARKER, LOCK))
JOURNAL_FILES = Deliverable(
    "the journal (SQLite keeps its -wal and -shm files beside it)",
    (JOURNAL, f"{JOURNAL}-wal", f"{JOURNAL}-shm"),
)


def tops(deliverables: Iterable[Deliverable]) -> tuple[str, ...]:
    """Every name (or pattern) the deliverables take at the top of the out folder."""
    return tuple(dict.fromkeys(top for d in deliverables for top in d.tops()))


def owner(deliverables: Iterable[Deliverable]) -> re.Pattern[str]:
    """One pattern matching every path (relative to the out folder, ``/``-separated)
    that one of ``deliverables`` owns."""
    return re.compile("|".join(_regex(name) for d in deliverables for name in d.names))


def _regex(pattern: str) -> str:
    parts = re.split(r"(\*\*|\*)", pattern)
    wild = {"**": ".*", "*": "[^/]*"}
    return "(?:" + "".join(wild.get(part) or re.escape(part) for part in parts) + ")"


# A folder holding only these counts as empty: the lock of a run killed before it
# marked the folder, and what file browsers leave in every folder they open.
_NOT_CONTENT = frozenset({LOCK, ".DS_Store", "Thumbs.db", "desktop.ini"})
_SQLITE_HEADER = b"SQLite format 3\x00"
_JOURNAL_TABLES = {"requests", "runs", "creatives"}

_held: set[int] = set()  # lock descriptors this process holds


def _forget_in_child() -> None:
    # A forked compose worker inherits the lock's descriptor; closing it there leaves
    # the lock with the run itself, so it ends when the run ends.
    for fd in list(_held):
        os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_forget_in_child)


@contextmanager
def claimed(
    out: Path,
    deliverables: Iterable[Deliverable],
    *,
    force: bool,
    wait: bool,
    notify: Callable[[str], None],
) -> Iterator[None]:
    """Hold ``out`` for one run: checked, created, marked as adloom's, and locked;
    while held, only the names ``deliverables`` own are written in it.
    ``notify`` hears that the run waits for another (``wait``)."""
    owned = (FOLDER, JOURNAL_FILES, *deliverables)
    _check_folder(out, owned, force=force)
    safepath.make_dirs(out, out)
    with _locked(out, wait=wait, notify=notify), safepath.owning(out, owner(owned)):
        _sweep(out)
        marker = out / MARKER
        if not marker.exists():
            about = {"made_by": "adloom", "owns": list(tops(owned))}
            safepath.write_bytes(out, marker, json.dumps(about, indent=1).encode())
        yield


def _sweep(out: Path) -> None:
    """Remove the temporary files a killed run left (only adloom's own pattern): the
    lock is held, so no other run is writing them."""
    for path in out.rglob(f"*{safepath.TEMPORARY}"):
        if safepath.TEMPORARY_NAME.fullmatch(path.name) and path.is_file():
            safepath.remove(out, path)


def _check_folder(out: Path, owned: Iterable[Deliverable], *, force: bool) -> None:
    try:
        entries = _entries(out)
    except OSError as err:  # e.g. a name too long, a folder it may not read
        raise safepath.machine_error(err, out) from err
    if JOURNAL in entries and not _is_adloom_journal(out / JOURNAL):
        raise InputError(
            f"--out {out}: {JOURNAL} there is not an adloom journal; it was left untouched",
            hint="choose another --out; adloom never writes over a file it did not write",
        )
    if not set(entries) - _NOT_CONTENT or MARKER in entries or JOURNAL in entries:
        return
    if not force:
        raise InputError(
            f"--out {out}: the folder holds files adloom did not write ({_some(entries)})",
            hint="choose a new or empty folder, or add --force to write beside those files",
        )
    taken = [n for n in entries if any(fnmatch.fnmatchcase(n, top) for top in tops(owned))]
    if taken:
        raise InputError(
            f"--out {out}: {_some(taken)} would be replaced, and adloom did not write it",
            hint="move those files away, or choose another --out (--force never replaces them)",
        )


def _entries(out: Path) -> list[str]:
    """What the folder holds; none when it is still to be made."""
    if out.is_symlink() and not out.exists():
        raise MachineError(
            f"--out {out}: a symbolic link to {os.readlink(out)}, which does not exist",
            hint="remove the link, or point --out at a folder",
        )
    if not out.exists():
        return []
    if not out.is_dir():
        raise MachineError(f"--out {out}: is a file, not a folder", hint="choose a folder")
    return sorted(p.name for p in out.iterdir())


def _some(names: list[str]) -> str:
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def _is_adloom_journal(path: Path) -> bool:
    """Whether ``path`` is a journal adloom wrote; read without writing a byte to it."""
    try:
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except OSError:
        return False
    if not header:
        # A run killed (or a disk filled) between creating the journal and its first
        # page: nothing is in it to lose, and the folder's marker says whose it is.
        return (path.parent / MARKER).is_file()
    if header != _SQLITE_HEADER:
        return False
    try:
        # immutable: no lock, no -wal or -shm file made.
        if _tables(path, "mode=ro&immutable=1") >= _JOURNAL_TABLES:
            return True
    except sqlite3.Error:
        pass  # inconclusive: a journal whose pages are still in its -wal file reads as torn
    # A run that was killed, or whose disk filled, leaves its tables in the -wal file,
    # which only a normal open reads; and even a read-only one writes the -shm index
    # beside it. So the normal read is of a private copy of the two.
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and _tables_of_copy(path, wal) >= _JOURNAL_TABLES


def _tables_of_copy(path: Path, wal: Path) -> set[str]:
    try:
        with tempfile.TemporaryDirectory(prefix="adloom-check-") as folder:
            copy = Path(folder) / path.name
            shutil.copyfile(path, copy)
            shutil.copyfile(wal, copy.with_name(wal.name))
            return _tables(copy, "mode=ro")
    except sqlite3.Error:
        return set()
    except OSError as err:  # no room for the copy: say so rather than call it foreign
        raise MachineError(
            f"{path}: cannot check that it is an adloom journal ({err.strerror or err})",
            hint="free space in the temporary folder (TMPDIR), and run again",
        ) from err


def _tables(path: Path, mode: str) -> set[str]:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()


@contextmanager
def _locked(out: Path, *, wait: bool, notify: Callable[[str], None]) -> Iterator[None]:
    if sys.platform == "win32":  # no flock; documented: one run per folder is up to you
        yield
        return
    import fcntl

    path = out / LOCK
    if path.is_symlink():  # planted: opening it would truncate what it points at
        raise MachineError(
            f"{path}: a symbolic link stands where adloom's lock file should be"
            f" (it points at {os.readlink(path)}); nothing was written",
            hint="remove the link, and run again",
        )
    try:
        # O_NOFOLLOW too: a link planted between the check and the open is refused.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as err:
        raise safepath.machine_error(err, path) from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = f"another adloom run is writing this folder ({_holder(path)})"
            if not wait:
                raise Busy(
                    f"--out {out}: {holder}",
                    hint="let it finish, add --wait to start when it has, or choose another --out",
                ) from None
            notify(f"Waiting: {holder}.")
            fcntl.flock(fd, fcntl.LOCK_EX)
        _held.add(fd)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield
    finally:
        _held.discard(fd)
        os.close(fd)  # releases the lock


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder["started"])))
        return f"process {int(holder['pid'])} on {holder['host']}, started {started}"
    except (OSError, ValueError, KeyError, TypeError):
        return "it has just started"
