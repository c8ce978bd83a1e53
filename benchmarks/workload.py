"""The benchmark's world: a compressed clock, the fake Bedrock as a process, the workload.

Time is compressed SCALE times, consistently everywhere: the fake's latencies are
divided by SCALE and its quotas multiplied by SCALE (so a quota "minute" lasts 60 /
SCALE real seconds, burst included); adloom runs on a ``ScaledClock(SCALE)``; and
botocore's own retry back-off (the peers' retries) sleeps SCALE times shorter. All
ratios (wall time to lower limit, throttled share) are those of the uncompressed
setting; absolute times are reported in simulated seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from adloom.brief.placements import builtin_placements
from adloom.model import Audience, BrandKit, Brief, Campaign, Settings
from adloom.providers import ProviderConfig
from adloom.providers.base import Request
from adloom.providers.bedrock import BedrockProvider
from adloom.registry import load_registry
from adloom.run.plan import make_plan

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"

# Simulated seconds per real second. Higher would load the fake (a Python process on
# this 2-core machine) so much that its own CPU time, not the quota, set the pace.
SCALE = 20.0
TEXT_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
IMAGE_MODEL = "stability.stable-image-core-v1:1"  # the registry's default
# Tokens per (simulated) minute for the text model, as the fake enforces it: small
# enough that the workload takes several quota-minutes, far more than one burst.
TPM = 50_000
IPM = 60  # images per minute for the image model (twice the registry's default of 30)
BURST_S = 60.0  # the fake accepts a whole minute's quota in one burst, as a service may
TEXT_BASE_MS = 400.0  # simulated text latency: base + per output token
MS_PER_TOKEN = 8.0
IMAGE_MS = 4000.0  # simulated image latency
CONCURRENCY = 16  # adloom per model; the peers' pools
N_TEXT, N_IMAGE = 1000, 100


@dataclass(frozen=True)
class Fake:
    url: str
    log: Path
    proc: subprocess.Popen[str]

    def answered(self) -> list[dict[str, Any]]:
        """Every runtime request the fake answered so far (op, model, status, body hash)."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@contextmanager
def fake_bedrock(workdir: Path, name: str) -> Iterator[Fake]:
    """A fresh fake process (full quota buckets, empty log) for one measurement."""
    log = workdir / f"{name}.answered.jsonl"
    log.unlink(missing_ok=True)
    config = workdir / f"{name}.fake.json"
    config.write_text(
        json.dumps(
            {
                "text_latency_ms": TEXT_BASE_MS / SCALE,
                "ms_per_output_token": MS_PER_TOKEN / SCALE,
                "image_latency_ms": IMAGE_MS / SCALE,
                "quotas": {
                    TEXT_MODEL.removeprefix("us."): int(TPM * SCALE),
                    IMAGE_MODEL: int(IPM * SCALE),
                },
                "burst_seconds": BURST_S / SCALE,
                "request_log": str(log),
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakebedrock", "--config", str(config)],
        cwd=TESTS,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = json.loads(proc.stdout.readline())["url"]
    try:
        yield Fake(url, log, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def aws_env(url: str) -> dict[str, str]:
    """Dummy credentials and the endpoint variables boto3 reads; nothing of the user's."""
    return {
        "AWS_ACCESS_KEY_ID": "AKIAFAKEADLOOMBENCH1",
        "AWS_SECRET_ACCESS_KEY": "fake-secret-never-sent",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url,
        "AWS_ENDPOINT_URL_BEDROCK": url,
        "AWS_ENDPOINT_URL_SERVICE_QUOTAS": url,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def point_boto3_at(url: str) -> None:
    for name in ("AWS_PROFILE", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        os.environ.pop(name, None)
    os.environ.update(aws_env(url))


class ScaledTime:
    """``time`` for botocore's endpoint module: its retry back-off sleeps on the bench clock."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def sleep(self, seconds: float) -> None:
        self._real.sleep(seconds / SCALE)


def scale_botocore_backoff() -> None:
    import botocore.endpoint

    botocore.endpoint.time = ScaledTime(time)  # type: ignore[attr-defined]


def campaign() -> Campaign:
    """84 briefs x 2 languages x 3 variants x 2 copy formats: 1,008 copy jobs."""
    briefs = tuple(
        Brief(
            id=f"p{i:02d}",
            product=f"Product {i}",
            message=f"The everyday upgrade number {i}",
            audiences=("shoppers",),
            benefits=("Lighter", "Lasts longer", "Made to be repaired"),
            cta="Shop now",
            landing_url=f"https://example.com/p{i}",
        )
        for i in range(84)
    )
    settings = Settings(
        name="Bench",
        brand="Lumen",
        languages=("en", "ja"),
        variants=3,
        placements=("meta_feed", "display_300x250"),
        text_model=TEXT_MODEL,
        image_model=IMAGE_MODEL,
        provider="bedrock",
    )
    return Campaign(
        settings=settings,
        briefs=briefs,
        audiences={"shoppers": Audience("shoppers", "people who shop online")},
        brand=BrandKit(),
        placements=builtin_placements(),
        source=Path("bench.xlsx"),
    )


def provider() -> BedrockProvider:
    return BedrockProvider(ProviderConfig(registry=load_registry()))


def workload(bedrock: BedrockProvider) -> list[Request]:
    """N_TEXT copy requests and N_IMAGE master-image requests, as adloom builds them."""
    plan = make_plan(campaign(), bedrock.registry, "bedrock")
    texts = [bedrock.text_request(job) for job in plan.copy_jobs][:N_TEXT]
    images = [bedrock.image_request(job) for job in plan.image_jobs][:N_IMAGE]
    assert len(texts) == N_TEXT
    assert len(images) == N_IMAGE
    return [*images, *texts]
