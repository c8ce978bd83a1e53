"""Prompt templates: jinja2 files in ``templates/prompts/``, overridable like the preview.

Shared by every provider: ``copywriting.copy_prompt`` renders the copy prompts, and
``image_prompts`` the image prompt and its negative.

A user's ``--templates DIR`` holding ``prompts/copy_user.j2`` replaces just that
file. Templates render plain text for a model, never HTML, so autoescape is off;
undefined variables are errors, so a typo in a user's template fails the run
before anything is paid for instead of sending a prompt with a hole in it. They
render in the sandbox (``resources.template_env``): a shared template cannot run code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from adloom.aspects import orientation
from adloom.errors import InputError
from adloom.model import ImageJob
from adloom.resources import template_env, template_place

TEMPLATES = (
    "copy_system.j2",
    "copy_user.j2",
    "copy_rsa_user.j2",
    "image.j2",
    "image_negative.j2",
)


class Prompts:
    def __init__(self, override: Path | None) -> None:
        self.env = template_env(override, html=False)  # plain-text prompts for a model
        # Load every template now: a broken user template stops the run up front.
        self.templates = {name: self._load(name) for name in TEMPLATES}

    def _load(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(f"prompts/{name}")
        except jinja2.TemplateError as exc:
            raise _template_error(name, exc) from None

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            text = self.templates[name].render(**context)
        except jinja2.TemplateError as exc:  # SecurityError: what the sandbox refused
            raise _template_error(name, exc) from None
        # Templates are written for readability; the model gets no blank-line runs.
        lines = [line.rstrip() for line in text.strip().splitlines()]
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)
        return "\n".join(out)


def _template_error(name: str, exc: jinja2.TemplateError) -> InputError:
    place = template_place(exc) or f"prompts/{name}"
    return InputError(
        f"prompt template prompts/{name} ({place}): {exc.message or type(exc).__name__}",
        hint="Fix the template in your --templates folder, or remove it to use the shipped one.",
    )


def image_prompts(prompts: Prompts, job: ImageJob, *, negation_in_prompt: bool) -> tuple[str, str]:
    """The prompt and the negative prompt for ``job``'s master image.

    ``negation_in_prompt``: whether "no text" belongs in the prompt too (a model that
    reads negation words as asking for the thing keeps them in the negative only).
    ``scene``: the brief has a product image, so the picture is the setting for it.
    """
    shape, space = orientation(job.aspect)
    # A brief with a product image gets a scene for it: the real product is set in
    # later (adloom.creative.product), a drawn one would be a fake of it.
    scene = job.brief.product_image is not None
    context = {
        "brief": job.brief,
        "audience": job.audience,
        "brand": job.brand,
        "variant": job.variant,
        "aspect": job.aspect,
        "subject": job.brief.image_prompt or f"{job.brief.product}: {job.brief.message}",
        "orientation": shape,
        "copy_space": space,
        "negation_in_prompt": negation_in_prompt,
        "scene": scene,
    }
    return prompts.render("image.j2", context), prompts.render("image_negative.j2", context)
