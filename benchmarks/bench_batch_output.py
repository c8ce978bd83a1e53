"""Reading a hostile batch job's output: adloom's peak memory (issue 21.3).

    python benchmarks/bench_batch_output.py                       # this checkout
    python benchmarks/bench_batch_output.py --src /work/main/src  # another adloom

A 120-request campaign (search ads, copy only) runs with ``--mode batch`` against the
fake Bedrock and moto's S3 server (both in this process); the fake writes, before the
job's own 120 answers in its output file, either one line of ``--line-mb`` MB or
``--junk`` lines of junk. adloom runs as a child process (``python -m adloom run``,
``PYTHONPATH`` the ``--src`` given); its peak resident memory is the kernel's
(``ru_maxrss`` of ``wait4``, taken by a small parent process), with the wall time,
the exit code and the lines the run says it skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from briefs import write_brief  # noqa: E402 - tests/ must be on the path first
from fakebedrock import Behaviour, FakeBedrock  # noqa: E402
from s3server import S3Server  # noqa: E402
from workload import aws_env  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/adloom-batch"
# Runs argv[1:], writes its peak RSS in kB (wait4's ru_maxrss) to $ADLOOM_BENCH_RUSAGE,
# exits with its code.
_WRAPPER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(proc.pid, 0)
open(os.environ["ADLOOM_BENCH_RUSAGE"], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def brief(folder: Path) -> Path:
    return write_brief(
        folder / "brief.xlsx",
        campaign={"name": "Output Bench", "brand": "Lumen", "provider": "bedrock",
                  "placements": "google_rsa", "variants": 2},
        briefs=[{"id": f"p{i:03d}", "product": f"Product {i}", "message": f"Message {i}",
                 "landing_url": f"https://example.com/p{i}"} for i in range(60)],
    )  # fmt: skip


def run(src: str, fake: FakeBedrock, s3: S3Server, folder: Path) -> dict[str, object]:
    bucket = s3.bucket().name
    env = {**os.environ, **aws_env(fake.url), "AWS_ENDPOINT_URL_S3": s3.endpoint,
           "PYTHONPATH": src, "XDG_CACHE_HOME": str(folder / "cache"),
           "ADLOOM_BENCH_RUSAGE": str(folder / "rusage")}  # fmt: skip
    command = [sys.executable, "-m", "adloom", "run", str(brief(folder)), "--out",
               str(folder / "out"), "--json", "--mode", "batch",
               "--set", f"batch.s3_uri=s3://{bucket}/adloom", "--set", f"batch.role_arn={ROLE}",
               "--set", "batch.poll_seconds=0.05"]  # fmt: skip
    started = time.monotonic()
    # Through a small Python parent: a child forked from this process (which holds the
    # fake's and S3's hundreds of MB) counts them in its ru_maxrss until it execs.
    with (folder / "stdout").open("w") as out, (folder / "stderr").open("w") as err:
        code = subprocess.run([sys.executable, "-c", _WRAPPER, *command], env=env,
                              stdout=out, stderr=err, check=False).returncode  # fmt: skip
    wall = time.monotonic() - started
    peak_kb = int(Path(env["ADLOOM_BENCH_RUSAGE"]).read_text())
    stdout = (folder / "stdout").read_text()
    summary = json.loads(stdout) if stdout.startswith("{") else {}
    jobs = summary.get("batch_jobs", [])
    told = [line for line in (folder / "stderr").read_text().splitlines() if "not be read" in line]
    return {
        "exit": code,
        "peak_mb": round(peak_kb / 1024),
        "wall_s": round(wall, 1),
        "answered": sum(j["answered"] for j in jobs),
        "skipped_lines": sum(j.get("skipped_lines", 0) for j in jobs),
        "said": told[0][:160] if told else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="the adloom to measure")
    parser.add_argument("--line-mb", type=int, default=300)
    parser.add_argument("--junk", type=int, default=2_000_000)
    args = parser.parse_args()
    s3 = S3Server()
    cases = {
        "none (baseline)": {},
        f"one {args.line_mb} MB line": {"batch_long_line_bytes": args.line_mb * 10**6},
        f"{args.junk:,} junk lines": {"batch_junk_lines": args.junk},
    }
    try:
        for name, fields in cases.items():
            behaviour = Behaviour(batch_s3_endpoint=s3.endpoint, batch_min_records=10, **fields)
            with FakeBedrock(behaviour) as fake, tempfile.TemporaryDirectory() as tmp:
                print(name, json.dumps(run(args.src, fake, s3, Path(tmp))), flush=True)
    finally:
        s3.stop()


if __name__ == "__main__":
    main()
