"""Provider plugins: an installed distribution with an ``adloom.providers`` entry point.

Each test builds a real (tiny) distribution in a temporary folder: a module, the
models file it ships, and a ``.dist-info`` with ``entry_points.txt``, put on
``sys.path`` the way an install would. ``importlib.metadata`` finds it there; nothing
in adloom is told about it otherwise. The plugin's provider writes copy with the
shared copy code (``providers.copywriting``) in an OpenAI-style body and answers
locally, as a fake service would.
"""

from __future__ import annotations

import base64
import io
import json
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


def install(
    site: Path,
    source: str,
    *,
    entry: str = "acme = adloom_acme",
    dist: str = "adloom-acme",
    files: dict[str, str] | None = None,
) -> None:
    """A distribution ``dist`` in ``site``: its module (named by ``entry``), the files it
    ships beside it (by default acme's models file) and its metadata."""
    module = entry.split("=")[1].strip()
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    for name, text in (files or {"acme_models.json": json.dumps(MODELS)}).items():
        (site / name).write_text(text, encoding="utf-8")
    meta = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (meta / "entry_points.txt").write_text(f"[adloom.providers]\n{entry}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on ``sys.path`` to install into; its plugins are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in ("acme", "openai"):
        providers.unregister(name)
    for module in ("adloom_acme", "adloom_openai"):
        sys.modules.pop(module, None)


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


# ------------------------------------------------ the OpenAI-compatible example

EXAMPLES = Path(__file__).parents[1] / "docs" / "examples"
KEY = "sk-test-0123456789"
SIZES = ("1024x1024", "1536x1024", "1024x1536")
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FakeOpenAI(ThreadingHTTPServer):
    """The two endpoints the example calls, over real HTTP, refusing what the API
    refuses: a wrong key (401), a malformed body or a schema strict mode rejects (400)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[tuple[str, dict[str, Any]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append((self.path, body))
        if self.headers["Authorization"] != f"Bearer {KEY}":
            return self._reply(401, _error("Incorrect API key provided.", "invalid_api_key"))
        try:
            if self.path == "/v1/chat/completions":
                return self._reply(200, _chat(body))
            if self.path == "/v1/images/generations":
                return self._reply(200, _image(body))
        except (AssertionError, KeyError) as exc:
            return self._reply(400, _error(f"invalid request: {exc!r}", "invalid_request"))
        return self._reply(404, _error(f"no route {self.path}", "not_found"))

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


def _chat(body: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(body["model"], str)
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert isinstance(body["max_completion_tokens"], int)
    spec = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert NAME.match(spec["name"])
    schema = spec["schema"]
    # Strict mode: every property required, no others allowed.
    assert spec["strict"] is True
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == sorted(schema["properties"])
    user = body["messages"][1]["content"]
    fields = dict(re.findall(r"^(Product|Message|Call to action): (.*)$", user, re.MULTILINE))
    copy = {"headline": fields["Product"], "body": fields["Message"] + ".", "cta": "Shop now"}
    answer = {name: copy[name] for name in schema["required"]}
    usage = {"prompt_tokens": len(user) // 4, "completion_tokens": 25}
    message = {"role": "assistant", "content": json.dumps(answer)}
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": usage}


def _image(body: dict[str, Any]) -> dict[str, Any]:
    assert body["size"] in SIZES
    assert body["quality"] in ("low", "medium", "high")
    assert 0 < len(body["prompt"]) <= 32_000
    png = io.BytesIO()
    Image.new("RGB", tuple(map(int, body["size"].split("x"))), "navy").save(png, "PNG")
    return {"data": [{"b64_json": base64.b64encode(png.getvalue()).decode()}]}


@pytest.fixture
def openai(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """The example plugin installed from docs/examples, pointed at a fake of the API."""
    files = {"openai_models.json": (EXAMPLES / "openai_models.json").read_text("utf-8")}
    install(site, (EXAMPLES / "adloom_openai.py").read_text("utf-8"),
            entry="openai = adloom_openai", dist="adloom-openai", files=files)  # fmt: skip
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    yield fake
    fake.shutdown()
    fake.server_close()
    thread.join()


def test_the_openai_example_runs_a_campaign(openai: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, err = run_cli("run", brief(tmp_path, placements="meta_feed,meta_story"),
                                "--provider", "openai", "--out", out, "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout)
    assert (summary["creatives"], summary["failed"]) == (2, 0)
    assert summary["model_calls"] == {"text": 1, "image": 2}  # one copy; square and tall masters
    tokens = summary["tokens"]["input"] * 0.15e-6 + summary["tokens"]["output"] * 0.6e-6
    assert summary["cost_usd"] == pytest.approx(0.042 + 0.063 + tokens, abs=1e-5)  # priced per size
    sizes = sorted(body["size"] for path, body in openai.bodies if path.endswith("generations"))
    assert sizes == ["1024x1024", "1024x1536"]
    sheet = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    header, *rows = ([c.value for c in r] for r in sheet.iter_rows())
    ads = [dict(zip(header, row, strict=True)) for row in rows]
    assert {(ad["headline"], ad["body"], ad["status"]) for ad in ads} == {
        ("Cold brew", "Café-strength in 30 seconds.", "ok")
    }


def test_the_openai_example_reports_a_refused_key(
    openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key")
    code, _, err = run_cli("run", brief(tmp_path), "--provider", "openai", "--out",
                           tmp_path / "out")  # fmt: skip
    assert code == 3
    assert "Incorrect API key provided." in err
    assert "sk-wrong-key" not in err
