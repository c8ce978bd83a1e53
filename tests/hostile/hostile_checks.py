"""What every hostile-input test checks: refused with exit 2, and nothing written."""

from __future__ import annotations

from pathlib import Path

from test_cli import run_cli


def refused(tmp_path: Path, *args: str | Path) -> str:
    """Run ``adloom *args --out tmp_path/out``; assert exit 2 with a message and no
    traceback, and that nothing under ``tmp_path`` was created or changed (no out
    folder either). Returns stderr, for the test to check the message's place."""
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    code, stdout, stderr = run_cli(*args, "--out", tmp_path / "out")
    assert code == 2, stderr
    assert stdout == ""
    assert "rror: " in stderr  # adloom's "error: …" or typer's usage "Error: …"
    assert "Traceback" not in stderr
    assert "internal error" not in stderr
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
    return stderr
