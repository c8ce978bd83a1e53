"""One environment object: only ``console.Env`` reads environment variables.

The rest of adloom is handed what it needs (the user's models file, the cache folder),
so it runs the same in-process under any test and never picks up a variable behind
the caller's back. The check parses every module with ``ast``.
"""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

from adloom.cli import main
from adloom.console import Env
from adloom.registry import load_registry

SRC = Path(__file__).resolve().parent.parent / "src"
ALLOWED = {"adloom/console.py"}  # Env: the one reader
_OS_READS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
_READS = {*(("os", name) for name in _OS_READS), ("Path", "home")}


def readers(source: str) -> list[str]:
    """Each place ``source`` touches the environment: os.environ/os.getenv (and their
    kin, imported by name too) and Path.home (HOME), as "line: what"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        name = (
            node.value.id
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            else ""
        )
        if isinstance(node, ast.Attribute) and (name, node.attr) in _READS:
            found.append(f"{node.lineno}: {name}.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"{node.lineno}: from os import {a.name}" for a in node.names
                      if a.name in _OS_READS]  # fmt: skip
    return found


def test_only_env_reads_the_environment() -> None:
    wrong = [
        f"src/{path.relative_to(SRC)}:{place}"
        for path in sorted((SRC / "adloom").rglob("*.py"))
        if str(path.relative_to(SRC)) not in ALLOWED
        for place in readers(path.read_text(encoding="utf-8"))
    ]
    assert not wrong, "read through console.Env and hand the value in:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "source",
    [
        "import os\nx = os.environ.get('X')\n",
        "import os\nx = os.getenv('X')\n",
        "from os import environ\n",
        "from os import getenv as g\n",
        "from pathlib import Path\nh = Path.home()\n",
        "import os\ndef f():\n    return os.environ['HOME']\n",
    ],
)
def test_the_check_finds_a_reader(source: str) -> None:
    assert len(readers(source)) == 1, source


def test_the_folders_come_from_the_environment_env_holds() -> None:
    assert Env(environ={}).models_file is None
    assert Env(environ={}).cache_dir is None
    home = Env(environ={"HOME": "/home/ann"})
    assert home.models_file == Path("/home/ann/.config/adloom/models.json")
    assert home.cache_dir == Path("/home/ann/.cache/adloom")
    xdg = Env(environ={"HOME": "/h", "XDG_CONFIG_HOME": "/c", "XDG_CACHE_HOME": "/k"})
    assert xdg.models_file == Path("/c/adloom/models.json")
    assert xdg.cache_dir == Path("/k/adloom")
    assert Env(environ={"ADLOOM_MODELS": "/m.json", "HOME": "/h"}).models_file == Path("/m.json")
    # The XDG spec: a relative XDG_CACHE_HOME is ignored, not joined to the working folder.
    assert Env(environ={"HOME": "/h", "XDG_CACHE_HOME": "cache"}).cache_dir == Path(
        "/h/.cache/adloom"
    )


def _models_file(path: Path) -> Path:
    entry = {"id": "acme.writer-v1", "provider": "bedrock", "kind": "text", "family": "nova",
             "structured_output": "tool", "input_per_m": 1, "output_per_m": 2}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    return path


def test_the_registry_reads_the_user_file_it_is_handed(tmp_path: Path) -> None:
    path = _models_file(tmp_path / "models.json")
    assert load_registry(user_file=path).find("acme.writer-v1")
    assert load_registry().find("acme.writer-v1") is None  # nothing read behind its back
    assert load_registry(user_file=tmp_path / "absent.json").find("acme.writer-v1") is None


@pytest.mark.parametrize("variable", ["ADLOOM_MODELS", "XDG_CONFIG_HOME"])
def test_the_cli_reads_the_models_file_its_env_names(tmp_path: Path, variable: str) -> None:
    if variable == "ADLOOM_MODELS":
        environ = {variable: str(_models_file(tmp_path / "mine.json"))}
    else:
        _models_file(tmp_path / "config" / "adloom" / "models.json")
        environ = {variable: str(tmp_path / "config")}
    for given, listed in ((environ, True), ({}, False)):
        env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ=given)
        assert main(["models", "--json"], env=env) == 0
        assert isinstance(env.stdout, io.StringIO)
        ids = {m["id"] for m in json.loads(env.stdout.getvalue())}
        assert ("acme.writer-v1" in ids) is listed
