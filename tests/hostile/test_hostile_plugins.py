"""Hostile provider plugins: someone else's code, installed and loaded the real way
(a distribution with an ``adloom.providers`` entry point on ``sys.path``, as
``tests/test_provider_plugins.py`` does), misbehaving for one brief of two.

Whatever it does, the run ends with exit 3 and a message naming the plugin and what it
did; ``--json`` stays one valid JSON object; the ad it did not break is delivered (in
the workbook, the preview and the journal, so a rerun with the plugin fixed pays only
for the broken one). What it prints goes to stderr, marked as its own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from adloom.errors import ExitCode
from briefs import MINIMAL_BRIEF, MINIMAL_CAMPAIGN, write_brief
from test_cli import run_cli
from test_provider_plugins import PLUGIN, install, site

__all__ = ["site"]  # the fixture: a folder on sys.path to install plugins into

NAMED = 'provider plugin "acme" (adloom_acme, from adloom-acme)'
BAD = "Bad brew"  # the brief the plugin misbehaves for; "Cold brew" it answers well
ROOT = Path(__file__).resolve().parents[2]

# The provider of test_provider_plugins, whose send hands every request about BAD to
# ``misbehave(request, normal)`` (``normal()``: the answer it would have given).
HOOKED = PLUGIN.replace(
    "    def send(self, request):\n",
    "    def send(self, request):\n"
    f"        if {BAD!r} in json.dumps(request.body):\n"
    "            return misbehave(request, lambda: self._send(request))\n"
    "        return self._send(request)\n\n"
    "    def _send(self, request):\n",
)

# PNG headers claiming 8,000 x 6,000 pixels (over adloom's limit, under Pillow's) and
# 50,000 x 50,000 (a decompression bomb to Pillow too), each in about 60 bytes.
BOMB = """
import struct, zlib

def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

def png_claiming(width, height):
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\\x89PNG\\r\\n\\x1a\\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b""))
"""

# name -> (misbehave's source, what the message says it did)
SEND = {
    "exits": (
        "import sys\ndef misbehave(request, normal):\n    sys.exit(3)\n",
        "send called sys.exit(3)",
    ),
    "keyboard interrupt": (
        "def misbehave(request, normal):\n    raise KeyboardInterrupt\n",
        "send raised KeyboardInterrupt (no Ctrl-C reached adloom)",
    ),
    "raises": (
        "def misbehave(request, normal):\n    raise ValueError('the SDK fell over')\n",
        "send raised ValueError: the SDK fell over",
    ),
    "returns None": (
        "def misbehave(request, normal):\n    return None\n",
        "send returned NoneType, not a Response",
    ),
    "non-string headline": (
        "def misbehave(request, normal):\n"
        "    if request.kind == 'image':\n        return normal()\n"
        "    return Response('ok', output={'headline': 42, 'body': 'Fresh.', 'cta': 'Buy'})\n",
        "answered copy of the wrong shape (the answer has no headline",
    ),
    "usage not numbers": (
        "def misbehave(request, normal):\n"
        "    return Response('ok', output=normal().output, image=normal().image,"
        " usage={'input_tokens': 'lots'})\n",
        "usage is dict, not a Usage",
    ),
    "garbage image": (
        "def misbehave(request, normal):\n"
        "    if request.kind == 'text':\n        return normal()\n"
        "    return Response('ok', image=b'<html>not an image</html>')\n",
        "its image is not a readable PNG, JPEG image",
    ),
    "huge image": (
        BOMB + "def misbehave(request, normal):\n"
        "    if request.kind == 'text':\n        return normal()\n"
        "    return Response('ok', image=png_claiming(8000, 6000))\n",
        "its image is 8000 x 6000 pixels, over the 40,000,000-pixel limit",
    ),
    "decompression bomb": (
        BOMB + "def misbehave(request, normal):\n"
        "    if request.kind == 'text':\n        return normal()\n"
        "    return Response('ok', image=png_claiming(50000, 50000))\n",
        "its image is too large to decode",
    ),
    "no image": (
        "def misbehave(request, normal):\n"
        "    if request.kind == 'text':\n        return normal()\n"
        "    return Response('ok')\n",
        "answered no image",
    ),
}


def _brief(tmp_path: Path) -> Path:
    bad = {"id": "b2", "product": BAD, "message": "Brewed wrong on purpose"}
    settings = MINIMAL_CAMPAIGN | {"placements": "meta_feed", "variants": 1}
    return write_brief(tmp_path / "brief.xlsx", settings, [MINIMAL_BRIEF, bad])


def _ads(out: Path) -> dict[str, str]:
    """Product -> status, as the delivered workbook says."""
    sheet = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    header, *rows = ([c.value for c in r] for r in sheet.iter_rows())
    ads = [dict(zip(header, row, strict=True)) for row in rows]
    return {"Cold brew" if ad["headline"] == "Cold brew" else BAD: str(ad["status"]) for ad in ads}


@pytest.mark.parametrize("case", SEND, ids=list(SEND))
def test_a_plugin_misbehaving_in_send_is_named_and_the_rest_delivered(
    site: Path, tmp_path: Path, case: str
) -> None:
    source, said = SEND[case]
    install(site, HOOKED + "\n" + source)
    out = tmp_path / "out"
    code, stdout, err = run_cli("run", _brief(tmp_path), "--provider", "acme", "--out", out,
                                "--json")  # fmt: skip
    assert code == ExitCode.PROVIDER, err
    assert f"{NAMED}: {said}" in err, err
    assert "Traceback" not in err
    assert "internal error" not in err
    summary = json.loads(stdout)  # one valid JSON object, the faults in it too
    assert any(said in fault for fault in summary["provider_faults"])
    assert (summary["variants"], summary["failed"]) == (2, 1)
    assert _ads(out)["Cold brew"] == "ok"
    assert (out / "index.html").is_file()
    assert any("Cold brew" in p.read_text("utf-8") for p in (out / "preview").glob("*.html"))


def test_a_fixed_plugin_is_asked_only_for_what_it_broke(site: Path, tmp_path: Path) -> None:
    install(site, HOOKED + "\n" + SEND["raises"][0])
    out = tmp_path / "out"
    code, _, err = run_cli("run", _brief(tmp_path), "--provider", "acme", "--out", out)
    assert code == ExitCode.PROVIDER, err
    (site / "adloom_acme.py").write_text(PLUGIN, encoding="utf-8")  # fixed
    sys.modules.pop("adloom_acme", None)
    from adloom import providers

    providers.unregister("acme")
    code, stdout, err = run_cli("run", _brief(tmp_path), "--provider", "acme", "--out", out,
                                "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout)
    # Cold brew's copy and master came from the journal; only Bad brew's were asked for.
    assert summary["model_calls"] == {"text": 1, "image": 1}
    assert summary["cache_hits"] == 2
    assert _ads(out) == {"Cold brew": "ok", BAD: "ok"}


# name -> (the plugin's source, exit code, what the message says)
STOPS = {
    "exits on import": (
        "import sys\nsys.exit(1)\n",
        ExitCode.PROVIDER,
        f"{NAMED} failed to load: called sys.exit(1)",
    ),
    "keyboard interrupt in text_request": (
        PLUGIN.replace(
            "    def text_request(self, job, feedback=()):\n",
            "    def text_request(self, job, feedback=()):\n        raise KeyboardInterrupt\n",
        ),
        ExitCode.PROVIDER,
        f"{NAMED} failed in text_request: raised KeyboardInterrupt (no Ctrl-C reached adloom)",
    ),
    "factory returns None": (
        PLUGIN.replace("    return AcmeProvider(config)", "    return None"),
        ExitCode.PROVIDER,
        f"{NAMED} made a NoneType, not a Provider",
    ),
    # A real Ctrl-C that lands while plugin code runs is the user's: a clean stop.
    "the user's Ctrl-C": (
        PLUGIN.replace(
            "    def text_request(self, job, feedback=()):\n",
            "    def text_request(self, job, feedback=()):\n"
            "        import os, signal, time\n"
            "        os.kill(os.getpid(), signal.SIGINT)\n"
            "        time.sleep(5)\n",
        ),
        ExitCode.INTERRUPTED,
        "Stopped.",
    ),
}


@pytest.mark.parametrize("case", STOPS, ids=list(STOPS))
def test_a_plugin_misbehaving_outside_send_stops_the_run_named(
    site: Path, tmp_path: Path, case: str
) -> None:
    source, exit_code, said = STOPS[case]
    install(site, source)
    code, stdout, err = run_cli("run", _brief(tmp_path), "--provider", "acme", "--out",
                                tmp_path / "out", "--json")  # fmt: skip
    assert code == exit_code, err
    assert said in err, err
    assert "Traceback" not in err
    assert "internal error" not in err
    assert stdout == ""


def test_what_a_plugin_prints_goes_to_stderr_marked(site: Path, tmp_path: Path) -> None:
    """As a process of its own, so adloom's stdout is the real one: a plugin printing on
    import and in every call leaves ``--json`` one valid object."""
    source = (
        'print("acme: loading")\n'
        + HOOKED.replace(
            "    def _send(self, request):\n",
            "    def _send(self, request):\n        print('acme: sending', request.kind)\n",
        ).replace(
            "    def text_request(self, job, feedback=()):\n",
            "    def text_request(self, job, feedback=()):\n        print('acme: building')\n",
        )
        + "\ndef misbehave(request, normal):\n    print('acme: misbehaving')\n    return normal()\n"
    )
    install(site, source)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(site)]))
    done = subprocess.run(
        [sys.executable, "-m", "adloom", "run", str(_brief(tmp_path)), "--provider", "acme",
         "--out", str(tmp_path / "out"), "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["variants"], summary["failed"]) == (2, 0)
    assert "acme:" not in done.stdout
    lines = done.stderr.splitlines()
    for said in ("loading", "building", "sending text", "sending image", "misbehaving"):
        assert f"[plugin acme] acme: {said}" in lines, done.stderr


BATCHES = '''
from adloom.providers.base import BatchAnswer, BatchLimits, BatchProgress, Batches, Submitted


class AcmeBatches(Batches):
    """Jobs kept in memory, answered at once: copy with a number for a headline."""

    def limits(self, model):
        return BatchLimits(min_records=1, max_records=100, max_bytes=10_000_000)

    def worst_cost(self, request):
        return 0.0

    def submit(self, job):
        print("acme: submitting", job.name)
        return Submitted(job.name, "mem://in", "mem://out")

    def progress(self, job_id):
        return BatchProgress("Completed")

    def answers(self, job, records):
        for key in records:
            yield BatchAnswer(key, Response("ok", output={"headline": 42, "body": "b", "cta": "c"}))

    def manifest(self, job):
        return {}

    def stop(self, job_id):
        pass


AcmeProvider.batches = lambda self: AcmeBatches()
'''


def test_a_plugins_batch_answers_are_checked_as_its_send_answers(
    site: Path, tmp_path: Path
) -> None:
    install(site, PLUGIN + BATCHES)
    out = tmp_path / "out"
    code, stdout, err = run_cli("run", _brief(tmp_path), "--provider", "acme", "--out", out,
                                "--mode", "batch", "--json")  # fmt: skip
    assert code == ExitCode.PROVIDER, err
    assert f"{NAMED}: answered copy of the wrong shape (the answer has no headline" in err, err
    summary = json.loads(stdout)
    # Never believed: each answer failed and its copy asked again (in batch, where the
    # plugin answers the same) for the repair rounds, then the ads failed with the reason.
    assert (summary["variants"], summary["failed"]) == (2, 2)
    assert any(re.search(r"\(\d+ times\)$", fault) for fault in summary["provider_faults"])
    sheet = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    header, *rows = ([c.value for c in r] for r in sheet.iter_rows())
    errors = [str(dict(zip(header, row, strict=True))["issues"]) for row in rows]
    assert all("the answer has no headline" in e for e in errors), errors


def test_a_plugins_batch_jobs_failing_are_named(site: Path, tmp_path: Path) -> None:
    broken = BATCHES.replace(
        "    def submit(self, job):\n",
        "    def submit(self, job):\n        raise OSError('the bucket is gone')\n",
    )
    install(site, PLUGIN + broken)
    code, stdout, err = run_cli("run", _brief(tmp_path), "--provider", "acme", "--out",
                                tmp_path / "out", "--mode", "batch", "--json")  # fmt: skip
    assert code == ExitCode.PROVIDER, err
    assert f"{NAMED} failed in batches().submit: raised OSError: the bucket is gone" in err, err
    assert "Traceback" not in err
    assert stdout == ""


def test_many_different_faults_are_told_in_a_few_lines(site: Path, tmp_path: Path) -> None:
    install(site, PLUGIN.replace(
        "    def send(self, request):\n",
        "    def send(self, request):\n        raise ValueError(f'no answer for {request.key}')\n",
    ))  # fmt: skip
    settings = MINIMAL_CAMPAIGN | {"placements": "meta_feed", "variants": 12}
    brief = write_brief(tmp_path / "brief.xlsx", settings, [MINIMAL_BRIEF])
    code, stdout, err = run_cli("run", brief, "--provider", "acme", "--out", tmp_path / "out",
                                "--json")  # fmt: skip
    assert code == ExitCode.PROVIDER, err
    faults = json.loads(stdout)["provider_faults"]
    assert len(faults) == 11  # 10 told as they are, then how many more
    assert all(f.startswith(f"{NAMED}: send raised ValueError: no answer for") for f in faults[:10])
    assert re.fullmatch(rf"{re.escape(NAMED)}: (\d+) more, in \1 other ways .*", faults[10])
