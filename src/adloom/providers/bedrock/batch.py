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
    Submitted,
)
from adloom.providers.bedrock import account_quotas, text
from adloom.providers.bedrock.client import (
    BatchCall,
    Clients,
    ErrorContext,
    error_code,
    translate,
    wrong_region,
)
from adloom.registry import Registry
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
# Bedrock takes S3 URIs of up to 1,024 characters (botocore's S3Uri); adloom adds at
# most "/<job name>/input/<job name>.jsonl" (job names: up to 63) to batch.s3_uri.
_MANIFEST_BYTES = 64 * 1024  # a manifest is a handful of counts
_MAX_URI = 1024 - (1 + 63 + len("/input/") + 63 + len(".jsonl"))
# Record errors that sending the same request on-demand would meet again.
_FINAL = {"400", "ValidationException"}


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
    """Bedrock's batch jobs for one provider (its clients and registry)."""

    def __init__(self, clients: Clients, registry: Registry, settings: BatchSettings) -> None:
        self.clients = clients
        self.registry = registry
        self.settings = settings
        # Output lines the last ``answers`` could not use (not JSON, a record id the job
        # did not hold), each "file line N: why": for the caller to tell the user.
        self.skipped: list[str] = []
        self._limits: dict[str, BatchLimits] = {}  # by the model's registry id
        self._bucket_checked = False  # its region (``_check_bucket``)

    # ------------------------------------------------------------ what a job may hold

    def limits(self, model: str) -> BatchLimits | None:
        """The account's batch quotas for the model (Service Quotas, cached a day), else
        the registry's; None when the registry does not offer the model in batch."""
        info = self.registry.find(model)
        if info is None or not info.batch:
            return None
        if info.id not in self._limits:
            mb = 1024 * 1024
            registry = BatchLimits(
                info.batch_min_records, info.batch_max_records, info.batch_max_file_mb * mb
            )
            account = account_quotas.batch_limits(self.clients, info)
            self._limits[info.id] = replace(registry, **account)
        return self._limits[info.id]

    def worst_cost(self, request: Request) -> float:
        """Every output token used, at the batch prices (batch bodies carry no cache point)."""
        info = self.registry.get(request.model)
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
        """Every ``*.jsonl.out`` under the job's output folder, line by line; each record
        asked for once (the first line for it wins)."""
        self.skipped = []
        bucket, folder = _split(job.output_uri)
        seen: set[str] = set()
        for key in self._outputs(bucket, folder):
            for number, line in enumerate(self._lines(bucket, key), 1):
                found = self._record(line, f"{key} line {number}", records)
                if found is not None and found.key not in seen:
                    seen.add(found.key)
                    yield found

    def manifest(self, job: Submitted) -> Mapping[str, int]:
        """``manifest.json.out`` in the job's own folder (``<output>/<job id>/``): its
        whole-number counts; empty when there is none (a job that failed early) or it
        is not such a file."""
        bucket, folder = _split(job.output_uri)
        key = f"{folder.rstrip('/')}/{job.job_id.rsplit('/', 1)[-1]}/manifest.json.out"
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

    def _outputs(self, bucket: str, folder: str) -> Iterator[str]:
        pages = self.clients.s3().get_paginator("list_objects_v2")
        try:
            for page in pages.paginate(Bucket=bucket, Prefix=folder):
                for item in page.get("Contents", []):
                    if item.get("Key", "").endswith(".jsonl.out"):
                        yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            call = self._call("s3:ListBucket", f"arn:aws:s3:::{bucket}")
            raise translate(exc, self._context(folder, call)) from exc

    def _lines(self, bucket: str, key: str) -> Iterator[bytes]:
        call = self._call("s3:GetObject", self._objects())
        try:
            body = self.clients.s3().get_object(Bucket=bucket, Key=key)["Body"]
            with closing(body):  # also when the caller stops reading early
                yield from body.iter_lines(chunk_size=_CHUNK)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self._context(key, call)) from exc

    def _record(
        self, line: bytes, where: str, records: Mapping[str, Request]
    ) -> BatchAnswer | None:
        """One output line as an answer; None (and a note) for a line it cannot be."""
        if not line.strip():
            return None
        try:
            data = json.loads(line)
        except ValueError:  # UnicodeDecodeError is one
            self.skipped.append(f"{where}: not JSON")
            return None
        key = data.get("recordId") if isinstance(data, dict) else None
        request = records.get(key) if isinstance(key, str) else None
        if request is None:
            self.skipped.append(f"{where}: record id {str(key)[:80]!r} is not one of the job's")
            return None
        output = data.get("modelOutput")
        if isinstance(output, dict):
            info = self.registry.get(request.model)
            return BatchAnswer(request.key, response=text.answer(output, request, info, batch=True))
        return _refused(request.key, data.get("error"))

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


def _refused(key: str, error: Any) -> BatchAnswer:
    """A record the job answered with an error: retried on-demand unless on-demand
    would be refused the same way (a 400: the request itself)."""
    error = error if isinstance(error, dict) else {}
    code = str(error.get("errorCode", "")).strip()
    message = str(error.get("errorMessage", "")).strip()
    if not error:
        code, message = "no answer", "the output holds neither an answer nor an error"
    return BatchAnswer(
        key,
        error=f"the batch job did not answer this request ({code}: {message})",
        retry=code not in _FINAL,
    )
