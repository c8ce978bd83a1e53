"""``adloom run`` and ``adloom review`` wired once: review takes every option run takes,
and a review round runs with the run's options (read back from the journal) unless
the user gives others. Real CLI in-process, real fake Bedrock over HTTP."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import fields
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.core import TyperGroup, TyperOption
from typer.main import get_command

from adloom.cli import app
from adloom.engine.journal import Journal, run_settings
from adloom.errors import ExitCode
from adloom.providers.base import Request
from adloom.run.runsettings import INHERITED, Choices
from briefs import write_brief
from fakebedrock import FakeBedrock
from test_bedrock_provider import NOVA_LITE, STABILITY
from test_journal_migrations import _old_journal
from test_review import BRIEF, CAMPAIGN, CARAFE, PREFIX, Sheet, cli

GUARDED = {"guardrailIdentifier": "gr-brand", "guardrailVersion": "1", "trace": "enabled"}
IMAGE = STABILITY[0]  # not the registry's default image model
# Options that belong to one invocation, not to what it generates: never inherited.
PER_INVOCATION = {"out", "force", "wait", "as_json", "models", "learn_from"}


def options(command: str) -> dict[str, tuple[object, ...]]:
    """A command's options by parameter name: spelling, type, range, default and help."""
    group = get_command(app)
    assert isinstance(group, TyperGroup)
    described = ("opts", "secondary_opts", "min", "max", "multiple", "default", "help")
    return {
        p.name: (p.type_descriptor.annotation, *(getattr(p, a) for a in described))
        for p in group.commands[command].params
        if isinstance(p, TyperOption) and p.name
    }


def test_review_takes_every_option_of_run_as_run_does() -> None:
    run, review = options("run"), options("review")
    assert len(run) > 15
    assert set(run) - set(review) == set()
    for name, option in run.items():
        assert review[name] == option, name
    # And each one is either a choice a run records, or one the user gives each time.
    # The model options, --score and --judge-model are recorded as the settings they set.
    chosen = {f.name for f in fields(Choices)} | {"set_", "text_model", "image_model"}
    chosen |= {"score", "judge_model"}
    assert set(run) - chosen - PER_INVOCATION == set()


def test_localize_takes_the_options_of_a_review_round() -> None:
    """A localize round is a review round: the same options, spelled the same, but
    --learn-from (the results of a market teach its own rewrites, not an adaptation)."""
    run, localize = options("run"), options("localize")
    assert set(run) - set(localize) == {"learn_from"}
    for name in set(run) - {"learn_from"}:
        assert localize[name] == run[name], name
    assert set(localize) - set(run) == {"brief", "languages"}


def test_the_users_choices_win_over_the_recorded_ones() -> None:
    recorded = Choices.given(
        {"guardrail": "gr-brand:1", "temperature": 0.2, "set_": ["variants=2", "tier=flex"],
         "image_model": IMAGE, "profile": "client-a", "fresh": True}
    ).record()  # fmt: skip
    assert "profile" not in recorded  # who pays for a round is for whoever runs it
    assert "fresh" not in recorded
    assert set(recorded) <= {*INHERITED, "sets"}
    mine = Choices.given({"guardrail": "gr-other:2", "set_": ["variants=3"]})
    merged = mine.over(json.loads(json.dumps(recorded)))
    assert merged.guardrail == "gr-other:2"
    assert merged.temperature == 0.2
    assert merged.sets == {"variants": "3", "tier": "flex", "image_model": IMAGE}
    assert merged.profile is None
    assert not merged.fresh
    # What adloom cannot have written is not inherited.
    odd = Choices().over({"concurrency": "many", "max_cost": None, "sets": {"variants": 2}})
    assert odd == Choices()


def bedrock_run(tmp_path: Path, *args: str) -> Path:
    """A run on the fake Bedrock of two English feed ads, then the second rejected."""
    settings = {**CAMPAIGN, "provider": "bedrock", "languages": "en", "placements": "meta_feed"}
    brief = write_brief(tmp_path / "brief.xlsx", settings, [BRIEF])
    out = tmp_path / "out"
    code, _, err = cli("run", str(brief), "--out", str(out), *args)
    assert code == ExitCode.OK, err
    workbook = openpyxl.load_workbook(out / "variants.xlsx")
    variants = Sheet(workbook, "Variants")
    variants.set(f"{PREFIX}_en_meta_feed_v2", "approval", "Rejected")
    variants.set(f"{PREFIX}_en_meta_feed_v2", "notes", CARAFE)
    workbook.save(out / "variants.xlsx")
    return out


def recorded(out: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(out / "journal.sqlite")
    try:
        rows = db.execute("SELECT settings FROM runs ORDER BY started_at").fetchall()
    finally:
        db.close()
    return [json.loads(r[0]) for r in rows]


def test_round_two_of_a_guarded_run_is_guarded(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    quota = f"quota.{IMAGE}.ipm"
    out = bedrock_run(
        tmp_path, "--guardrail", "gr-brand:1", "--image-model", IMAGE, "--set", f"{quota}=100000"
    )
    first = len(fake_bedrock.calls("converse"))
    assert all(c.body["guardrailConfig"] == GUARDED for c in fake_bedrock.calls("converse"))

    code, _, err = cli("review", str(out / "variants.xlsx"))
    assert code == ExitCode.OK, err
    again = fake_bedrock.calls("converse")[first:]
    assert len(again) == 1  # the rejected ad, with its notes
    assert CARAFE in again[0].body["messages"][0]["content"][0]["text"]
    assert again[0].body["guardrailConfig"] == GUARDED
    assert "records no run options" not in err
    # What the run was asked for, kept for the next round (no credentials, no profile).
    settings = recorded(out)
    sets = {quota: "100000", "image_model": IMAGE}
    assert settings[0] == {"guardrail": "gr-brand:1", "sets": sets}
    # The round records what it ran with: the run's, and the provider its workbook names.
    assert settings[1] == {**settings[0], "provider": "bedrock"}


def test_round_two_uses_the_runs_models(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    out = bedrock_run(
        tmp_path, "--text-model", NOVA_LITE,
        "--set", f"image_model={IMAGE}", "--set", f"quota.{IMAGE}.ipm=100000",
    )  # fmt: skip
    first = len(fake_bedrock.requests)
    # --fresh: the rejected ad's copy and master are asked again, not taken from the journal.
    code, summary, err = cli("review", str(out / "variants.xlsx"), "--fresh")
    assert code == ExitCode.OK, err
    again = fake_bedrock.requests[first:]
    assert {r.model for r in again if r.op == "converse"} == {NOVA_LITE}
    assert {r.model for r in again if r.op == "invoke"} == {IMAGE}
    assert summary["model_calls"] == {"text": 1, "image": 1}


def test_the_users_options_on_review_win(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.behaviour.guardrails["gr-other"] = ["2"]
    out = bedrock_run(tmp_path, "--guardrail", "gr-brand:1", "--temperature", "0.2")
    first = len(fake_bedrock.calls("converse"))
    code, _, err = cli("review", str(out / "variants.xlsx"), "--guardrail", "gr-other:2")
    assert code == ExitCode.OK, err
    (again,) = fake_bedrock.calls("converse")[first:]
    assert again.body["guardrailConfig"]["guardrailIdentifier"] == "gr-other"
    assert again.body["guardrailConfig"]["guardrailVersion"] == "2"
    assert again.body["inferenceConfig"]["temperature"] == pytest.approx(0.2)  # inherited


def test_a_workbook_without_its_journal_says_what_it_cannot_inherit(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", {**CAMPAIGN, "languages": "en"}, [BRIEF])
    out = tmp_path / "out"
    code, _, err = cli("run", str(brief), "--out", str(out), "--set", "variants=1")
    assert code == ExitCode.OK, err
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(out / "variants.xlsx", moved)
    workbook = str(moved / "variants.xlsx")
    code, _, err = cli("review", workbook, "--brief", str(brief), "--out", str(tmp_path / "r2"))
    assert code == ExitCode.OK, err
    assert "records no run options" in err


def test_a_journal_of_the_schema_before_run_settings(tmp_path: Path) -> None:
    """Runs an older adloom recorded have no settings; read without upgrading the
    journal, and after it, the next run's are found."""
    _old_journal(tmp_path, Request("text", "amazon.nova-lite-v1:0", {}), with_attempt_errors=True)
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute("INSERT INTO runs VALUES ('r0', 1.0, 2.0, 'brief.xlsx', 'bedrock', 'done')")
    db.commit()
    db.close()
    assert run_settings(tmp_path) is None
    journal = Journal(tmp_path)  # upgraded: the old run has none
    try:
        assert run_settings(tmp_path) is None
        journal.start_run("r1", "brief.xlsx", "bedrock", {"guardrail": "gr-brand:1"})
        assert run_settings(tmp_path) is None  # not finished: it made no workbook
        journal.finish_run("r1", "done")
        assert run_settings(tmp_path) == {"guardrail": "gr-brand:1"}
    finally:
        journal.close()
