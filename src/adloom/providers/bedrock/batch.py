"""Bedrock batch inference: copy requests as Converse-type jobs, through S3.

A job's input is one JSONL file, a line per request: ``{"recordId": <the request's
journal key>, "modelInput": <its body, exactly as on-demand would send it>}``; nothing
else is uploaded. The S3 layout under ``batch.s3_uri`` (``s3://bucket/prefix``)::

    <prefix>/<job name>/input/<job name>.jsonl    uploaded with server-side encryption
    <prefix>/<job name>/output/                   Bedrock writes <job id>/<input>.jsonl.out
                                                  and manifest.json.out here

Job names and tokens derive from the job's content (``adloom.run.batching``), so one
folder holds one piece of work, and a retried submit returns the job already started
(``clientRequestToken``). Answers are read back line by line (a job of 50,000
records is never held in memory at once), joined on ``recordId`` and read exactly
like an on-demand Converse answer (``text.answer``), at the batch price.

A job's limits are the account's batch quotas where Service Quotas lists them
(``account_quotas.batch_limits``), else the registry's.

Settings (Campaign sheet or ``--set``), checked before anything is uploaded:
``batch.s3_uri``, ``batch.role_arn`` (the service role Bedrock assumes to read and
write the folder), optional ``batch.timeout_hours`` (24-168, default 24) and
``batch.kms_key`` (SSE-KMS for input and output; default SSE-S3). What S3, KMS or IAM
refuse becomes an exit-3 error naming the permission (``client.translate``).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, replace
from functools import cache
from typing import IO, TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adloom.errors import InputError
from adloom.providers.base import (
    BatchAnswer,
    Batches,
    BatchLimits,
    BatchProgress,
    BatchSubmission,
    Request,
    Skipped,
    Submitted,
)
from adloom.providers.bedrock import account_quotas, profiles, text
from adloom.providers.bedrock.client import (
    BatchCall,
    Clients,
    ErrorContext,
    error_code,
    translate,
    wrong_region,
)
from adloom.registry import ModelInfo, Registry, profile_of
from adloom.values import BATCH_TIMEOUT_HOURS, whole

if TYPE_CHECKING:
    from mypy_boto3_bedrock.type_defs import ModelInvocationJobS3OutputDataConfigTypeDef

DEFAULT_TIMEOUT_HOURS = 24

# S3 bucket names; a prefix of the characters Bedrock's S3Uri pattern (botocore's
# service model) allows, "/"-separated.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX = re.compile(r"[-!_*'().a-zA-Z0-9]+(/[-!_*'().a-zA-Z0-9]+)*")
_ROLE = re.compile(r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}")
# A key id, key ARN, alias or alias ARN (botocore's KmsKeyId pattern).
_KMS = re.compile(
    r"(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)))"
    r"|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)"
)
_CHUNK = 1 << 20  # bytes read at a time from an output file
# The longest output line read: a line echoes its request (a few KB of prompts) and
# holds one answer (at most the model's output tokens, 64,000 for Claude 4.5, a few
# hundred KB even escaped). A longer line is no answer of ours: skipped as it streams,
# never held whole.
MAX_LINE_BYTES = 8 * 1024 * 1024
# Token counts in an answer past this are no service's (contexts are at most 1 M).
_MAX_TOKENS = 10_000_000
# Bedrock's input file limit ("1 GB", AWS's Bedrock quotas page), whatever the account says.
MAX_FILE_BYTES = account_quotas.GB
STRUCTURED = ("prompt", "native")  # batch.structured_output
# Bedrock takes S3 URIs of up to 1,024 characters (botocore's S3Uri); adloom adds at
# most "/<job name>/input/<job name>.jsonl" (job names: up to 63) to batch.s3_uri.
_MANIFEST_BYTES = 64 * 1024  # a manifest is a handful of counts
_MAX_URI = 1024 - (1 + 63 + len("/input/") + 63 + len(".jsonl"))
# Record errors that say the request as written was refused (not a service hiccup).
_REFUSED = {"400", "ValidationException"}
# What a refusal of native structured output names (the wording is not documented).
_STRUCTURED_WORDS = ("outputconfig", "textformat", "structured output", "json_schema",
                     "response_format")  # fmt: skip


@dataclass(frozen=True)
class BatchSettings:
    bucket: str
    prefix: str  # without leading or trailing "/"; "" for the bucket's root
    role_arn: str
    timeout_hours: int = DEFAULT_TIMEOUT_HOURS
    kms_key: str = ""
    where: str = ""  # where batch.s3_uri was set

    @classmethod
    def read(cls, settings: Mapping[str, str], cells: Mapping[str, str]) -> BatchSettings:
        """The ``batch.*`` settings; ``InputError`` naming the setting and where it was
        set when one is missing or malformed."""

        def value(key: str) -> tuple[str, str]:
            return settings.get(key, "").strip(), cells.get(key, f"--set {key}")

        uri, uri_at = value("batch.s3_uri")
        role, role_at = value("batch.role_arn")
        hours, hours_at = value("batch.timeout_hours")
        kms, kms_at = value("batch.kms_key")
        bucket, prefix = _folder(_required("batch.s3_uri", uri, "s3://my-bucket/adloom"), uri_at)
        _required("batch.role_arn", role, "arn:aws:iam::123456789012:role/adloom-batch")
        if not _ROLE.fullmatch(role):
            raise InputError(
                f'{role_at}: batch.role_arn "{role[:200]}": not an IAM role ARN — give '
                "arn:aws:iam::<12-digit account id>:role/<name>, the service role Bedrock "
                "assumes to read and write batch.s3_uri"
            )
        if kms and not _KMS.fullmatch(kms):
            raise InputError(
                f'{kms_at}: batch.kms_key "{kms[:200]}": not a KMS key — give a key id, a key '
                "ARN, alias/<name> or an alias ARN"
            )
        timeout = (
            whole(hours, BATCH_TIMEOUT_HOURS, f"{hours_at}: batch.timeout_hours")
            if hours
            else DEFAULT_TIMEOUT_HOURS
        )
        return cls(bucket, prefix, role, timeout, kms, uri_at)


def _required(key: str, value: str, example: str) -> str:
    if not value:
        raise InputError(
            f"{key} is not set: batch jobs need it (--mode batch).",
            hint=f"Add {key} to the Campaign sheet, or pass --set {key}={example} "
            "(docs/bedrock.md#batch-inference).",
        )
    return value


def structured_output(settings: Mapping[str, str], cells: Mapping[str, str]) -> str:
    """The ``batch.structured_output`` setting: ``prompt`` (the default) or ``native``.

    ``prompt`` by default because AWS's pages disagree on whether a batch record may
    carry ``outputConfig`` (docs/batch.md); the schema in the prompt works either way."""
    value = settings.get("batch.structured_output", "").strip().lower() or "prompt"
    if value not in STRUCTURED:
        where = cells.get("batch.structured_output", "--set batch.structured_output")
        raise InputError(
            f'{where}: batch.structured_output "{value[:80]}" is not one of '
            f"{', '.join(STRUCTURED)}",
            hint="prompt (the schema in the prompt, the default) works in every batch job; "
            "native asks for the model's own structured output (docs/batch.md).",
        )
    return value


def _folder(uri: str, where: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` as (bucket, prefix), checked."""
    bucket, prefix = _split(uri)
    prefix = prefix.strip("/")
    if (
        len(uri) > _MAX_URI
        or not uri.startswith("s3://")
        or not _BUCKET.fullmatch(bucket)
        or (prefix and not _PREFIX.fullmatch(prefix))
    ):
        raise InputError(
            f'{where}: batch.s3_uri "{uri[:200]}": not an S3 folder — give '
            "s3://bucket/prefix (a bucket name of lowercase letters, digits, '.' and '-'; "
            "a prefix of letters, digits and -!_*'(). separated by '/'; at most "
            f"{_MAX_URI} characters in all)"
        )
    return bucket, prefix


def _split(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class BedrockBatches(Batches):
    """Bedrock's batch jobs for one provider (its clients and registry).

    ``prompt_form``: the models whose batch requests the provider builds with the
    schema in the prompt although ``batch.structured_output`` is native (their jobs
    refused it); shared with the provider, which reads it when it builds a request."""

    def __init__(
        self,
        clients: Clients,
        registry: Registry,
        settings: BatchSettings,
        *,
        prompt_form: set[str] | None = None,
    ) -> None:
        self.clients = clients
        self.registry = registry
        self.settings = settings
        self.prompt_form = prompt_form if prompt_form is not None else set()
        self.skipped = Skipped()
        self._limits: dict[str, BatchLimits | None] = {}  # by the model's id as sent
        self._bucket_checked = False  # its region (``_check_bucket``)

    # ------------------------------------------------------------ what a job may hold

    def limits(self, model: str) -> BatchLimits | None:
        """The account's batch quotas for the model (Service Quotas, cached a day), else
        the registry's; None when the registry does not offer the model in batch, or
        no id a job could name fits the region (``job_model``)."""
        if model not in self._limits:
            info = self.registry.find(model)
            if info is None or not info.batch or self._job_model(model, info) is None:
                self._limits[model] = None
            else:
                mb = 1024 * 1024
                registry = BatchLimits(
                    info.batch_min_records, info.batch_max_records, info.batch_max_file_mb * mb
                )
                limits = replace(registry, **account_quotas.batch_limits(self.clients, info))
                self._limits[model] = replace(
                    limits, max_bytes=min(limits.max_bytes, MAX_FILE_BYTES)
                )
        return self._limits[model]

    def job_model(self, model: str) -> str:
        """The id a job for ``model`` (as sent on-demand) names in this region: a base
        id where the model takes base-id jobs there (the registry's
        ``batch_base_regions``; every region when it lists none), else the inference
        profile the region's profile logic picks (``profiles.preferred``)."""
        info = self.registry.get(model)
        picked = self._job_model(model, info)
        if picked is None:  # ``limits`` said None: nothing is batched for it
            raise InputError(f'model "{model}" takes no batch job in {self.clients.region()}')
        return picked

    def _job_model(self, model: str, info: ModelInfo) -> str | None:
        # The region only matters (and is only asked for) when the model has base-id regions.
        return job_model_id(model, info, self.clients.region() if info.batch_base_regions else "")

    def use_prompt_form(self, model: str) -> None:
        self.prompt_form.add(model)

    def worst_cost(self, request: Request) -> float:
        """Every output token used, at the batch prices of the id the job names (batch
        bodies carry no cache point)."""
        info = self.registry.get(self.job_model(request.model))
        return info.text_cost(request.input_tokens, request.max_tokens, batch=True)

    # ------------------------------------------------------------ a job's life

    def submit(self, job: BatchSubmission) -> Submitted:
        """Upload the input, then start the job (or find the one the token started)."""
        s = self.settings
        self._check_bucket()
        name = self._key(job.name, "input", f"{job.name}.jsonl")
        self._upload(job, name)
        input_uri = f"s3://{s.bucket}/{name}"
        output_uri = f"s3://{s.bucket}/{self._key(job.name, 'output')}/"
        output: ModelInvocationJobS3OutputDataConfigTypeDef = {"s3Uri": output_uri}
        if s.kms_key:
            output["s3EncryptionKeyId"] = s.kms_key
        try:
            made = self.clients.control().create_model_invocation_job(
                jobName=job.name,
                roleArn=s.role_arn,
                modelId=job.model,
                clientRequestToken=job.token,
                inputDataConfig={
                    "s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}
                },
                outputDataConfig={"s3OutputDataConfig": output},
                timeoutDurationInHours=s.timeout_hours,
                modelInvocationType="Converse",
                tags=[{"key": "created-by", "value": "adloom"}],
            )
        except (ClientError, BotoCoreError) as exc:
            call = self._call("bedrock:CreateModelInvocationJob", f'model "{job.model}"')
            raise translate(exc, self._context(job.model, call)) from exc
        return Submitted(made["jobArn"], input_uri, output_uri)

    def progress(self, job_id: str) -> BatchProgress:
        try:
            got = self.clients.control().get_model_invocation_job(jobIdentifier=job_id)
        except (ClientError, BotoCoreError) as exc:
            call = self._call("bedrock:GetModelInvocationJob", job_id)
            raise translate(exc, self._context(job_id, call)) from exc
        return BatchProgress(
            status=str(got.get("status", "")),
            message=str(got.get("message", "")),
            total=got.get("totalRecordCount"),
            processed=got.get("processedRecordCount"),
            succeeded=got.get("successRecordCount"),
            errors=got.get("errorRecordCount"),
        )

    def stop(self, job_id: str) -> None:
        """Stop the job; one that has already ended is left as it is."""
        try:
            self.clients.control().stop_model_invocation_job(jobIdentifier=job_id)
        except ClientError as exc:
            if self.progress(job_id).ended:  # the service refuses to stop an ended job
                return
            call = self._call("bedrock:StopModelInvocationJob", job_id)
            raise translate(exc, self._context(job_id, call)) from exc
        except BotoCoreError as exc:
            call = self._call("bedrock:StopModelInvocationJob", job_id)
            raise translate(exc, self._context(job_id, call)) from exc

    # ------------------------------------------------------------ answers

    def answers(self, job: Submitted, records: Mapping[str, Request]) -> Iterator[BatchAnswer]:
        """The job's one output file (``<output>/<job id>/<input file>.out``: nothing
        else in the bucket is read), streamed line by line within ``MAX_LINE_BYTES``;
        each record answered once (the first line for it wins)."""
        self.skipped = Skipped()
        bucket, key = _split(self._own(job, job.input_uri.rsplit("/", 1)[-1] + ".out"))
        seen: set[str] = set()
        for number, line in enumerate(self._lines(bucket, key), 1):
            where = f"{key.rsplit('/', 1)[-1]} line {number}"
            if line is None:
                self.skipped.add(f"{where}: longer than {MAX_LINE_BYTES:,} bytes")
                continue
            found = self._record(line, where, records)
            if found is not None and found.key not in seen:
                seen.add(found.key)
                yield found

    def manifest(self, job: Submitted) -> Mapping[str, int]:
        """``manifest.json.out`` in the job's own folder (``<output>/<job id>/``): its
        whole-number counts; empty when there is none (a job that failed early) or it
        is not such a file."""
        bucket, key = _split(self._own(job, "manifest.json.out"))
        try:
            body = self.clients.s3().get_object(Bucket=bucket, Key=key)["Body"]
            with closing(body):
                data = json.loads(body.read(_MANIFEST_BYTES))
        except ClientError as exc:
            if error_code(exc)[0] in ("NoSuchKey", "404"):
                return {}
            call = self._call("s3:GetObject", self._objects())
            raise translate(exc, self._context(key, call)) from exc
        except (ValueError, BotoCoreError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)}

    @staticmethod
    def _own(job: Submitted, name: str) -> str:
        """``s3://bucket/<output>/<job id>/<name>``: where Bedrock writes this job's files."""
        return f"{job.output_uri.rstrip('/')}/{job.job_id.rsplit('/', 1)[-1]}/{name}"

    def _lines(self, bucket: str, key: str) -> Iterator[bytes | None]:
        """The object's lines (None for one longer than ``MAX_LINE_BYTES``); none when
        the job wrote no output file."""
        call = self._call("s3:GetObject", self._objects())
        try:
            body = self.clients.s3().get_object(Bucket=bucket, Key=key)["Body"]
            with closing(body):  # also when the caller stops reading early
                yield from capped_lines(iter(lambda: body.read(_CHUNK), b""), MAX_LINE_BYTES)
        except ClientError as exc:
            if error_code(exc)[0] in ("NoSuchKey", "404"):
                return  # a job that failed before answering: its records go on-demand
            raise translate(exc, self._context(key, call)) from exc
        except BotoCoreError as exc:
            raise translate(exc, self._context(key, call)) from exc

    def _record(
        self, line: bytes, where: str, records: Mapping[str, Request]
    ) -> BatchAnswer | None:
        """One output line as an answer; None (and a note) for a line it cannot be."""
        if not line.strip():
            return None
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            self.skipped.add(f"{where}: not JSON")
            return None
        key = data.get("recordId") if isinstance(data, dict) else None
        request = records.get(key) if isinstance(key, str) else None
        if request is None:
            self.skipped.add(f"{where}: record id {str(key)[:80]!r} is not one of the job's")
            return None
        assert isinstance(data, dict)  # noqa: S101 - a record id was found in it
        output = data.get("modelOutput")
        if output is None:
            return _refused(request, data.get("error"))
        problems = shape_problems(output, request)
        if problems:
            return BatchAnswer(
                request.key,
                error="the batch job's answer is not a Converse answer ("
                + "; ".join(problems[:3])[:300]
                + ")",
            )
        info = self.registry.get(self.job_model(request.model))  # priced as the job's id
        return BatchAnswer(request.key, response=text.answer(output, request, info, batch=True))

    # ------------------------------------------------------------ plumbing

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.settings.prefix, *parts) if p)

    def _objects(self) -> str:
        """The ARN of every object under ``batch.s3_uri`` (what IAM policies name)."""
        s = self.settings
        return f"arn:aws:s3:::{s.bucket}/{s.prefix + '/' if s.prefix else ''}*"

    def _check_bucket(self) -> None:
        """Once, before the first upload: the bucket exists and is in the run's region
        (a job reads and writes S3 in its own region, and botocore would follow a
        redirect for the upload: the job would fail only later). Without
        ``s3:GetBucketLocation`` the region is not checked."""
        if self._bucket_checked:
            return
        bucket, region = self.settings.bucket, self.clients.region()
        call = self._call("s3:GetBucketLocation", f"arn:aws:s3:::{bucket}")
        try:
            located = self.clients.s3().get_bucket_location(Bucket=bucket)
            # No constraint: us-east-1; "EU": the legacy name of eu-west-1.
            there = str(located.get("LocationConstraint") or "us-east-1")
            there = {"EU": "eu-west-1"}.get(there, there)
        except ClientError as exc:
            if error_code(exc)[0] not in ("AccessDenied", "AccessDeniedException"):
                raise translate(exc, self._context(bucket, call)) from exc
            there = region  # not allowed to ask: not checked
        except BotoCoreError as exc:
            raise translate(exc, self._context(bucket, call)) from exc
        if there != region:
            raise wrong_region(call, there, region)
        self._bucket_checked = True

    def _upload(self, job: BatchSubmission, key: str) -> None:
        """The job's JSONL, spooled to a temporary file (not memory), then one PUT."""
        with tempfile.TemporaryFile() as spool:
            for request in job.records:
                line = {"recordId": request.key, "modelInput": request.body}
                spool.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode())
                spool.write(b"\n")
            spool.seek(0)
            try:
                self._put(key, spool)
            except (ClientError, BotoCoreError) as exc:
                call = self._call("s3:PutObject", self._objects())
                raise translate(exc, self._context(job.model, call)) from exc

    def _put(self, key: str, body: IO[bytes]) -> None:
        # Two calls, not one with **kwargs: the stubs type each parameter (the
        # encryption's a Literal), and botocore refuses SSEKMSKeyId=None.
        s3, s = self.clients.s3(), self.settings
        if s.kms_key:
            s3.put_object(
                Bucket=s.bucket,
                Key=key,
                Body=body,
                ContentType="application/jsonl",
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=s.kms_key,
            )
        else:
            s3.put_object(
                Bucket=s.bucket,
                Key=key,
                Body=body,
                ContentType="application/jsonl",
                ServerSideEncryption="AES256",
            )

    def _call(self, action: str, resource: str) -> BatchCall:
        s = self.settings
        return BatchCall(action, resource, s.bucket, s.role_arn, s.kms_key, s.where)

    def _context(self, subject: str, call: BatchCall) -> ErrorContext:
        return ErrorContext(subject, self.clients.region(), self.registry, batch=call)


def _refused(request: Request, error: Any) -> BatchAnswer:
    """A record the job answered with an error (or with nothing): sent on-demand once,
    whatever the error (a batch job's refusal is no proof on-demand refuses it too).
    A refusal naming structured output, of a record that asked for it natively, is
    marked so: the run's later batch records ask in the prompt instead."""
    error = error if isinstance(error, dict) else {}
    code = str(error.get("errorCode", "")).strip()[:40]
    message = str(error.get("errorMessage", "")).strip()[:300]
    if not error:
        code, message = "no answer", "the output holds neither an answer nor an error"
    native = text.mode_of(request.body) == "native"
    said = message.lower()
    return BatchAnswer(
        request.key,
        error=f"the batch job did not answer this request ({code}: {message})",
        structured_refused=native
        and code in _REFUSED
        and any(word in said for word in _STRUCTURED_WORDS),
    )


def job_model_id(model: str, info: ModelInfo, region: str) -> str | None:
    """The id a batch job for ``model`` (as sent on-demand) names in ``region``: the id
    itself when it names a profile, or the model takes base-id jobs there (its
    ``batch_base_regions``, every region when it lists none); else the profile the
    region's profile logic picks (``jp.`` then ``apac.`` in Tokyo); None when no
    profile of the model fits the region."""
    bases = info.batch_base_regions
    if profile_of(model) is not None or model.startswith("arn:") or not bases or region in bases:
        return model
    for prefix in profiles.preferred(region):
        if prefix in info.profiles:
            return f"{prefix}.{info.id}"
    return None


def capped_lines(chunks: Iterator[bytes], limit: int) -> Iterator[bytes | None]:
    """The lines of a stream of ``chunks`` (without their ends); None for a line longer
    than ``limit`` bytes, whose bytes are dropped as they arrive: memory stays within
    ``limit`` and a chunk whatever the stream holds."""
    pending = bytearray()
    dropping = False  # in a line already past the limit
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if not dropping:
                pending += chunk[start:end]
            yield None if dropping or len(pending) > limit else bytes(pending)
            pending.clear()
            dropping, start = False, end + 1
        if not dropping:
            pending += chunk[start:]
            if len(pending) > limit:
                dropping = True
                pending.clear()
    if dropping:
        yield None
    elif pending:
        yield bytes(pending)


@cache
def _converse_output() -> Any:
    """botocore's shape of a Converse answer: what an on-demand answer is parsed by."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    return model.operation_model("Converse").output_shape


def shape_problems(output: Any, request: Request) -> list[str]:
    """Why a batch record's ``modelOutput`` is not a Converse answer to ``request``
    (none: it is one). Checked like botocore parses an on-demand answer (types,
    minimums, unions; members it does not know are ignored, as botocore does), and
    the token counts sane: whole, finite, not negative, output within the request's
    limit. ``metrics`` may be left out (a batch job has no latency to report)."""
    from botocore.validate import ParamValidator

    if not isinstance(output, dict):
        return [f"modelOutput is {type(output).__name__}, not an object"]
    report = ParamValidator().validate({"metrics": {"latencyMs": 0}, **output}, _converse_output())
    problems = [
        report._format_error(error)  # botocore's own wording of each problem
        for error in report._errors
        if error[0] != "unknown field"
    ]
    usage = output.get("usage")
    if isinstance(usage, dict):
        for name, value in usage.items():  # botocore takes true for 1, and any size
            if isinstance(value, bool):
                problems.append(f"usage.{name} is {value}, not a count")
            elif isinstance(value, int) and not 0 <= value <= _MAX_TOKENS:
                problems.append(f"usage.{name} {value} is out of range")
        out = usage.get("outputTokens")
        if request.max_tokens and isinstance(out, int) and out > request.max_tokens:
            problems.append(f"usage.outputTokens {out} exceeds the request's {request.max_tokens}")
    return [p.replace("parameter ", "") for p in problems]
