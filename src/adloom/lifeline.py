"""No process outlives adloom, and SIGTERM stops a run the way Ctrl-C does.

Compose workers are forked children. Killed with ``kill -9``, the main process
cannot stop them, so each worker arranges its own end: on Linux the kernel sends it
SIGKILL when its parent dies (``PR_SET_PDEATHSIG``); where ``prctl`` does not exist
(macOS, the BSDs) a daemon thread in the worker polls ``getppid()``, which changes
as soon as an orphan is re-parented, and ends the worker then. Polling is chosen
over a pipe whose EOF marks the parent's death because it needs nothing passed
from the parent and cannot be defeated by a descriptor some other child inherited.

Workers also let go of the terminal's stdin/stdout/stderr (they report through the
pool's pipes), so ``adloom run … | tee log`` ends when adloom does.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

from adloom.errors import ExitCode

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCH_SECONDS = 0.5  # how soon an orphaned worker notices without prctl

_received: list[int] = []  # the stop signals that reached the main process


def _die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; False if it cannot."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # no libc to load, or no prctl in it (not Linux)
        return False
    return int(prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0


def watch_parent(parent: int) -> None:
    """End this process soon after ``parent`` stops being its parent (it died)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCH_SECONDS)
        os._exit(1)  # nothing to clean up: the parent that wanted the work is gone

    threading.Thread(target=watch, name="adloom-parent-watch", daemon=True).start()


def _detach_stdio() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def worker_init(parent: int) -> None:
    """A compose worker's initializer; ``parent`` is the adloom process's pid."""
    # Ctrl-C reaches the whole process group: the main process stops the run, and
    # workers must not die mid-file with a traceback of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM ends a worker outright: it must not inherit the main process's clean-stop
    # handler, under which the pool's own terminate() would leave it running.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _detach_stdio()
    if not _die_with_parent():
        watch_parent(parent)
    # The parent may have died between fork and prctl: then no signal will come.
    if os.getppid() != parent:
        os._exit(1)


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    _received.append(signum)
    # A second SIGTERM ends the process at once (the journal is transactional), as a
    # service manager expects when the clean stop takes too long.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt  # the same clean stop as Ctrl-C: journal kept, resume hint


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt, as ever


@contextlib.contextmanager
def sigterm_stops() -> Iterator[None]:
    """While inside, SIGTERM stops the command the way Ctrl-C does (main thread only;
    elsewhere, as when called from a thread, signals cannot be handled and nothing changes).

    Ctrl-C is also noted as it arrives (``stop_signalled``), so a KeyboardInterrupt
    that some other code raised (a provider plugin's) is not taken for the user's."""
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    # Only over Python's own handler: an ignored SIGINT (nohup, a worker) stays ignored.
    noted = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if noted:
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if noted:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def stop_signalled() -> bool:
    """Whether a Ctrl-C or SIGTERM reached adloom during this command."""
    return bool(_received)


def interrupted_exit(default: ExitCode) -> ExitCode:
    """The exit code of a stopped command: 143 if SIGTERM stopped it, else ``default``."""
    return ExitCode.TERMINATED if signal.SIGTERM in _received else default
