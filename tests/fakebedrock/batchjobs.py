"""Batch inference jobs (``bedrock`` client): Create/Get/List/StopModelInvocationJob.

What it models (AWS user guide: batch-inference-data, -create, -results, -monitor;
the ``bedrock`` service model for every shape):

- Requests are checked against botocore's input shapes (members, enums, lengths,
  ``timeoutDurationInHours`` 24..168) and the patterns of the strings (jobName,
  roleArn, s3Uri, clientRequestToken, ...), answered with the service's
  ``ValidationException`` wording; answers are checked against the output shapes.
- ``clientRequestToken``: the same token with the same request answers the same
  ``jobArn`` and starts nothing (the API reference: "If this token matches a previous
  request, Amazon Bedrock ignores the request, but does not return an error").
- A job runs in a thread of its own on a scripted clock (``Behaviour.batch_*``):
  Submitted -> Validating -> Scheduled -> InProgress -> Completed /
  PartiallyCompleted / Failed, or Stopping -> Stopped, or Scheduled -> Expired. Every
  wait is a timed wait on an event: nothing spins. The outputs are in S3 before the
  status says so. See ``batchrun``.
- Validating (as the docs list it): the service role can read the input and the files
  are ``.jsonl`` of JSON objects, within the records-per-job limits. A failure here
  ends the job Failed with a message: the docs put these checks after submission,
  so CreateModelInvocationJob itself accepts an unreadable or missing input.
- Records are Converse request bodies answered by the fake runtime's own Converse
  logic (``runtime.answer``: same validation, same copy, structured output native or
  in the prompt), without quota, runtime faults (``Behaviour.faults``), latency or
  prompt cache. A record the runtime would refuse is an error record with the
  runtime's status and message. A record with ``toolConfig`` is an error record with
  code 400 (the docs: "Records that include toolConfig fail with a 400 error"). A
  record without ``recordId`` gets one (the docs say so).
- Output (batch-inference-results): one ``<input>.out`` per input ``.jsonl``, lines
  ``{recordId, modelInput, modelOutput}`` (the Converse response body) or ``{recordId,
  modelInput, error: {errorCode, errorMessage}}``, order not kept; ``manifest.json.out``
  with the record and token counts.

Choices where the docs are silent (the exact texts are the fake's, not AWS's):
- The same token with a different request, and a job name already in use (by a job
  of any status), are ConflictExceptions.
- Models: ``BATCH_MODELS`` (text models only; image models are not offered in batch),
  less ``Behaviour.batch_refused``; others are refused at create with a
  ValidationException. A base model id, its ARN, or one of its inference profiles; a
  base id of ``BASE_ID_REGIONS`` (Nova Micro/Lite/Pro, from AWS's batch support table)
  outside its regions is a ValidationException (the wording is the fake's).
- Jobs at once: when Service Quotas lists "Sum of in-progress and submitted batch
  inference jobs using a base model for <model>" (``Behaviour.service_quotas``), a job
  past it is refused with ServiceQuotaExceededException (the wording is the fake's).
- Record members refused in batch (``Behaviour.batch_refused_fields``, for
  ``outputConfig`` and the on-demand-only members): a 400 error record.
- Only ``modelInvocationType="Converse"`` is served; ``InvokeModel`` (also the default
  when it is left out) is refused with a ValidationException naming the fake.
- A role Bedrock cannot assume is refused at create (ValidationException); a caller
  without ``iam:PassRole`` gets AccessDeniedException in IAM's wording (as reported
  by users); a role without access to the bucket fails the job while Validating.
- The minimum and maximum records per job are one pair for every model
  (``batch_min_records``, ``batch_max_records``); file sizes are not limited.
- Status: any error or unprocessed record with at least one success ->
  PartiallyCompleted; no success at all -> Failed. Stopping a job that has ended is a
  ConflictException; a job stopped while InProgress writes what it answered, and
  its manifest counts that. The manifest is written once, at the end.
- Layout: ``<output s3Uri>/<job id>/<input path relative to the input s3Uri>.out``
  and ``<output s3Uri>/<job id>/manifest.json.out`` (the job id is the ARN's last
  part); encrypted with ``s3EncryptionKeyId`` (SSE-KMS) when given.
- ``Behaviour.malformed`` and ``overlong`` count answers across on-demand requests
  and batch records alike ("the first N answers").
- ListModelInvocationJobs: newest first (``sortOrder=Ascending`` for oldest first),
  at most ``PAGE`` a page.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.model import ListShape, Shape, StructureShape

from . import batchrun, control, quotas
from .behaviour import State
from .catalogue import ModelSpec, resolve
from .errors import ServiceError, invalid
from .shapes import operation, validate_body, validate_output, validation_message

ACCOUNT = "123456789012"
PAGE = 10  # small pages, so callers must follow nextToken
# Base model ids offered in batch (Converse type) in the fake's region.
BATCH_MODELS = frozenset(
    {
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "amazon.nova-micro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-pro-v1:0",
        "amazon.nova-2-lite-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
    }
)
# Base ids a job may name only in these regions; elsewhere the job must name one of the
# model's inference profiles (AWS's "Supported Regions and models for batch inference":
# Nova Micro, Lite and Pro list us-east-1 and us-gov-west-1 under "Regions supporting
# foundation model").
BASE_ID_REGIONS = {
    "amazon.nova-micro-v1:0": ("us-east-1", "us-gov-west-1"),
    "amazon.nova-lite-v1:0": ("us-east-1", "us-gov-west-1"),
    "amazon.nova-pro-v1:0": ("us-east-1", "us-gov-west-1"),
}
# The account's quota of jobs at once, as Service Quotas names it (``quotas.applied``).
CONCURRENCY_QUOTA = (
    "Sum of in-progress and submitted batch inference jobs using a base model for {}"
)
# Server route names -> the bedrock operation (and IAM action) each serves.
OPS = {
    "create_model_invocation_job": "CreateModelInvocationJob",
    "get_model_invocation_job": "GetModelInvocationJob",
    "list_model_invocation_jobs": "ListModelInvocationJobs",
    "stop_model_invocation_job": "StopModelInvocationJob",
}
ENDED = frozenset({"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"})
STOPPING = frozenset({"Stopping", "Stopped"})


def now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Job:
    """One job; its changing members are read and written under ``State.lock``."""

    id: str
    arn: str
    request: dict[str, Any]  # the CreateModelInvocationJob body
    spec: ModelSpec
    region: str
    s3_endpoint: str
    status: str = "Submitted"
    message: str = ""
    submitted: datetime = field(default_factory=now)
    modified: datetime = field(default_factory=now)
    ended: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)  # totalRecordCount, ...
    tokens: dict[str, int] = field(
        default_factory=lambda: {"inputTokenCount": 0, "outputTokenCount": 0}
    )
    stop: threading.Event = field(default_factory=threading.Event)

    def move(self, state: State, status: str, message: str = "") -> None:
        """To ``status``; once a stop is asked for, only to Stopping or Stopped; once
        ended, nowhere."""
        with state.lock:
            if self.status in ENDED or (self.stop.is_set() and status not in STOPPING):
                return
            self.status, self.modified = status, now()
            if message:
                self.message = message
            if status in ENDED:
                self.ended = self.modified

    def describe(self, state: State) -> dict[str, Any]:
        r = self.request
        with state.lock:
            out: dict[str, Any] = {
                "jobArn": self.arn,
                "jobName": r["jobName"],
                "modelId": r["modelId"],
                "clientRequestToken": r["clientRequestToken"],
                "roleArn": r["roleArn"],
                "status": self.status,
                "submitTime": _iso(self.submitted),
                "lastModifiedTime": _iso(self.modified),
                "inputDataConfig": r["inputDataConfig"],
                "outputDataConfig": r["outputDataConfig"],
                "timeoutDurationInHours": r.get("timeoutDurationInHours", 24),
                "jobExpirationTime": _iso(
                    self.submitted + timedelta(hours=r.get("timeoutDurationInHours", 24))
                ),
                "modelInvocationType": r["modelInvocationType"],
                **self.counts,
            }
            if self.message:
                out["message"] = self.message
            if self.ended is not None:
                out["endTime"] = _iso(self.ended)
        if "vpcConfig" in r:
            out["vpcConfig"] = r["vpcConfig"]
        return out


def handle(
    state: State, op: str, ident: str, *, body: Any, query: Mapping[str, str], region: str
) -> dict[str, Any]:
    """Serve one job operation (``OPS``); the answer fits botocore's output shape."""
    action = OPS[op]
    control.denied(state, action)
    if op == "create_model_invocation_job":
        answer = create(state, body, region)
    elif op == "list_model_invocation_jobs":
        answer = list_jobs(state, query)
    else:
        job = find(state, ident)
        if op == "stop_model_invocation_job":
            stop(state, job)
            answer = {}
        else:
            answer = job.describe(state)
    problems = validate_output("bedrock", action, answer)
    if problems:  # a fake answer botocore's model would not describe: a fake bug
        raise AssertionError(f"{action} answer: {'; '.join(problems)}")
    return answer


# ------------------------------------------------------------------ create


def _patterns(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    """The ``pattern`` constraints ``shapes`` leaves out, in the service's wording."""
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        for key, item in value.items():
            if key in shape.members:
                _patterns(shape.members[key], item, f"{path}.{key}" if path else key, problems)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for i, item in enumerate(value):
            _patterns(shape.member, item, f"{path}.{i + 1}.member", problems)
    elif isinstance(value, str) and "pattern" in shape.metadata:
        pattern = shape.metadata["pattern"]
        if not re.fullmatch(pattern, value):
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must "
                f"satisfy regular expression pattern: {pattern}"
            )


def _check_request(body: Any) -> dict[str, Any]:
    problems = validate_body("bedrock", "CreateModelInvocationJob", body)
    if not problems:
        shape = operation("bedrock", "CreateModelInvocationJob").input_shape
        assert shape is not None
        _patterns(shape, body, "", problems)
    if problems:
        raise invalid(validation_message(problems))
    assert isinstance(body, dict)
    return body


def batch_model(state: State, model_id: str, region: str) -> ModelSpec:
    """The model a job names, or the error the service gives for it."""
    spec, prefix = resolve(model_id)
    b = state.behaviour
    if spec is None or spec.id in b.not_in_region or (prefix and prefix not in spec.profiles):
        raise invalid("The provided model identifier is invalid.")
    if spec.id in b.access_denied:
        raise ServiceError(
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        )
    if spec.id not in BATCH_MODELS or spec.id in b.batch_refused:
        raise invalid(f"The model {model_id} doesn't support batch inference.")
    bases = BASE_ID_REGIONS.get(spec.id)
    if prefix is None and bases is not None and region not in bases:
        raise invalid(
            f"Batch inference for the model {model_id} isn't supported in {region} with the "
            "base model ID. Use an inference profile ID for this model instead."
        )
    return spec


def _check_concurrency(state: State, spec: ModelSpec) -> None:
    """Refuse a job past the account's quota of jobs of this model submitted or running
    (only when Service Quotas lists one: ``Behaviour.service_quotas``). Called under
    ``state.lock``."""
    name = CONCURRENCY_QUOTA.format(quotas.NAMES[spec.id][0])
    limit = dict(quotas.applied(state)).get(name)
    running = sum(1 for j in state.jobs.values() if j.spec.id == spec.id and j.status not in ENDED)
    if limit is not None and running >= limit:
        raise ServiceError(
            400,
            "ServiceQuotaExceededException",
            f"You have reached the maximum number of in-progress and submitted batch "
            f"inference jobs ({int(limit)}) for {spec.id}. Wait for a job to end and try again.",
        )


def _check_role(state: State, role: str) -> None:
    b = state.behaviour
    if b.batch_passrole_denied:
        raise ServiceError(
            403,
            "AccessDeniedException",
            f"User: arn:aws:iam::{ACCOUNT}:user/adloom is not authorized to perform: "
            f"iam:PassRole on resource: {role} because no identity-based policy allows "
            "the iam:PassRole action",
        )
    if b.batch_role_unassumable:
        raise invalid(
            f"Amazon Bedrock can't assume the service role {role}. Check that the role "
            "exists and that its trust policy allows bedrock.amazonaws.com to assume it."
        )


def create(state: State, body: Any, region: str) -> dict[str, Any]:
    request = _check_request(body)
    request.setdefault("modelInvocationType", "InvokeModel")
    if request["modelInvocationType"] != "Converse":
        raise invalid(
            "fakebedrock serves batch jobs of modelInvocationType Converse only; "
            "InvokeModel jobs (the default) are not modelled."
        )
    spec = batch_model(state, request["modelId"], region)
    _check_role(state, request["roleArn"])
    # botocore fills in a token when the caller gives none (an idempotency token).
    token = request.setdefault("clientRequestToken", secrets.token_hex(16))
    with state.lock:
        for job in state.jobs.values():
            if job.request["clientRequestToken"] == token:
                if job.request != request:
                    raise ServiceError(
                        409,
                        "ConflictException",
                        "The clientRequestToken was already used with a different request.",
                    )
                return {"jobArn": job.arn}
            if job.request["jobName"] == request["jobName"]:
                raise ServiceError(
                    409,
                    "ConflictException",
                    f"A batch inference job named {request['jobName']} already exists.",
                )
        _check_concurrency(state, spec)
        job_id = secrets.token_hex(6)  # 12 lowercase letters and digits
        job = Job(
            id=job_id,
            arn=f"arn:aws:bedrock:{region}:{ACCOUNT}:model-invocation-job/{job_id}",
            request=request,
            spec=spec,
            region=region,
            s3_endpoint=batchrun.s3_endpoint(state),
        )
        state.jobs[job_id] = job
    threading.Thread(
        target=batchrun.run, args=(state, job), name=f"batch-{job_id}", daemon=True
    ).start()
    return {"jobArn": job.arn}


# ------------------------------------------------------------------ get, stop, list

_IDENT = re.compile(
    r"((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/)?[a-z0-9]{12})"
)


def find(state: State, ident: str) -> Job:
    if not _IDENT.fullmatch(ident):
        raise invalid(
            f"1 validation error detected: Value '{ident}' at 'jobIdentifier' failed to "
            f"satisfy constraint: Member must satisfy regular expression pattern: "
            f"{_IDENT.pattern}"
        )
    with state.lock:
        job = state.jobs.get(ident.rsplit("/", 1)[-1])
    if job is None or (ident.startswith("arn:") and ident != job.arn):
        raise ServiceError(
            404, "ResourceNotFoundException", f"The batch inference job {ident} doesn't exist."
        )
    assert isinstance(job, Job)
    return job


def stop(state: State, job: Job) -> None:
    with state.lock:  # one step: the job's thread may be ending it
        status = job.status
        if status not in ENDED:
            job.stop.set()
            if status != "Stopping":
                job.status, job.modified = "Stopping", now()
    if status in ENDED:
        raise ServiceError(
            409,
            "ConflictException",
            f"The batch inference job can't be stopped because its status is {status}.",
        )


def _when(query: Mapping[str, str], key: str) -> datetime | None:
    if key not in query:
        return None
    try:
        return datetime.fromisoformat(query[key])
    except ValueError:
        raise invalid(f"The value of {key} is not a valid timestamp.") from None


def _check_query(query: Mapping[str, str]) -> int:
    """The page size the query asks for (``maxResults``, up to ``PAGE``)."""
    statuses = operation("bedrock", "ListModelInvocationJobs").input_shape
    assert statuses is not None
    enum = statuses.members["statusEquals"].enum
    if "statusEquals" in query and query["statusEquals"] not in enum:
        raise invalid(
            f"1 validation error detected: Value '{query['statusEquals']}' at 'statusEquals' "
            f"failed to satisfy constraint: Member must satisfy enum value set: "
            f"[{', '.join(enum)}]"
        )
    size = query.get("maxResults", str(PAGE))
    if not size.isdigit() or not 1 <= int(size) <= 1000:
        raise invalid(
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
            "constraint: Member must have value between 1 and 1000"
        )
    return min(int(size), PAGE)


def list_jobs(state: State, query: Mapping[str, str]) -> dict[str, Any]:
    size = _check_query(query)
    after, before = _when(query, "submitTimeAfter"), _when(query, "submitTimeBefore")
    with state.lock:
        jobs = list(state.jobs.values())
    jobs = [
        j
        for j in jobs
        if query.get("statusEquals", j.status) == j.status
        and query.get("nameContains", "") in j.request["jobName"]
        and (after is None or j.submitted > after)
        and (before is None or j.submitted < before)
    ]
    jobs.sort(key=lambda j: j.submitted, reverse=query.get("sortOrder") != "Ascending")
    start = int(query.get("nextToken", "0")) if query.get("nextToken", "0").isdigit() else -1
    if start < 0 or start > len(jobs):
        raise invalid("The provided nextToken is invalid.")
    page: dict[str, Any] = {
        "invocationJobSummaries": [j.describe(state) for j in jobs[start : start + size]]
    }
    if start + size < len(jobs):
        page["nextToken"] = str(start + size)
    return page
