"""The ``--score`` judge is a model like the others (issue 16, point 3).

Against the fake Bedrock over HTTP: the judge passes the same start-up checks as the
copy and image models before the first paid call (lifecycle, the API it is served
through, the account's quotas, service tiers); a tier goes only to a judge that takes
it; a creative outside Converse's image limits is re-encoded or scaled down, and the
fake refuses one that is not, as the service does.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from adloom.cli import main
from adloom.console import Env
from adloom.errors import ExitCode
from adloom.providers import ProviderConfig
from adloom.providers.bedrock import BedrockProvider
from adloom.providers.bedrock.text import IMAGE_MAX_BYTES, IMAGE_MAX_SIDE, within_limits
from adloom.providers.judging import JudgeJob
from adloom.registry import load_registry
from conftest import user_environ
from fakebedrock import FakeBedrock
from fakebedrock.quotas import name_for

ROOT = Path(__file__).resolve().parents[1]
BRIEF = ROOT / "campaigns" / "spring-launch.xlsx"
HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"  # the default judge
SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
IMAGE = "stability.stable-image-core-v1:1"
SMALL = ("--set", "variants=1", "--set", "languages=en", "--set",
         "placements=meta_feed, google_rsa", "--set", f"quota.{IMAGE}.ipm=100000")  # fmt: skip
RUNTIME = ("converse", "invoke")


def adloom(*argv: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main([*argv, "--json"], env=Env(stdout=stdout, stderr=stderr, environ=user_environ()))
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def run(out: Path, *argv: str) -> tuple[int, dict[str, Any], str]:
    return adloom("run", str(BRIEF), "--provider", "bedrock", "--out", str(out), *SMALL, *argv)


def judge_calls(fake: FakeBedrock, judge: str) -> list[dict[str, Any]]:
    return [r.body for r in fake.calls("converse") if r.model.endswith(judge)]


def test_flex_copy_with_the_default_judge_scores_every_ad(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    """Nova Pro takes flex, the default judge (Claude Haiku 4.5) does not: the copy goes
    flex, the judge the default tier, said once; every ad is scored."""
    code, summary, err = run(
        tmp_path / "out", "--tier", "flex", "--score", "--text-model", NOVA_PRO
    )
    assert code == ExitCode.OK, err
    assert summary["scores"]["scored"] == summary["variants"] == 10
    copy = [r.body for r in fake_bedrock.calls("converse") if r.model.endswith(NOVA_PRO)]
    assert copy
    assert all(b["serviceTier"] == {"type": "flex"} for b in copy)
    judged = judge_calls(fake_bedrock, HAIKU45)
    assert len(judged) == 10
    assert all("serviceTier" not in b for b in judged)
    assert err.count(f'judge model "{HAIKU45}" does not offer the flex service tier') == 1
    assert summary["tiers"] == {"flex": len(copy), "default": 10}


def test_a_judge_that_takes_the_tier_is_asked_in_it(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    code, summary, err = run(
        tmp_path / "out", "--tier", "flex", "--score", "--text-model", NOVA_PRO,
        "--judge-model", NOVA_PRO, "--set", "placements=google_rsa",
    )  # fmt: skip
    assert code == ExitCode.OK, err
    assert "does not offer the flex service tier" not in err
    bodies = [r.body for r in fake_bedrock.calls("converse")]
    assert bodies
    assert all(b["serviceTier"] == {"type": "flex"} for b in bodies)
    assert summary["scores"]["scored"] == 5


def test_a_judge_past_end_of_life_stops_before_any_paid_call(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.lifecycle = {
        SONNET45: {"status": "LEGACY", "legacyTime": "2026-05-01", "endOfLifeTime": "2026-11-30"}
    }
    code, _, err = run(tmp_path / "out", "--score", "--judge-model", SONNET45)
    assert code == ExitCode.PROVIDER
    assert f'model "{SONNET45}" reached its end of life on Bedrock on 2026-11-30' in err
    assert f"Choose an active text model, e.g. --judge-model {HAIKU45}" in err
    assert [r for r in fake_bedrock.requests if r.op in RUNTIME] == []
    assert not (tmp_path / "out" / "journal.sqlite").exists()


def test_plan_checks_the_judge_too(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.behaviour.lifecycle = {
        SONNET45: {"status": "LEGACY", "endOfLifeTime": "2026-11-30"}
    }
    code, _, err = adloom("plan", str(BRIEF), "--provider", "bedrock", "--score",
                          "--judge-model", SONNET45)  # fmt: skip
    assert code == ExitCode.PROVIDER
    assert "reached its end of life" in err


def test_a_judge_served_outside_converse_is_refused_with_the_reason(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    code, _, err = run(tmp_path / "out", "--score", "--judge-model", "anthropic.claude-opus-4-7")
    assert code == ExitCode.PROVIDER
    assert 'judge_model: model "anthropic.claude-opus-4-7" cannot be used by adloom' in err
    assert "Anthropic Messages API endpoint" in err
    assert fake_bedrock.requests == []  # refused before even the control plane is asked


def test_the_judge_is_paced_at_the_accounts_own_quota(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    sent = f"us.{SONNET45}"
    fake_bedrock.behaviour.service_quotas[name_for(sent)] = 77_000
    code, summary, err = run(
        tmp_path / "out", "--score", "--judge-model", SONNET45, "--set", "placements=google_rsa"
    )
    assert code == ExitCode.OK, err
    quota = next(q for q in summary["quotas"] if q["model"] == sent)
    assert (quota["per_minute"], quota["source"]) == (77_000, "account")
    assert quota["detail"] == name_for(sent)
    assert len(judge_calls(fake_bedrock, SONNET45)) == 5


# ---------------------------------------------------------------- images within limits


def noise(size: tuple[int, int]) -> Image.Image:
    """A picture that compresses badly: random pixels."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def saved(image: Image.Image, path: Path, fmt: str = "PNG") -> Path:
    image.save(path, fmt)
    return path


def test_an_image_within_the_limits_is_sent_as_it_is(tmp_path: Path) -> None:
    path = saved(noise((64, 48)), tmp_path / "small.png")
    data = path.read_bytes()
    assert within_limits(data) == (data, "png", (64, 48))


def test_a_creative_over_the_limits_is_reencoded_and_scaled_within_them(tmp_path: Path) -> None:
    # Over 3.75 MB as PNG (random pixels) and over 8,000 px wide.
    path = saved(noise((8400, 420)), tmp_path / "wide.png")
    assert path.stat().st_size > IMAGE_MAX_BYTES
    data, fmt, size = within_limits(path.read_bytes())
    assert fmt == "jpeg"
    assert len(data) <= IMAGE_MAX_BYTES
    assert max(size) <= IMAGE_MAX_SIDE
    with Image.open(io.BytesIO(data)) as img:
        assert (img.format, img.size) == ("JPEG", size)
    assert size == (8000, 400)  # the aspect kept
    heavy = saved(noise((1400, 1400)), tmp_path / "heavy.png")  # 5.9 MB, sides fine
    data, fmt, size = within_limits(heavy.read_bytes())
    assert (fmt, size) == ("jpeg", (1400, 1400))
    assert len(data) <= IMAGE_MAX_BYTES


def test_the_fake_refuses_an_image_over_the_limits_and_takes_it_refitted(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    path = saved(noise((1400, 1400)), tmp_path / "heavy.png")
    client = boto3.session.Session().client("bedrock-runtime")
    content = [{"image": {"format": "png", "source": {"bytes": path.read_bytes()}}},
               {"text": "Rate it."}]  # fmt: skip
    with pytest.raises(ClientError) as raised:
        client.converse(
            modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": content}]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "at most 3.75 MB" in str(raised.value)
    tall = saved(Image.new("RGB", (10, 8200), "white"), tmp_path / "tall.png")
    content[0] = {"image": {"format": "png", "source": {"bytes": tall.read_bytes()}}}
    with pytest.raises(ClientError, match="at most 8000 a side"):
        client.converse(
            modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": content}]
        )
    # The judge request adloom builds from the same creative is taken and answered.
    provider = BedrockProvider(ProviderConfig(registry=load_registry(), region="us-east-1"))
    job = JudgeJob(
        name="ad-1", model=HAIKU45, product="Cold brew", message="Fast coffee", benefits=(),
        audience="commuters", voice="", placement="meta_feed",
        copy={"headline": "Cold brew, fast", "body": "Ready in a minute.", "cta": "Shop"},
        limits={"headline": 40, "body": 125, "cta": 20}, image=path,
    )  # fmt: skip
    request = provider.judge_request(job)
    block = request.body["messages"][0]["content"][0]["image"]
    assert block["format"] == "jpeg"
    assert len(base64.b64decode(block["source"]["bytes"])) <= IMAGE_MAX_BYTES
    response = provider.send(request)
    assert response.status == "ok", response.error
    assert 1 <= response.output["overall"] <= 5
