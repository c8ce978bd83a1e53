"""The ``bedrock`` provider: copy through Converse, master images through InvokeModel.

Requests are built without I/O (``text_request``/``image_request``): the body is
exactly what is sent, so its hash keys the journal before anything is paid for.
Checks that need no network happen there too, so a run that cannot work stops
before its first call: latency-optimized inference on a model or region that does
not offer it. A profile-only model named by its base id goes through the inference
profile that fits the region (``profiles``). ``start`` asks the control plane for
each model's lifecycle before a run (``lifecycle``); ``send`` is the only other I/O.
Copy can also go in batch jobs through S3 (``batches``, module ``batch``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from adloom.errors import BriefError, InputError, Problem
from adloom.model import CopyJob, CutoutJob, ImageJob, OutpaintJob, Usage
from adloom.providers import ProviderConfig, register
from adloom.providers.base import Account, Attachment, Kind, Provider, Request, Response
from adloom.providers.bedrock import account_quotas, images, lifecycle, profiles, text
from adloom.providers.bedrock.batch import (
    BatchSettings,
    BedrockBatches,
    job_model_id,
    structured_output,
)
from adloom.providers.bedrock.client import Clients, ErrorContext, Timeouts, translate
from adloom.providers.judging import JudgeJob
from adloom.providers.prompts import Prompts, image_prompts
from adloom.registry import TIERS, ModelInfo, worst_text_cost

__all__ = ["BedrockProvider", "Timeouts"]


def parse_guardrail(value: str | None) -> tuple[str, str] | None:
    """``--guardrail ID:VERSION`` (VERSION a number or DRAFT)."""
    if not value:
        return None
    ident, sep, version = value.rpartition(":")
    if not sep or not ident or not (version.isdigit() or version == "DRAFT"):
        raise InputError(
            f'--guardrail "{value}": expected ID:VERSION, e.g. abc123xyz:1 or abc123xyz:DRAFT'
        )
    return ident, version


class BedrockProvider(Provider):
    name = "bedrock"

    def __init__(self, config: ProviderConfig, *, timeouts: Timeouts | None = None) -> None:
        self.config = config
        self.registry = config.registry
        self.prompts = Prompts(config.templates)
        self.options = text.TextOptions(
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            latency=config.latency,
            guardrail=parse_guardrail(config.guardrail),
            tier=config.tier,
            batch=config.batch,
            batch_structured=structured_output(config.settings, config.cells)
            if config.batch
            else "prompt",
        )
        self.clients = Clients(
            profile=config.profile,
            region=config.region,
            timeouts=timeouts or Timeouts.from_settings(config.settings),
            cache=config.cache,
            image_region=config.image_region,
        )
        self._choices: dict[str, profiles.Choice] = {}
        self._batches: BedrockBatches | None = None
        # Models (ids as sent) whose batch jobs refused native structured output: their
        # batch requests are built with the schema in the prompt (``BedrockBatches``).
        self._prompt_form: set[str] = set()

    def check(self) -> None:
        """Region and credentials resolve (no network); else exit 3 before any work."""
        self.clients.check()

    def account_quotas(self, models: Sequence[tuple[str, Kind]]) -> Account:
        """The account's applied quotas for ``models`` (ids as sent), from Service Quotas
        (cached a day)."""
        return account_quotas.read(self.clients, self.registry, models)

    def sent_id(self, model_id: str, kind: Kind) -> str:
        return self._model(model_id, kind)[1]

    def batch_job_model(self, model_id: str) -> str | None:
        """By region (``batch.job_model_id``); the id as sent when no region is set up."""
        info, sent = self._model(model_id, "text")
        region = self.config.region or self.clients.session().region_name
        return job_model_id(sent, info, region) if region else sent

    def batches(self) -> BedrockBatches:
        """Batch jobs through S3 (``batch``); the ``batch.*`` settings are checked here,
        before anything is uploaded (exit 2)."""
        if self._batches is None:
            settings = BatchSettings.read(self.config.settings, self.config.cells)
            if self.config.guardrail:
                raise InputError(
                    "--guardrail cannot be used for copy in batch jobs: Bedrock documents "
                    "guardrails for on-demand inference only.",
                    hint="Drop --guardrail, or run on-demand (--mode on-demand).",
                )
            self._batches = BedrockBatches(
                self.clients,
                self.registry,
                settings,
                prompt_form=self._prompt_form,
            )
        return self._batches

    # ------------------------------------------------------------ building

    def _model(self, model_id: str, kind: Kind) -> tuple[ModelInfo, str]:
        """The id to send (a profile picked if needed) and the model's registry entry,
        priced as that id is (a ``global.`` profile may cost less than a geographic one)."""
        sent = self._choice(model_id, self.registry.get(model_id, kind=kind)).model_id
        return self.registry.get(sent, kind=kind), sent

    def _choice(self, model_id: str, info: ModelInfo) -> profiles.Choice:
        choice = self._choices.get(model_id)
        if choice is None:
            region = self.config.region or self.clients.session().region_name
            forced = self.config.settings.get("profile", "").strip().lower()
            where = self.config.cells.get("profile", "--set profile")
            choice = profiles.choose(model_id, info, region=region, forced=forced, where=where)
            self._choices[model_id] = choice
        return choice

    def start(self, models: Sequence[tuple[str, Kind]], judge: str = "") -> list[str]:
        """Before the first call: the profile each model (and the ``--score`` judge) goes
        through, and its lifecycle from the control plane (exit 3 past end of life).
        Returns what to tell the user."""
        notes = []
        for model_id, kind in models:
            info = self.registry.get(model_id, kind=kind)
            if kind == "text":  # refused offline, before the control plane is asked
                self._check_latency(model_id, info)
                self._check_tier(model_id, info)
            notes.append(self._choice(model_id, info).note)
        if judge:
            info = self.registry.callable(judge, kind="text", where="--judge-model")
            notes += [self._choice(judge, info).note, self._judge_tier(judge, info)]
        checked = lifecycle.check(models, self.registry, self.clients, judge_model=judge)
        return [*dict.fromkeys(n for n in notes if n), *checked]

    def _judge_tier(self, judge: str, info: ModelInfo) -> str:
        """The judge is asked in the run's tier only if it takes it (the service would
        refuse every score); else in the default tier, which is said once."""
        tier = self.options.tier
        if tier == "default" or tier in info.tiers():
            return ""
        return (
            f'judge model "{judge}" does not offer the {tier} service tier: its requests go '
            "in the default tier, at the default price."
        )

    def _check_latency(self, model_id: str, info: ModelInfo) -> None:
        if self.options.latency != "optimized":
            return
        if not info.latency_optimized:
            offered = [m.id for m in self.registry.models.values() if m.latency_optimized]
            raise InputError(
                f'--latency optimized: model "{model_id}" does not offer latency-optimized '
                "inference.",
                hint=f"Models that do: {', '.join(offered) or 'none in the registry'} "
                "(through their us. profile id); or drop --latency.",
            )
        regions = info.latency_optimized_regions
        region = self.config.region or self.clients.session().region_name
        if regions and region and region not in regions:
            raise InputError(
                f'--latency optimized: model "{model_id}" is latency-optimized only in '
                f"{', '.join(regions)}, not {region}.",
                hint=f"Run with --region {regions[0]}, or drop --latency.",
            )

    def _check_tier(self, model_id: str, info: ModelInfo) -> None:
        """A tier the model does not take is refused before any call (exit 2), as the
        service would refuse every request of the run."""
        tier = self.options.tier
        if tier not in TIERS:
            raise InputError(f'tier "{tier}": use {", ".join(TIERS)}')
        if tier in info.tiers():
            return
        offered = [m.id for m in self.registry.models.values() if tier in m.tiers()]
        raise InputError(
            f'tier {tier}: model "{model_id}" does not offer the {tier} service tier.',
            hint=f"Models that do: {', '.join(offered) or 'none in the registry'}; "
            "or use --tier default.",
        )

    def text_request(self, job: CopyJob, feedback: Sequence[str] = ()) -> Request:
        info, model_id = self._model(job.model, "text")
        self._check_latency(job.model, info)
        self._check_tier(job.model, info)
        options = self.options
        if model_id in self._prompt_form:
            options = replace(options, batch_structured="prompt")
        built = text.build(job, feedback, info, self.prompts, options)
        return self._converse(info, model_id, built, job.label)

    def judge_request(self, job: JudgeJob) -> Request:
        info, model_id = self._model(job.model, "text")
        tier = self.options.tier if self.options.tier in info.tiers() else "default"
        options = replace(self.options, tier=tier)  # the judge's tier: ``_judge_tier``
        return self._converse(info, model_id, text.build_judge(job, info, options), job.name)

    def _converse(self, info: ModelInfo, model_id: str, built: text.Built, label: str) -> Request:
        """A Converse request, reserving its worst case (every answer at its token limit,
        at the latency-optimized price when the body asks for it)."""
        optimized = built.body.get("performanceConfig", {}).get("latency") == "optimized"
        tier = built.body.get("serviceTier", {}).get("type", "default")
        return Request(
            "text",
            model_id,
            built.body,
            input_tokens=built.input_tokens,
            max_tokens=built.max_tokens,
            max_cost_usd=worst_text_cost(
                info,
                built.input_tokens,
                built.max_tokens,
                cache_tokens=built.cache_tokens,
                optimized=optimized,
                tier=tier,
            ),
            cache_tokens=built.cache_tokens,
            label=label,
        )

    def image_request(self, job: ImageJob) -> Request:
        info, model_id = self._model(job.model, "image")
        adapter = images.adapter_for(info)
        prompt, negative = image_prompts(
            self.prompts, job, negation_in_prompt=adapter.negation_in_prompt
        )
        quality = self.config.image_quality
        call = adapter.build(job, prompt, negative, quality)
        # Image prices are per image: the worst case is the price.
        cost = info.image_cost_at(call.width, call.height, quality if call.width else "standard")
        return Request("image", model_id, call.body, max_cost_usd=cost, label=job.label)

    def cutout_request(self, job: CutoutJob) -> Request:
        """Stability's remove-background model on the packshot; refused at its cell
        (before any call) in a region that does not serve it, or for a packshot it would
        refuse (``images.RemoveBackground``)."""
        info, model_id = self._model(job.model, "image")
        editor = images.editor_for(info)
        region = self._image_region()
        if info.regions and region and region not in info.regions:
            raise BriefError(
                [
                    Problem(
                        job.where,
                        f"product_image {job.path.name} has a busy background: Bedrock's"
                        f" remove-background model ({job.model}) runs only in"
                        f" {', '.join(info.regions)}, not {region} — supply a PNG with a"
                        " transparent background (or a photo on a plain background), or set"
                        " image_region to a US region so image requests go there while copy"
                        f" stays in {region}",
                    )
                ]
            )
        try:
            body = editor.body(job.path)
        except ValueError as exc:
            raise BriefError(
                [Problem(job.where, f"product_image {job.path.name} {exc} — crop it, or"
                         " supply a PNG with a transparent background")]
            ) from None  # fmt: skip
        cost = info.image_cost("standard", large=False)  # per request, whatever the size
        return Request("image", model_id, body, max_cost_usd=cost, label=job.label)

    def _image_region(self) -> str | None:
        """The region image requests go to (None: not set up, e.g. ``plan`` offline)."""
        return self.clients.region_of("image")

    def outpaint_request(self, job: OutpaintJob) -> Request:
        info, model_id = self._model(job.model, "image")
        prompt, _ = image_prompts(self.prompts, job.master, negation_in_prompt=True)
        body, (width, height) = images.OUTPAINT.build(job, prompt)
        picture = Attachment(job.source, job.digest, width, height)
        cost = info.image_cost()  # per image, whatever its size
        return Request(
            "image", model_id, body, max_cost_usd=cost, label=job.label, attachment=picture
        )

    def unavailable(self, model_id: str) -> str:
        """A model the registry lists for some regions only, asked for elsewhere."""
        regions = self.registry.get(model_id).regions
        region = self.clients.region_of("image")
        if not regions or region in regions:
            return ""
        return (
            f'model "{model_id}" is offered in {", ".join(regions)} only, and image requests '
            f"of this run go to {region}"
        )

    # ------------------------------------------------------------ sending

    def send(self, request: Request) -> Response:
        context = ErrorContext(
            request.model, self.clients.region_of(request.kind), self.registry, kind=request.kind
        )
        client = self.clients.runtime(request.kind)
        started = time.monotonic()
        try:
            if request.kind == "text":
                raw: Any = client.converse(modelId=request.model, **text.wire(request.body))
            else:
                body = request.body
                if request.attachment is not None:
                    body = images.sent_body(body, request.attachment.picture())
                answer = client.invoke_model(
                    modelId=request.model,
                    body=json.dumps(body),
                    contentType="application/json",
                    accept="application/json",
                )
                raw = json.loads(answer["body"].read())
        except ParamValidationError:
            raise  # a request adloom built wrong is a bug, not a model failure
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, context) from exc
        except json.JSONDecodeError as exc:
            return Response("failed", error=f"the model's answer was not JSON ({exc})")
        if request.kind == "text":
            return text.answer(raw, request, self.registry.get(request.model))
        return self._image_response(request, raw, int((time.monotonic() - started) * 1000))

    def _image_response(self, request: Request, raw: Any, latency_ms: int) -> Response:
        info = self.registry.get(request.model)
        outpaint = info.family == images.OUTPAINT.family
        reader = images.OUTPAINT if outpaint else images.reader_for(info)
        found = reader.answer(raw if isinstance(raw, dict) else {})
        # A 200 answer is billed even when the output was filtered.
        usage = Usage(cost_usd=request.max_cost_usd)
        if found.filtered:
            return Response(
                "filtered",
                usage=usage,
                latency_ms=latency_ms,
                error=f"image filtered by the model ({found.filtered}); rephrase the "
                "image_prompt column",
            )
        try:
            image = images.decode(found.image_b64)
        except ValueError as exc:
            return Response("failed", usage=usage, latency_ms=latency_ms, error=str(exc))
        if isinstance(reader, images.RemoveBackground) and not images.transparent(image.data):
            error = "the remove-background model answered an image with no transparent background"
            return Response("failed", usage=usage, latency_ms=latency_ms, error=error)
        return Response(
            "ok",
            image=image.data,
            usage=usage,
            latency_ms=latency_ms,
            meta={"width": image.width, "height": image.height, "format": image.format},
        )


@register("bedrock")
def _make(config: ProviderConfig) -> Provider:
    return BedrockProvider(config)
