"""Journals written by earlier schemas open, are upgraded in place, and keep their answers."""

import json
import sqlite3
from pathlib import Path

import pytest

from adloom.engine.journal import MIGRATIONS, Journal
from adloom.errors import InputError
from adloom.model import Usage
from adloom.providers.base import Request, Response

# The requests table as the first journals wrote it: no attempt_errors column yet.
_OLDEST = """
CREATE TABLE requests (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, model TEXT NOT NULL, label TEXT NOT NULL,
    status TEXT NOT NULL, request TEXT NOT NULL, output TEXT, image TEXT, error TEXT,
    meta TEXT, input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0,
    latency_ms INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 1,
    run_id TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, started_at REAL NOT NULL, finished_at REAL,
    brief TEXT NOT NULL, provider TEXT NOT NULL, outcome TEXT
);
"""


def _old_journal(folder: Path, request: Request, *, with_attempt_errors: bool) -> None:
    db = sqlite3.connect(folder / "journal.sqlite")
    db.executescript(_OLDEST)
    if with_attempt_errors:  # the schema just before numbered migrations
        db.execute("ALTER TABLE requests ADD COLUMN attempt_errors TEXT")
    db.execute(
        "INSERT INTO requests(key, kind, model, label, status, request, output, meta,"
        " input_tokens, output_tokens, cost_usd, latency_ms, attempts, run_id, created_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            request.key, "text", request.model, "", "ok", json.dumps(dict(request.body)),
            json.dumps({"headline": "Old answer"}), "{}", 120, 30, 0.002, 900, 1, "r0", 1.0,
        ),
    )  # fmt: skip
    db.commit()
    db.close()


@pytest.mark.parametrize("with_attempt_errors", [False, True])
def test_an_old_journal_is_upgraded_and_its_answers_reused(
    tmp_path: Path, with_attempt_errors: bool
) -> None:
    request = Request("text", "amazon.nova-lite-v1:0", {"prompt": "hello"})
    _old_journal(tmp_path, request, with_attempt_errors=with_attempt_errors)

    journal = Journal(tmp_path)
    hit = journal.lookup(request.key)
    assert hit is not None
    assert hit.response.output == {"headline": "Old answer"}
    assert hit.response.usage == Usage(120, 30, 0.002)
    # New answers carry the new columns.
    fresh = Request("text", "amazon.nova-lite-v1:0", {"prompt": "again"})
    usage = Usage(10, 5, 0.001, cache_read_tokens=1500, cache_write_tokens=0)
    journal.record(fresh, Response("ok", usage=usage, meta={"tier": "flex"}), 1, "r1")
    journal.close()

    db = sqlite3.connect(tmp_path / "journal.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    row = db.execute(
        "SELECT service_tier, cache_read_tokens FROM requests WHERE key=?", (fresh.key,)
    ).fetchone()
    assert row == ("flex", 1500)
    db.close()
    again = Journal(tmp_path)  # reopening applies nothing twice
    assert again.lookup(fresh.key) is not None
    again.close()


def test_a_journal_from_a_newer_adloom_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(InputError, match="newer adloom"):
        Journal(tmp_path)
