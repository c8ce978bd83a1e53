"""boto3 plumbing for the Bedrock provider: session, clients, and what errors mean.

One ``Clients`` object per provider holds one boto3 session and, created lazily on
first use, one ``bedrock-runtime`` client for text, one for images (they differ in
read timeout: an image takes minutes), one ``bedrock`` control-plane client for
``doctor``, ``models --check`` and batch jobs, one ``service-quotas`` client for the
account's applied quotas, and one ``s3`` client for batch jobs' input and output.
boto3 sessions are not thread-safe, clients are: everything is created under a
lock, then shared by the engine's threads.

No endpoint is ever passed: boto3 resolves it from the region, and honours
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` / ``AWS_ENDPOINT_URL_BEDROCK`` /
``AWS_ENDPOINT_URL_SERVICE_QUOTAS`` / ``AWS_ENDPOINT_URL_S3`` (how the tests
point it at a local fake server, and how a VPC endpoint is configured).

botocore must not retry: the engine owns retries (backoff with jitter, per-model
pacing, attempt limits, the journal). botocore's own retries would multiply with
the engine's (3 x 6 attempts), hide throttles from the pacer, and, in ``adaptive``
mode, slow every later request of the client. So ``total_max_attempts`` is 1.
S3 is the exception: nothing paces or retries its calls (a job's upload, the
answers read back), and they are idempotent, so botocore retries them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
)

from adloom import __version__
from adloom.errors import CredentialsError, ModelAccessError, ProviderError
from adloom.providers.base import Kind, RequestFailed, TransientError
from adloom.registry import Registry, base_id
from adloom.values import TIMEOUT_SECONDS, number

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient
    from mypy_boto3_s3 import S3Client

# The CLI allows up to 256 concurrent requests; a pool at least that large means no
# thread ever waits for, or throws away, a connection. Connections open lazily, so
# an unused pool costs nothing.
POOL_SIZE = 256

NO_CREDENTIALS = (
    "No AWS credentials found (checked environment variables, the AWS profile, SSO "
    "and the instance/container role)."
)
NO_CREDENTIALS_HINT = (
    "Configure credentials (`aws configure`, `aws sso login`, AWS_PROFILE or --profile), "
    "or run offline with --provider draft."
)

# Service error codes the engine retries. ThrottlingException additionally tells the
# pacer to slow that model down.
_TRANSIENT = {
    "ThrottlingException",
    "ServiceUnavailableException",
    "InternalServerException",
    "ModelNotReadyException",
    "ModelTimeoutException",
}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignature",
    "ExpiredToken",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",  # S3's words for the same
    "SignatureDoesNotMatch",
}
# Bedrock refusing a batch role it cannot assume (not an "assumed-role/..." caller ARN).
_CANNOT_ASSUME = re.compile(r"(can[’']?t|cannot|can not|unable to|could not|failed to) assume")
# S3's answers to a request sent to the wrong region for the bucket.
_WRONG_REGION = {
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
    "IllegalLocationConstraintException",
}


@dataclass(frozen=True)
class Timeouts:
    """Seconds. Text answers take seconds; image models take up to minutes."""

    connect: float = 10.0
    text: float = 60.0
    image: float = 300.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Timeouts:
        """``--set bedrock.text_timeout=30`` (and connect_timeout, image_timeout)."""
        values: dict[str, float] = {}
        for name in ("connect", "text", "image"):
            key = f"bedrock.{name}_timeout"
            if key in settings:
                values[name] = number(settings[key], TIMEOUT_SECONDS, f"setting {key}")
        return cls(**values)


class Clients:
    """The boto3 session and clients of one provider, created once, shared by threads."""

    def __init__(
        self,
        *,
        profile: str | None,
        region: str | None,
        timeouts: Timeouts = Timeouts(),
        cache: Path | None = None,
        image_region: str | None = None,
    ) -> None:
        self.profile = profile
        # Image requests go here when set (``image_region``: Stability's image services
        # are offered in US regions only), copy and everything else to ``region``.
        self.image_region = image_region or None
        self.timeouts = timeouts
        self.cache = cache  # the user cache's folder for the account's answers; None: none
        self._region = region
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._runtime: dict[Kind, BedrockRuntimeClient] = {}
        self._control: BedrockClient | None = None
        self._quotas: BaseClient | None = None
        self._s3: S3Client | None = None

    def session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                try:
                    self._session = boto3.Session(profile_name=self.profile)
                except ProfileNotFound:
                    raise CredentialsError(
                        f'AWS profile "{self.profile}" not found in your AWS config files.',
                        hint="List profiles with `aws configure list-profiles`, or drop --profile.",
                    ) from None
            return self._session

    def region(self) -> str:
        region = self._region or self.session().region_name
        if not region:
            raise ProviderError(
                "No AWS region configured.",
                hint="Pass --region (e.g. --region us-east-1), or set AWS_REGION or the "
                "region of your AWS profile; or run offline with --provider draft.",
            )
        return region

    def credential_method(self) -> str:
        """Where the credentials come from (``env``, ``sso``, ``iam-role``...); never a secret."""
        try:
            credentials = self.session().get_credentials()
        except (TokenRetrievalError, PartialCredentialsError) as exc:
            raise CredentialsError(
                f"AWS credentials could not be loaded: {exc}",
                hint="Refresh them (e.g. `aws sso login`), or run offline with --provider draft.",
            ) from None
        if credentials is None:
            raise CredentialsError(NO_CREDENTIALS, hint=NO_CREDENTIALS_HINT)
        return str(credentials.method)

    def check(self) -> None:
        """Credentials and region resolve; no network call.

        Credentials first: a user without any AWS set-up most needs to hear that
        ``--provider draft`` runs offline.
        """
        self.credential_method()
        self.region()

    def region_of(self, kind: Kind) -> str:
        """The region requests of ``kind`` go to."""
        return (self.image_region if kind == "image" else None) or self.region()

    def _config(self, read_timeout: float, attempts: int = 1, region: str = "") -> Config:
        return Config(
            region_name=region or self.region(),
            connect_timeout=self.timeouts.connect,
            read_timeout=read_timeout,
            max_pool_connections=POOL_SIZE,
            # One attempt in all: the engine retries. (botocore's ``max_attempts`` counts
            # retries after the first call, so ``max_attempts: 1`` would still retry once.)
            retries={"mode": "standard", "total_max_attempts": attempts},
            user_agent_extra=f"adloom/{__version__}",
        )

    def runtime(self, kind: Kind) -> BedrockRuntimeClient:
        session = self.session()
        with self._lock:
            client = self._runtime.get(kind)
        if client is not None:
            return client
        timeout = self.timeouts.text if kind == "text" else self.timeouts.image
        config = self._config(timeout, region=self.region_of(kind))
        with self._lock:
            if kind not in self._runtime:
                self._runtime[kind] = session.client("bedrock-runtime", config=config)
            return self._runtime[kind]

    def control(self) -> BedrockClient:
        session = self.session()
        config = self._config(self.timeouts.text)
        with self._lock:
            if self._control is None:
                self._control = session.client("bedrock", config=config)
            return self._control

    def quotas(self) -> BaseClient:
        """The ``service-quotas`` client (untyped: its stubs are not a dependency)."""
        session = self.session()
        config = self._config(self.timeouts.text)
        with self._lock:
            if self._quotas is None:
                self._quotas = session.client("service-quotas", config=config)
            return self._quotas

    def s3(self) -> S3Client:
        """The ``s3`` client of batch jobs (retried by botocore: see the module doc)."""
        session = self.session()
        config = self._config(self.timeouts.text, attempts=3)
        with self._lock:
            if self._s3 is None:
                self._s3 = session.client("s3", config=config)
            return self._s3


@dataclass(frozen=True)
class BatchCall:
    """A batch job's call (to S3 or the batch control plane): what it needed."""

    action: str  # the permission the call needs: s3:PutObject, bedrock:CreateModelInvocationJob
    resource: str  # what on: arn:aws:s3:::bucket/prefix/*, the job's ARN
    bucket: str
    role: str  # batch.role_arn
    kms_key: str = ""  # batch.kms_key
    where: str = ""  # where batch.s3_uri was set (a cell, --set)


@dataclass(frozen=True)
class ErrorContext:
    """What a message about a failed call needs to name."""

    model: str
    region: str
    registry: Registry
    kind: Kind = "text"
    batch: BatchCall | None = None


def error_code(exc: ClientError) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a service error."""
    response: Mapping[str, Any] = exc.response
    error = response.get("Error", {})
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return str(error.get("Code", "")), str(error.get("Message", "")), status


def translate(exc: BotoCoreError | ClientError, ctx: ErrorContext) -> Exception:
    """The adloom error for a failed call: retry it, fail one variant, or stop the run."""
    if isinstance(exc, ClientError):
        return _service_error(exc, ctx)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | TokenRetrievalError):
        return CredentialsError(NO_CREDENTIALS, hint=NO_CREDENTIALS_HINT)
    if isinstance(exc, EndpointConnectionError):
        return TransientError(f"{ctx.model}: could not connect to Bedrock in {ctx.region} ({exc})")
    # Read/connect timeouts, dropped connections: the request may succeed if sent again.
    return TransientError(f"{ctx.model}: no answer ({exc})")


def _service_error(exc: ClientError, ctx: ErrorContext) -> Exception:
    code, message, status = error_code(exc)
    if code in _TRANSIENT:
        return TransientError(
            f"{ctx.model}: {code}: {message}", throttled=code == "ThrottlingException"
        )
    if code in _BAD_CREDENTIALS:
        return CredentialsError(
            f"AWS rejected the credentials ({code}: {message}).",
            hint="Refresh or fix them (`aws sso login`, `aws configure`), or run offline "
            "with --provider draft.",
        )
    refused = _batch_refused(exc, ctx.batch, ctx.region) if ctx.batch else None
    if refused is not None:
        return refused
    known = _BY_CODE.get(code)
    if known is not None:
        return known(message, ctx)
    if status >= 500:
        return TransientError(f"{ctx.model}: {code or status}: {message}")
    return RequestFailed(f"Bedrock refused the request for {ctx.model}: {code}: {message}")


def _access_denied(message: str, ctx: ErrorContext) -> Exception:
    return ModelAccessError(
        f'Access to model "{ctx.model}" is denied in region {ctx.region}: {message}',
        hint=f"Enable model access for {base_id(ctx.model)} in the Bedrock console (Model "
        f"access, region {ctx.region}), and check that your IAM policy allows "
        "bedrock:InvokeModel on it (and on the inference profile, if you use one).",
    )


def _not_found(message: str, ctx: ErrorContext) -> Exception:
    if "end of its life" in message.lower():
        return _retired(message, ctx)
    return ModelAccessError(
        f'Model "{ctx.model}" is not available in region {ctx.region}: {message}',
        hint="Pick another region (--region) or model; `adloom models --check` lists what "
        "this account and region can use.",
    )


def _retired(message: str, ctx: ErrorContext) -> Exception:
    return ModelAccessError(
        f'Model "{ctx.model}" has reached its end of life on Bedrock: {message}',
        hint=f"Choose a current {ctx.kind} model; `adloom models --check` shows lifecycle.",
    )


def _validation(message: str, ctx: ErrorContext) -> Exception:
    lower = message.lower()
    if "on-demand throughput" in lower:
        info = ctx.registry.find(ctx.model)
        ids = info.profile_ids() if info and info.profiles else [f"us.{base_id(ctx.model)}"]
        return ModelAccessError(
            f'Model "{ctx.model}" cannot be called by its base id on demand: {message}',
            hint=f"Use an inference profile id instead, e.g. {ids[0]}"
            + (f" (others: {', '.join(ids[1:])})" if len(ids) > 1 else "")
            + f" — --{ctx.kind}-model {ids[0]}.",
        )
    if "content filter" in lower:
        what = "image_prompt column" if ctx.kind == "image" else "brief's wording"
        return RequestFailed(
            f"blocked by the Bedrock content filter ({message}); rephrase the {what}.",
            status="filtered",
        )
    if "end of its life" in lower or "identifier is invalid" in lower:
        return _retired(message, ctx) if "end of its life" in lower else _not_found(message, ctx)
    if "doesn't support the model" in lower or "does not support the model" in lower:
        return ModelAccessError(
            f'Model "{ctx.model}" cannot be used for {ctx.kind}: {message}',
            hint=f"`adloom models` lists the {ctx.kind} models.",
        )
    return RequestFailed(f"Bedrock rejected the request for {ctx.model}: {message}")


def _quota(message: str, ctx: ErrorContext) -> Exception:
    return ProviderError(
        f"{ctx.model}: a Bedrock service quota is exceeded in {ctx.region}: {message}",
        hint="Request a quota increase in the Service Quotas console, or lower --concurrency.",
    )


def _model_error(message: str, ctx: ErrorContext) -> Exception:
    return RequestFailed(f"the model {ctx.model} failed to answer: {message}")


_BY_CODE: dict[str, Callable[[str, ErrorContext], Exception]] = {
    "AccessDeniedException": _access_denied,
    "ResourceNotFoundException": _not_found,
    "ServiceQuotaExceededException": _quota,
    "ValidationException": _validation,
    "ModelErrorException": _model_error,
}


# ---------------------------------------------------------------------------- batch jobs


def _batch_refused(exc: ClientError, call: BatchCall, region: str) -> Exception | None:
    """What the account or its storage refused a batch call, as an exit-3 error naming
    the permission or setting to fix; None: not such a refusal."""
    code, message, status = error_code(exc)
    lower = message.lower()
    if code == "NoSuchBucket":
        return ProviderError(
            f'S3 bucket "{call.bucket}" does not exist (batch.s3_uri, {call.where}).',
            hint=f"Create it in {region}, or fix batch.s3_uri.",
        )
    if code in _WRONG_REGION or status == 301:
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return wrong_region(call, headers.get("x-amz-bucket-region") or "another region", region)
    if _CANNOT_ASSUME.search(lower):
        return ProviderError(
            f"Bedrock cannot assume the batch role {call.role}: {message}",
            hint="The role's trust policy must allow the service principal "
            "bedrock.amazonaws.com to sts:AssumeRole (docs/bedrock.md#batch-inference).",
        )
    if code == "ServiceQuotaExceededException":
        return ProviderError(
            f"this account has reached a Bedrock batch inference quota in {region}: {message}",
            hint="Wait for its running batch jobs to end (or stop them), request an increase "
            "in the Service Quotas console, or run on-demand (--mode on-demand).",
        )
    if code in ("AccessDenied", "AccessDeniedException") or status == 403:
        action, resource = _denied(lower, call)
        return ProviderError(
            f"{action} is not allowed on {resource}: {message}",
            hint=f"Allow {action} on {resource} for the identity adloom runs as "
            "(docs/bedrock.md#batch-inference lists every permission batch jobs need).",
        )
    return None


def wrong_region(call: BatchCall, there: str, region: str) -> ProviderError:
    """The bucket of ``batch.s3_uri`` is in region ``there``, the run in ``region``."""
    return ProviderError(
        f'S3 bucket "{call.bucket}" is in {there}, not in this run\'s region {region}.',
        hint=f"Bedrock batch jobs use a bucket in their own region: run with --region "
        f"{there}, or set batch.s3_uri ({call.where}) to a bucket in {region}.",
    )


def _denied(message: str, call: BatchCall) -> tuple[str, str]:
    """The permission (and on what) an access-denied message is about: the one it names
    (KMS, PassRole, tagging), else the call's own."""
    if "passrole" in message:
        return "iam:PassRole", call.role
    if "kms" in message:
        decrypt = "decrypt" in message or call.action == "s3:GetObject"
        key = call.kms_key or "the bucket's KMS key"
        return ("kms:Decrypt" if decrypt else "kms:GenerateDataKey"), key
    if "tagresource" in message:
        return "bedrock:TagResource", call.resource
    return call.action, call.resource
