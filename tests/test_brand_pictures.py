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

from adloom.aspects import kept
from adloom.brief.read import read_campaign
from adloom.cli import main
from adloom.console import Env
from adloom.creative import fit, focal, product, provenance
from adloom.engine.journal import Journal
from adloom.errors import BriefError
from adloom.model import BriefImage, ImageJob
from adloom.registry import load_registry
from adloom.run.plan import make_plan
from brandart import mixed_brief, packshot, photo
from briefs import MINIMAL_CAMPAIGN, write_brief
from conftest import point_at
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
    generated = [label for label in labels if not label.endswith("/outpaint")]
    assert generated
    assert not [label for label in generated if label.startswith("own/")]
    assert {label.split("/")[0] for label in generated} == {"pack", "gen"}
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
    fast = [f"quota.{model}.ipm=100000" for model in (STABILITY, OUTPAINT)]
    sets = [arg for q in fast for arg in ("--set", q)]
    code, summary, err = cli("run", str(brief), "--out", str(tmp_path / "out"), *sets)
    assert code == 0, err
    assert summary["failed"] == 0
    invokes = fake_bedrock.calls("invoke")
    generation = [r for r in invokes if r.model != OUTPAINT]
    prompts = [r.body["prompt"] for r in generation]
    # No image is asked for the brief with its own photos; the packshot's scenes are
    # asked without a product in them.
    assert not [p for p in prompts if "Cold brew" in p]
    scenes = [r for r in generation if "Coffee bag" in r.body["prompt"]]
    assert scenes
    for r in scenes:
        assert "An empty setting for Coffee bag" in r.body["prompt"]
        assert "the product itself is not in the picture" in r.body["prompt"]
        assert "Coffee bag, product, packaging" in r.body["negative_prompt"]
    out = tmp_path / "out"
    cut = product.cutout(tmp_path / "bag.png")
    packs = sorted((out / "creatives").glob("*/mix_pack_*"))
    assert len(packs) == 10
    for path in packs:  # composited after the scene was extended, never outpainted
        _assert_product_exact(path, cut)
    extended = _extended_ads(brief, out)
    own_extended = {name for name in extended if name.startswith("mix_own_")}
    assert own_extended  # the brand's photo, extended by a model where a crop would cut it
    kinds = _kinds(out)
    assert kinds["pack"] == {"compositeWithTrainedAlgorithmicMedia"}
    assert kinds["gen"] == {"trainedAlgorithmicMedia"}
    assert kinds["own"] == {"compositeSynthetic", "compositeWithTrainedAlgorithmicMedia"}
    for path in (out / "creatives").glob("*/mix_own_*"):
        outpainted = path.stem in own_extended
        assert provenance.read_source_type(path) == (
            "compositeWithTrainedAlgorithmicMedia" if outpainted else "compositeSynthetic"
        ), path.name
    assert _workbook_column(out, "ai_generated") == {
        "own": {"no", "yes"},
        "pack": {"yes"},
        "gen": {"yes"},
    }
    preview = "\n".join(p.read_text() for p in (out / "preview").glob("*.html"))
    assert (
        'title="IPTC DigitalSourceType: compositeWithTrainedAlgorithmicMedia">AI imagery' in preview
    )


# ---------------------------------------------------------------- outpaint (fit)

OUTPAINT = "stability.stable-outpaint-v1:0"
Box = tuple[int, int, int, int]


def _masters(out: Path) -> dict[str, Path]:
    """Request label -> the image file the journal holds for it."""
    journal = Journal(out)
    try:
        return {
            row["label"]: out / row["image"]
            for row in journal.rows()
            if row["kind"] == "image" and row["image"]
        }
    finally:
        journal.close()


def _subject(job: ImageJob, master: Image.Image) -> Box:
    """Where the subject was drawn: the photo's ball (brandart.mixed_brief), or the
    fake's ellipse in the middle half of a generated master."""
    if job.source is not None:
        return OWN_SUBJECTS[job.source.name]
    w, h = master.size
    return (w // 4, h // 4, 3 * w // 4, 3 * h // 4)


OWN_SUBJECTS: dict[str, Box] = {"hero.jpg": (850, 250, 1100, 600), "tall.png": (150, 300, 450, 700)}


def _would_cut(master: Image.Image, subject: Box, width: int, height: int) -> bool:
    """The crop compose would make of ``master`` (focal.crop_box) cuts the subject drawn
    at ``subject``, or keeps less than half of the master."""
    box = focal.crop_box(master, width, height)
    if 1 - kept(master.width / master.height, width / height) > fit.MAX_CROP_LOSS:
        return True
    x0, y0, x1, y1 = subject
    return x0 < box[0] - 1 or y0 < box[1] - 1 or x1 > box[2] + 1 or y1 > box[3] + 1


def _expected(brief: Path, out: Path, provider: str) -> dict[str, set[str]]:
    """Master label -> the placements a crop would spoil, from the masters on disk and
    where their subjects were drawn (not from adloom's own decision)."""
    plan = make_plan(read_campaign(brief), load_registry(), provider)
    masters = _masters(out)
    wanted: dict[str, set[str]] = {}
    for job in plan.image_jobs:
        with Image.open(job.source or masters[job.label]) as image:
            master = image.convert("RGB")
        subject = _subject(job, master)
        spoiled = {
            s.placement for s in job.shapes if _would_cut(master, subject, s.width, s.height)
        }
        if spoiled:
            wanted[job.label] = spoiled
    return wanted


def _extended_ads(brief: Path, out: Path) -> set[str]:
    """The ad names whose placement a crop would spoil (``_expected``)."""
    wanted = _expected(brief, out, "bedrock")
    plan = make_plan(read_campaign(brief), load_registry(), "bedrock")
    return {
        a.name
        for a in plan.ads
        if a.image_job is not None and a.placement.id in wanted.get(a.image_job.label, set())
    }


def _subject_seen(path: Path, colour: tuple[int, int, int]) -> bool | None:
    """Whether the subject (pixels near ``colour``) lies whole in the creative, touching
    none of its edges (a crop through it runs to the edge); None where it is not seen
    (under the copy's panel)."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    near = np.abs(pixels - np.array(colour)).sum(axis=2) < 60
    ys, xs = np.nonzero(near)
    if len(xs) < 50:
        return None
    h, w = near.shape
    return bool(xs.min() > 0 and ys.min() > 0 and xs.max() < w - 1 and ys.max() < h - 1)


def _recorded(out: Path) -> tuple[dict[str, list[int]], dict[str, dict[str, Any]]]:
    """What the run recorded: each creative's crop box in its master (the ``crop``
    check), and each outpaint request's body by its master's label."""
    with closing(sqlite3.connect(out / "journal.sqlite")) as db:
        crops = {
            Path(p).stem: json.loads(c)["crop"]
            for p, c in db.execute("SELECT path, checks FROM creatives")
        }
        bodies = {
            label.removesuffix("/outpaint"): json.loads(body)
            for label, body in db.execute("SELECT label, request FROM requests")
            if label.endswith("/outpaint")
        }
    return crops, bodies


@pytest.fixture(scope="module")
def outpainted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, FakeBedrock]:
    """The mixed campaign run on the fake with fit auto, and the same one cropped."""
    folder = tmp_path_factory.mktemp("outpaint")
    brief = mixed_brief(folder, provider="bedrock", image_model=STABILITY)
    cropped = mixed_brief(folder / "crop", provider="bedrock", image_model=STABILITY, fit="crop")
    with pytest.MonkeyPatch.context() as mp, FakeBedrock(key="AKIAFAKEOUTPAINT0001") as fake:
        point_at(mp, fake)
        sets = ["--set", f"quota.{STABILITY}.ipm=100000", "--set", f"quota.{OUTPAINT}.ipm=100000"]
        for path, out in ((brief, folder / "out"), (cropped, folder / "crop" / "out")):
            code, _, err = cli("run", str(path), "--out", str(out), *sets)
            assert code == 0, err
        yield brief, folder / "out", fake


def test_outpaint_requests_exactly_where_a_crop_would_cut_the_subject(
    outpainted: tuple[Path, Path, FakeBedrock],
) -> None:
    brief, out, fake = outpainted
    wanted = _expected(brief, out, "bedrock")
    # Some masters need it and some do not: the campaign shows both.
    plan = make_plan(read_campaign(brief), load_registry(), "bedrock")
    assert 0 < len(wanted) < len(plan.image_jobs)
    assert {"own", "pack", "gen"} == {label.split("/")[0] for label in wanted}
    extended = {label.removesuffix("/outpaint") for label in _masters(out) if "/outpaint" in label}
    assert extended == set(wanted)
    sent = [r for r in fake.calls("invoke") if r.model == OUTPAINT and r.status == 200]
    assert len(sent) == len(wanted)  # one per master, however many placements it serves
    # Each extended master covers the shapes it serves: the journal holds it in masters/.
    for label, placements in wanted.items():
        path = _masters(out)[f"{label}/outpaint"]
        assert path.parent.parent == out / "masters"
        with Image.open(path) as image:
            aspect = image.width / image.height
        shapes = [p for p in plan.campaign.placements.values() if p.id in placements]
        assert min(s.aspect for s in shapes) <= aspect * 1.01
        assert max(s.aspect for s in shapes) >= aspect / 1.01


def test_outpainted_creatives_keep_the_subject_whole(
    outpainted: tuple[Path, Path, FakeBedrock],
) -> None:
    brief, out, _ = outpainted
    cropped = out.parent / "crop" / "out"
    plan = make_plan(read_campaign(brief), load_registry(), "bedrock")
    masters = _masters(out)
    names = _extended_ads(brief, out)
    crops, bodies = _recorded(out)
    seen = 0
    for ad in plan.ads:
        job = ad.image_job
        if ad.name not in names or job is None:
            continue
        with Image.open(job.source or masters[job.label]) as master:
            x0, y0, x1, y1 = _subject(job, master)
            colour = master.convert("RGB").getpixel(((x0 + x1) // 2, (y0 + y1) // 2))
            source = master.size
        # Compose cut the ad from the extended master around the whole subject: its
        # recorded crop box holds the subject's box, moved and scaled as it was sent.
        body = bodies[job.label]
        sent_w, sent_h = map(int, body["image"].rsplit("@", 1)[1].split("x"))
        sx, sy = sent_w / source[0], sent_h / source[1]
        moved = (body["left"] + x0 * sx, body["up"] + y0 * sy,
                 body["left"] + x1 * sx, body["up"] + y1 * sy)  # fmt: skip
        c = crops[ad.name]
        assert c[0] <= moved[0] + 1, ad.name
        assert c[1] <= moved[1] + 1, ad.name
        assert c[2] >= moved[2] - 1, ad.name
        assert c[3] >= moved[3] - 1, ad.name
        if ad.brief.id == "pack":  # the packshot stands on the scene's subject
            continue
        # On the pixels, where the copy's panel leaves it in view: whole, and the same ad
        # cropped runs it into the edge (the measure can tell them apart).
        (made,) = (out / "creatives" / ad.placement.id).glob(f"{ad.name}.*")
        whole = _subject_seen(made, colour)
        if whole is None:
            continue
        assert whole, made.name
        (crop,) = (cropped / "creatives" / ad.placement.id).glob(f"{ad.name}.*")
        if 1 - kept(source[0] / source[1], ad.placement.aspect) <= fit.MAX_CROP_LOSS:
            assert _subject_seen(crop, colour) is not True, crop.name
        seen += 1
    assert seen >= 2


def test_a_rerun_sends_no_outpaint_again(
    outpainted: tuple[Path, Path, FakeBedrock], monkeypatch: pytest.MonkeyPatch
) -> None:
    brief, out, fake = outpainted
    point_at(monkeypatch, fake)
    before = len(fake.calls("invoke"))
    code, summary, err = cli("run", str(brief), "--out", str(out))
    assert code == 0, err
    assert len(fake.calls("invoke")) == before
    assert summary["cost_usd"] == 0


def test_plan_shows_the_outpaint_requests_and_their_cost(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    brief = mixed_brief(tmp_path, provider="bedrock", image_model=STABILITY)
    code, shown, err = cli("plan", str(brief))
    assert code == 0, err
    outpaint = shown["outpaint"]
    assert outpaint["model"] == OUTPAINT
    price = load_registry().get(OUTPAINT).image_cost()
    # The 728x90 leaderboard loses most of any master: those are sure; the own photos
    # are judged on their pixels already; the rest waits for each master's subject.
    assert 0 < outpaint["requests"] <= outpaint["requests_max"]
    assert outpaint["cost_usd_max"] == pytest.approx(outpaint["requests_max"] * price)
    masters = shown["requests"]["image"] * load_registry().get(STABILITY).image_cost()
    assert shown["cost_usd_max"] >= masters + outpaint["cost_usd_max"] - 1e-9
    code, _, err = cli("plan", str(brief), "--set", "fit=crop")
    assert code == 0, err
    stdout = io.StringIO()
    main(["plan", str(brief)], env=Env(stdout=stdout, stderr=io.StringIO()))
    assert f"request(s) to {OUTPAINT}" in stdout.getvalue()


def test_a_region_without_outpaint_says_so_before_any_call(
    tmp_path: Path, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, fake_bedrock, region="eu-west-1")
    brief = mixed_brief(tmp_path, provider="bedrock", image_model=STABILITY, fit="outpaint")
    code, _, err = cli("run", str(brief), "--out", str(tmp_path / "out"))
    assert code == 2, err
    assert "offered in us-east-1, us-east-2, us-west-2 only" in err
    assert "image_region" in err
    assert not fake_bedrock.calls("invoke")
    assert not fake_bedrock.calls("converse")
    # fit auto: cropped instead, and said once.
    auto = mixed_brief(tmp_path / "auto", provider="bedrock", image_model=STABILITY)
    code, _, err = cli("run", str(auto), "--out", str(tmp_path / "auto" / "out"),
                             "--set", f"quota.{STABILITY}.ipm=100000")  # fmt: skip
    assert code == 0, err
    assert err.count("fit auto: placements a crop would cut are cropped") == 1
    assert not [r for r in fake_bedrock.calls("invoke") if r.model == OUTPAINT]


def test_image_region_sends_images_to_the_us_and_keeps_copy_home(
    tmp_path: Path, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, fake_bedrock, region="eu-west-1")
    brief = mixed_brief(tmp_path, provider="bedrock", image_model=STABILITY,
                        image_region="us-west-2")  # fmt: skip
    sets = ["--set", f"quota.{STABILITY}.ipm=100000", "--set", f"quota.{OUTPAINT}.ipm=100000"]
    code, summary, err = cli("run", str(brief), "--out", str(tmp_path / "out"), *sets)
    assert code == 0, err
    assert summary["failed"] == 0
    invokes = fake_bedrock.calls("invoke")
    assert [r for r in invokes if r.model == OUTPAINT]
    assert {r.region for r in invokes} == {"us-west-2"}
    assert {r.region for r in fake_bedrock.calls("converse")} == {"eu-west-1"}


def test_the_draft_run_has_the_same_structure_offline(
    drafted: tuple[Path, dict[str, Any]], outpainted: tuple[Path, Path, FakeBedrock]
) -> None:
    folder, _ = drafted
    draft_out = folder / "out"
    _, bedrock_out, _ = outpainted
    draft_labels = {label for label in _masters(draft_out) if label.endswith("/outpaint")}
    # The brand's photos are the same pixels in both runs: the same masters extended.
    own = {label for label in draft_labels if label.startswith("own/")}
    assert own
    assert own == {label for label in _masters(bedrock_out) if label.startswith("own/")}
    # A draft master's subject is the draft art's own; those a crop would surely spoil
    # (it keeps under half of them) are extended like the Bedrock run's.
    plan = make_plan(read_campaign(folder / "brief.xlsx"), load_registry(), "draft")
    sure = {
        j.label
        for j in plan.image_jobs
        if j.source is None and fit.foreseen(j.shapes, j.width, j.height)[0]
    }
    assert sure
    assert sure <= {label.removesuffix("/outpaint") for label in draft_labels}
    # Extended offline around the photo, which is there unchanged in the middle.
    sources = {job.label: job.source for job in plan.image_jobs}
    for label in own:
        source = sources[label.removesuffix("/outpaint")]
        assert source is not None
        with Image.open(source) as image:
            photo_pixels = image.convert("RGB")
        with Image.open(_masters(draft_out)[label]) as image:
            wider = image.convert("RGB")
        left = (wider.width - photo_pixels.width) // 2
        up = (wider.height - photo_pixels.height) // 2
        assert (left, up) != (0, 0)
        middle = wider.crop((left, up, left + photo_pixels.width, up + photo_pixels.height))
        assert middle.tobytes() == photo_pixels.tobytes()


def test_a_filtered_outpaint_leaves_its_placements_cropped_and_says_so(
    tmp_path: Path, fake_bedrock: FakeBedrock
) -> None:
    # Only the own-photo brief's outpaint prompts name its product: those are filtered.
    fake_bedrock.behaviour.filter_output = ["Cold brew"]
    brief = mixed_brief(tmp_path, provider="bedrock", image_model=STABILITY)
    sets = ["--set", f"quota.{STABILITY}.ipm=100000", "--set", f"quota.{OUTPAINT}.ipm=100000"]
    code, summary, err = cli("run", str(brief), "--out", str(tmp_path / "out"), *sets)
    assert code == 0, err
    assert summary["failed"] == 0
    filtered = [
        r
        for r in fake_bedrock.calls("invoke")
        if r.model == OUTPAINT and "Cold brew" in r.body["prompt"]
    ]
    assert filtered
    sheet = load_workbook(tmp_path / "out" / "variants.xlsx", read_only=True)["Variants"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    name, issues = header.index("ad_name"), header.index("issues")
    said = {
        str(r[name]) for r in rows[1:] if "picture cropped, not extended" in str(r[issues] or "")
    }
    assert said
    assert all(n.startswith("mix_own_") for n in said)
    # Cropped from the photo itself, which still holds no AI imagery.
    for n in said:
        (path,) = (tmp_path / "out" / "creatives").glob(f"*/{n}.*")
        assert provenance.read_source_type(path) == "compositeSynthetic"
