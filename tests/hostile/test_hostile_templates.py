"""Hostile templates: a ``--templates`` folder is shared like a brief, so what it holds
must not run code. Each escape out of jinja2 (a global's ``__globals__``, a class's
``__mro__`` and ``__subclasses__``, the template's own context, a format-string
attribute walk, a list changed in place) is refused by the sandbox with exit 2 naming
the template file and line; the marker the escape would create is never created, and
nothing is paid for.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adloom.errors import ExitCode
from briefs import MINIMAL_CAMPAIGN, write_brief
from fakebedrock import FakeBedrock
from test_cli import run_cli

# Each escape tries to create MARKER (the test's path is put in for {marker}).
ESCAPES = {
    "cycler globals": "{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}",
    "joiner globals": "{{ joiner.__init__.__globals__['os'].system('touch {marker}') }}",
    "class mro": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "template context": "{{ self._TemplateReference__context.cycler.__init__.__globals__"
    ".os.popen('touch {marker}') }}",
    "format walk": "{{ '{0.__class__.__init__.__globals__}'.format(cycler) }}",
    "getattr filter": "{{ (cycler|attr('__init__')|attr('__globals__'))['os']"
    ".popen('touch {marker}') }}",
    "list mutation": "{% set items = [1] %}{{ items.append(2) }}",
    "lipsum globals": "{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}",
}
PREVIEW = "preview/index.html.j2"  # a page of ads: rendered for every run


def _templates(tmp_path: Path, name: str, escape: str, marker: Path) -> Path:
    """A templates folder whose ``name`` is the shipped one with ``escape`` on line 3."""
    folder = tmp_path / "templates"
    target = folder / name
    target.parent.mkdir(parents=True)
    body = escape.replace("{marker}", str(marker))
    target.write_text(f"first line\nsecond line\n{body}\nlast line\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("case", ESCAPES, ids=list(ESCAPES))
def test_a_preview_template_cannot_run_code(tmp_path: Path, case: str) -> None:
    marker = tmp_path / "pwned"
    templates = _templates(tmp_path, PREVIEW, ESCAPES[case], marker)
    brief = write_brief(tmp_path / "brief.xlsx", MINIMAL_CAMPAIGN | {"placements": "google_rsa"})
    code, stdout, err = run_cli("run", brief, "--out", tmp_path / "out", "--templates", templates,
                                "--json")  # fmt: skip
    assert code == ExitCode.BAD_INPUT, err
    assert stdout == ""
    assert not marker.exists()
    # The user's file and the line the escape is on.
    assert re.search(rf"{re.escape(str(templates / PREVIEW))}, line 3", err), err
    assert "Traceback" not in err
    assert "internal error" not in err
    # What was generated is kept in the journal: the fixed template reuses it.
    (templates / PREVIEW).unlink()
    code, _, err = run_cli("run", brief, "--out", tmp_path / "out", "--templates", templates)
    assert code == 0, err
    assert (tmp_path / "out" / "index.html").is_file()


@pytest.mark.parametrize("case", ["cycler globals", "class mro", "template context"])
def test_a_prompt_template_cannot_run_code(
    tmp_path: Path, case: str, fake_bedrock: FakeBedrock
) -> None:
    marker = tmp_path / "pwned"
    templates = _templates(tmp_path, "prompts/copy_user.j2", ESCAPES[case], marker)
    brief = write_brief(tmp_path / "brief.xlsx", MINIMAL_CAMPAIGN | {"placements": "meta_feed"})
    code, _, err = run_cli("run", brief, "--provider", "bedrock", "--out", tmp_path / "out",
                           "--templates", templates)  # fmt: skip
    assert code == ExitCode.BAD_INPUT, err
    assert not marker.exists()
    where = re.escape(str(templates / "prompts" / "copy_user.j2"))
    assert re.search(rf"prompt template prompts/copy_user\.j2 \({where}, line 3\)", err), err
    assert "Traceback" not in err
    assert "internal error" not in err
    assert fake_bedrock.calls("converse") == []  # refused before anything was paid for


def test_the_sandbox_still_renders_a_users_template(tmp_path: Path) -> None:
    """What a template is meant to do (read the page, loop, filter, escape) still works."""
    templates = tmp_path / "templates"
    (templates / "preview").mkdir(parents=True)
    (templates / "preview" / "contents.html.j2").write_text(
        "<h1>{{ page.title | upper }}</h1>{% for e in entries %}<p>{{ e.brief.id }}"
        " {{ e.pages[0].href }} {{ '<b>' }}</p>{% endfor %}\n",
        encoding="utf-8",
    )
    brief = write_brief(tmp_path / "brief.xlsx", MINIMAL_CAMPAIGN | {"placements": "google_rsa"})
    code, _, err = run_cli("run", brief, "--out", tmp_path / "out", "--templates", templates)
    assert code == 0, err
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<h1>TEST CAMPAIGN</h1>" in index
    assert re.search(r"<p>b1 preview/[\w.-]+\.html &lt;b&gt;</p>", index), index
