"""Whole campaigns through ``adloom run --provider bedrock`` against the fake Bedrock.

The example brief (five products, one a packshot, English and Japanese, a supplied headline) runs
through the real CLI, engine, journal, compose, preview and export; the fake checks
every request strictly, and the tests check the bodies it received against the
documented shapes (shared/bedrock-facts.md).
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from adloom.cli import main
from adloom.console import Env
from adloom.engine.journal import Journal
from adloom.errors import ExitCode
from adloom.registry import load_registry
from conftest import user_environ
from factories import preview_html
from fakebedrock import FakeBedrock
from test_bedrock_provider import LLAMA, NOVA_CANVAS, NOVA_LITE, STABILITY

ROOT = Path(__file__).resolve().parents[1]
BRIEF = ROOT / "campaigns" / "spring-launch.xlsx"
# One variant, three placements (two copy formats, two aspect families): 20 copy
# requests and 10 images for the five products in two languages.
SMALL = ("--set", "variants=1", "--set", "placements=meta_feed, meta_story, display_300x250")
ONE_PLACEMENT = ("--set", "languages=en", "--set", "placements=meta_feed")
NOVA_PRO = "us.amazon.nova-pro-v1:0"
DEFAULT_IMAGE = load_registry().default("bedrock", "image")
CONVERSE_KEYS = {"system", "messages", "inferenceConfig", "toolConfig", "guardrailConfig",
                 "performanceConfig", "outputConfig"}  # fmt: skip


def run(out: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    # The engine paces images at the model's images-per-minute quota; the fake has no
    # such limit unless told, so the tests lift it rather than wait.
    image = args[args.index("--image-model") + 1] if "--image-model" in args else DEFAULT_IMAGE
    fast = ("--set", f"quota.{image}.ipm=100000")
    argv = ["run", str(BRIEF), "--provider", "bedrock", "--out", str(out), "--json",
            *SMALL, *fast, *args]  # fmt: skip
    code = main(argv, env=Env(stdout=stdout, stderr=stderr, environ=user_environ()))
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def rows(out: Path) -> list[dict[str, Any]]:
    journal = Journal(out)
    try:
        return list(journal.rows())
    finally:
        journal.close()


def settled() -> None:
    """Wait until the run's request threads have ended: every request they sent has been
    answered (the fake records a request before answering it).

    A run that stops early (exit 3, exit 74) returns while requests already handed to
    the engine's worker threads (daemons named ``adloom-N``) may still be on their way;
    they end after the request in hand. The bound only ends a hang.
    """
    deadline = time.monotonic() + 120
    while any(t.name.startswith("adloom-") for t in threading.enumerate()):
        if time.monotonic() > deadline:
            pytest.fail("the run's request threads did not end")
        time.sleep(0.01)


def canvas_models_file(tmp_path: Path) -> Path:
    """Nova Canvas active again (its listed end of life has passed; extended access)."""
    entry = load_registry().get(NOVA_CANVAS).model_dump(mode="json")
    entry["lifecycle"] = {"status": "legacy"}
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"models": [entry]}))
    return path


def check_converse(body: dict[str, Any], mode: str) -> None:
    """A Converse body as shared/bedrock-facts.md documents it."""
    assert set(body) <= CONVERSE_KEYS
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["system"][0]["text"]
    assert body["inferenceConfig"]["maxTokens"] > 0
    if mode == "native":
        fmt = body["outputConfig"]["textFormat"]
        assert fmt["type"] == "json_schema"
        assert json.loads(fmt["structure"]["jsonSchema"]["schema"])["type"] == "object"
        assert "toolConfig" not in body
    elif mode == "tool":
        tool = body["toolConfig"]
        name = tool["tools"][0]["toolSpec"]["name"]
        assert tool["toolChoice"] == {"tool": {"name": name}}
        assert tool["tools"][0]["toolSpec"]["inputSchema"]["json"]["type"] == "object"
    else:
        assert "toolConfig" not in body
        assert "outputConfig" not in body
        assert "JSON schema" in body["messages"][0]["content"][0]["text"]


def check_image(body: dict[str, Any], family: str) -> None:
    if family == "stability":
        assert set(body) == {"prompt", "negative_prompt", "mode", "aspect_ratio", "seed",
                             "output_format"}  # fmt: skip
        assert body["aspect_ratio"] in ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4",
                                        "9:16", "9:21")  # fmt: skip
        assert 0 <= body["seed"] <= 4_294_967_294
        return
    assert body["taskType"] == "TEXT_IMAGE"
    assert set(body["textToImageParams"]) == {"text", "negativeText"}
    config = body["imageGenerationConfig"]
    assert config["numberOfImages"] == 1
    assert config["quality"] in ("standard", "premium")
    limit = 858_993_459 if family == "nova-canvas" else 2_147_483_646
    assert 0 <= config["seed"] <= limit


def test_native_output_default_models_english_and_japanese(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    code, summary, err = run(tmp_path / "out")
    assert code == ExitCode.OK, err
    assert summary["failed"] == 0
    # display_300x250 (6:5) shares the 1:1 master: its crop keeps 83%, within the crop
    # bound (aspects.CROP_BOUND); the nearest of Stability's ratios, 5:4, would keep 96%.
    assert summary["model_calls"] == {"text": 20, "image": 10}
    converse = fake_bedrock.calls("converse")
    # The default text model is named by its base id; from us-east-1 it goes through us.
    assert {r.model for r in converse} == {"us.anthropic.claude-haiku-4-5-20251001-v1:0"}
    assert "using us.anthropic.claude-haiku-4-5-20251001-v1:0 for region us-east-1" in err
    for r in converse:
        check_converse(r.body, "native")
    for r in fake_bedrock.calls("invoke"):
        assert r.model == DEFAULT_IMAGE == "stability.stable-image-core-v1:1"
        check_image(r.body, "stability")
    # Japanese copy is asked for in Japanese terms, and comes back in Japanese.
    ja = [
        r for r in converse if "Language: Japanese" in r.body["messages"][0]["content"][0]["text"]
    ]
    assert len(ja) == 10
    texts = [row for row in rows(tmp_path / "out") if row["kind"] == "text"]
    assert any("詳しく見る" in row["output"] for row in texts)
    # The supplied headline (travel mug) is never asked for, and is delivered as given.
    mug = [r for r in converse if "Travel Mug" in r.body["messages"][0]["content"][0]["text"]]
    for r in mug:
        schema = json.loads(
            r.body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"]
        )
        assert schema["required"] == ["body", "cta"]
    preview = preview_html(tmp_path / "out")
    assert "Hot for 6 hours. No leaks." in preview
    # Usage and cost are stored per request.
    assert all(row["cost_usd"] > 0 for row in rows(tmp_path / "out") if row["status"] == "ok")

    fake_bedrock.reset()
    code, again, _ = run(tmp_path / "out")  # the journal answers a rerun: no calls
    assert code == ExitCode.OK
    assert fake_bedrock.calls("converse") == fake_bedrock.calls("invoke") == []
    assert again["model_calls"] == {"text": 0, "image": 0}


def test_tool_use_output_and_stability_images(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    # One Stability model end to end; the three share an adapter, and each model's
    # bodies are checked at every aspect in test_bedrock_provider.
    image_model = STABILITY[0]
    code, summary, err = run(
        tmp_path / "out", "--set", "languages=en",
        "--text-model", NOVA_LITE, "--image-model", image_model,
    )  # fmt: skip
    assert code == ExitCode.OK, err
    assert summary["failed"] == 0
    for r in fake_bedrock.calls("converse"):
        check_converse(r.body, "tool")
    invokes = fake_bedrock.calls("invoke")
    assert {r.model for r in invokes} == {image_model}
    for r in invokes:
        check_image(r.body, "stability")
    # The fewest families within the crop bound: the 300x250 banner shares the 1:1 master.
    assert {r.body["aspect_ratio"] for r in invokes} == {"1:1", "9:16"}
    assert summary["creatives"] == 5 * 3


def test_prompt_mode_nova_canvas_and_a_filtered_image(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.filter_output = ["cyclist"]  # the travel mug's image prompt
    # An account whose Nova Canvas access runs on (the service wins over the catalogue).
    fake_bedrock.behaviour.lifecycle = {
        NOVA_CANVAS: {"status": "LEGACY", "publicExtendedAccessTime": "2026-06-30",
                      "endOfLifeTime": "2027-03-31"}
    }  # fmt: skip
    code, summary, err = run(
        tmp_path / "out", "--set", "languages=en", "--models", str(canvas_models_file(tmp_path)),
        "--text-model", LLAMA, "--image-model", NOVA_CANVAS,
    )  # fmt: skip
    for r in fake_bedrock.calls("converse"):
        check_converse(r.body, "prompt")
    invokes = fake_bedrock.calls("invoke")
    for r in invokes:
        check_image(r.body, "nova-canvas")
        assert r.model == NOVA_CANVAS
    # The filtered master fails its ads with the reason; every other ad is delivered.
    assert code == ExitCode.SOME_FAILED, err
    assert summary["failed"] == 3  # the mug's three placements (two from one master)
    assert summary["creatives"] == 5 * 3 - 3
    filtered = [row for row in rows(tmp_path / "out") if row["status"] == "filtered"]
    assert len(filtered) == 2
    assert all("rephrase the image_prompt" in row["error"] for row in filtered)


def test_guardrail_intervention_blocks_those_variants(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    fake_bedrock.behaviour.guardrail_words = ["Espresso"]
    code, summary, err = run(tmp_path / "out", *ONE_PLACEMENT, "--guardrail", "gr-brand:1")
    for r in fake_bedrock.calls("converse"):
        assert r.body["guardrailConfig"] == {
            "guardrailIdentifier": "gr-brand", "guardrailVersion": "1", "trace": "enabled",
        }  # fmt: skip
    blocked = [row for row in rows(tmp_path / "out") if row["status"] == "blocked"]
    assert len(blocked) == 1  # the espresso blend's copy
    assert all('blocked word "Espresso"' in row["error"] for row in blocked)
    assert code == ExitCode.SOME_FAILED, err
    assert summary["failed"] == 1  # its ad; the other products are delivered
    assert summary["creatives"] == 4


def test_access_denied_model_stops_with_exit_3(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.behaviour.access_denied = ["amazon.nova-lite-v1:0"]
    code, _, err = run(tmp_path / "out", "--set", "languages=en", "--text-model", NOVA_LITE)
    settled()
    assert code == ExitCode.PROVIDER
    assert f'Access to model "{NOVA_LITE}" is denied in region us-east-1' in err
    assert "Enable model access for amazon.nova-lite-v1:0 in the Bedrock console" in err
    assert "Traceback" not in err


def test_no_credentials_exit_3_before_any_request(
    fake_bedrock: FakeBedrock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, _, err = run(tmp_path / "out")
    assert code == ExitCode.PROVIDER
    assert "No AWS credentials found" in err
    assert "--provider draft" in err
    assert fake_bedrock.requests == []


def test_latency_optimized_is_sent_and_recorded(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    code, _, err = run(
        tmp_path / "out", *ONE_PLACEMENT, "--text-model", NOVA_PRO,
        "--latency", "optimized", "--region", "us-east-2",
    )  # fmt: skip
    assert code == ExitCode.OK, err
    converse = fake_bedrock.calls("converse")
    assert all(r.body["performanceConfig"] == {"latency": "optimized"} for r in converse)
    assert {r.region for r in converse} == {"us-east-2"}
    texts = [row for row in rows(tmp_path / "out") if row["kind"] == "text"]
    assert {json.loads(row["meta"])["latency"] for row in texts} == {"optimized"}


def test_malformed_and_overlong_copy_is_repaired(fake_bedrock: FakeBedrock, tmp_path: Path) -> None:
    fake_bedrock.behaviour.malformed = 2
    fake_bedrock.behaviour.overlong = 2
    code, summary, err = run(tmp_path / "out", *ONE_PLACEMENT)
    assert code == ExitCode.OK, err
    assert summary["failed"] == 0
    prompts = [r.body["messages"][0]["content"][0]["text"] for r in fake_bedrock.calls("converse")]
    feedback = [p.split("previous answer had these problems")[1] for p in prompts
                if "previous answer had these problems" in p]  # fmt: skip
    assert len(feedback) == 4  # each bad answer was sent back once, saying what was wrong
    kinds = Counter("not a JSON object" in f or "has no body" in f for f in feedback)
    assert kinds == {True: 2, False: 2}  # two malformed answers, two with a body too long
    assert sum("limit of 125" in f for f in feedback) == 2
