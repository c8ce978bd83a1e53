"""Running one batch inference job in a thread of its own (``batchjobs.create`` starts
it): the job clock, the input read from S3, each record answered, the outputs written.

The fake reaches S3 with a boto3 client of its own, as the service role would, at
``Behaviour.batch_s3_endpoint`` or else the ``AWS_ENDPOINT_URL_S3`` of the moment the
job was created (moto's server in tests). It never falls back to the real S3: with
no endpoint the job fails and the fake records an error the test fails on.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .behaviour import FAULTS, State
from .errors import ServiceError
from .runtime import answer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from .batchjobs import Job

# The service role's credentials, as the fake's S3 client presents them.
ROLE_KEY = "AKIAFAKEBEDROCKROLE0"
ROLE_SECRET = "fake-role-secret-never-real"  # noqa: S105 - a dummy
TOOLS_REFUSED = (
    "Tool use (toolConfig) isn't supported in batch inference jobs with the Converse "
    "invocation type. Remove toolConfig, or use the InvokeModel invocation type."
)
# A record carrying a member the service refuses in batch (``Behaviour.batch_refused_fields``):
# the wording of Bedrock's validation errors for a request body ("Malformed input
# request: ..."), with the member named as its JSON validator names extraneous keys.
FIELD_REFUSED = (
    "Malformed input request: #: extraneous key [{field}] is not permitted, please "
    "reformat your input and try again."
)
# errorMessage of a scripted error record, by errorCode.
ERROR_MESSAGES = {
    FAULTS[kind][0]: FAULTS[kind][2]
    for kind in ("throttle", "unavailable", "internal", "timeout", "model_error")
} | {400: "Malformed input request, please reformat your input and try again."}


class JobFailed(Exception):
    """The job ends Failed with this message."""


def s3_endpoint(state: State) -> str:
    return state.behaviour.batch_s3_endpoint or os.environ.get("AWS_ENDPOINT_URL_S3", "")


def run(state: State, job: Job) -> None:
    try:
        _run(state, job)
        with state.lock:
            overtaken = job.status == "Stopping"
        if overtaken:  # a stop request came as the job ended: ``Job.move`` refused the end
            _stopped(state, job, None)
    except Exception as exc:  # a bug in the fake: the job fails, and the test must fail
        state.errors.append(f"batch job {job.id}: {type(exc).__name__}: {exc}")
        job.move(state, "Failed", f"fake bug: {exc}")


def _wait(state: State, job: Job, seconds: float) -> bool:
    """Wait on the clock; False when the job was asked to stop or the fake stops."""
    if job.stop.wait(seconds):
        return False
    return not state.stopping.is_set()


def _hold(state: State, job: Job) -> bool:
    """While ``Behaviour.batch_release`` names a file that does not exist, hold the job.
    Polled: another process may make the file. False when stopped meanwhile."""
    while (release := state.behaviour.batch_release) and not Path(release).exists():
        if not _wait(state, job, 0.02):
            return False
    return True


def _run(state: State, job: Job) -> None:
    files = _validate(state, job)
    if files is not None and _start(state, job):
        _complete(state, job, files)


def _validate(state: State, job: Job) -> list[tuple[str, list[dict[str, Any]]]] | None:
    """Submitted, Validating: the input read and checked; None when the job ended."""
    if not _wait(state, job, state.behaviour.batch_submitted_seconds):
        _stopped(state, job, None)
        return None
    job.move(state, "Validating")
    if not _wait(state, job, state.behaviour.batch_validating_seconds):
        _stopped(state, job, None)
        return None
    try:
        files = _read_input(state, job)
    except JobFailed as exc:
        job.move(state, "Failed", str(exc))
        return None
    with state.lock:
        job.counts["totalRecordCount"] = sum(len(records) for _, records in files)
    return files


def _start(state: State, job: Job) -> bool:
    """Scheduled, then InProgress past the hold gate; False when the job ended."""
    job.move(state, "Scheduled")
    if not _wait(state, job, state.behaviour.batch_scheduled_seconds):
        _stopped(state, job, None)
        return False
    if state.behaviour.batch_expire:
        hours = job.request.get("timeoutDurationInHours", 24)
        job.move(
            state,
            "Expired",
            f"The job was scheduled but didn't start within its timeout of {hours} hours.",
        )
        return False
    job.move(state, "InProgress")
    with state.lock:
        job.counts |= {"processedRecordCount": 0, "successRecordCount": 0, "errorRecordCount": 0}
    if not _hold(state, job):
        _stopped(state, job, None)
        return False
    if state.behaviour.batch_fail:
        job.move(state, "Failed", state.behaviour.batch_fail)
        return False
    return True


def _complete(state: State, job: Job, files: list[tuple[str, list[dict[str, Any]]]]) -> None:
    outputs, stopped = _answer_all(state, job, files)
    if stopped:
        _stopped(state, job, outputs)
        return
    try:
        _write(state, job, outputs)
    except JobFailed as exc:
        job.move(state, "Failed", str(exc))
        return
    _finish(state, job)


def _finish(state: State, job: Job) -> None:
    with state.lock:
        c = dict(job.counts)
    if c["successRecordCount"] == 0:
        job.move(state, "Failed", "No record was processed successfully; see the output files.")
    elif c["errorRecordCount"] or c["processedRecordCount"] < c["totalRecordCount"]:
        job.move(
            state,
            "PartiallyCompleted",
            f"{c['successRecordCount']} of {c['totalRecordCount']} records were processed "
            "successfully.",
        )
    else:
        job.move(state, "Completed")


def _stopped(state: State, job: Job, outputs: dict[str, list[dict[str, Any]]] | None) -> None:
    """After a stop request (or with the fake stopping): Stopping, what was answered
    written, then Stopped."""
    if state.stopping.is_set():
        return
    job.move(state, "Stopping")
    message = ""
    try:
        if outputs is not None:
            _write(state, job, outputs)
    except JobFailed as exc:
        message = str(exc)
    state.stopping.wait(state.behaviour.batch_stopping_seconds)
    job.move(state, "Stopped", message)


# ------------------------------------------------------------------ S3


_clients: dict[str, S3Client] = {}
_clients_lock = threading.Lock()


def _client(job: Job) -> S3Client:
    """The service role's S3 client for the job's endpoint: made once (it takes a
    tenth of a second), then shared; clients are thread safe, sessions are not."""
    import boto3

    with _clients_lock:
        if job.s3_endpoint not in _clients:
            _clients[job.s3_endpoint] = boto3.session.Session().client(
                "s3",
                endpoint_url=job.s3_endpoint,
                region_name="us-east-1",
                aws_access_key_id=ROLE_KEY,
                aws_secret_access_key=ROLE_SECRET,
            )
        return _clients[job.s3_endpoint]


def split_uri(uri: str) -> tuple[str, str]:
    """(bucket, key or prefix) of an ``s3://`` URI."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _s3_failed(job: Job, uri: str, what: str, exc: Exception) -> JobFailed:
    from botocore.exceptions import ClientError

    reason = str(exc)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        reason = f"{error.get('Code', '')}: {error.get('Message', '')}"
    return JobFailed(
        f"Unable to {what} the S3 location {uri} with the service role "
        f"{job.request['roleArn']} ({reason}). Check that the bucket exists in this region "
        "and that the role's policy allows s3:GetObject, s3:ListBucket and s3:PutObject on it."
    )


def _read_input(state: State, job: Job) -> list[tuple[str, list[dict[str, Any]]]]:
    """[(input file name relative to the input URI, its records)], checked as the
    Validating step checks them."""
    from botocore.exceptions import BotoCoreError, ClientError

    uri = job.request["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
    if not job.s3_endpoint:
        state.errors.append("batch job: no S3 endpoint (AWS_ENDPOINT_URL_S3 or batch_s3_endpoint)")
        raise JobFailed("fakebedrock has no S3 endpoint to read the input from.")
    if state.behaviour.batch_s3_denied:
        raise _s3_failed(job, uri, "read", Exception("AccessDenied: Access Denied"))
    bucket, key = split_uri(uri)
    try:
        s3 = _client(job)
        if key.endswith(".jsonl"):
            names = {key.rsplit("/", 1)[-1]: key}
        else:
            prefix = key.rstrip("/") + "/" if key.strip("/") else ""
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            names = {
                o["Key"].removeprefix(prefix): o["Key"]
                for page in pages
                for o in page.get("Contents", [])
                if o["Key"].endswith(".jsonl")
            }
        files = [(name, s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for name, k in
                 sorted(names.items())]  # fmt: skip
    except (ClientError, BotoCoreError) as exc:
        raise _s3_failed(job, uri, "read", exc) from None
    if not files:
        raise JobFailed(f"No .jsonl file was found at the input S3 location {uri}.")
    parsed = [(name, _records(name, data)) for name, data in files]
    _check_count(state, job, sum(len(records) for _, records in parsed))
    return parsed


def _records(name: str, data: bytes) -> list[dict[str, Any]]:
    records = []
    for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("modelInput"), dict):
            raise JobFailed(
                f"Line {n} of {name} is not a JSON object with a modelInput object. Each "
                'line must be a record: {"recordId": ..., "modelInput": {...}}.'
            )
        # The docs: a record without recordId gets one in the output.
        record.setdefault("recordId", secrets.token_hex(6)[:11].upper())
        records.append(record)
    return records


def _check_count(state: State, job: Job, count: int) -> None:
    b = state.behaviour
    model = job.request["modelId"]
    if count < b.batch_min_records:
        raise JobFailed(
            f"The input has {count} records, fewer than the minimum of {b.batch_min_records} "
            f"records per batch inference job for {model}."
        )
    if count > b.batch_max_records:
        raise JobFailed(
            f"The input has {count} records, more than the maximum of {b.batch_max_records} "
            f"records per batch inference job for {model}."
        )


# ------------------------------------------------------------------ records


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"errorCode": code, "errorMessage": message}}


def _line(state: State, job: Job, index: int, record: Mapping[str, Any]) -> dict[str, Any]:
    """The output line of one record: its answer, or an error."""
    line = {"recordId": record["recordId"], "modelInput": record["modelInput"]}
    b = state.behaviour
    body = record["modelInput"]
    if index < b.batch_error_records:
        code = b.batch_error_code
        return line | _error(code, ERROR_MESSAGES.get(code, "The record could not be processed."))
    if "toolConfig" in body:
        return line | _error(400, TOOLS_REFUSED)
    refused = [f for f in b.batch_refused_fields if f in _members(body)]
    if refused:
        return line | _error(400, FIELD_REFUSED.format(field=refused[0]))
    if index < len(b.batch_model_outputs):
        return line | {"modelOutput": b.batch_model_outputs[index]}
    try:
        return line | {"modelOutput": answer(state, job.spec, body, job.region, on_demand="")}
    except ServiceError as exc:
        return line | _error(exc.status, exc.message)


def _members(body: Mapping[str, Any]) -> set[str]:
    """A record body's top-level members, and ``cachePoint`` when a system or message
    content block holds one."""
    blocks = [*body.get("system", []),
              *(b for m in body.get("messages", []) for b in m.get("content", []))]  # fmt: skip
    return set(body) | {k for b in blocks if isinstance(b, dict) for k in b if k == "cachePoint"}


def _answer_all(
    state: State, job: Job, files: list[tuple[str, list[dict[str, Any]]]]
) -> tuple[dict[str, list[dict[str, Any]]], bool]:
    """({input name: output lines}, stopped) at ``batch_records_per_second``; the last
    ``batch_missing_records`` records are left unprocessed."""
    b = state.behaviour
    work = [(name, record) for name, records in files for record in records]
    work = work[: max(0, len(work) - b.batch_missing_records)]
    outputs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in files}
    rate = max(b.batch_records_per_second, 1e-6)
    chunk = max(1, int(rate / 20))  # counts move about every 50 ms of the clock
    start = time.monotonic()
    for i in range(0, len(work), chunk):
        if not _wait(state, job, max(0.0, start + i / rate - time.monotonic())):
            return outputs, True
        lines = [(name, _line(state, job, i + j, rec)) for j, (name, rec) in
                 enumerate(work[i : i + chunk])]  # fmt: skip
        errors = 0
        for name, line in lines:
            outputs[name].append(line)
            errors += "error" in line
        usages = [_usage(line) for _, line in lines]
        with state.lock:
            c = job.counts
            c["processedRecordCount"] += len(lines)
            c["errorRecordCount"] += errors
            c["successRecordCount"] += len(lines) - errors
            job.tokens["inputTokenCount"] += sum(i for i, _ in usages)
            job.tokens["outputTokenCount"] += sum(o for _, o in usages)
    return outputs, False


def _usage(line: Mapping[str, Any]) -> tuple[int, int]:
    """(input, output) tokens of an output line; 0 where a scripted answer has none."""
    output = line.get("modelOutput")
    usage = output.get("usage") if isinstance(output, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    counts = [usage.get(k) for k in ("inputTokens", "outputTokens")]
    i, o = (c if isinstance(c, int) and not isinstance(c, bool) else 0 for c in counts)
    return i, o


def _garbage(state: State) -> bytes:
    """What ``Behaviour.batch_long_line_bytes`` and ``batch_junk_lines`` put first."""
    b = state.behaviour
    long = b"x" * b.batch_long_line_bytes + b"\n" if b.batch_long_line_bytes else b""
    return long + b"junk\n" * b.batch_junk_lines


def _write(state: State, job: Job, outputs: dict[str, list[dict[str, Any]]]) -> None:
    """``<output>/<job id>/<input name>.out`` in shuffled order, and the manifest;
    encrypted with the job's KMS key (``s3EncryptionKeyId``) when it names one."""
    from botocore.exceptions import BotoCoreError, ClientError

    uri = job.request["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
    bucket, prefix = split_uri(uri.rstrip("/"))
    folder = f"{prefix}/{job.id}" if prefix else job.id
    with state.lock:
        manifest = {
            k: job.counts.get(k, 0)
            for k in ("totalRecordCount", "processedRecordCount", "successRecordCount",
                      "errorRecordCount")
        } | job.tokens  # fmt: skip
    kms = job.request["outputDataConfig"]["s3OutputDataConfig"].get("s3EncryptionKeyId")
    sse: dict[str, Any] = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms} if kms else {}
    try:
        s3 = _client(job)
        for name, lines in outputs.items():
            secrets.SystemRandom().shuffle(lines)  # the docs: order is not kept
            data = (
                _garbage(state)
                + "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
            )
            s3.put_object(Bucket=bucket, Key=f"{folder}/{name}.out", Body=data, **sse)
        s3.put_object(Bucket=bucket, Key=f"{folder}/manifest.json.out",
                      Body=json.dumps(manifest).encode(), **sse)  # fmt: skip
    except (ClientError, BotoCoreError) as exc:
        raise JobFailed(str(_s3_failed(job, uri, "write to", exc))) from None
