"""A user's files beside the out folder, and proof that a run left them alone.

    from victims import plant_victim, outside, run_cli   # tests/hostile is on sys.path

``outside(root, out)`` is every file under ``root`` but not under ``out`` (nor the
test's user-config and user-cache folders), with its content hash and mtime: equal
before and after a run means adloom wrote, replaced and deleted nothing there.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from PIL import Image

from adloom.errors import ExitCode
from test_cli import run_cli

__all__ = [
    "leftover_temporaries",
    "outside",
    "plant_victim",
    "refused_before_anything",
    "run_cli",
    "tree",
]

Snapshot = dict[str, tuple[str, int]]
_USER_FOLDERS = ("user-config", "user-cache")  # tests/conftest.py points XDG_* there


def plant_victim(root: Path) -> Path:
    """``root/victim`` with a photo in both formats and a note, as a user has them."""
    victim = root / "victim"
    victim.mkdir()
    for ext, fmt in ((".jpg", "JPEG"), (".png", "PNG")):
        Image.new("RGB", (8, 8), "#C0FFEE").save(victim / f"holiday{ext}", fmt)
    (victim / "notes.txt").write_text("mine, not adloom's\n")
    return victim


def outside(root: Path, out: Path) -> Snapshot:
    skip = [out.resolve(), *(root.resolve() / name for name in _USER_FOLDERS)]
    files: Snapshot = {}
    for path in sorted(root.resolve().rglob("*")):
        if any(path == s or path.is_relative_to(s) for s in skip) or path.is_dir():
            continue
        stat = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "link"
        files[str(path.relative_to(root.resolve()))] = (digest, stat.st_mtime_ns)
    return files


def tree(folder: Path) -> Snapshot:
    """Every file under ``folder``, hashed: for folders that must stay byte-identical."""
    return outside(folder, folder / ".not-there") if folder.exists() else {}


def leftover_temporaries(folder: Path) -> list[Path]:
    return list(folder.rglob("*.tmp")) if folder.exists() else []


def refused_before_anything(brief: Path, where: str) -> str:
    """``adloom run`` of ``brief`` refused with exit 2 (its message matching ``where``,
    no traceback) before anything was written, in the out folder or beside it; its
    stderr."""
    folder = brief.parent
    out = folder / "out"
    before = outside(folder.parent, out)
    code, _, err = run_cli("run", brief, "--out", out)
    assert code == ExitCode.BAD_INPUT, err
    assert re.search(where, err), err
    assert "Traceback" not in err
    assert outside(folder.parent, out) == before
    assert not (out / "creatives").exists()
    return err
