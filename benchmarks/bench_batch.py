"""Batch mode (``--mode batch``): cost per 1,000 ads by tier, and a 20,000-request wait.

    python benchmarks/bench_batch.py                      # both parts, as in README.md
    python benchmarks/bench_batch.py --ads 2000 --hold 5  # smaller and quicker

The fake Bedrock (tests/fakebedrock, with its batch jobs) and moto's S3 server run in
this process; adloom runs as a real child process, ``python -m adloom run ...``, as a
user would run it, with its stderr on a pseudo-terminal (so its live progress line is
drawn, as in a terminal).

1. Cost: one campaign of search ads (copy only, no images) with Amazon Nova Pro, the
   registry's model with a flex tier and batch prices, run three times into fresh
   folders: on-demand, ``--tier flex``, ``--mode batch``. Cost and tokens are the sums
   of the journal's ``requests`` rows (what adloom recorded for each answer).
2. Wait: an ``--ads``-request campaign (default 20,000) in batch mode with Claude
   Haiku 4.5 (the default text model). The fake holds the
   job InProgress (``batch_release`` gate file) for ``--hold`` seconds after it was
   submitted; meanwhile adloom's CPU time (/proc/PID/stat utime+stime), RSS
   (/proc/PID/status VmRSS, VmHWM) and its GetModelInvocationJob polls are sampled.
   Then the gate opens and the run goes on to the end (collect the answers, the
   workbook, the preview).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import pty
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from adloom.brief.read import read_campaign  # noqa: E402
from adloom.registry import load_registry  # noqa: E402
from adloom.run.plan import make_plan  # noqa: E402 - tests/ must be on the path first
from briefs import write_brief  # noqa: E402
from fakebedrock import Behaviour, FakeBedrock  # noqa: E402
from fakebedrock.batchjobs import ENDED  # noqa: E402
from fakebedrock.quotas import DEFAULTS  # noqa: E402
from s3server import S3Server  # noqa: E402
from workload import aws_env  # noqa: E402

NOVA_PRO = "amazon.nova-pro-v1:0"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # the default text model, as sent
ROLE = "arn:aws:iam::123456789012:role/adloom-batch"
TICK = 0.1  # seconds between samples of the child
CLK_TCK = os.sysconf("SC_CLK_TCK")


def brief(path: Path, requests: int, text_model: str, *, paced: bool = True) -> Path:
    """Search ads (copy only): ``requests`` / 4 products x 2 languages x 2 variants."""
    products = requests // 4
    campaign: dict[str, Any] = {
        "name": "Night Batch",
        "brand": "Lumen",
        "provider": "bedrock",
        "languages": "en, de",
        "placements": "google_rsa",
        "variants": 2,
        "text_model": text_model,
    }
    if not paced:  # a quota that never slows the on-demand runs: pacing does not change cost
        campaign[f"quota.{text_model}.tpm"] = "50000000"
    briefs = [{"id": f"p{i:05d}", "product": f"Product {i}", "message": f"Message {i}",
               "landing_url": f"https://example.com/p{i}"} for i in range(products)]  # fmt: skip
    return write_brief(path, campaign=campaign, briefs=briefs)


@dataclass
class World:
    fake: FakeBedrock
    s3: S3Server
    bucket: str
    tmp: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, **aws_env(self.fake.url), "AWS_ENDPOINT_URL_S3": self.s3.endpoint}

    def batch_args(self, poll: float) -> list[str]:
        return ["--mode", "batch", "--set", f"batch.s3_uri=s3://{self.bucket}/adloom",
                "--set", f"batch.role_arn={ROLE}",
                "--set", f"batch.poll_seconds={poll:g}"]  # fmt: skip


def adloom_command(brief_path: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "adloom", "run", str(brief_path), "--out", str(out),
            "--json", *extra]  # fmt: skip


def shown(command: list[str], world: World) -> str:
    """The command as a user would type it (paths of this run made short)."""
    text = " ".join(["adloom", *command[3:]])
    return text.replace(str(world.tmp) + "/", "").replace(world.bucket, "BUCKET")


# ------------------------------------------------------------------ part 1: cost


def journal_totals(out: Path) -> dict[str, float]:
    with sqlite3.connect(f"file:{out / 'journal.sqlite'}?mode=ro", uri=True) as db:
        n, tin, tout, cost = db.execute(
            "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cost_usd) "
            "FROM requests WHERE status = 'ok'"
        ).fetchone()
    return {"requests": n, "input": tin, "output": tout, "cost": cost}


def cost_part(world: World, ads: int) -> None:
    path = brief(world.tmp / "cost.xlsx", ads, NOVA_PRO, paced=False)
    runs = {"on-demand": [], "flex": ["--tier", "flex"], "batch": world.batch_args(0.05)}
    print(f"\n## Cost per 1,000 ads: {NOVA_PRO}, {ads} search ads (copy only)\n")
    print("| run | requests | input tokens | output tokens | journal cost | $ per 1,000 ads |")
    print("|---|---:|---:|---:|---:|---:|")
    commands = []
    for name, extra in runs.items():
        out = world.tmp / f"cost-{name}"
        command = adloom_command(path, out, *extra)
        commands.append(shown(command, world))
        proc = subprocess.run(command, check=False, env=world.env(), capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{name} run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        summary = json.loads(proc.stdout)
        t = journal_totals(out)
        per_k = t["cost"] / summary["variants"] * 1000
        print(f"| {name} (tiers {summary['tiers']}) | {t['requests']:,.0f} | {t['input']:,.0f} | "
              f"{t['output']:,.0f} | ${t['cost']:.4f} | **${per_k:.3f}** |")  # fmt: skip
    print("\ncommands:\n" + "\n".join(commands))


# ------------------------------------------------------------------ part 2: the wait


@dataclass
class Sample:
    at: float  # seconds since the child started
    cpu_s: float  # utime + stime of the child's main process (all its threads)
    rss_kb: int
    hwm_kb: int
    polls: int  # GetModelInvocationJob calls the fake has answered so far
    workers_cpu_s: float = 0.0  # the same, summed over its child processes (compose workers)
    workers_rss_kb: int = 0
    workers: int = 0


@dataclass
class Timeline:
    samples: list[Sample] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)

    def between(self, start: str, end: str) -> list[Sample]:
        return [s for s in self.samples if self.marks[start] <= s.at <= self.marks[end]]


def proc_stats(pid: int) -> tuple[float, int, int] | None:
    """(CPU seconds, VmRSS kB, VmHWM kB) of a live process; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)
    mem = {k: v for k, _, v in (line.partition(":") for line in status.splitlines())}
    if "VmRSS" not in mem:  # a zombie: exited, not yet waited for
        return None
    return cpu, int(mem["VmRSS"].split()[0]), int(mem["VmHWM"].split()[0])


def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started (adloom forks its compose workers at the start)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def sample(pid: int, at: float, polls: int) -> Sample | None:
    main = proc_stats(pid)
    if main is None:
        return None
    workers = [w for w in map(proc_stats, descendants(pid)) if w is not None]
    return Sample(at, *main, polls, sum(w[0] for w in workers), sum(w[1] for w in workers),
                  len(workers))  # fmt: skip


def drain(fd: int, sink: list[bytes]) -> None:
    """Read the child's terminal until it closes (a full pty would block the child)."""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        sink.append(data)


def job_status(fake: FakeBedrock) -> str:
    with fake.state.lock:
        statuses = [job.status for job in fake.state.jobs.values()]
    return statuses[0] if statuses else ""


def quota_bound(path: Path) -> tuple[int, int, int]:
    """(requests, tokens they reserve on-demand, registry TPM) for the brief's copy."""
    from adloom.engine.quotas import Quotas
    from adloom.providers import ProviderConfig
    from adloom.providers.bedrock import BedrockProvider

    registry = load_registry()
    plan = make_plan(read_campaign(path), registry, "bedrock")
    bedrock = BedrockProvider(ProviderConfig(registry=registry))
    quota = Quotas(registry).for_model(HAIKU)
    reserved = sum(quota.reserved(bedrock.text_request(job)) for job in plan.copy_jobs)
    info = registry.find(HAIKU)
    assert info is not None
    return len(plan.copy_jobs), int(reserved), info.tpm


def collected(out: Path) -> bool:
    """Has adloom's waiter read every answer of the job back into the journal?"""
    try:
        with sqlite3.connect(f"file:{out / 'journal.sqlite'}?mode=ro", uri=True) as db:
            return bool(db.execute("SELECT 1 FROM batch_jobs WHERE collected = 1").fetchall())
    except sqlite3.OperationalError:  # not there yet, or busy: the next tick tells
        return False


def run_held(
    world: World, command: list[str], out: Path, hold: float, gate: Path
) -> tuple[Timeline, dict[str, Any]]:
    """Run adloom, hold its job ``hold`` seconds after submission, then let it finish."""
    line: Timeline = Timeline()
    master, slave = pty.openpty()
    start = time.monotonic()
    child = subprocess.Popen(command, env=world.env(), stdout=subprocess.PIPE, stderr=slave,
                             stdin=subprocess.DEVNULL, text=True)  # fmt: skip
    os.close(slave)
    screen: list[bytes] = []
    reader = threading.Thread(target=drain, args=(master, screen), daemon=True)
    reader.start()
    stdout: list[str] = []
    out_reader = threading.Thread(
        target=lambda: stdout.append(child.stdout.read() if child.stdout else ""), daemon=True
    )
    out_reader.start()
    fake = world.fake
    while True:
        now = time.monotonic() - start
        polls = len(fake.calls("get_model_invocation_job"))
        taken = sample(child.pid, now, polls)
        if taken is None:
            break
        line.samples.append(taken)
        if "submitted" not in line.marks and fake.calls("create_model_invocation_job"):
            line.marks["submitted"] = now
        held = now - line.marks.get("submitted", now)
        if "submitted" in line.marks and "released" not in line.marks and held >= hold:
            line.marks["released"] = now
            gate.touch()
        if "released" in line.marks and "ended" not in line.marks and job_status(fake) in ENDED:
            line.marks["ended"] = now
        if "ended" in line.marks and "collected" not in line.marks and collected(out):
            line.marks["collected"] = now
        time.sleep(TICK)
    _pid, status, usage = os.wait4(child.pid, 0)
    line.marks["exit"] = time.monotonic() - start
    line.marks.setdefault("collected", line.marks["exit"])  # read and delivered within a tick
    # The job's last poll is the one that saw it ended (the waiter stops there).
    last = len(fake.calls("get_model_invocation_job"))
    line.marks["seen"] = next((s.at for s in line.samples if s.polls >= last), line.marks["exit"])
    child.returncode = os.waitstatus_to_exitcode(status)
    out_reader.join(timeout=10)
    reader.join(timeout=2)
    os.close(master)
    line.marks["maxrss_kb"] = usage.ru_maxrss
    line.marks["cpu_total"] = usage.ru_utime + usage.ru_stime
    if child.returncode != 0:
        tail = b"".join(screen)[-3000:].decode(errors="replace")
        raise SystemExit(f"adloom failed ({child.returncode}):\n{tail}")
    summary: dict[str, Any] = json.loads(stdout[0])
    return line, summary


def wait_part(world: World, ads: int, hold: float, poll: float) -> None:
    path = brief(world.tmp / "wait.xlsx", ads, HAIKU)
    gate = world.tmp / "release"
    # A fresh log and no jobs: every count below is this run's.
    world.fake.reset(Behaviour(batch_s3_endpoint=world.s3.endpoint, batch_release=str(gate)))
    requests, reserved, tpm = quota_bound(path)
    out = world.tmp / "wait-out"
    command = adloom_command(path, out, *world.batch_args(poll))
    line, summary = run_held(world, command, out, hold, gate)
    m = line.marks
    held = line.between("submitted", "released")
    cpu_held = held[-1].cpu_s - held[0].cpu_s
    span = held[-1].at - held[0].at
    polls_held = held[-1].polls  # the fake was reset: every poll came after the submission
    print(f"\n## Batch wait: {requests:,} copy requests ({HAIKU}), held {hold:g} s\n")
    print(f"command: {shown(command, world)}")
    jobs = [(j["status"], j["records"], j["answered"]) for j in summary["batch_jobs"]]
    print(f"summary: variants {summary['variants']}, tiers {summary['tiers']}, jobs {jobs}")
    print("\n| phase | wall (s) |\n|---|---:|")
    print(f"| start, read, plan, upload, submit | {m['submitted']:.1f} |")
    print(f"| held InProgress (the gate) | {m['released'] - m['submitted']:.1f} |")
    print(f"| the fake answers {requests:,} records, writes outputs | "
          f"{m['ended'] - m['released']:.1f} |")  # fmt: skip
    print(f"| until adloom's next poll sees it ended | {m['seen'] - m['ended']:.1f} |")
    print(f"| read {requests:,} answers from S3, check and journal them | "
          f"{m['collected'] - m['seen']:.1f} |")  # fmt: skip
    print(f"| hand them on, lint, deliver (workbook, preview, exports), exit | "
          f"{m['exit'] - m['collected']:.1f} |")  # fmt: skip
    print(f"| **total** | **{m['exit']:.1f}** |")
    rss = [s.rss_kb for s in held]
    print(f"\nduring the held wait ({span:.1f} s sampled): CPU {cpu_held:.2f} s "
          f"= {cpu_held / span * 60:.2f} CPU s per minute; RSS {min(rss) / 1024:.0f}-"
          f"{max(rss) / 1024:.0f} MB; VmHWM so far {held[-1].hwm_kb / 1024:.0f} MB; "
          f"GetModelInvocationJob polls {polls_held}")  # fmt: skip
    workers_cpu = held[-1].workers_cpu_s - held[0].workers_cpu_s
    print(f"its {held[-1].workers} worker process(es) meanwhile: CPU {workers_cpu:.2f} s, "
          f"RSS {held[-1].workers_rss_kb / 1024:.0f} MB (summed; pages shared with the "
          "parent count in each)")  # fmt: skip
    # When the poll count went up (a tick may see two: then the time is listed twice).
    times = [
        s.at - m["submitted"]
        for a, s in itertools.pairwise([Sample(0, 0, 0, 0, 0), *held])
        for _ in range(s.polls - a.polls)
    ]
    print("poll times after submission (s, sampled every 0.1 s): "
          + ", ".join(f"{t:.1f}" for t in times))  # fmt: skip
    print(f"whole run: CPU {m['cpu_total']:.1f} s, peak RSS (ru_maxrss) "
          f"{m['maxrss_kb'] / 1024:.0f} MB; total polls {line.samples[-1].polls}")  # fmt: skip
    account = 2 * DEFAULTS[HAIKU.removeprefix("us.")]  # the fake's: a profile gets twice
    print(f"\non-demand quota bound: {reserved:,} tokens reserved (input + maxTokens) / "
          f"{tpm:,} TPM (registry) = {reserved / tpm:.1f} min; at the fake account's "
          f"{account:,} TPM (us. profile): {reserved / account:.1f} min")  # fmt: skip
    used = journal_totals(out)
    print(f"tokens used (journal, input + output): {used['input'] + used['output']:,.0f} = "
          f"{(used['input'] + used['output']) / tpm:.1f} min at {tpm:,} TPM")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cost-ads", type=int, default=1000, help="ads in the cost campaign")
    parser.add_argument("--ads", type=int, default=20_000, help="copy requests in the wait run")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds the job is held")
    parser.add_argument("--poll", type=float, default=0.5, help="batch.poll_seconds")
    parser.add_argument("--only", choices=("cost", "wait"), help="one part only")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    s3 = S3Server()
    behaviour = Behaviour(batch_s3_endpoint=s3.endpoint)
    with FakeBedrock(behaviour) as fake, tempfile.TemporaryDirectory() as tmp:
        bucket = s3.bucket().name
        world = World(fake, s3, bucket, Path(tmp))
        try:
            if args.only != "wait":
                cost_part(world, args.cost_ads)
            if args.only != "cost":
                wait_part(world, args.ads, args.hold, args.poll)
        finally:
            s3.stop()
        assert not fake.state.errors, fake.state.errors


if __name__ == "__main__":
    main()
