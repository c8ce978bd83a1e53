"""``--mode``: how a run decides on batch jobs, and how requests are split into jobs.

The batch jobs themselves (S3, the fake's control plane) are in test_batch_run.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adloom.errors import ExitCode
from adloom.providers.base import BatchLimits, Request
from adloom.run.batching import content_digest, split
from briefs import write_brief
from fakebedrock import FakeBedrock
from test_cli import run_json as adloom


def brief(tmp_path: Path, products: int = 2, **campaign: Any) -> Path:
    return write_brief(
        tmp_path / "brief.xlsx",
        campaign={"name": "Batch Mode", "brand": "Lumen", "languages": "en",
                  "placements": "google_rsa", "variants": 2, **campaign},
        briefs=[{"id": f"p{i:02d}", "product": f"Product {i}", "message": f"Message {i}",
                 "landing_url": f"https://example.com/p{i}"} for i in range(products)],
    )  # fmt: skip


def requests(n: int, text: str = "x") -> list[Request]:
    return [Request("text", "m", {"messages": [{"i": i, "t": text}]}) for i in range(n)]


# ------------------------------------------------------------------ splitting into jobs


def test_one_job_holds_everything_within_the_limits() -> None:
    reqs = requests(150)
    jobs = split(reqs, BatchLimits(min_records=100, max_records=50_000, max_bytes=10**9))
    assert jobs == [reqs]


def test_jobs_are_even_so_none_falls_below_the_minimum() -> None:
    limits = BatchLimits(min_records=100, max_records=1000, max_bytes=10**9)
    jobs = split(requests(1001), limits)
    # 1000 + 1 would leave a job of one record, which the service refuses.
    assert [len(j) for j in jobs] == [501, 500]
    assert [r for j in jobs for r in j] == requests(1001)  # order kept, nothing lost


def test_the_input_file_size_splits_too() -> None:
    reqs = requests(300, text="y" * 1000)
    line = len(json.dumps({"recordId": reqs[0].key, "modelInput": reqs[0].body})) + 1
    limits = BatchLimits(min_records=10, max_records=50_000, max_bytes=line * 120)
    jobs = split(reqs, limits)
    assert len(jobs) == 3
    assert all(len(j) * line <= limits.max_bytes for j in jobs)
    assert sum(len(j) for j in jobs) == 300


def test_a_job_is_named_by_its_content() -> None:
    keys = [r.key for r in requests(3)]
    assert content_digest("m", keys) == content_digest("m", list(keys))
    assert content_digest("m", keys) != content_digest("m", keys[::-1])
    assert content_digest("m", keys) != content_digest("n", keys)


# ------------------------------------------------------------------ choosing the mode


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    code, _, text = adloom("run", str(brief(tmp_path)), "--mode", "nightly")
    assert code == ExitCode.BAD_INPUT
    assert "nightly" in text


def test_a_bad_mode_setting_is_named_at_its_cell(tmp_path: Path) -> None:
    path = brief(tmp_path, mode="overnight", provider="draft")
    code, _, text = adloom("run", str(path), "--out", str(tmp_path / "o"))
    assert code == ExitCode.BAD_INPUT
    assert "Campaign!" in text
    assert 'mode "overnight"' in text
    assert not (tmp_path / "o").exists()


def test_batch_on_the_draft_provider_is_refused_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, _, text = adloom("run", str(brief(tmp_path)), "--provider", "draft", "--mode", "batch",
                           "--out", str(out))  # fmt: skip
    assert code == ExitCode.BAD_INPUT
    assert "draft provider has no batch jobs" in text
    assert "--mode on-demand" in text
    assert not out.exists()


def test_auto_on_the_draft_provider_runs_on_demand_and_says_why(tmp_path: Path) -> None:
    code, data, text = adloom("run", str(brief(tmp_path)), "--provider", "draft", "--mode", "auto",
                              "--out", str(tmp_path / "o"), "--json")  # fmt: skip
    assert code == ExitCode.OK
    assert "--mode auto: copy goes on-demand" in text
    assert data["variants"] == 4
    assert "batch_jobs" not in data


@pytest.mark.parametrize(
    ("option", "named"),
    [
        (("--guardrail", "gr123:1"), "--guardrail"),
        (("--latency", "optimized"), "--latency optimized"),
        (("--tier", "flex"), "--tier flex"),
    ],
)
def test_on_demand_only_options_cannot_go_in_a_batch_job(
    fake_bedrock: FakeBedrock, tmp_path: Path, option: tuple[str, str], named: str
) -> None:
    code, _, text = adloom("run", str(brief(tmp_path)), "--provider", "bedrock", "--mode", "batch",
                           *option, "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == ExitCode.BAD_INPUT
    assert f"{named} cannot go in a batch job" in text
    assert fake_bedrock.requests == []  # refused before anything was asked or sent


def test_auto_without_batch_settings_stays_on_demand(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    path = brief(tmp_path)
    code, data, text = adloom("run", str(path), "--provider", "bedrock", "--mode", "auto",
                              "--out", str(tmp_path / "o"), "--json")  # fmt: skip
    assert code == ExitCode.OK
    assert "no batch.s3_uri or batch.role_arn setting" in text
    assert len(fake_bedrock.calls("converse")) == data["model_calls"]["text"] >= 4


def test_plan_prices_on_demand_and_batch_side_by_side(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    code, data, _ = adloom("plan", str(brief(tmp_path)), "--provider", "bedrock", "--json")
    assert code == ExitCode.OK
    by_mode = data["cost_usd_max_by_mode"]
    assert by_mode["batch"] < by_mode["on-demand"] == data["cost_usd_max"]
    assert by_mode["batch_min_records"] >= 1
    assert fake_bedrock.calls("converse") == []


def test_jobs_of_a_folder_without_a_journal_is_refused(tmp_path: Path) -> None:
    code, _, text = adloom("jobs", str(tmp_path))
    assert code == ExitCode.BAD_INPUT
    assert "no journal.sqlite here" in text


def test_jobs_of_an_on_demand_run_lists_none(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, _, _ = adloom("run", str(brief(tmp_path)), "--provider", "draft", "--out", str(out))
    assert code == ExitCode.OK
    code, data, _ = adloom("jobs", str(out), "--json")
    assert code == ExitCode.OK
    assert data["jobs"] == []
    code, _, text = adloom("jobs", str(out))
    assert "No batch jobs" in text


def test_models_say_which_take_batch_and_at_what_price() -> None:
    code, _, text = adloom("models", "--json")
    assert code == ExitCode.OK
    rows = {row["id"]: row for row in json.loads(text)}
    haiku = rows["anthropic.claude-haiku-4-5-20251001-v1:0"]
    assert haiku["batch"]["input_per_m"] < haiku["price"]["input_per_m"]
    assert rows["cohere.command-r-v1:0"]["batch"] is None
    assert rows["stability.stable-image-core-v1:1"]["batch"] is None  # images: on-demand
