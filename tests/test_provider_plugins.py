"""Provider plugins: an installed distribution with an ``adloom.providers`` entry point.

Each test builds a real (tiny) distribution in a temporary folder: a module, the
models file it ships, and a ``.dist-info`` with ``entry_points.txt``, put on
``sys.path`` the way an install would. ``importlib.metadata`` finds it there; nothing
in adloom is told about it otherwise. The plugin's provider writes copy with the
shared copy code (``providers.copywriting``) in an OpenAI-style body and answers
locally, as a fake service would.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from adloom import providers
from briefs import MINIMAL_BRIEF, MINIMAL_CAMPAIGN, write_brief
from test_cli import run_cli

PLUGIN = '''
"""adloom-acme: an OpenAI-style provider (answering locally, for the test)."""

import io
import json
import re
from pathlib import Path

from PIL import Image

from adloom.providers import ProviderConfig, register
from adloom.providers.base import Provider, Request, Response
from adloom.providers.copywriting import (
    copy_prompt, estimate_tokens, json_in_text, output_tokens, validated,
)
from adloom.providers.prompts import Prompts, image_prompts


class AcmeProvider(Provider):
    name = "acme"

    def __init__(self, config: ProviderConfig) -> None:
        self.registry = config.registry
        self.prompts = Prompts(config.templates)

    def text_request(self, job, feedback=()):
        info = self.registry.get(job.model, kind="text")
        asked = copy_prompt(job, feedback, info.structured_output, self.prompts)
        most = output_tokens(job.limits, info, None)
        body = {
            "messages": [
                {"role": "system", "content": asked.system},
                {"role": "user", "content": asked.user},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "ad_copy", "schema": asked.schema},
            },
            "max_tokens": most,
        }
        tokens = estimate_tokens(asked.system + asked.user)
        return Request("text", job.model, body, input_tokens=tokens, max_tokens=most)

    def image_request(self, job):
        prompt, _ = image_prompts(self.prompts, job, negation_in_prompt=True)
        body = {"prompt": prompt, "size": f"{job.width}x{job.height}"}
        return Request("image", job.model, body)

    def send(self, request):
        if request.kind == "image":
            width, height = map(int, request.body["size"].split("x"))
            png = io.BytesIO()
            Image.new("RGB", (width, height), "teal").save(png, "PNG")
            return Response("ok", image=png.getvalue())
        user = request.body["messages"][1]["content"]
        product = re.search(r"Product: (.*)", user).group(1)
        copy = {"headline": product, "body": "Cafe-strength in 30 seconds.", "cta": "Shop now"}
        text = "Here is the copy:\\n```json\\n" + json.dumps(copy) + "\\n```"
        required = request.body["response_format"]["json_schema"]["schema"]["required"]
        return Response("ok", output=validated(json_in_text(text), required))


@register("acme", models=Path(__file__).with_name("acme_models.json"))
def make(config):
    return AcmeProvider(config)
'''
MODELS = {
    "models": [
        {"id": "acme-writer", "provider": "acme", "kind": "text", "family": "acme",
         "structured_output": "native", "max_output_tokens": 4000},
        {"id": "acme-painter", "provider": "acme", "kind": "image", "family": "acme",
         "aspect_ratios": ["1:1", "4:5", "9:16"]},
    ],
    "defaults": {"acme": {"text": "acme-writer", "image": "acme-painter"}},
}  # fmt: skip


def install(site: Path, module: str, *, entry: str = "acme = adloom_acme") -> None:
    """A distribution "adloom-acme" in ``site``: its module, models file and metadata."""
    site.mkdir(exist_ok=True)
    (site / "adloom_acme.py").write_text(module, encoding="utf-8")
    (site / "acme_models.json").write_text(json.dumps(MODELS), encoding="utf-8")
    meta = site / "adloom_acme-0.1.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: adloom-acme\nVersion: 0.1\n")
    (meta / "entry_points.txt").write_text(f"[adloom.providers]\n{entry}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on ``sys.path`` to install into; the plugin is forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    providers.unregister("acme")
    sys.modules.pop("adloom_acme", None)


def brief(tmp_path: Path, **campaign: object) -> Path:
    settings = MINIMAL_CAMPAIGN | {"placements": "meta_feed", "variants": 1} | campaign
    return write_brief(tmp_path / "brief.xlsx", settings, [MINIMAL_BRIEF])


def test_a_plugin_is_listed_without_being_imported(site: Path) -> None:
    install(site, PLUGIN)
    assert providers.names() == ["acme", "bedrock", "draft"]
    assert "adloom_acme" not in sys.modules


def test_models_lists_the_models_a_plugin_ships(site: Path) -> None:
    install(site, PLUGIN)
    code, out, err = run_cli("models", "--json")
    assert code == 0, err
    rows = {row["id"]: row for row in json.loads(out)}
    assert rows["acme-writer"]["provider"] == "acme"
    assert rows["acme-painter"]["kind"] == "image"
    assert "anthropic.claude-haiku-4-5-20251001-v1:0" in rows  # the shipped ones stay


def test_run_uses_the_plugin_provider(site: Path, tmp_path: Path) -> None:
    install(site, PLUGIN)
    out = tmp_path / "out"
    code, stdout, err = run_cli("run", brief(tmp_path), "--provider", "acme", "--out", out,
                                "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout)
    assert (summary["creatives"], summary["failed"]) == (1, 0)
    assert summary["model_calls"] == {"text": 1, "image": 1}
    sheet = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    header, row = ([c.value for c in r] for r in sheet.iter_rows(max_row=2))
    ad = dict(zip(header, row, strict=True))
    assert ad["provider"] == "acme:acme-writer, acme-painter"
    assert (ad["headline"], ad["body"]) == ("Cold brew", "Cafe-strength in 30 seconds.")
    with Image.open(out / str(ad["image"])) as creative:
        assert creative.size == (1080, 1080)  # meta_feed, composed from the plugin's master


def test_a_brief_may_name_a_plugin_provider(site: Path, tmp_path: Path) -> None:
    install(site, PLUGIN)
    code, stdout, err = run_cli("plan", brief(tmp_path, provider="acme"), "--json")
    assert code == 0, err
    assert json.loads(stdout)["provider"] == "acme"


def test_a_brief_naming_an_uninstalled_provider_lists_the_installed_ones(tmp_path: Path) -> None:
    code, _, err = run_cli("validate", brief(tmp_path, provider="acme"))
    assert code == 2
    assert 'provider "acme" is not supported — use bedrock, draft' in err


def test_a_plugin_that_fails_to_import_is_named(site: Path) -> None:
    install(site, "import acme_sdk_that_is_not_installed\n")
    code, _, err = run_cli("models")
    assert code == 3
    assert 'provider plugin "acme" (adloom_acme, from adloom-acme) failed to load' in err
    assert "ModuleNotFoundError" in err
    assert "acme_sdk_that_is_not_installed" in err
    assert "pip uninstall adloom-acme" in err
    assert "Traceback" not in err


def test_a_plugin_that_registers_nothing_is_named(site: Path, tmp_path: Path) -> None:
    install(site, PLUGIN, entry="acme2 = adloom_acme")
    code, _, err = run_cli("run", brief(tmp_path), "--provider", "acme2", "--out",
                           tmp_path / "out")  # fmt: skip
    assert code == 3
    assert 'provider plugin "acme2" (adloom_acme, from adloom-acme) registered no provider' in err
    assert 'register("acme2")' in err
    assert "Traceback" not in err
