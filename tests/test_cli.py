"""The real CLI, in-process (Env with string buffers) and once as a subprocess."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PIL import Image

from adloom.brief.placements import builtin_placements
from adloom.cli import main
from adloom.console import Env
from briefs import write_brief
from conftest import user_environ
from factories import preview_pages

EXAMPLE = Path(__file__).parents[1] / "campaigns" / "spring-launch.xlsx"


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), environ=user_environ())
    code = main([str(a) for a in args], env=env)
    assert isinstance(env.stdout, io.StringIO)
    assert isinstance(env.stderr, io.StringIO)
    return code, env.stdout.getvalue(), env.stderr.getvalue()


def run_json(*args: str | Path) -> tuple[int, dict[str, Any], str]:
    """``run_cli``, with the JSON object printed on stdout (``{}`` if none) and all the
    text printed (stdout, then stderr)."""
    code, stdout, stderr = run_cli(*args)
    data = json.loads(stdout) if stdout.lstrip().startswith("{") else {}
    return code, data, stdout + stderr


class _Imgs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.srcs += [v for k, v in attrs if k == "src" and v]


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    out = tmp_path_factory.mktemp("run") / "out"
    code, stdout, stderr = run_cli("run", EXAMPLE, "--out", out, "--json")
    assert code == 0, stderr
    return json.loads(stdout), out


def test_run_json_summary(example_run: tuple[dict[str, object], Path]) -> None:
    summary, out = example_run
    assert summary["campaign"] == "Spring Launch 2026"
    assert summary["variants"] == 100
    assert summary["creatives"] == 100
    assert summary["failed"] == 0
    assert summary["model_calls"] == {"text": 0, "image": 0}
    assert summary["cost_usd"] == 0
    assert summary["tokens"] == {"input": 0, "output": 0}
    assert Path(str(summary["preview"])) == out / "index.html"
    assert Path(str(summary["workbook"])) == out / "variants.xlsx"


def test_every_creative_has_its_placement_size_and_cap(
    example_run: tuple[dict[str, object], Path],
) -> None:
    _, out = example_run
    placements = builtin_placements()
    files = sorted((out / "creatives").rglob("*.*"))
    assert len(files) == 100
    for f in files:
        p = placements[f.parent.name]
        with Image.open(f) as im:
            assert im.size == (p.width, p.height)
        assert f.stat().st_size <= p.max_kb * 1024


def test_workbook_rows_and_draft_label(example_run: tuple[dict[str, object], Path]) -> None:
    _, out = example_run
    wb = openpyxl.load_workbook(out / "variants.xlsx")
    ws = wb["Variants"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 100
    assert {r["language"] for r in rows} == {"en", "ja"}
    assert all("draft" in str(r["provider"]) for r in rows)
    assert all("utm_content=" in str(r["landing_url"]) for r in rows if r["landing_url"])
    assert all((out / str(r["image"])).is_file() for r in rows)


def test_preview_links_resolve(example_run: tuple[dict[str, object], Path]) -> None:
    _, out = example_run
    creatives = []
    for page in preview_pages(out):
        parser = _Imgs()
        parser.feed(page.read_text(encoding="utf-8"))
        creatives += [page.parent / s for s in parser.srcs if s.startswith("../creatives/")]
    assert len(creatives) == 100
    assert all(path.is_file() for path in creatives)


def test_rerun_uses_the_journal(tmp_path: Path) -> None:
    out = tmp_path / "o"
    small = ("--set", "variants=1", "--set", "languages=en", "--set", "placements=meta_feed")
    assert run_cli("run", EXAMPLE, "--out", out, "--json", *small)[0] == 0
    (out / "notes.txt").write_text("mine")
    code, stdout, _ = run_cli("run", EXAMPLE, "--out", out, "--json", *small)
    assert code == 0
    again = json.loads(stdout)
    assert again["cache_hits"] > 0
    assert (out / "notes.txt").read_text() == "mine"  # never deletes what it did not write


def test_validate_reports_every_problem(tmp_path: Path) -> None:
    brief = write_brief(
        tmp_path / "b.xlsx",
        briefs=[
            {"id": "a", "product": "P", "message": "M", "landing_url": "htp:/x"},
            {"id": "a", "product": "", "message": "M", "placements": "meta_fed"},
        ],
    )
    code, _, err = run_cli("validate", brief)
    assert code == 2
    assert "Briefs!" in err
    assert "htp:/x" in err
    assert "meta_fed" in err
    assert "Traceback" not in err


def test_validate_ok_and_missing_file(tmp_path: Path) -> None:
    assert run_cli("validate", EXAMPLE)[0] == 0
    code, _, err = run_cli("validate", tmp_path / "nope.xlsx")
    assert code == 2
    assert "nope.xlsx" in err


def test_plan_json_counts() -> None:
    code, stdout, _ = run_cli("plan", EXAMPLE, "--json")
    assert code == 0
    plan = json.loads(stdout)
    assert plan["ads"] == 100
    assert sum(plan["by_placement"].values()) == 100
    assert plan["requests"]["text"] == plan["copy_jobs"]
    assert plan["cost_usd_max"] == 0


def test_unknown_set_syntax_is_usage_error() -> None:
    code, _, err = run_cli("run", EXAMPLE, "--set", "novalue")
    assert code == 2
    assert "key=value" in err


def test_unknown_option_is_usage_error_without_traceback() -> None:
    code, _, err = run_cli("run", EXAMPLE, "--bogus")
    assert code == 2
    assert "No such option" in err
    assert "Traceback" not in err


def test_models_json_lists_registry() -> None:
    code, stdout, _ = run_cli("models", "--json")
    assert code == 0
    ids = {m["id"] for m in json.loads(stdout)}
    assert "amazon.nova-lite-v1:0" in ids


def test_real_subprocess_run(tmp_path: Path) -> None:
    exe = shutil.which("adloom")
    cmd = [exe] if exe else [sys.executable, "-m", "adloom"]
    out = tmp_path / "sub"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | user_environ()
    proc = subprocess.run(
        [*cmd, "run", str(EXAMPLE), "--out", str(out), "--json", "--set", "variants=1",
         "--set", "languages=en", "--set", "placements=meta_feed,display_300x250"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)  # stdout is exactly one JSON object
    assert summary["variants"] == 10
    assert "Traceback" not in proc.stderr
