"""The budget holds whatever the numbers say: a usage or cost that cannot be believed
(NaN, infinite, negative, absurdly large), from a plugin, the service, a batch line or
the journal itself, is charged the request's worst case and flagged with why; so
``--max-cost`` is never exceeded and no negative cost is ever recorded."""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from pathlib import Path

import pytest

from adloom.engine.journal import USAGE_REJECTED, Journal
from adloom.model import MAX_COST_USD, Usage, checked_usage
from adloom.providers.base import Request, Response
from test_cli import run_cli
from test_provider_plugins import PLUGIN, brief, install, site  # noqa: F401 - site: a fixture

WORST = 0.01  # each request's worst case, as the plugin below prices it
BUDGET = 0.05  # room for five requests


def _lying_plugin(cost: str, tokens: str) -> str:
    """acme's plugin, pricing each request's worst case at WORST and reporting ``cost``
    and ``tokens`` as each answer's usage."""
    source = PLUGIN.replace(
        "input_tokens=tokens, max_tokens=most)",
        f"input_tokens=tokens, max_tokens=most, max_cost_usd={WORST})",
    ).replace(
        'Request("image", job.model, body)',
        f'Request("image", job.model, body, max_cost_usd={WORST})',
    )
    usage = f"Usage(input_tokens={tokens}, output_tokens={tokens}, cost_usd={cost})"
    source = source.replace("image=png.getvalue())", f"image=png.getvalue(), usage={usage})")
    source = source.replace("required))", f"required), usage={usage})")
    assert source.count(f"usage={usage}") == 2
    assert source.count(f"max_cost_usd={WORST}") == 2
    return "from adloom.model import Usage\n" + source


def _rows(out: Path) -> list[tuple[float, dict[str, str]]]:
    with contextlib.closing(
        sqlite3.connect(f"file:{out / 'journal.sqlite'}?mode=ro", uri=True)
    ) as db:
        rows = db.execute("SELECT cost_usd, meta FROM requests WHERE status='ok'").fetchall()
    return [(cost, json.loads(meta)) for cost, meta in rows]


@pytest.mark.parametrize(
    ("cost", "tokens"),
    [("float('nan')", "12"), ("-0.5", "12"), ("0.001", "-10**8"), ("float('inf')", "12")],
    ids=["nan-cost", "negative-cost", "negative-tokens", "infinite-cost"],
)
def test_a_plugin_reporting_impossible_usage_stays_within_the_budget(
    site: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
    cost: str,
    tokens: str,
) -> None:
    install(site, _lying_plugin(cost, tokens))
    out = tmp_path / "out"
    many = brief(tmp_path, variants=6)  # 6 copy requests and 6 images, $0.12 at worst
    code, stdout, err = run_cli("run", many, "--provider", "acme", "--out", out, "--json",
                                "--max-cost", str(BUDGET), "--concurrency", "1")  # fmt: skip
    assert code == 1, err  # some ads were not generated: the budget ran out
    summary = json.loads(stdout)
    rows = _rows(out)
    assert len(rows) == round(BUDGET / WORST)  # five answers paid for, not twelve
    for paid, meta in rows:
        assert paid == WORST  # charged its worst case, never NaN or negative
        assert meta[USAGE_REJECTED].startswith("usage not believable (")
        assert "charged its worst case, $0.0100" in meta[USAGE_REJECTED]
    assert summary["cost_usd"] <= BUDGET + 1e-9
    assert "usage not believable" in err  # said, not only journalled
    assert "Traceback" not in err

    # The rerun reuses the five and pays nothing more (the budget is spent).
    code, stdout, err = run_cli("run", many, "--provider", "acme", "--out", out, "--json",
                                "--max-cost", str(BUDGET))  # fmt: skip
    assert code == 1, err
    assert json.loads(stdout)["cache_hits"] == len(rows)
    assert len(_rows(out)) == len(rows)


def test_a_huge_negative_usage_cannot_record_a_negative_cost(tmp_path: Path) -> None:
    """A batch line's usage of -1e8 tokens priced at the model's rates (-$300): the
    journal, which every answer passes, keeps the worst case instead."""
    request = Request("text", "m", {"prompt": "x"}, max_cost_usd=0.02)
    lying = Usage(input_tokens=-100_000_000, output_tokens=5, cost_usd=-300.0)
    journal = Journal(tmp_path)
    record = journal.record(request, Response("ok", output={"headline": "Hi"}, usage=lying), 1, "r")
    assert record.response.usage == Usage(cost_usd=0.02)
    (row,) = journal.rows()
    journal.close()
    assert (row["cost_usd"], row["input_tokens"]) == (0.02, 0)
    assert "input_tokens -100000000" in json.loads(row["meta"])[USAGE_REJECTED]


def test_an_edited_journal_is_not_believed_either(tmp_path: Path) -> None:
    """A row whose cost was changed by hand (to text, even) counts as its request's
    worst case when it is reused."""
    request = Request("text", "m", {"prompt": "x"}, max_cost_usd=0.03)
    journal = Journal(tmp_path)
    journal.record(
        request, Response("ok", output={"headline": "Hi"}, usage=Usage(1, 1, 0.001)), 1, "r"
    )
    journal.close()
    for edited in (-300.0, "nan", 1e12):
        with contextlib.closing(sqlite3.connect(tmp_path / "journal.sqlite")) as db, db:
            db.execute("UPDATE requests SET cost_usd=?", (edited,))
        journal = Journal(tmp_path)
        hit = journal.lookup(request.key, request.max_cost_usd)
        journal.close()
        assert hit is not None
        assert hit.response.usage.cost_usd == 0.03, edited
        assert USAGE_REJECTED in hit.response.meta


@pytest.mark.parametrize(
    "usage",
    [
        Usage(cost_usd=math.nan),
        Usage(cost_usd=-1e-9),
        Usage(output_tokens=-1),
        Usage(input_tokens=10**12),
        Usage(cost_usd=MAX_COST_USD * 2),
        Usage(cache_saved_usd=math.inf),
        Usage(input_tokens=1.5),  # type: ignore[arg-type]  # what a plugin may send
        Usage(input_tokens=True),  # a bool is no count
    ],
)
def test_every_impossible_number_is_caught(usage: Usage) -> None:
    checked, reason = checked_usage(usage, 0.07)
    assert checked == Usage(cost_usd=0.07)
    assert reason.startswith("usage not believable (")


def test_believable_usage_passes_unchanged() -> None:
    usage = Usage(1200, 300, 0.0042, 800, 100, -0.0001)  # a cache write can cost more
    assert checked_usage(usage, 0.01) == (usage, "")
