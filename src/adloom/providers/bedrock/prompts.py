"""Prompt templates: jinja2 files in ``templates/prompts/``, overridable like the preview.

A user's ``--templates DIR`` holding ``prompts/copy_user.j2`` replaces just that
file. Templates render plain text for a model, never HTML, so autoescape is off;
undefined variables are errors, so a typo in a user's template fails the run
before anything is paid for instead of sending a prompt with a hole in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from adloom.errors import InputError
from adloom.resources import template_dirs

TEMPLATES = (
    "copy_system.j2",
    "copy_user.j2",
    "copy_rsa_user.j2",
    "image.j2",
    "image_negative.j2",
)


class Prompts:
    def __init__(self, override: Path | None) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(override)]),
            autoescape=False,  # noqa: S701 - plain-text prompts for a model, never HTML
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        # Load every template now: a broken user template stops the run up front.
        self.templates = {name: self._load(name) for name in TEMPLATES}

    def _load(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(f"prompts/{name}")
        except jinja2.TemplateError as exc:
            raise InputError(
                f"prompt template prompts/{name}: {exc}",
                hint="Fix the template in your --templates folder, or remove it to use "
                "the shipped one.",
            ) from None

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            text = self.templates[name].render(**context)
        except jinja2.TemplateError as exc:
            raise InputError(f"prompt template prompts/{name}: {exc}") from None
        # Templates are written for readability; the model gets no blank-line runs.
        lines = [line.rstrip() for line in text.strip().splitlines()]
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)
        return "\n".join(out)
