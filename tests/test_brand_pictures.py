"""The brand's own pictures: own photos as masters, the real product on generated scenes.

Real briefs on disk, real pictures drawn and read back, the real CLI on the draft
provider; the product's pixels are compared with the packshot's, not trusted.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook
from PIL import Image

from adloom.brief.read import read_campaign
from adloom.cli import main
from adloom.console import Env
from adloom.creative import product, provenance
from adloom.engine.journal import Journal
from adloom.errors import BriefError
from adloom.model import BriefImage
from adloom.registry import load_registry
from adloom.run.plan import make_plan
from brandart import mixed_brief, packshot, photo
from briefs import MINIMAL_CAMPAIGN, write_brief
from fakebedrock import FakeBedrock

STABILITY = "stability.stable-image-core-v1:1"  # Bedrock's default image model


def cli(*argv: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main([*argv, "--json"], env=Env(stdout=stdout, stderr=stderr))
    text = stdout.getvalue().strip()
    return code, json.loads(text) if text else {}, stderr.getvalue()


def brief_with(tmp_path: Path, **columns: str) -> Path:
    row = {"id": "b1", "product": "Cold brew", "message": "Fast"} | columns
    return write_brief(tmp_path / "brief.xlsx", MINIMAL_CAMPAIGN, [row])


def problems(path: Path) -> list[str]:
    with pytest.raises(BriefError) as caught:
        read_campaign(path)
    return [f"{p.where}: {p.message}" for p in caught.value.problems]


# ---------------------------------------------------------------- reading the columns


def test_images_column_files_folders_and_aspect_families(tmp_path: Path) -> None:
    (tmp_path / "shots").mkdir()
    a = photo(tmp_path / "shots" / "a.jpg", (800, 800), (300, 300, 500, 500))
    b = photo(tmp_path / "shots" / "b.webp", (600, 1000), (200, 400, 400, 600))
    (tmp_path / "shots" / "notes.txt").write_text("not a picture")
    story = photo(tmp_path / "story.png", (540, 960), (100, 300, 400, 600))
    path = brief_with(tmp_path, images="shots; 9:16=story.png\nshots/a.jpg")
    brief = read_campaign(path).briefs[0]
    assert brief.images == (
        BriefImage(a.resolve()),
        BriefImage(b.resolve()),
        BriefImage(story.resolve(), "9:16"),
    )


def test_images_refused_at_their_cell(tmp_path: Path) -> None:
    (tmp_path / "fake.png").write_text("%!PS-Adobe-3.0 EPSF")  # not a PNG by content
    (tmp_path / "empty").mkdir()
    found = problems(brief_with(tmp_path, images="fake.png; missing.jpg; empty; 9x16=a.png"))
    text = "\n".join(found)
    assert all(f.startswith("Briefs!D2: ") for f in found), found
    assert 'image "' in text
    assert "is not a readable PNG, JPEG, WEBP image" in text
    assert 'image "' in text
    assert "missing.jpg" in text
    assert "not found" in text
    assert 'images folder "empty" holds no .png, .jpg or .webp pictures' in text
    assert '"9x16" in "9x16=a.png" is not an aspect ratio' in text


def test_images_stay_in_the_workbooks_folder(tmp_path: Path) -> None:
    outside = photo(tmp_path / "secret.png", (64, 64), (8, 8, 40, 40))
    folder = tmp_path / "brief"
    (folder / "shots").mkdir(parents=True)
    os.symlink(outside, folder / "shots" / "link.png")
    photo(folder / "shots" / "ok.png", (64, 64), (8, 8, 40, 40))
    write_brief(folder / "brief.xlsx", MINIMAL_CAMPAIGN,
                [{"id": "b1", "product": "P", "message": "M", "images": "../secret.png; shots",
                  "product_image": ""}])  # fmt: skip
    text = "\n".join(problems(folder / "brief.xlsx"))
    assert '"../secret.png" leads out of the workbook\'s folder' in text
    assert "link.png links out of the folder" in text
    # An absolute path is the user's own choice: allowed.
    write_brief(folder / "abs.xlsx", MINIMAL_CAMPAIGN,
                [{"id": "b1", "product": "P", "message": "M", "images": str(outside)}])  # fmt: skip
    assert read_campaign(folder / "abs.xlsx").briefs[0].images == (BriefImage(outside.resolve()),)


def test_own_photos_and_a_product_are_not_both_taken(tmp_path: Path) -> None:
    photo(tmp_path / "a.png", (64, 64), (8, 8, 40, 40))
    packshot(tmp_path / "bag.png")
    found = problems(brief_with(tmp_path, images="a.png", product_image="bag.png"))
    assert any("not both" in f and f.startswith("Briefs!E2") for f in found), found


# ---------------------------------------------------------------- the product cut out


def test_plain_background_cut_out_keeps_every_product_pixel(tmp_path: Path) -> None:
    shot = packshot(tmp_path / "bag.png", background=(255, 255, 255))
    cut = product.cutout(shot)
    original = np.asarray(Image.open(shot).convert("RGB"))
    pixels = np.asarray(cut)
    alpha = pixels[..., 3]
    # Cropped to the bag (60..340 x 40..580), nothing of the white sweep left opaque.
    assert cut.size == (281, 541)
    assert alpha[0, 0] == 0
    assert alpha[270, 140] == 255
    # The white label inside the bag is not background: it is not reached from the edge.
    assert (alpha[170:300, 50:230] == 255).all()
    opaque = alpha == 255
    assert opaque.mean() > 0.9
    assert (pixels[..., :3][opaque] == original[40:581, 60:341][opaque]).all()


def test_a_packshot_in_a_scene_needs_a_model_else_is_refused(tmp_path: Path) -> None:
    photo(tmp_path / "scene.jpg", (400, 300), (100, 50, 300, 250))
    noise = np.random.default_rng(1).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "busy.png")
    campaign = read_campaign(brief_with(tmp_path, product_image="busy.png"))
    # Providers with a remove-background model get one cut-out job (tests/test_cutout.py);
    # one without refuses at the cell before any request.
    (job,) = make_plan(campaign, load_registry(), "draft").cutouts
    assert (job.path.name, job.where) == ("busy.png", "Briefs!D2")
    with pytest.raises(BriefError) as caught:
        make_plan(campaign, load_registry(), "a-plugin")
    (problem,) = caught.value.problems
    assert problem.where == "Briefs!D2"
    assert "has no transparency and its background is not plain" in problem.message


# ---------------------------------------------------------------- a mixed campaign


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("mixed")
    brief = mixed_brief(folder)
    code, summary, err = cli("run", str(brief), "--provider", "draft", "--out", str(folder / "out"))
    assert code == 0, err
    return folder, summary


def test_plan_asks_no_image_for_the_own_photo_brief(tmp_path: Path) -> None:
    brief = mixed_brief(tmp_path)
    code, shown, err = cli("plan", str(brief))
    assert code == 0, err
    # 5 placements over 4 aspect families... per brief: what the generated briefs need.
    plan = make_plan(read_campaign(brief), load_registry(), "draft")
    own = [j for j in plan.image_jobs if j.brief.id == "own"]
    assert own
    assert all(j.source is not None for j in own)
    generated = [j for j in plan.image_jobs if j.source is None]
    assert {j.brief.id for j in generated} == {"pack", "gen"}
    assert shown["requests"]["image"] == len(generated)
    # The variants take turns through the photos.
    assert len({j.source for j in own}) == 2


def test_draft_run_uses_the_photos_and_sets_the_real_product(
    drafted: tuple[Path, dict[str, Any]],
) -> None:
    folder, summary = drafted
    out = folder / "out"
    journal = Journal(out)
    try:
        labels = [row["label"] for row in journal.rows() if row["kind"] == "image"]
    finally:
        journal.close()
    assert labels
    assert not [label for label in labels if label.startswith("own/")]
    assert {label.split("/")[0] for label in labels} == {"pack", "gen"}
    assert summary["creatives"] == 30
    assert summary["failed"] == 0

    cut = product.cutout(folder / "bag.png")
    packs = sorted((out / "creatives").glob("*/mix_pack_*"))
    assert len(packs) == 10
    for path in packs:
        _assert_product_exact(path, cut)


def _assert_product_exact(path: Path, cut: Image.Image) -> None:
    """The product region of the creative equals the scaled cut-out where it is opaque."""
    journal_box = _product_box(path)
    assert path.suffix == ".png", f"{path.name}: a product creative under its cap is lossless"
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    x0, y0, x1, y1 = journal_box
    scaled = np.asarray(cut.resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS))
    opaque = scaled[..., 3] == 255
    assert opaque.mean() > 0.5, path.name
    region = pixels[y0:y1, x0:x1]
    assert (region[opaque] == scaled[..., :3][opaque]).all(), path.name


def _product_box(path: Path) -> tuple[int, int, int, int]:
    """Where compose says it set the product (the journal's record of the creative),
    checked against what the picture shows: the bag's brown just above its base."""
    out = path.parents[2]
    with closing(sqlite3.connect(out / "journal.sqlite")) as db:
        rows = db.execute("SELECT path, checks FROM creatives").fetchall()
    checks = {p: json.loads(c) for p, c in rows}
    box = checks[str(path.relative_to(out))]["product"]
    assert box is not None, path.name
    x0, y0, x1, y1 = box
    with Image.open(path) as image:
        assert image.convert("RGB").getpixel(((x0 + x1) // 2, y1 - 5)) == (120, 70, 30)
    return x0, y0, x1, y1


# ---------------------------------------------------------------- provenance


def _kinds(out: Path) -> dict[str, set[str | None]]:
    """brief id -> the IPTC DigitalSourceType terms its creatives' XMP name."""
    found: dict[str, set[str | None]] = {}
    for path in (out / "creatives").glob("*/*"):
        brief = path.name.split("_")[1]
        found.setdefault(brief, set()).add(provenance.read_source_type(path))
    return found


def _workbook_column(out: Path, name: str) -> dict[str, set[str]]:
    sheet = load_workbook(out / "variants.xlsx", read_only=True)["Variants"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    at, brief = header.index(name), header.index("brief_id")
    found: dict[str, set[str]] = {}
    for row in rows[1:]:
        found.setdefault(str(row[brief]), set()).add(str(row[at]))
    return found


def test_draft_creatives_say_how_they_were_made(drafted: tuple[Path, dict[str, Any]]) -> None:
    out = drafted[0] / "out"
    # Draft art is procedural, not a trained model's: no AI marker anywhere.
    assert _kinds(out) == {
        "own": {"compositeSynthetic"},
        "pack": {"compositeSynthetic"},
        "gen": {"algorithmicMedia"},
    }
    assert _workbook_column(out, "ai_generated") == {"own": {"no"}, "pack": {"no"}, "gen": {"no"}}
    alt = _workbook_column(out, "alt_text")
    assert all(0 < len(text) <= 125 for texts in alt.values() for text in texts)
    assert all(text.startswith("Coffee bag") for text in alt["pack"])
    preview = "\n".join(p.read_text() for p in (out / "preview").glob("*.html"))
    assert "no AI imagery" in preview
    assert 'alt="Coffee bag. ' in preview


def test_the_fake_bedrock_run_of_all_three_kinds(tmp_path: Path, fake_bedrock: FakeBedrock) -> None:
    brief = mixed_brief(tmp_path, provider="bedrock", image_model=STABILITY)
    fast = f"quota.{STABILITY}.ipm=100000"
    code, summary, err = cli("run", str(brief), "--out", str(tmp_path / "out"), "--set", fast)
    assert code == 0, err
    assert summary["failed"] == 0
    invokes = fake_bedrock.calls("invoke")
    prompts = [r.body["prompt"] for r in invokes]
    # No image is asked for the brief with its own photos; the packshot's scenes are
    # asked without a product in them.
    assert not [p for p in prompts if "Cold brew" in p]
    scenes = [r for r in invokes if "Coffee bag" in r.body["prompt"]]
    assert scenes
    for r in scenes:
        assert "An empty setting for Coffee bag" in r.body["prompt"]
        assert "the product itself is not in the picture" in r.body["prompt"]
        assert "Coffee bag, product, packaging" in r.body["negative_prompt"]
    out = tmp_path / "out"
    cut = product.cutout(tmp_path / "bag.png")
    packs = sorted((out / "creatives").glob("*/mix_pack_*"))
    assert len(packs) == 10
    for path in packs:
        _assert_product_exact(path, cut)
    assert _kinds(out) == {
        "own": {"compositeSynthetic"},
        "pack": {"compositeWithTrainedAlgorithmicMedia"},
        "gen": {"trainedAlgorithmicMedia"},
    }
    assert _workbook_column(out, "ai_generated") == {
        "own": {"no"},
        "pack": {"yes"},
        "gen": {"yes"},
    }
    preview = "\n".join(p.read_text() for p in (out / "preview").glob("*.html"))
    assert (
        'title="IPTC DigitalSourceType: compositeWithTrainedAlgorithmicMedia">AI imagery' in preview
    )
