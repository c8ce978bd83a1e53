"""Every path adloom writes, replaces or deletes, proven to lie inside the out folder.

A brief names ads and placements, and those names become file names: nothing it
says may reach a file outside ``--out``. ``inside`` is the one proof; the writers
below use it, write next to the target and rename (a killed run never leaves half
a file), never leave their temporary file behind, and turn what the machine
refuses (a full disk, a read-only folder, a name too long) into a ``MachineError``
that names the path and what to do.

While a run holds an out folder (``outdir.claimed``), writes and deletes in it are
also checked against the names its deliverables declared (``owning``): a name none
of them owns is a bug (an undeclared deliverable, which ``--force`` would not
protect), and stops the run before a byte of it is written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from adloom.errors import MachineError

# The longest name a file system takes (ext4, APFS, NTFS: 255 bytes or UTF-16 units;
# zip tools store UTF-8), and the part of it an ad or placement name may use: the
# rest is for ".png", a review round and a temporary suffix.
MAX_COMPONENT_BYTES = 255
MAX_NAME_BYTES = 200
MAX_ID_BYTES = 64

# Windows refuses these as file names, with any extension (CON.png): out folders are
# zipped and shared, so a name must open everywhere.
# The temporary files of ``write_with``: ".<name>.<pid>.<thread>.tmp", nothing else.
TEMPORARY = ".tmp"
TEMPORARY_NAME = re.compile(r"\..+\.\d+\.\d+\.tmp")

_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{port}{n}" for port in ("COM", "LPT") for n in "123456789¹²³"]
)
_FORBIDDEN = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')

# The out folders this process holds, each with the pattern of the names it owns
# (relative, "/"-separated). Forked compose workers inherit it with the claim.
_owners: dict[Path, re.Pattern[str]] = {}

_DENIED = (
    "you may not write there: choose a writable --out or fix its permissions"
    " (on Windows: close the file if Excel or a browser has it open)"
)
_WHAT_TO_DO = {
    errno.ENOSPC: "free space on that disk, or choose another --out, and run again",
    errno.EDQUOT: "free space within your disk quota, or choose another --out, and run again",
    errno.EROFS: "the file system is read-only: choose a writable --out",
    errno.EACCES: _DENIED,
    errno.EPERM: _DENIED,
    errno.ENAMETOOLONG: "the path is too long: choose a shorter --out or shorter names",
    errno.EFBIG: "the file is larger than this system allows: raise the limit (ulimit -f)",
    errno.ENOTDIR: "a file stands where a folder should be: move it away, or choose another --out",
    errno.EEXIST: "a file stands where a folder should be: move it away, or choose another --out",
    errno.EISDIR: "a folder stands where a file should be: move it away, or choose another --out",
    errno.ELOOP: "a symbolic link loops: remove it, or choose another --out",
}


def name_problem(name: str, limit: int = MAX_NAME_BYTES) -> str | None:
    """Why ``name`` cannot be one file or folder name on every system, or None."""
    if name in ("", ".", ".."):
        return f'"{name}" is not a file name'
    bad = forbidden(name)
    if bad:
        return f'"{name}" holds {bad}, which file names cannot hold (no folders, no paths)'
    if name[-1] in ". ":
        return f'"{name}" ends with a dot or a space, which Windows drops'
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        return f'"{name}" is a reserved device name on Windows (CON, NUL, COM1, LPT1, …)'
    size = len(name.encode("utf-8"))
    if size > limit:
        return f'"{name[:40]}…" is {size} bytes long in UTF-8; at most {limit} fit in a file name'
    return None


def forbidden(text: str) -> str:
    """The characters of ``text`` no file name may hold on some system, shown; or ""."""
    return " ".join(repr(c) for c in sorted({c for c in text if _FORBIDDEN.match(c)}))


def inside(out: Path, path: Path) -> Path:
    """``path``, resolved (symbolic links followed), once proven to lie in ``out``.

    Raises ``MachineError`` for a path that leaves the out folder: the names were
    checked when the brief was read, so only a link planted in the folder gets here.
    A path that is itself a link is refused even when it leads inside: replacing or
    deleting what it points at (``variants.xlsx`` -> ``journal.sqlite``) would destroy
    another of adloom's files.
    """
    root = out.resolve()
    target = path.resolve()
    if target != root and not target.is_relative_to(root):
        raise MachineError(
            f"{path}: refusing to write outside the out folder {out} (it leads to {target})",
            hint="remove the symbolic link in the out folder, or choose another --out",
        )
    if path != out and path.is_symlink():
        raise MachineError(
            f"{path}: a symbolic link (to {os.readlink(path)}) stands where adloom writes"
            " a file of its own; nothing was written through it",
            hint="remove the link, and run again",
        )
    for part in target.relative_to(root).parts:
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            raise MachineError(
                f"{path}: a name in it is longer than {MAX_COMPONENT_BYTES} bytes",
                hint=_WHAT_TO_DO[errno.ENAMETOOLONG],
            )
    return target


@contextlib.contextmanager
def owning(out: Path, owned: re.Pattern[str]) -> Iterator[None]:
    """While held, a write or delete in ``out`` must name a path ``owned`` matches."""
    root = out.resolve()
    _owners[root] = owned
    try:
        yield
    finally:
        _owners.pop(root, None)


class Undeclared(RuntimeError):
    """A write to a name no deliverable owns: a bug in adloom, not the user's doing."""


def _check_owned(root: Path, target: Path) -> None:
    owned = _owners.get(root)
    if owned is None or target == root:
        return
    rel = target.relative_to(root).as_posix()
    if owned.fullmatch(rel) is None:
        raise Undeclared(
            f"{rel}: no deliverable owns this name; declare it (outdir.Deliverable) beside "
            "its writer and add it to the run's deliverables"
        )


def machine_error(err: OSError, path: Path) -> MachineError:
    """What the machine refused, about ``path``, as the user can act on it."""
    what = err.strerror or type(err).__name__
    hint = _WHAT_TO_DO.get(err.errno or 0, "check the folder and the disk, then run again")
    return MachineError(f"{path}: {what}", hint=hint)


def make_dirs(out: Path, folder: Path) -> Path:
    target = inside(out, folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise machine_error(err, folder) from err
    return target


def write_with(out: Path, path: Path, write: Callable[[Path], object]) -> Path:
    """Have ``write`` fill a temporary file beside ``path``, then rename it to ``path``;
    return ``path`` as given (callers keep their paths relative to ``out``)."""
    target = inside(out, path)
    _check_owned(out.resolve(), target)
    # Unique per process and thread: two writers of one file never share a temporary.
    unique = f"{os.getpid()}.{threading.get_ident()}"
    tmp = target.with_name(f".{target.name[:MAX_NAME_BYTES]}.{unique}{TEMPORARY}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, target)
    except OSError as err:
        raise machine_error(err, path) from err
    finally:
        with contextlib.suppress(OSError):  # gone after the rename; left by a failure
            tmp.unlink(missing_ok=True)
    return path


def write_bytes(out: Path, path: Path, data: bytes) -> Path:
    return write_with(out, path, lambda tmp: tmp.write_bytes(data))


def link(out: Path, source: Path, path: Path) -> Path:
    """``path`` made the same file as ``source`` (both in ``out``): a hard link, or a
    copy where the file system has none; in place of what was there, atomically."""
    inside(out, source)

    def same(tmp: Path) -> None:
        try:
            os.link(source, tmp)
        except OSError:  # no hard links here (some network and FAT file systems)
            shutil.copyfile(source, tmp)

    return write_with(out, path, same)


def remove(out: Path, path: Path) -> None:
    """Delete ``path`` (a file adloom wrote) if it is there."""
    target = inside(out, path)
    if not TEMPORARY_NAME.fullmatch(target.name):  # a killed run's temporary: swept
        _check_owned(out.resolve(), target)
    try:
        target.unlink(missing_ok=True)
    except OSError as err:
        raise machine_error(err, path) from err


def trusted(out: Path, stored: str) -> Path | None:
    """A path read back from the journal, if it still lies in ``out``; else None
    (treated as missing: the file is made again, the stored path is not followed)."""
    path = out / stored
    try:
        inside(out, path)
    except (MachineError, OSError, ValueError):  # ValueError: a NUL in the stored text
        return None
    return path
