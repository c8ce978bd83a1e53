"""adloom's engine against what users would write instead, on the same Bedrock workload.

    python benchmarks/bench.py            # everything; prints the tables for README.md

Against the fake Bedrock (tests/fakebedrock, run as its own process) with latency and
per-model quotas that throttle like the service (429 "Too many tokens"); time is
compressed (see workload.py). Measured, each on a fresh fake:

- generation, side by side: adloom's engine (quota set right, and set 2x too high);
  a sequential boto3 loop; ThreadPoolExecutor(16) with boto3's default retries;
  LangChain ``ChatBedrockConverse.batch(..., max_concurrency=16)`` (text only: it has
  no image call);
- a rerun of the unchanged workload; a resume after kill -9 at about half-way;
- the local stages: compose vs raw Pillow, export of 10,000 variants (bench_local.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench_local
from adloom.engine import Engine, Outcome, Quotas, ScaledClock
from adloom.engine.journal import Journal
from adloom.providers.base import Request
from adloom.registry import load_registry
from workload import (
    CONCURRENCY,
    IMAGE_MODEL,
    IMAGE_MS,
    IPM,
    MS_PER_TOKEN,
    N_IMAGE,
    N_TEXT,
    SCALE,
    TEXT_BASE_MS,
    TEXT_MODEL,
    TPM,
    Fake,
    aws_env,
    fake_bedrock,
    point_boto3_at,
    provider,
    scale_botocore_backoff,
    workload,
)

BENCH = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Layout:
    """How a runner can overlap requests: its lower limit depends on it."""

    text: bool = True
    images: bool = True
    lanes: int = CONCURRENCY  # requests in flight at once (per model unless shared)
    shared: bool = False  # one pool for text and images


@dataclass(frozen=True)
class Row:
    name: str
    layout: Layout
    wall_s: float  # real seconds
    failed: int  # requests that ended in an error after all retries
    throttled: int  # 429 answers from the fake
    answered: int  # 200 answers from the fake (what is billed)
    requests: int  # the workload's requests this runner sent


@dataclass(frozen=True)
class Shape:
    """What the workload asks for, from the fake's own accounting of adloom's run."""

    reserved: int  # text: input + maxTokens, what the service holds at request start
    used: int  # text: input + output, what it keeps
    text_latency_s: float  # sum over text requests, simulated
    image_latency_s: float

    def bound(self, layout: Layout, *, usage: bool = False) -> float:
        """The lower limit: quota-bound (reserved tokens / TPM, images / IPM) or latency-bound.

        ``usage``: count the quota on the tokens used rather than reserved; the service
        gives back the unused part of a reservation when the answer ends.
        """
        tokens = self.used if usage else self.reserved
        quota = max(
            tokens / TPM * 60 if layout.text else 0.0,
            N_IMAGE / IPM * 60 if layout.images else 0.0,
        )
        latencies = [
            self.text_latency_s if layout.text else 0.0,
            self.image_latency_s if layout.images else 0.0,
        ]
        busiest = sum(latencies) if layout.shared else max(latencies)
        return max(quota, busiest / layout.lanes)


def quotas(tpm: int) -> Quotas:
    settings = {f"quota.{TEXT_MODEL}.tpm": str(tpm), f"quota.{IMAGE_MODEL}.ipm": str(IPM)}
    return Quotas(load_registry(), settings)


def run_engine(requests: Sequence[Request], out: Path, tpm: int = TPM) -> tuple[Engine, float]:
    engine = Engine(
        provider(),
        Journal(out),
        run_id=f"bench-{time.time_ns()}",
        concurrency=CONCURRENCY,
        quotas=quotas(tpm),
        clock=ScaledClock(SCALE),  # its back-off and pacing on the bench clock
    )
    failed: list[Outcome] = []
    started = time.perf_counter()
    engine.run(requests, lambda o: failed.append(o) if o.status != "ok" else None)
    wall = time.perf_counter() - started
    assert not failed, failed[:3]
    return engine, wall


def boto3_call(client: Any, request: Request) -> bool:
    """One request as a user's script sends it; False when it fails after boto3's retries."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if request.kind == "text":
            client.converse(modelId=request.model, **request.body)
        else:
            answer = client.invoke_model(
                modelId=request.model,
                body=json.dumps(request.body),
                contentType="application/json",
                accept="application/json",
            )
            json.loads(answer["body"].read())
    except (ClientError, BotoCoreError):
        return False
    return True


def run_sequential(requests: Sequence[Request]) -> int:
    import boto3

    client = boto3.client("bedrock-runtime")
    return sum(not boto3_call(client, r) for r in requests)


def run_threadpool(requests: Sequence[Request]) -> int:
    import boto3

    client = boto3.client("bedrock-runtime")
    with ThreadPoolExecutor(16) as pool:
        return sum(not ok for ok in pool.map(lambda r: boto3_call(client, r), requests))


def run_langchain(requests: Sequence[Request]) -> int:
    """``ChatBedrockConverse.batch`` with the same system/user prompts and request config."""
    from langchain_aws import ChatBedrockConverse
    from langchain_core.messages import HumanMessage, SystemMessage

    groups: dict[str, list[Request]] = {}
    for r in requests:
        config = {k: r.body[k] for k in ("inferenceConfig", "outputConfig") if k in r.body}
        groups.setdefault(json.dumps(config, sort_keys=True), []).append(r)
    failed = 0
    for config_json, group in groups.items():
        llm = ChatBedrockConverse(model=TEXT_MODEL, region_name="us-east-1")
        bound = llm.bind(**json.loads(config_json))
        inputs = [
            [
                SystemMessage(r.body["system"][0]["text"]),
                HumanMessage(r.body["messages"][0]["content"][0]["text"]),
            ]
            for r in group
        ]
        answers = bound.batch(
            inputs,  # type: ignore[arg-type]
            config={"max_concurrency": 16},
            return_exceptions=True,
        )
        failed += sum(isinstance(a, Exception) for a in answers)
    return failed


def retry_settings() -> dict[str, Any]:
    """What the peers retry with, left at their defaults."""
    import boto3
    from langchain_aws import ChatBedrockConverse

    llm = ChatBedrockConverse(model=TEXT_MODEL, region_name="us-east-1")
    return {
        "boto3": boto3.client("bedrock-runtime").meta.config.retries,
        "langchain-aws": llm.client.meta.config.retries,
    }


def measure(
    name: str,
    layout: Layout,
    requests: Sequence[Request],
    run: Callable[[Sequence[Request]], int],
    *,
    workdir: Path,
) -> Row:
    with fake_bedrock(workdir, name) as fake:
        point_boto3_at(fake.url)
        started = time.perf_counter()
        failed = run(requests)
        wall = time.perf_counter() - started
        return row(name, layout, fake, wall, failed=failed, n=len(requests))


def row(name: str, layout: Layout, fake: Fake, wall: float, *, failed: int, n: int) -> Row:
    statuses = Counter(e["status"] for e in fake.answered())
    return Row(name, layout, wall, failed, statuses[429], statuses[200], n)


def shape_of(journal: Journal, requests: Sequence[Request]) -> Shape:
    max_tokens = {r.key: r.max_tokens for r in requests}
    reserved = used = 0
    latency = 0.0
    for r in journal.rows():
        if r["kind"] != "text":
            continue
        reserved += r["input_tokens"] + max_tokens[r["key"]]
        used += r["input_tokens"] + r["output_tokens"]
        latency += (TEXT_BASE_MS + MS_PER_TOKEN * r["output_tokens"]) / 1000
    return Shape(reserved, used, latency, N_IMAGE * IMAGE_MS / 1000)


# --------------------------------------------------------------- rerun and resume


def journal_rows(out: Path) -> int:
    try:
        with sqlite3.connect(f"file:{out / 'journal.sqlite'}?mode=ro", uri=True) as db:
            count: int = db.execute("SELECT count(*) FROM requests").fetchone()[0]
            return count
    except sqlite3.OperationalError:
        return 0


def resume_child(out: Path) -> None:
    """In a child process: the engine on the workload (the parent kills it half-way)."""
    run_engine(workload(provider()), out)


def resume_after_kill(workdir: Path, requests: Sequence[Request]) -> dict[str, Any]:
    out = workdir / "resume"
    with fake_bedrock(workdir, "resume") as fake:
        child = subprocess.Popen(
            [sys.executable, __file__, "--resume-child", str(out)],
            env={**os.environ, **aws_env(fake.url), "PYTHONPATH": str(BENCH)},
        )
        half = len(requests) // 2
        while journal_rows(out) < half and child.poll() is None:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait()
        kept = journal_rows(out)
        at_kill = len(fake.answered())
        point_boto3_at(fake.url)
        engine, _ = run_engine(requests, out)
        paid = Counter(e["body"] for e in fake.answered() if e["status"] == 200)
    return {
        "killed_at_rows": kept,
        "answered_before_kill": at_kill,
        "resumed_calls": sum(engine.stats.calls.values()),
        "reused": engine.stats.cache_hits,
        "paid": sum(paid.values()),
        "unique": len(paid),
        "extra_paid": sum(paid.values()) - len(paid),
        "in_flight_bound": 2 * CONCURRENCY,
    }


# --------------------------------------------------------------- report


def table(rows: Sequence[Row], shape: Shape) -> str:
    lines = [
        "| runner | requests | wall (sim s) | lower limit (sim s) | ratio | ratio, quota on usage "
        "| throttled | failed after retries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        sim = r.wall_s * SCALE
        lower, usage = shape.bound(r.layout), shape.bound(r.layout, usage=True)
        # A runner that gave up on requests finished early by not doing them: its ratios
        # are shown in brackets, they do not measure speed.
        ratios = [f"{lower / sim:.2f}", f"{usage / sim:.2f}"]
        if r.failed:
            ratios = [f"({x})" for x in ratios]
        lines.append(
            f"| {r.name} | {r.requests} | {sim:.0f} | {lower:.0f} | {ratios[0]} | {ratios[1]} | "
            f"{r.throttled} ({100 * r.throttled / r.requests:.1f}%) | {r.failed} |"
        )
    return "\n".join(lines)


def main() -> None:
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # "connection pool is full" noise
    scale_botocore_backoff()
    requests = workload(provider())
    texts = [r for r in requests if r.kind == "text"]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="adloom-bench-") as tmp:
        workdir = Path(tmp)

        with fake_bedrock(workdir, "adloom") as fake:
            point_boto3_at(fake.url)
            engine, wall = run_engine(requests, workdir / "adloom")
            shape = shape_of(engine.journal, requests)
            name = "adloom (quota set right)"
            rows.append(row(name, Layout(), fake, wall, failed=0, n=len(requests)))
            started = time.perf_counter()
            again, _ = run_engine(requests, workdir / "adloom")
            rerun = {
                "wall_s": time.perf_counter() - started,
                "first_wall_s": wall,
                "calls": sum(again.stats.calls.values()),
                "fake_saw": len(fake.answered()) - rows[0].answered - rows[0].throttled,
            }

        with fake_bedrock(workdir, "adloom-wrong") as fake:
            point_boto3_at(fake.url)
            _, wall = run_engine(requests, workdir / "adloom-wrong", tpm=2 * TPM)
            name = "adloom (quota set 2x too high)"
            rows.append(row(name, Layout(), fake, wall, failed=0, n=len(requests)))

        peers = [
            ("boto3, sequential loop", Layout(lanes=1, shared=True), requests, run_sequential),
            ("boto3, ThreadPoolExecutor(16)", Layout(shared=True), requests, run_threadpool),
            ("LangChain batch(16), text only", Layout(images=False), texts, run_langchain),
        ]
        for peer in peers:
            rows.append(measure(*peer, workdir=workdir))
            print(table(rows[-1:], shape), file=sys.stderr, flush=True)  # progress

        print(f"## Generation: {N_TEXT} copy + {N_IMAGE} image requests\n")
        print(f"Peers' retry settings: {retry_settings()}\n")
        print(table(rows, shape))
        print(
            f"\nText reserved {shape.reserved:,} tokens (input + maxTokens), used "
            f"{shape.used:,} (input + output): at {TPM:,} TPM, {shape.reserved / TPM * 60:.0f} "
            f"s reserved, {shape.used / TPM * 60:.0f} s used.",
            flush=True,
        )
        resume = resume_after_kill(workdir, requests)
        print("\n## Rerun and resume\n")
        print(json.dumps({"rerun": rerun, "resume": resume}, indent=2), flush=True)
        local = bench_local.measure(sorted((workdir / "adloom" / "masters").rglob("*.png")))
        print("\n## Local stages\n")
        print(json.dumps(local, indent=2), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--resume-child", type=Path)
    args = parser.parse_args()
    if args.resume_child:
        resume_child(args.resume_child)
    else:
        main()
