"""Where packaged data lives: templates (preview pages, prompts) and fonts; and the one
jinja2 environment every template (shipped or the user's) is rendered in.

A ``--templates`` folder is shared between people as briefs are, so a template is
input, not code: it renders in jinja2's ``ImmutableSandboxedEnvironment``. The sandbox
refuses attributes starting with ``_`` (so ``cycler.__init__.__globals__``,
``__class__.__mro__`` and ``self._TemplateReference__context`` lead nowhere), a
function's internals, and calls that change lists or dicts; the templates only read
what they are given. What it refuses is a ``SecurityError``, reported as the user's
input (exit 2) at the template's file and line (``template_place``).
"""

from __future__ import annotations

import traceback
from functools import cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment


@cache
def default_templates() -> Path:
    """The shipped ``templates/`` folder.

    A wheel carries it inside the package (``adloom/templates``); an editable install
    or a source checkout reads the repository's top-level ``templates/``.
    """
    packaged = Path(__file__).with_name("templates")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def template_dirs(override: Path | None) -> list[Path]:
    """Search path for jinja2: the user's folder first, so any one template can be replaced."""
    return [override, default_templates()] if override else [default_templates()]


def template_env(override: Path | None, *, html: bool) -> ImmutableSandboxedEnvironment:
    """The sandbox templates render in: the user's folder first, then the shipped one.

    ``html``: escape everything (the preview); prompts are plain text for a model.
    Undefined names are errors, so a typo fails loudly instead of rendering blanks."""
    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(template_dirs(override)),
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_place(error: Exception) -> str:
    """Where in a template ``error`` happened: "FILE, line N" (jinja2 puts the
    template's own file and line into the traceback of what a render raised); "" when
    no template frame is in it."""
    if isinstance(error, TemplateSyntaxError):
        return f"{error.filename or error.name}, line {error.lineno}"
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")]
    return f"{frames[-1].filename}, line {frames[-1].lineno}" if frames else ""
