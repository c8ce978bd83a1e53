"""A fixed set of daemon threads that run one callable per task.

Not ``ThreadPoolExecutor``: its threads are joined at interpreter exit, so a request
hung on a dead connection would keep a stopped run from exiting. Daemon threads can
be abandoned; what they finish is already in the journal.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Workers(Generic[T, R]):
    def __init__(self, size: int, work: Callable[[T], R], name: str = "adloom") -> None:
        self._tasks: queue.SimpleQueue[T | None] = queue.SimpleQueue()
        self.results: queue.SimpleQueue[R] = queue.SimpleQueue()
        self._work = work
        self._threads = [
            threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True)
            for i in range(size)
        ]
        for t in self._threads:
            t.start()

    def submit(self, task: T) -> None:
        self._tasks.put(task)

    def close(self) -> None:
        """Let each thread end after its current task; does not wait."""
        for _ in self._threads:
            self._tasks.put(None)

    def _loop(self) -> None:
        while (task := self._tasks.get()) is not None:
            # ``work`` reports its own errors in its result: nothing may escape a
            # daemon thread (it would print a traceback over the progress display).
            self.results.put(self._work(task))
