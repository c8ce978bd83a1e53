"""The suite is hermetic: the user's own adloom and AWS files never take part.

A fake HOME holds a malformed ~/.config/adloom/models.json, a malformed cache entry
and a malformed ~/.aws/config. adloom itself, run there, refuses the models file (so
it is read, and would fail a test that let it in); the tests, run there as a pytest
of their own, pass, collection included (test modules read the registry at import).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from adloom.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
# Modules that read the registry at import, the user cache, a run over the fake (AWS).
SAMPLE = [
    "tests/test_registry.py",
    "tests/test_usercache.py",
    "tests/test_bedrock_run.py::test_access_denied_model_stops_with_exit_3",
]


def _fake_home(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    for name, text in [
        (".config/adloom/models.json", "{not json"),
        (".cache/adloom/lifecycle-us-east-1.json", "[1, 2"),
        (".aws/config", "[default\nregion = \n"),
        (".aws/credentials", "not an ini file"),
    ]:
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(text, encoding="utf-8")
    theirs = ("XDG_", "ADLOOM_", "AWS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(theirs)}
    return {**env, "HOME": str(home)}


def test_a_malformed_user_models_file_does_not_fail_the_suite(tmp_path: Path) -> None:
    env = _fake_home(tmp_path)
    adloom = subprocess.run(
        [sys.executable, "-m", "adloom", "models"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert adloom.returncode == ExitCode.BAD_INPUT
    assert f"{tmp_path}/home/.config/adloom/models.json" in adloom.stderr

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--basetemp", str(tmp_path / "inner"), *SAMPLE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout
