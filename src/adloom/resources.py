"""Where packaged data lives: templates (preview pages, prompts) and fonts."""

from __future__ import annotations

from functools import cache
from pathlib import Path


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
