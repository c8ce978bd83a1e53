"""``adloom jobs OUT``: a run folder's batch jobs as the service sees them now, and
``--stop`` for those still running.

The jobs are the journal's; the service is reached the way the run that submitted
them reached it (its provider, region and batch settings, recorded in the journal),
with the caller's credentials. The journal is only read: a run waiting on the folder
sees a stopped job at its next check, reads what it answered and sends the rest
on-demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adloom.engine.journal import BatchJob, batch_jobs, run_settings
from adloom.errors import InputError
from adloom.providers import ProviderConfig, make_provider
from adloom.providers.base import Batches, BatchProgress
from adloom.registry import Registry


@dataclass(frozen=True)
class JobState:
    job: BatchJob
    progress: BatchProgress  # now, from the service (the journal's last word if unsent)
    stopping: bool = False  # --stop asked the service to stop it

    def as_json(self) -> dict[str, Any]:
        p = self.progress
        return {
            "name": self.job.name,
            "job_id": self.job.job_id,
            "model": self.job.model,
            "records": self.job.records,
            "status": p.status,
            "message": p.message,
            "processed": p.processed,
            "errors": p.errors,
            "collected": self.job.collected,
            "stopping": self.stopping,
        }


def job_states(
    out: Path,
    registry: Registry,
    *,
    profile: str | None = None,
    stop: bool = False,
    cache: Path | None = None,
) -> list[JobState]:
    """Every batch job of ``out``'s runs, oldest first, with its state now; with
    ``stop``, those not ended are asked to stop. ``cache``: the user cache's folder."""
    if not (out / "journal.sqlite").is_file():
        raise InputError(
            f"{out}: no journal.sqlite here — not an adloom output folder",
            hint="Give the --out folder of a run with --mode batch.",
        )
    states = []
    services: dict[str, Batches] = {}
    for job in batch_jobs(out):
        if not job.job_id:  # never accepted by the service: nothing to ask
            states.append(JobState(job, BatchProgress(job.status, job.message)))
            continue
        batches = services.get(job.run_id) or _batches(out, job.run_id, registry, profile, cache)
        services[job.run_id] = batches
        progress = batches.progress(job.job_id)
        stopping = stop and not progress.ended
        if stopping:
            batches.stop(job.job_id)
        states.append(JobState(job, progress, stopping))
    return states


def _batches(
    out: Path, run_id: str, registry: Registry, profile: str | None, cache: Path | None
) -> Batches:
    """The batch jobs of the provider the run ``run_id`` used, set up as it was."""
    recorded = run_settings(out, run_id) or {}
    batch = recorded.get("batch")
    region = recorded.get("region")
    config = ProviderConfig(
        registry=registry,
        region=region if isinstance(region, str) else None,
        profile=profile,
        settings=dict(batch) if isinstance(batch, dict) else {},
        batch=True,
        cache=cache,
    )
    name = recorded.get("provider")
    provider = make_provider(name if isinstance(name, str) else "bedrock", config)
    batches = provider.batches()
    if batches is None:
        raise InputError(f"{out}: the provider {provider.name} of these jobs has no batch jobs")
    return batches
