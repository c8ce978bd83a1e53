"""The HTTP side of the fake: routing, SigV4 presence, error shapes, recording.

Paths are those botocore sends (``bedrock-runtime`` and ``bedrock`` service models,
``requestUri``), with the model id percent-encoded (``us.anthropic...-v1%3A0``);
Service Quotas (JSON 1.1) is told apart by its ``X-Amz-Target`` header.
"""

from __future__ import annotations

import json
import re
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from . import batchjobs, control, quotas, runtime
from .behaviour import Recorded, State
from .runtime import ServiceError
from .shapes import validate_output

_SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/\s]+)/\d{8}/(?P<region>[a-z0-9-]+)/"
    r"(?:bedrock|servicequotas)/"
    r"aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$"
)
_SECRET_HEADERS = {"authorization", "x-amz-security-token"}
# Control-plane routes -> the bedrock operation (and IAM action) each one serves.
_CONTROL = {
    "list_foundation_models": "ListFoundationModels",
    "get_foundation_model": "GetFoundationModel",
    "availability": "GetFoundationModelAvailability",
    "list_inference_profiles": "ListInferenceProfiles",
}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a run opening 16+ connections at once on a
    # busy machine had some reset before accept, and retried them, so the request
    # counts tests assert on came out higher now and then. The service accepts them.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], state: State) -> None:
        super().__init__(address, Handler)
        self.state = state


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pool expects
    # Headers and body go out in two writes: with Nagle's algorithm on, the body waits
    # for the client's delayed ACK (~40 ms), which would add to every answer's latency.
    disable_nagle_algorithm = True
    server: Server
    routes: ClassVar[list[tuple[str, re.Pattern[str], str]]] = [
        ("POST", re.compile(r"^/model/(?P<model>[^/]+)/converse$"), "converse"),
        ("POST", re.compile(r"^/model/(?P<model>[^/]+)/invoke$"), "invoke"),
        ("GET", re.compile(r"^/foundation-models$"), "list_foundation_models"),
        ("GET", re.compile(r"^/foundation-models/(?P<model>[^/]+)$"), "get_foundation_model"),
        ("GET", re.compile(r"^/foundation-model-availability/(?P<model>[^/]+)$"), "availability"),
        ("GET", re.compile(r"^/inference-profiles$"), "list_inference_profiles"),
        # Batch jobs: "model" holds the job identifier.
        ("POST", re.compile(r"^/model-invocation-job$"), "create_model_invocation_job"),
        (
            "GET",
            re.compile(r"^/model-invocation-job/(?P<model>[^/]+)$"),
            "get_model_invocation_job",
        ),
        (
            "POST",
            re.compile(r"^/model-invocation-job/(?P<model>[^/]+)/stop$"),
            "stop_model_invocation_job",
        ),
        ("GET", re.compile(r"^/model-invocation-jobs$"), "list_model_invocation_jobs"),
    ]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the recorded requests instead."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        op, model = "unknown", ""
        for verb, pattern, name in self.routes:
            found = pattern.match(url.path)
            if verb == method and found:
                op, model = name, unquote(found.groupdict().get("model", ""))
                break
        target = headers.get("x-amz-target", "")
        if method == "POST" and url.path == "/" and target == f"{quotas.TARGET}ListServiceQuotas":
            op = "list_service_quotas"
        auth = _SIGV4.match(headers.get("authorization", ""))
        if auth and state.only_key and auth.group("key") != state.only_key:
            message = "The security token included in the request is invalid."
            self._send(403, {"message": message}, code="UnrecognizedClientException")
            return
        entry = Recorded(
            method=method,
            path=url.path,
            op=op,
            model=model,
            headers={k: v for k, v in headers.items() if k not in _SECRET_HEADERS},
            body=_json_or_none(raw),
            region=auth.group("region") if auth else "",
        )
        entry.headers["signed"] = "yes" if auth else "no"
        state.record(entry)
        try:
            if auth is None or "x-amz-date" not in headers:
                raise ServiceError(
                    403, "MissingAuthenticationTokenException", "Missing Authentication Token"
                )
            if auth.group("key") in state.behaviour.expired_keys:
                raise ServiceError(
                    403,
                    "ExpiredTokenException",
                    "The security token included in the request is expired",
                )
            query = dict(parse_qsl(url.query))
            body = self._dispatch(
                state, op, model, raw=raw, headers=headers, query=query, region=entry.region
            )
            self._send(200, body)
            entry.status = 200
        except ServiceError as exc:
            entry.status = exc.status
            self._send(exc.status, quotas.error_body(op, exc), code=exc.code)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read timeout): nothing to answer
        except Exception as exc:  # a bug in the fake: answer, and keep it for the test to fail
            state.errors.append(f"{op} {self.path}: {type(exc).__name__}: {exc}")
            entry.status = 500
            self._send(500, {"message": f"fake bug: {exc}"}, code="InternalServerException")
        state.log_answered(entry)

    def _dispatch(
        self, state: State, op: str, model: str, *, raw: bytes, headers: dict[str, str],
        query: dict[str, str], region: str,
    ) -> dict[str, Any]:  # fmt: skip
        if op in ("converse", "invoke"):
            state.gate()
        if op == "converse":
            body = _json_or_none(raw)
            if body is None:
                raise ServiceError(
                    400, "SerializationException", "The request body is not valid JSON."
                )
            return runtime.converse(state, model, body, region)
        if op == "invoke":
            return runtime.invoke(state, model, raw, headers, region)
        if op in _CONTROL:
            action = _CONTROL[op]
            control.denied(state, action)
            answer = self._control(state, op, model, query, region)
            problems = validate_output("bedrock", action, answer)
            if problems:  # a fake answer botocore's model would not describe: a fake bug
                raise AssertionError(f"{action} answer: {'; '.join(problems)}")
            return answer
        if op in batchjobs.OPS:
            return batchjobs.handle(
                state, op, model, body=_json_or_none(raw), query=query, region=region
            )
        if op == "list_service_quotas":
            answer = quotas.list_service_quotas(state, _json_or_none(raw), region)
            problems = validate_output("service-quotas", "ListServiceQuotas", answer)
            if problems:
                raise AssertionError(f"ListServiceQuotas answer: {'; '.join(problems)}")
            return answer
        raise ServiceError(
            404, "UnknownOperationException", f"The fake does not serve {self.command} {self.path}"
        )

    @staticmethod
    def _control(
        state: State, op: str, model: str, query: dict[str, str], region: str
    ) -> dict[str, Any]:
        if op == "list_foundation_models":
            return control.list_foundation_models(state, query, region)
        if op == "get_foundation_model":
            return control.get_foundation_model(state, model, region)
        if op == "availability":
            return control.availability(state, model)
        return control.list_inference_profiles(state, query, region)

    def _send(self, status: int, body: dict[str, Any], code: str = "") -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            if code:
                self.send_header(
                    "x-amzn-ErrorType",
                    f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
                )
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
