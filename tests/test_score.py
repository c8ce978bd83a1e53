"""``--score``: a judge rates every ad after compose (docs/output.md, "Scores").

On the fake Bedrock the judge sees each image ad's composed creative as a Converse
image block (checked strictly by the fake) and a search ad's copy only; the scores
and reasons land in the workbook, a broken brand policy becomes an issue on the ad,
and a rerun asks the judge nothing. Offline, the draft provider's heuristic scores,
labelled as such.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import openpyxl
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from adloom.brief.read import read_campaign
from adloom.cli import main
from adloom.console import Env
from adloom.errors import ExitCode
from adloom.providers.judging import HEURISTIC_LABEL, heuristic
from conftest import user_environ
from factories import preview_html
from fakebedrock import FakeBedrock

ROOT = Path(__file__).resolve().parents[1]
POLICIES = "Never show a drink in a moving car; price claims need 'limited time', always"
SMALL = (
    "--set",
    "variants=1",
    "--set",
    "languages=en",
    "--set",
    "placements=meta_feed, google_rsa",
)


def brief_with_policies(tmp_path: Path) -> Path:
    folder = shutil.copytree(ROOT / "campaigns", tmp_path / "campaigns")
    path = folder / "spring-launch.xlsx"
    book = openpyxl.load_workbook(path)
    book["Brand"].append(["policies", POLICIES])
    book.save(path)
    return path


def run(*argv: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main([*argv, "--json"], env=Env(stdout=stdout, stderr=stderr, environ=user_environ()))
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def variants(out: Path) -> list[dict[str, Any]]:
    sheet = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def judged(fake: FakeBedrock) -> list[dict[str, Any]]:
    """The judge requests the fake answered (by their schema's name)."""
    out = []
    for r in fake.calls("converse"):
        fmt = r.body.get("outputConfig", {}).get("textFormat", {})
        if fmt.get("structure", {}).get("jsonSchema", {}).get("name") == "rate_ad":
            out.append(r.body)
    return out


def test_policies_on_the_brand_sheet_are_one_per_line_or_semicolon(tmp_path: Path) -> None:
    campaign = read_campaign(brief_with_policies(tmp_path))
    assert campaign.brand.policies == (
        "Never show a drink in a moving car",
        "price claims need 'limited time', always",  # a comma does not split a policy
    )


def test_judge_sees_creatives_and_reports_policies_rerun_scores_nothing(
    fake_bedrock: FakeBedrock, tmp_path: Path
) -> None:
    brief, out = brief_with_policies(tmp_path), tmp_path / "out"
    fake_bedrock.behaviour.judge_breaks.append("moving car")
    image = "stability.stable-image-core-v1:1"
    argv = ("run", str(brief), "--provider", "bedrock", "--out", str(out), "--score",
            *SMALL, "--set", f"quota.{image}.ipm=100000")  # fmt: skip
    code, summary, err = run(*argv)
    # Every ad breaks a brand policy (as scripted): each is flagged for a person.
    assert code == ExitCode.SOME_FAILED, err
    assert summary["flagged"] == 10
    bodies = judged(fake_bedrock)
    rows = variants(out)
    assert len(bodies) == len(rows) == 10  # five products, one image ad and one search ad each
    with_image = [b for b in bodies if "image" in b["messages"][0]["content"][0]]
    copy_only = [b for b in bodies if len(b["messages"][0]["content"]) == 1]
    assert len(with_image) == len(copy_only) == 5
    for body in with_image:
        block = body["messages"][0]["content"][0]["image"]
        assert "Placement: meta_feed" in body["messages"][0]["content"][1]["text"]
        with Image.open(io.BytesIO(base64.b64decode(block["source"]["bytes"]))) as img:
            assert img.format.lower() == block["format"]
            assert img.size == (1080, 1080)  # the composed creative, not the master
    assert all("Placement: google_rsa" in b["messages"][0]["content"][0]["text"] for b in copy_only)
    for row in rows:
        assert 1 <= row["score"] <= 5
        assert "message_clear 4/5" in row["score_reasons"]
        assert 'policy: breaks "Never show a drink in a moving car"' in row["score_reasons"]
        assert "brand policy: breaks" in row["issues"]
        assert HEURISTIC_LABEL not in row["score_reasons"]
    preview = preview_html(out)
    assert preview.count("judged by anthropic.claude-haiku-4-5-20251001-v1:0") == 10
    # The policy text is escaped on the page like everything else.
    assert "brand policy: breaks &#34;Never show a drink in a moving car&#34;" in preview
    assert summary["scores"]["scored"] == 10
    assert summary["scores"]["heuristic"] is False

    fake_bedrock.reset()
    code, _, err = run(*argv)
    assert code == ExitCode.SOME_FAILED, err
    assert judged(fake_bedrock) == []  # a rerun re-scores nothing
    assert fake_bedrock.calls("converse") == []
    assert [r["score"] for r in variants(out)] == [r["score"] for r in rows]


def test_fake_refuses_an_image_block_that_is_not_what_it_says(
    fake_bedrock: FakeBedrock,
) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG")
    # A session of its own: it reads this test's credentials (the fake's key), not a
    # default session's from an earlier test in the same process.
    client = boto3.session.Session().client("bedrock-runtime")
    content = [{"image": {"format": "png", "source": {"bytes": buf.getvalue()}}}, {"text": "Hi"}]
    with pytest.raises(ClientError) as raised:
        client.converse(
            modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": content}]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "not the png it says" in str(raised.value)
    content[0] = {"image": {"format": "jpeg", "source": {"bytes": buf.getvalue()}}}
    with pytest.raises(ClientError, match="image content block"):  # Nova Micro reads no images
        client.converse(
            modelId="amazon.nova-micro-v1:0", messages=[{"role": "user", "content": content}]
        )


def test_offline_draft_scores_are_labelled_heuristic(tmp_path: Path) -> None:
    out = tmp_path / "out"
    brief = ROOT / "campaigns" / "spring-launch.xlsx"
    code, summary, err = run("run", str(brief), "--provider", "draft", "--out", str(out),
                             "--score", *SMALL)  # fmt: skip
    # One draft search ad breaks a platform rule with or without scores (exit 1).
    assert code == ExitCode.SOME_FAILED, err
    assert summary["flagged"] == 1
    assert summary["scores"] == {
        "scored": 10,
        "average": summary["scores"]["average"],
        "judge": "heuristic",
        "heuristic": True,
    }
    for row in variants(out):
        assert row["score_reasons"].startswith(f"[{HEURISTIC_LABEL}]")
        assert 1 <= row["score"] <= 5
    preview = preview_html(out)
    assert preview.count(HEURISTIC_LABEL) == 10  # on every card
    assert "message clear 5/5" in preview or "message clear 4/5" in preview


def test_heuristic_rewards_copy_that_says_the_message_and_names_the_product() -> None:
    body = {
        "product": "Lumen Mug",
        "message": "Coffee stays hot for the whole commute",
        "benefits": ["Leak-proof lid"],
        "copy": {"headline": "Lumen Mug: hot all commute",
                 "body": "Coffee stays hot, leak-proof lid.", "cta": "Shop"},
        "limits": {"headline": 40, "body": 60, "cta": 10},
    }  # fmt: skip
    good = heuristic(body)
    bad = heuristic(body | {"copy": {"headline": "Hello", "body": "Nice things.", "cta": ""}})
    assert good["overall"] > bad["overall"]
    assert good["call_to_action"]["score"] == 5 > bad["call_to_action"]["score"]
    assert good["brand_voice"]["why"] == "names the product"


def test_plan_shows_the_judge_cost_one_request_per_ad() -> None:
    brief = str(ROOT / "campaigns" / "spring-launch.xlsx")
    code, without, _ = run("plan", brief, "--provider", "bedrock", *SMALL)
    assert code == ExitCode.OK
    assert "judge" not in without
    code, report, _ = run("plan", brief, "--provider", "bedrock", "--score", *SMALL)
    judge = report["judge"]
    assert judge["requests"] == report["ads"] == 10
    assert judge["model"] == "anthropic.claude-haiku-4-5-20251001-v1:0"
    assert judge["sees_images"] is True
    # Every answer at its token limit, priced as sent: through the us. profile (the fake's
    # region is us-east-1), Haiku 4.5's geographic $1.10 / $5.50 per million tokens.
    assert judge["sent_as"] == "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    expected = (judge["input_tokens"] * 1.10 + judge["output_tokens_max"] * 5.50) / 1e6
    assert judge["cost_usd_max"] == pytest.approx(expected, abs=1e-4)
    code, micro, _ = run("plan", brief, "--provider", "bedrock", "--score", *SMALL,
                         "--judge-model", "amazon.nova-micro-v1:0")  # fmt: skip
    assert micro["judge"]["sees_images"] is False  # Nova Micro reads text only
    assert micro["judge"]["input_tokens"] < judge["input_tokens"]


def test_a_review_round_scores_the_ads_it_regenerates(tmp_path: Path) -> None:
    # The run's --score is recorded and inherited: the round's new copy is scored too.
    out, brief = tmp_path / "out", str(ROOT / "campaigns" / "spring-launch.xlsx")
    placements = ("--set", "variants=1", "--set", "languages=en", "--set", "placements=meta_feed")
    code, _, err = run("run", brief, "--provider", "draft", "--out", str(out), "--score",
                       *placements)  # fmt: skip
    assert code == ExitCode.OK, err
    book = openpyxl.load_workbook(out / "variants.xlsx")
    sheet = book["Variants"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("approval") + 1).value = "Rejected"
    sheet.cell(row=2, column=header.index("notes") + 1).value = "Say more about the taste"
    book.save(out / "variants.xlsx")
    code, summary, err = run("review", str(out / "variants.xlsx"), "--out", str(out))
    assert code == ExitCode.OK, err
    assert summary["review"]["regenerated"] == 1
    assert summary["scores"] == summary["scores"] | {"scored": 1, "heuristic": True}
    sheet = openpyxl.load_workbook(summary["workbook"])["Variants"]
    table = list(sheet.iter_rows(values_only=True))
    redone = [dict(zip(table[0], r, strict=False)) for r in table[1:]]
    redone = [r for r in redone if r["changed"] == "regenerated"]
    assert len(redone) == 1
    assert redone[0]["score_reasons"].startswith(f"[{HEURISTIC_LABEL}]")


@pytest.mark.parametrize(
    ("option", "exit_code", "said"),
    [
        (("--set", "score=maybe"), ExitCode.BAD_INPUT, 'score "maybe" is not true or false'),
        # The registry's model errors, as for any model option (exit 3).
        (("--score", "--judge-model", "no.such-model"), ExitCode.PROVIDER, "no.such-model"),
        (("--score", "--judge-model", "draft-image"), ExitCode.PROVIDER, "not a text model"),
    ],
)
def test_a_bad_score_setting_stops_before_any_work(
    tmp_path: Path, option: tuple[str, ...], exit_code: ExitCode, said: str
) -> None:
    out = tmp_path / "out"
    brief = str(ROOT / "campaigns" / "spring-launch.xlsx")
    code, _, err = run("run", brief, "--provider", "draft", "--out", str(out), *option)
    assert code == exit_code
    assert said in err
    assert "Traceback" not in err
    assert not (out / "variants.xlsx").exists()


@pytest.mark.parametrize(
    "judge",
    ["amazon.nova-micro-v1:0", "meta.llama3-3-70b-instruct-v1:0"],  # a forced tool; the prompt
)
def test_a_judge_without_image_input_is_said_and_shown_the_copy_only(
    fake_bedrock: FakeBedrock, tmp_path: Path, judge: str
) -> None:
    out = tmp_path / "out"
    image = "stability.stable-image-core-v1:1"
    code, summary, err = run("run", str(ROOT / "campaigns" / "spring-launch.xlsx"),
                             "--provider", "bedrock", "--out", str(out), "--score",
                             "--judge-model", judge, *SMALL,
                             "--set", f"quota.{image}.ipm=100000")  # fmt: skip
    assert code == ExitCode.OK, err
    assert f"judge model {judge} takes no images" in err
    judges = [r.body for r in fake_bedrock.calls("converse") if r.model.endswith(judge)]
    assert len(judges) == summary["scores"]["scored"] == 10
    assert all("image" not in b["messages"][0]["content"][0] for b in judges)
