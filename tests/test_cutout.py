"""A packshot on a busy background, cut out by Bedrock's remove-background model.

Real briefs and pictures on disk, the real CLI against the fake Bedrock over HTTP:
one remove-background request per packshot (not per ad), the product in every creative
carrying the returned cut-out's own pixels at scale, a rerun paying nothing; the fake
refusing what the service refuses; a run outside the US refused at the cell first.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from adloom.brief.read import read_campaign
from adloom.creative import product
from adloom.errors import BriefError, ExitCode
from adloom.registry import load_registry
from adloom.run.plan import make_plan
from brandart import busy_packshot, packshot
from briefs import write_brief
from conftest import point_at
from fakebedrock import FakeBedrock
from test_brand_pictures import _assert_product_exact, cli

REMOVE_BG = "stability.stable-image-remove-background-v1:0"
STABILITY = "stability.stable-image-core-v1:1"
FAST = (f"quota.{STABILITY}.ipm=100000", f"quota.{REMOVE_BG}.ipm=100000")


def busy_brief(folder: Path, provider: str = "bedrock") -> Path:
    """Two briefs sharing one busy packshot, two variants, three placements: six
    masters, twelve creatives, one packshot."""
    busy_packshot(folder / "bag.png")
    settings = {"name": "Busy", "brand": "Lumen", "provider": provider, "variants": 2,
                "image_model": STABILITY, "languages": "en",
                "placements": "meta_feed, meta_story, display_300x250"}  # fmt: skip
    rows = [
        {"id": "pack", "product": "Coffee bag", "message": "Roasted Monday",
         "product_image": "bag.png"},
        {"id": "again", "product": "Coffee bag", "message": "Roasted Friday",
         "product_image": "bag.png"},
    ]  # fmt: skip
    return write_brief(folder / "brief.xlsx", campaign=settings, briefs=rows)


def _run(brief: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    sets = [arg for s in FAST for arg in ("--set", s)]
    return cli("run", str(brief), "--out", str(out), *sets, *extra)


def test_a_busy_packshot_is_cut_out_once_and_set_exactly(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    brief = busy_brief(tmp_path)
    code, shown, err = cli("plan", str(brief))
    assert code == 0, err
    assert shown["cutouts"] == {"requests": 1, "model": REMOVE_BG, "cost_usd_max": 0.07}

    code, summary, err = _run(brief, tmp_path / "out")
    assert code == 0, err
    assert summary["failed"] == 0
    cuts = [c for c in fake_bedrock.calls("invoke") if c.model == REMOVE_BG]
    assert len(cuts) == 1  # one packshot, whatever the number of briefs and ads
    assert set(cuts[0].body) == {"image", "output_format"}
    sent = base64.b64decode(cuts[0].body["image"])
    assert sent == (tmp_path / "bag.png").read_bytes()  # the packshot as it is

    out = tmp_path / "out"
    (returned,) = [p for p in (out / "masters").glob("*/*.png") if Image.open(p).mode == "RGBA"]
    # The cut-out is a file in the out folder, and what compose sets on every master.
    cut = product.cutout(returned)
    creatives = sorted((out / "creatives").glob("*/*"))
    assert len(creatives) == 12
    for path in creatives:
        _assert_product_exact(path, cut)
    # Its pixels are the packshot's own (the bag's brown), not the scene's.
    pixels = np.asarray(cut)
    assert tuple(pixels[pixels.shape[0] - 30, pixels.shape[1] // 2][:3]) == (120, 70, 30)

    before = len(fake_bedrock.calls("invoke"))
    code, again, err = _run(brief, out)
    assert code == 0, err
    assert len(fake_bedrock.calls("invoke")) == before  # nothing is sent again
    assert again["cost_usd"] == 0


def test_the_draft_cuts_a_busy_packshot_out_roughly_offline(tmp_path: Path) -> None:
    brief = busy_brief(tmp_path, provider="draft")
    code, summary, err = cli("run", str(brief), "--provider", "draft", "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert summary["failed"] == 0
    assert summary["creatives"] == 12
    plan = make_plan(read_campaign(brief), load_registry(), "draft")
    assert [c.path.name for c in plan.cutouts] == ["bag.png"]
    masters = list((tmp_path / "o" / "masters").glob("*/*.png"))
    rough = [p for p in masters if Image.open(p).mode == "RGBA"]
    assert len(rough) == 1
    alpha = np.asarray(Image.open(rough[0]).getchannel("A"))
    # The noisy scene at the corners is gone, the bag's middle is kept.
    assert alpha[5, 5] == 0
    assert alpha[300, 200] == 255
    preview = "\n".join(p.read_text() for p in (tmp_path / "o" / "preview").glob("*.html"))
    assert "DRAFT" in preview


def test_a_provider_without_background_removal_refuses_at_the_cell(tmp_path: Path) -> None:
    brief = busy_brief(tmp_path)
    with pytest.raises(BriefError) as caught:
        make_plan(read_campaign(brief), load_registry(), "elsewhere")
    found = {(p.where, p.message.split(" — ")[0]) for p in caught.value.problems}
    assert found == {
        ("Briefs!D2", "product_image bag.png has no transparency and its background is not"
         " plain (1% of its edge is one colour)"),
        ("Briefs!D3", "product_image bag.png has no transparency and its background is not"
         " plain (1% of its edge is one colour)"),
    }  # fmt: skip


def test_outside_the_us_the_packshot_is_refused_before_any_call(
    tmp_path: Path, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, fake_bedrock, "ap-northeast-1")
    brief = busy_brief(tmp_path)
    for command in (["plan", str(brief)], ["run", str(brief), "--out", str(tmp_path / "o")]):
        code, _, err = cli(*command)
        assert code == ExitCode.BAD_INPUT, err
        assert "Briefs!D2" in err
        assert "runs only in us-east-1, us-east-2, us-west-2, not ap-northeast-1" in err
        assert "PNG with a transparent background" in err
        assert "image_region" in err
    assert not fake_bedrock.calls("invoke")
    assert not fake_bedrock.calls("converse")


def _invoke(fake: FakeBedrock, body: dict[str, Any], region: str = "us-east-1") -> Any:
    client = boto3.session.Session().client("bedrock-runtime", region_name=region)
    answer = client.invoke_model(modelId=REMOVE_BG, body=json.dumps(body))
    return json.loads(answer["body"].read())


def _b64(image: Image.Image, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def test_the_fake_answers_a_transparent_png_of_the_packshots_pixels(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    shot = Image.open(busy_packshot(tmp_path / "bag.png"))
    for fmt, pil in (("png", "PNG"), ("webp", "WEBP")):
        answer = _invoke(fake_bedrock, {"image": _b64(shot), "output_format": fmt})
        assert answer["finish_reasons"] == [None]
        cut = Image.open(io.BytesIO(base64.b64decode(answer["images"][0])))
        assert cut.format == pil
        assert cut.mode == "RGBA"
        assert cut.size == shot.size
        rgba = np.asarray(cut)
        assert rgba[0, 0, 3] == 0
        kept = rgba[..., 3] == 255
        assert kept.mean() > 0.3
        assert (rgba[..., :3][kept] == np.asarray(shot.convert("RGB"))[kept]).all()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"output_format": "png"}, "required key [image] not found"),
        ({"image": "x", "prompt": "cut"}, "extraneous key [prompt] is not permitted"),
        ({"image": "not base64!"}, "could not be decoded"),
        ({"image": "TINY", "output_format": "jpeg"}, "#/output_format: jpeg is not a valid"),
        ({"image": "TINY"}, "sides must be at least 64 pixels"),
        ({"image": "WIDE"}, "aspect ratio must be between 1:2.5 and 2.5:1"),
        ({"image": "HUGE"}, "between 4,096 and 9,437,184 pixels"),
        ({"image": "GIF"}, "format GIF is not supported"),
    ],
)
def test_the_fake_refuses_what_the_service_refuses(
    fake_bedrock: FakeBedrock, body: dict[str, Any], says: str
) -> None:
    images = {
        "TINY": _b64(Image.new("RGB", (63, 200))),
        "WIDE": _b64(Image.new("RGB", (1000, 399))),
        "HUGE": _b64(Image.new("RGB", (3073, 3072))),
        "GIF": _b64(Image.new("RGB", (200, 200)), "GIF"),
    }
    sent = {k: images.get(v, v) if k == "image" else v for k, v in body.items()}
    with pytest.raises(ClientError) as caught:
        _invoke(fake_bedrock, sent)
    error = caught.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert says in error["Error"]["Message"]


def test_the_fake_serves_it_only_in_us_regions(fake_bedrock: FakeBedrock) -> None:
    body = {"image": _b64(Image.new("RGB", (200, 200), (9, 9, 9)))}
    assert _invoke(fake_bedrock, body, "us-west-2")["images"]
    with pytest.raises(ClientError) as caught:
        _invoke(fake_bedrock, body, "eu-west-1")
    assert caught.value.response["Error"]["Message"] == "The provided model identifier is invalid."


def test_a_packshot_too_large_is_scaled_not_refused_and_a_wrong_shape_refused(
    tmp_path: Path,
) -> None:
    from adloom.providers.bedrock.images import RemoveBackground

    big = tmp_path / "big.png"
    Image.new("RGB", (4000, 3000), (1, 2, 3)).save(big)
    sent = Image.open(io.BytesIO(base64.b64decode(RemoveBackground().body(big)["image"])))
    assert sent.width * sent.height <= 9_437_184
    assert sent.width / sent.height == pytest.approx(4 / 3, rel=1e-3)
    wide = tmp_path / "wide.png"
    Image.new("RGB", (1000, 300)).save(wide)
    with pytest.raises(ValueError, match=r"from 1:2\.5 to 2\.5:1"):
        RemoveBackground().body(wide)
    packshot(tmp_path / "plain.png", background=(255, 255, 255))
    assert not product.busy(tmp_path / "plain.png")
