"""A fake Amazon Bedrock over real HTTP, for tests and benchmarks.

    with FakeBedrock() as fake:            # 127.0.0.1, a free port
        fake.behaviour.faults.append(Fault("throttle", count=2))
        ...  # point boto3 at fake.url (AWS_ENDPOINT_URL_BEDROCK_RUNTIME, _BEDROCK, ...)
        fake.requests                      # every request received, secrets removed

It answers the runtime (``/model/{id}/converse``, ``/model/{id}/invoke``), the
control-plane calls adloom makes (batch inference jobs too, with their input and
output in S3 at ``AWS_ENDPOINT_URL_S3``: ``batchjobs``) and Service Quotas'
``ListServiceQuotas``, strictly: bodies the service or model would refuse get the
real error shape.
``python -m tests.fakebedrock --port N --config behaviour.json`` runs it as a
process (kill -9 tests, benchmarks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from .behaviour import Behaviour, Fault, Recorded, State
from .catalogue import MODELS, ModelSpec
from .server import Server

__all__ = ["MODELS", "Behaviour", "FakeBedrock", "Fault", "ModelSpec", "Recorded", "as_process"]

_ROOT = Path(__file__).resolve().parents[2]  # the repository: ``tests.fakebedrock`` from here


@contextmanager
def as_process(behaviour: Mapping[str, Any], folder: Path) -> Iterator[str]:
    """The fake as a process of its own (``python -m tests.fakebedrock``), behaving as
    ``behaviour`` (written to ``folder/fake.json``); yields its URL, stops it after."""
    config = folder / "fake.json"
    config.write_text(json.dumps(dict(behaviour)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakebedrock", "--port", "0", "--config", str(config)],
        cwd=_ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(_ROOT)},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        yield str(json.loads(proc.stdout.readline())["url"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class FakeBedrock:
    def __init__(self, behaviour: Behaviour | None = None, port: int = 0, key: str = "") -> None:
        """``key``: the only access key id answered; others (requests left over from an
        earlier test, to a port reused since) are refused and not recorded."""
        self.key = key
        self.state = State(behaviour)
        self.state.only_key = key
        self.server = Server(("127.0.0.1", port), self.state)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def behaviour(self) -> Behaviour:
        return self.state.behaviour

    @property
    def requests(self) -> list[Recorded]:
        with self.state.lock:
            return list(self.state.requests)

    def calls(self, op: str) -> list[Recorded]:
        """The requests of one operation (``converse``, ``invoke``, ...) that got an answer."""
        return [r for r in self.requests if r.op == op]

    def reset(self, behaviour: Behaviour | None = None) -> None:
        self.state.reset(behaviour)

    def start(self) -> FakeBedrock:
        self.state.stopping.clear()
        # A short poll interval: stop() waits for the serving loop to notice.
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="fakebedrock", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()  # wakes hanging and sleeping handlers
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeBedrock:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
