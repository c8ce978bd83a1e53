"""What the fake does beyond answering: scripted faults, filters, latency, quotas.

A test changes ``FakeBedrock.behaviour`` (or passes a JSON config to the
subprocess entry point); counters live in ``State`` so "the first N requests"
means the first N the server received, across threads.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

# What each fault answers: (HTTP status, error code, message), as the service words them.
FAULTS: dict[str, tuple[int, str, str]] = {
    "throttle": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    "not_ready": (429, "ModelNotReadyException", "Model is not ready to serve inference requests."),
    "unavailable": (
        503,
        "ServiceUnavailableException",
        "Bedrock is unable to process the request.",
    ),
    "internal": (500, "InternalServerException", "The server encountered an internal error."),
    "timeout": (408, "ModelTimeoutException", "Model has timed out in processing the request."),
    "model_error": (424, "ModelErrorException", "The model could not process the request."),
    "quota": (400, "ServiceQuotaExceededException", "Your request exceeds the service quota."),
}
TOKENS_THROTTLE = "Too many tokens, please wait before trying again."
# The operations ``Behaviour.request_log`` records.
LOGGED = ("converse", "invoke", "create_model_invocation_job", "stop_model_invocation_job")


@dataclass
class Fault:
    """The first ``count`` matching requests fail with ``kind`` (or hang for ``seconds``)."""

    kind: str  # a key of FAULTS, or "hang"
    count: int = 1
    model: str = ""  # substring of the model id; "" matches every model
    op: str = ""  # "converse" | "invoke" | "" for both
    seconds: float = 0.0  # for "hang": how long to wait before answering


@dataclass
class Behaviour:
    # Latency: text = base + per output token; images = base.
    text_latency_ms: float = 0.0
    ms_per_output_token: float = 0.0
    image_latency_ms: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    # Words that trigger filters when they appear in a prompt.
    filter_prompt: list[str] = field(default_factory=list)  # the prompt is refused
    # A judge request (--score) reports broken each brand policy in its prompt that
    # contains one of these.
    judge_breaks: list[str] = field(default_factory=list)
    filter_output: list[str] = field(default_factory=list)  # the output is withheld
    guardrail_words: list[str] = field(default_factory=list)  # the guardrail intervenes
    guardrails: dict[str, list[str]] = field(default_factory=lambda: {"gr-brand": ["1", "DRAFT"]})
    access_denied: list[str] = field(default_factory=list)  # base model ids
    retired: list[str] = field(default_factory=list)  # base model ids past end of life
    not_in_region: list[str] = field(default_factory=list)  # base model ids not offered here
    # Control plane: modelLifecycle per base model id ({"status": "LEGACY", "endOfLifeTime":
    # "2026-06-30", ...}, ISO dates), beating the catalogue's; and an identity that may
    # not call the control plane at all (AccessDeniedException).
    lifecycle: dict[str, dict[str, str]] = field(default_factory=dict)
    control_denied: bool = False
    expired_keys: list[str] = field(default_factory=list)  # access key ids the service refuses
    overlong: int = 0  # the first N copy answers break the length limits
    malformed: int = 0  # the first N copy answers are not the asked-for structure
    # A model that ignores repair feedback: every copy answer's headline (in a search ad,
    # the last ``spoil_items`` headlines; 0: all) runs far over its limit with these words.
    spoil_words: list[str] = field(default_factory=list)
    spoil_items: int = 0
    corrupt_images: int = 0  # the first N images are not decodable image data
    opaque_cutouts: int = 0  # the first N remove-background answers keep the background
    corrupt_cutouts: int = 0  # the first N remove-background answers are not image data
    optimized_capacity: int = -1  # optimized answers before serving standard; -1: no limit
    serve_tier: str = ""  # answer in this service tier whatever was asked; "": as asked
    cache_ttl_seconds: float = 300.0  # a cached prefix lives this long after its last use
    # Tokens per minute per base model id, reserved (input + maxTokens) at request start.
    quotas: dict[str, int] = field(default_factory=dict)
    burst_seconds: float = 60.0  # a bucket holds this many seconds of its quota
    # Service Quotas: applied values by quota name (``quotas.name_for``), over the
    # defaults; denied: ListServiceQuotas answers AccessDeniedException.
    service_quotas: dict[str, float] = field(default_factory=dict)
    service_quotas_denied: bool = False
    # A JSONL file that gets one line per runtime request answered (and per batch job
    # create or stop call): op, model, HTTP status and the hash of the body, so a test or
    # benchmark can count what another process (the fake run as a subprocess) was asked,
    # per request, even after a kill.
    request_log: str = ""
    # A gate, so a test can signal a run while requests are surely in flight: the first
    # ``hold_after`` runtime requests are answered, later ones wait until the file
    # ``release`` exists (or the fake stops). A file, so a test can open the gate of
    # the fake run as another process too. -1: no gate.
    hold_after: int = -1
    release: str = ""
    # Batch inference jobs (batchjobs.py). The clock: seconds a job spends Submitted,
    # Validating, Scheduled and Stopping, and records answered per second InProgress.
    batch_submitted_seconds: float = 0.005
    batch_validating_seconds: float = 0.005
    batch_scheduled_seconds: float = 0.005
    batch_stopping_seconds: float = 0.005
    batch_records_per_second: float = 50_000.0
    batch_min_records: int = 100  # the account's minimum records per job (all models)
    batch_max_records: int = 50_000  # and maximum
    batch_refused: list[str] = field(default_factory=list)  # base ids not offered in batch
    batch_s3_endpoint: str = ""  # the S3 jobs read and write; "": AWS_ENDPOINT_URL_S3
    # Members a batch record may not carry (AWS's pages disagree on outputConfig; on-demand
    # only: serviceTier, performanceConfig, guardrailConfig, cachePoint anywhere in
    # system or messages; toolConfig is always refused): such a record is a 400 error
    # record, in the service's InvokeModel validation wording.
    batch_refused_fields: list[str] = field(default_factory=list)
    # Output files as a broken or hostile service might write them (tests/hostile): the
    # first records' modelOutput replaced by these values, in input order; and, before a
    # job's own lines, one line of this many bytes and this many lines of junk.
    batch_model_outputs: list[Any] = field(default_factory=list)
    batch_long_line_bytes: int = 0
    batch_junk_lines: int = 0
    # Faults: the first N records (input order) answer an error with this errorCode; the
    # last N are not processed in time (PartiallyCompleted); Failed with this message
    # once InProgress; never started (Scheduled -> Expired); iam:PassRole denied to the
    # caller, a role Bedrock cannot assume (both refused at create); a role that cannot
    # read or write the bucket (Failed while Validating).
    batch_error_records: int = 0
    batch_error_code: int = 500
    batch_missing_records: int = 0
    batch_fail: str = ""
    batch_expire: bool = False
    batch_passrole_denied: bool = False
    batch_role_unassumable: bool = False
    batch_s3_denied: bool = False
    # A gate: when set, a job stays InProgress (no record answered) until this file
    # exists; a file, so a test can open the gate of the fake run as a process too.
    batch_release: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Behaviour:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fake behaviour keys: {sorted(unknown)}")
        values = dict(data)
        values["faults"] = [Fault(**f) for f in data.get("faults", [])]
        return cls(**values)


class TokenBucket:
    """Per-model TPM, like the service: reserve at the start, settle on the real usage."""

    def __init__(self, tpm: int, burst_seconds: float) -> None:
        self.rate = tpm / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self, amount: int) -> bool:
        self._refill()
        if amount > self.tokens:
            return False
        self.tokens -= amount
        return True

    def give_back(self, amount: int) -> None:
        self._refill()
        self.tokens = min(self.capacity, self.tokens + amount)


@dataclass
class Recorded:
    """One request as received: enough to assert on, never a secret."""

    method: str
    path: str
    op: str
    model: str
    headers: dict[str, str]
    body: Any
    region: str
    status: int = 0


class State:
    """Everything that changes while the server runs, behind one lock."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.lock = threading.Lock()
        self.behaviour = behaviour or Behaviour()
        self.requests: list[Recorded] = []
        self.errors: list[str] = []  # exceptions inside the fake: a test must fail on them
        self.only_key = ""  # when set, requests signed with another key are turned away
        self.held = 0  # runtime requests the gate has held (``Behaviour.hold_after``)
        self.jobs: dict[str, Any] = {}  # batch inference jobs by id (``batchjobs.Job``)
        self.stopping = threading.Event()
        self._fault_counts: dict[int, int] = {}
        self._counters: dict[str, int] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._cache: dict[str, float] = {}  # cached prefix hash -> when it expires

    def prompt_cache(self, prefixes: list[str]) -> int:
        """The index of the longest of ``prefixes`` (shortest first) in the prompt cache,
        -1 for none; then all are cached, each for the time to live from now. One step
        under the lock, so of concurrent first requests exactly one writes."""
        with self.lock:
            now = time.monotonic()
            hits = [i for i, p in enumerate(prefixes) if self._cache.get(p, 0.0) > now]
            for prefix in prefixes:
                self._cache[prefix] = now + self.behaviour.cache_ttl_seconds
            return max(hits, default=-1)

    def reset(self, behaviour: Behaviour | None = None) -> None:
        with self.lock:
            self.behaviour = behaviour or Behaviour()
            self.requests.clear()
            self.errors.clear()
            self._fault_counts.clear()
            self._counters.clear()
            self.held = 0
            self.jobs.clear()
            self._buckets.clear()
            self._cache.clear()

    def record(self, entry: Recorded) -> None:
        with self.lock:
            self.requests.append(entry)

    def log_answered(self, entry: Recorded) -> None:
        """Append ``entry`` to ``behaviour.request_log`` (runtime calls, and batch jobs
        created or stopped), if set."""
        if not self.behaviour.request_log or entry.op not in LOGGED:
            return
        line = json.dumps(
            {
                "op": entry.op,
                "model": entry.model,
                "status": entry.status,
                "body": body_hash(entry.body),
            }
        )
        with self.lock, open(self.behaviour.request_log, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def gate(self) -> None:
        """Hold this runtime request while the gate is shut (``hold_after``, ``release``)."""
        b = self.behaviour
        if b.hold_after < 0 or self.first("gate", b.hold_after):
            return
        with self.lock:
            self.held += 1
        # Polled: the file may be made by another process. Only a hang is bounded here.
        while not (b.release and Path(b.release).exists()) and not self.stopping.wait(0.01):
            pass

    def next_fault(self, op: str, model: str) -> Fault | None:
        with self.lock:
            for i, fault in enumerate(self.behaviour.faults):
                if fault.op and fault.op != op:
                    continue
                if fault.model and fault.model not in model:
                    continue
                used = self._fault_counts.get(i, 0)
                if used < fault.count:
                    self._fault_counts[i] = used + 1
                    return fault
        return None

    def first(self, name: str, limit: int) -> bool:
        """True for the first ``limit`` calls with this name."""
        with self.lock:
            n = self._counters.get(name, 0)
            self._counters[name] = n + 1
            return n < limit

    def reserve(self, model: str, tokens: int) -> bool:
        with self.lock:
            tpm = self.behaviour.quotas.get(model)
            if not tpm:
                return True
            bucket = self._buckets.get(model)
            if bucket is None:
                bucket = self._buckets[model] = TokenBucket(tpm, self.behaviour.burst_seconds)
            return bucket.take(tokens)

    def settle(self, model: str, unused: int) -> None:
        with self.lock:
            bucket = self._buckets.get(model)
            if bucket is not None and unused > 0:
                bucket.give_back(unused)


def body_hash(body: Any) -> str:
    """The hash of a JSON body however it was serialised (key order, spacing)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
