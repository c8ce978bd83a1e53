"""The request journal: every model request and its answer, in SQLite in the out dir.

Each request is keyed by the hash of its full content (``Request.key``). A result
is committed here, and its image written to disk, before anything uses it, so a
rerun or a resumed run never pays for a key it already holds, and a killed run
loses at most the requests that were in flight.

Only final answers are reused: ``ok``, and ``blocked``/``filtered`` (the same
request would be refused again, and paid again). Failures are recorded for the
record but asked again on the next run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from adloom import safepath
from adloom.errors import InputError, MachineError
from adloom.model import CheckValue, Creative, CreativeChecks, Usage, checked_usage
from adloom.outdir import Deliverable
from adloom.providers.base import BatchSubmission, Request, Response, Submitted

REUSABLE = ("ok", "blocked", "filtered")
USAGE_REJECTED = "usage_rejected"  # in an answer's meta: why its usage was not believed
MASTERS_DIR = "masters"
# The master images (and packshot cut-outs a model made), kept by request key
# (``_master``): what a rerun reuses unpaid.
MASTERS = Deliverable(
    "master images and product cut-outs", (f"{MASTERS_DIR}/*/*.png", f"{MASTERS_DIR}/*/*.jpg")
)
# SQLite's primary result codes for the machine's problems: READONLY, IOERR, FULL,
# CANTOPEN (https://sqlite.org/rescode.html).
_MACHINE_CODES = frozenset({8, 10, 13, 14})

# The schema as journals were first written, before numbered migrations.
_SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS requests (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    label TEXT NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    output TEXT,
    image TEXT,
    error TEXT,
    meta TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    latency_ms INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 1,
    attempt_errors TEXT,
    run_id TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at REAL NOT NULL,
    finished_at REAL,
    brief TEXT NOT NULL,
    provider TEXT NOT NULL,
    outcome TEXT
);
CREATE TABLE IF NOT EXISTS creatives (
    key TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    issues TEXT NOT NULL
);
"""


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _m001_initial(db: sqlite3.Connection) -> None:
    """The schema journals had before migrations (user_version 0, maybe no tables yet)."""
    for statement in _SCHEMA_1.split(";"):
        if statement.strip():
            db.execute(statement)
    if "attempt_errors" not in _columns(db, "requests"):  # written before retries were kept
        db.execute("ALTER TABLE requests ADD COLUMN attempt_errors TEXT")


def _m002_tiers_and_caching(db: sqlite3.Connection) -> None:
    """The service tier that served each request, and its prompt-cache token counts."""
    db.execute("ALTER TABLE requests ADD COLUMN service_tier TEXT")
    db.execute("ALTER TABLE requests ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE requests ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE requests ADD COLUMN cache_saved_usd REAL NOT NULL DEFAULT 0")


def _m003_pending_images(db: sqlite3.Connection) -> None:
    """Images paid for whose file could not be written (disk full): kept until written."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS pending_images (key TEXT PRIMARY KEY, data BLOB NOT NULL)"
    )


def _m004_run_settings(db: sqlite3.Connection) -> None:
    """What each run was asked for on the command line (``runsettings.Choices.record``),
    so that a review round can use the same: JSON, never credentials."""
    if "settings" not in _columns(db, "runs"):  # a journal taken back to an older version
        db.execute("ALTER TABLE runs ADD COLUMN settings TEXT")


def _m005_creative_checks(db: sqlite3.Connection) -> None:
    """What ``adloom.creative.checks`` measured on each composed creative, crop box included."""
    if "checks" not in _columns(db, "creatives"):  # a journal taken back to version 0
        db.execute("ALTER TABLE creatives ADD COLUMN checks TEXT")


def _m006_batch_jobs(db: sqlite3.Connection) -> None:
    """Batch jobs (``adloom.run.batching``): each job as submitted and last seen, and the
    requests it holds, so a rerun resumes waiting for it instead of submitting again."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS batch_jobs (name TEXT PRIMARY KEY, model TEXT NOT NULL,"
        " token TEXT NOT NULL, records INTEGER NOT NULL, worst_cost_usd REAL NOT NULL,"
        " run_id TEXT NOT NULL, job_id TEXT, input_uri TEXT, output_uri TEXT,"
        " status TEXT NOT NULL, message TEXT, created_at REAL NOT NULL,"
        " updated_at REAL NOT NULL, collected INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS batch_records (job TEXT NOT NULL, key TEXT NOT NULL,"
        " kind TEXT NOT NULL, model TEXT NOT NULL, label TEXT NOT NULL, body TEXT NOT NULL,"
        " PRIMARY KEY (job, key))"
    )


def _m007_batch_fallbacks(db: sqlite3.Connection) -> None:
    """Why a batch record was sent on-demand instead (``batch_records.fallback``), and the
    models whose batch jobs refused native structured output, so that a resumed or later
    run builds their batch requests with the schema in the prompt from the start."""
    if "fallback" not in _columns(db, "batch_records"):
        db.execute("ALTER TABLE batch_records ADD COLUMN fallback TEXT")
    db.execute(
        "CREATE TABLE IF NOT EXISTS batch_prompt_form (model TEXT PRIMARY KEY,"
        " reason TEXT NOT NULL, run_id TEXT NOT NULL, created_at REAL NOT NULL)"
    )


# Applied in order, each once: a journal at ``PRAGMA user_version`` N runs the ones after
# the Nth. Append new migrations; never edit or reorder one that has shipped.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _m001_initial,
    _m002_tiers_and_caching,
    _m003_pending_images,
    _m004_run_settings,
    _m005_creative_checks,
    _m006_batch_jobs,
    _m007_batch_fallbacks,
)


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the journal at ``path`` up to the current schema, one migration at a time.

    Each migration and its version bump commit together, so a kill between two leaves a
    journal that the next run carries on from.
    """
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise InputError(
            f"{path}: the journal was written by a newer adloom (schema {version}, this "
            f"version knows {len(MIGRATIONS)}).",
            hint="Upgrade adloom, or run with another --out folder.",
        )
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


@contextmanager
def _read_only(out: Path) -> Iterator[sqlite3.Connection | None]:
    """The journal in ``out`` opened read-only, without migrating (the folder may be
    someone else's, or read-only); None when there is none."""
    path = out / "journal.sqlite"
    if not path.is_file():
        yield None
        return
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        yield db
    finally:
        db.close()


def run_settings(out: Path, run_id: str = "") -> dict[str, Any] | None:
    """The settings a run in ``out`` recorded at its start: run ``run_id``'s, else the
    latest finished run's; None when the folder has no journal, or that run recorded
    none (an older adloom made it).

    Read-only, without migrating: the folder may be someone else's, or read-only.
    """
    which = "run_id=?" if run_id else "outcome='done'"
    try:
        with _read_only(out) as db:
            if db is None or "settings" not in _columns(db, "runs"):
                return None
            row = db.execute(
                f"SELECT settings FROM runs WHERE {which} ORDER BY started_at DESC LIMIT 1",
                (run_id,) if run_id else (),
            ).fetchone()
    except sqlite3.Error:  # unreadable here: the caller goes on without, and says so
        return None
    try:
        settings = json.loads(row[0]) if row and row[0] else None
    except ValueError:  # not written by adloom: as good as none
        return None
    return settings if isinstance(settings, dict) else None


@dataclass(frozen=True)
class BatchJob:
    """A batch job as the journal keeps it (``status`` "Submitting" until the service
    has accepted it; ``job_id`` empty until then)."""

    name: str
    model: str
    token: str
    records: int
    worst_cost_usd: float
    run_id: str
    job_id: str
    input_uri: str
    output_uri: str
    status: str
    message: str
    created_at: float
    collected: bool


_BATCH_COLUMNS = (
    "name, model, token, records, worst_cost_usd, run_id, job_id, input_uri, output_uri, status,"
    " message, created_at, collected"
)


def _batch_job(row: Sequence[Any]) -> BatchJob:
    name, model, token, records, worst, run_id, job_id, input_uri, output_uri, status = row[:10]
    return BatchJob(
        name, model, token, records, worst, run_id, job_id or "", input_uri or "",
        output_uri or "", status, row[10] or "", row[11], bool(row[12]),
    )  # fmt: skip


def batch_jobs(out: Path) -> list[BatchJob]:
    """Every batch job the journal in ``out`` knows, oldest first (read-only)."""
    with _read_only(out) as db:
        if db is None or "batch_jobs" not in _tables(db):
            return []
        rows = db.execute(f"SELECT {_BATCH_COLUMNS} FROM batch_jobs ORDER BY created_at")
        return [_batch_job(r) for r in rows.fetchall()]


def _tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


@dataclass(frozen=True)
class Record:
    key: str
    response: Response
    image_path: Path | None
    attempts: int


class Journal:
    """Thread-safe: one connection behind a lock (SQLite serialises writers anyway)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.blobs = out / MASTERS_DIR
        safepath.make_dirs(out, out)
        self.path = out / "journal.sqlite"
        safepath.inside(out, self.path)  # a link planted there is not followed out
        self._lock = threading.Lock()
        with self._machine():
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process kill (only an OS crash can lose the
            # last commits), at a fraction of FULL's fsync cost per request.
            self._db.execute("PRAGMA synchronous=NORMAL")
            _migrate(self._db, self.path)

    @contextmanager
    def _machine(self) -> Iterator[None]:
        """SQLite's word for a full disk or a folder it may not write, as a MachineError."""
        try:
            yield
        except sqlite3.OperationalError as err:
            if getattr(err, "sqlite_errorcode", 0) & 0xFF not in _MACHINE_CODES:
                raise  # a bug, not the machine
            raise MachineError(
                f"{self.path}: {err}",
                hint="free space on that disk (or raise the file size limit, ulimit -f),"
                " or choose a writable --out, and run again: what was saved is kept",
            ) from err

    def close(self) -> None:
        with self._lock, self._machine():
            self._db.close()

    # ------------------------------------------------------------ runs

    def start_run(
        self, run_id: str, brief: str, provider: str, settings: Mapping[str, Any] | None = None
    ) -> None:
        """Record a run's start, with the ``settings`` it was asked for (see
        ``run_settings``)."""
        recorded = json.dumps(dict(settings), ensure_ascii=False) if settings is not None else None
        with self._lock, self._machine():
            self._db.execute(
                "INSERT INTO runs(run_id, started_at, brief, provider, settings)"
                " VALUES (?,?,?,?,?)",
                (run_id, time.time(), brief, provider, recorded),
            )

    def finish_run(self, run_id: str, outcome: str) -> None:
        with self._lock, self._machine():
            self._db.execute(
                "UPDATE runs SET finished_at=?, outcome=? WHERE run_id=?",
                (time.time(), outcome, run_id),
            )

    # ------------------------------------------------------------ requests

    def lookup(self, key: str, worst_usd: float = 0.0) -> Record | None:
        """The stored final answer for ``key``, if any and its image is still on disk; a
        usage that cannot be believed (a journal edited or written by an older version)
        counts as ``worst_usd``, the request's worst case (``budget.checked_usage``)."""
        with self._lock, self._machine():
            row = self._db.execute(
                "SELECT status, output, image, error, meta, input_tokens, output_tokens,"
                " cost_usd, latency_ms, attempts, cache_read_tokens, cache_write_tokens,"
                " cache_saved_usd FROM requests WHERE key=?",
                (key,),
            ).fetchone()
        if row is None or row[0] not in REUSABLE:
            return None
        image = safepath.trusted(self.out, row[2]) if row[2] else None
        missing = row[0] == "ok" and row[2] and (image is None or not image.is_file())
        # Not on disk: written now if the journal holds it (its write failed), else
        # asked again: the user deleted it, or the row leads out of the folder.
        if missing and (image is None or not self._write_pending(key, image)):
            return None
        response = _believed(
            Response(
                status=row[0],
                output=json.loads(row[1] or "{}"),
                usage=Usage(row[5], row[6], row[7], row[10], row[11], row[12]),
                latency_ms=row[8],
                error=row[3] or "",
                meta=json.loads(row[4] or "{}"),
            ),
            worst_usd,
        )
        return Record(key, response, image, row[9])

    def record(
        self,
        request: Request,
        response: Response,
        attempts: int,
        run_id: str,
        errors: Sequence[str] = (),
    ) -> Record:
        """Store the answer (image file first, then the row) and commit.

        ``errors``: what the earlier attempts failed with (throttles, timeouts).
        An image whose file cannot be written (a full disk, a file in the way) was
        paid for all the same: it is kept in the journal, and written out when it is
        next looked up, before the error goes on to stop the run.
        """
        response = _believed(response, request.max_cost_usd)
        image = response.image
        path = self._master(request.key, image) if image else None
        try:
            if image and path:
                safepath.write_bytes(self.out, path, image)
        except MachineError:
            with self._lock, self._machine():
                self._db.execute(
                    "INSERT OR REPLACE INTO pending_images(key, data) VALUES (?,?)",
                    (request.key, image),
                )
            self._upsert(request, response, attempts, run_id, image_path=path, errors=errors)
            raise
        self._upsert(request, response, attempts, run_id, image_path=path, errors=errors)
        return Record(request.key, response, path, attempts)

    def record_failure(
        self,
        request: Request,
        error: str,
        attempts: int,
        run_id: str,
        errors: Sequence[str] = (),
    ) -> None:
        """Keep the failure for the record; a later run asks again."""
        failed = Response(status="failed", error=error)
        self._upsert(request, failed, attempts, run_id, image_path=None, errors=errors)

    def _upsert(
        self,
        request: Request,
        response: Response,
        attempts: int,
        run_id: str,
        *,
        image_path: Path | None,
        errors: Sequence[str],
    ) -> None:
        row: tuple[Any, ...] = (
            request.key,
            request.kind,
            request.model,
            request.label,
            response.status,
            json.dumps(request.body, ensure_ascii=False, sort_keys=True),
            json.dumps(dict(response.output), ensure_ascii=False),
            str(image_path.relative_to(self.out)) if image_path else None,
            response.error or None,
            json.dumps(dict(response.meta), ensure_ascii=False),
            response.usage.input_tokens,
            response.usage.output_tokens,
            response.usage.cost_usd,
            response.latency_ms,
            attempts,
            json.dumps(list(errors), ensure_ascii=False) if errors else None,
            run_id,
            time.time(),
            response.meta.get("tier") or None,
            response.usage.cache_read_tokens,
            response.usage.cache_write_tokens,
            response.usage.cache_saved_usd,
        )
        with self._lock, self._machine():
            self._db.execute(
                "INSERT OR REPLACE INTO requests(key, kind, model, label, status, request,"
                " output, image, error, meta, input_tokens, output_tokens, cost_usd,"
                " latency_ms, attempts, attempt_errors, run_id, created_at, service_tier,"
                " cache_read_tokens, cache_write_tokens, cache_saved_usd)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                row,
            )

    def _master(self, key: str, data: bytes) -> Path:
        ext = ".png" if data.startswith(b"\x89PNG") else ".jpg"
        return self.blobs / key[:2] / f"{key}{ext}"

    def _write_pending(self, key: str, path: Path) -> bool:
        """Write out an image kept in the journal because its file could not be."""
        with self._lock, self._machine():
            row = self._db.execute("SELECT data FROM pending_images WHERE key=?", (key,)).fetchone()
        if row is None:
            return False
        safepath.write_bytes(self.out, path, row[0])
        with self._lock, self._machine():
            self._db.execute("DELETE FROM pending_images WHERE key=?", (key,))
        return True

    # ------------------------------------------------------------ batch jobs

    def add_batch_job(self, job: BatchSubmission, worst_cost_usd: float, run_id: str) -> None:
        """Keep a job and its requests before it is submitted: a kill right after the
        submit still finds it (and submits with the same token, which starts nothing new)."""
        now = time.time()
        records = [
            (job.name, r.key, r.kind, r.model, r.label, json.dumps(r.body, ensure_ascii=False))
            for r in job.records
        ]
        with self._lock, self._machine():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR IGNORE INTO batch_jobs(name, model, token, records,"
                    " worst_cost_usd, run_id, status, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?,'Submitting',?,?)",
                    (
                        job.name,
                        job.model,
                        job.token,
                        len(records),
                        worst_cost_usd,
                        run_id,
                        now,
                        now,
                    ),
                )
                self._db.executemany(
                    "INSERT OR IGNORE INTO batch_records(job, key, kind, model, label, body)"
                    " VALUES (?,?,?,?,?,?)",
                    records,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def batch_submitted(self, name: str, submitted: Submitted) -> None:
        with self._lock, self._machine():
            self._db.execute(
                "UPDATE batch_jobs SET job_id=?, input_uri=?, output_uri=?, status='Submitted',"
                " updated_at=? WHERE name=?",
                (submitted.job_id, submitted.input_uri, submitted.output_uri, time.time(), name),
            )

    def batch_status(self, name: str, status: str, message: str, *, collected: bool) -> None:
        with self._lock, self._machine():
            self._db.execute(
                "UPDATE batch_jobs SET status=?, message=?, collected=?, updated_at=? WHERE name=?",
                (status, message or None, int(collected), time.time(), name),
            )

    def open_batch_jobs(self) -> list[BatchJob]:
        """The jobs whose answers are not all read back yet, oldest first."""
        with self._lock, self._machine():
            rows = self._db.execute(
                f"SELECT {_BATCH_COLUMNS} FROM batch_jobs WHERE collected=0 ORDER BY created_at"
            ).fetchall()
        return [_batch_job(r) for r in rows]

    def batch_requests(self, name: str) -> list[Request]:
        """The requests of a journalled job, as they were sent."""
        with self._lock, self._machine():
            rows = self._db.execute(
                "SELECT kind, model, body, label FROM batch_records WHERE job=? ORDER BY rowid",
                (name,),
            ).fetchall()
        return [
            Request(kind, model, json.loads(body), label=label) for kind, model, body, label in rows
        ]

    def batch_fallbacks(self, name: str, why: Mapping[str, str]) -> None:
        """Keep why each of job ``name``'s records (by key) was sent on-demand."""
        with self._lock, self._machine():
            self._db.executemany(
                "UPDATE batch_records SET fallback=? WHERE job=? AND key=?",
                [(reason, name, key) for key, reason in why.items()],
            )

    def remember_prompt_form(self, model: str, reason: str, run_id: str) -> None:
        """``model``'s batch jobs refused native structured output (``reason``)."""
        with self._lock, self._machine():
            self._db.execute(
                "INSERT OR IGNORE INTO batch_prompt_form(model, reason, run_id, created_at)"
                " VALUES (?,?,?,?)",
                (model, reason, run_id, time.time()),
            )

    def batch_prompt_forms(self) -> dict[str, str]:
        """The models whose batch jobs refused native structured output, with why."""
        with self._lock, self._machine():
            rows = self._db.execute("SELECT model, reason FROM batch_prompt_form").fetchall()
        return dict(rows)

    # ------------------------------------------------------------ creatives

    def creative(
        self, key: str, present: Callable[[Mapping[str, CheckValue]], CreativeChecks | None]
    ) -> Creative | None:
        """A composed ad from an earlier run with exactly these inputs, if its file is
        still the one written then (same size on disk); ``present`` makes its checks'
        findings from their values (``creative.measures.restore``)."""
        with self._lock, self._machine():
            row = self._db.execute(
                "SELECT path, width, height, bytes, issues, checks FROM creatives WHERE key=?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        path = safepath.trusted(self.out, row[0])
        if path is None or not path.is_file() or path.stat().st_size != row[3]:
            return None
        values = _checks(row[5]) if row[5] else None
        checks = present(values) if values is not None else None
        if checks is None:
            return None  # composed before the checks: compose it again, and check it
        return Creative(path, row[1], row[2], row[3], tuple(json.loads(row[4])), checks)

    def record_creative(self, key: str, creative: Creative) -> None:
        with self._lock, self._machine():
            self._db.execute(
                "INSERT OR REPLACE INTO creatives(key, path, width, height, bytes, issues, checks)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    key,
                    str(creative.path.relative_to(self.out)),
                    creative.width,
                    creative.height,
                    creative.bytes,
                    json.dumps(list(creative.issues), ensure_ascii=False),
                    json.dumps(dict(creative.checks.values)) if creative.checks else None,
                ),
            )

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every stored request, for reports and tests."""
        with self._lock, self._machine():
            cur = self._db.execute("SELECT * FROM requests ORDER BY created_at")
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        for r in rows:
            yield dict(zip(names, r, strict=True))


def _believed(response: Response, worst_usd: float) -> Response:
    """``response`` with a usage the budget can count on: one that cannot be believed is
    charged the request's worst case, and why is kept in its meta (``usage_rejected``)."""
    usage, reason = checked_usage(response.usage, worst_usd)
    if not reason:
        return response
    return replace(response, usage=usage, meta={**response.meta, USAGE_REJECTED: reason})


def _checks(text: str) -> dict[str, CheckValue] | None:
    """A creative's checks' values as recorded (lists as tuples); None for a row this
    version cannot read."""
    try:
        raw = json.loads(text)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
