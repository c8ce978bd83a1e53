"""Terminal I/O and the environment in one injectable object, so the real CLI runs
in-process in tests.

Results go to stdout (one JSON object with ``--json``); messages, warnings and
progress go to stderr, progress only when stderr is a terminal. ``Env`` is the only
reader of environment variables in adloom (``tests/test_environment.py``): what the
rest needs from them (the user's models file, the cache folder) it is handed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

# rich is imported where it draws: `adloom --version` and a valid `adloom validate`
# print without it (see benchmarks/README.md, "Start-up").
if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

from adloom.errors import MachineError


@dataclass
class Env:
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    debug: bool = False

    @property
    def models_file(self) -> Path | None:
        """The user's models file: ``$ADLOOM_MODELS``, else ``adloom/models.json`` in
        ``$XDG_CONFIG_HOME`` (``~/.config``); None without a home to find it in."""
        given = self.environ.get("ADLOOM_MODELS")
        if given:
            return Path(given)
        base = self.environ.get("XDG_CONFIG_HOME") or self._home(".config")
        return Path(base) / "adloom" / "models.json" if base else None

    @property
    def cache_dir(self) -> Path | None:
        """The user cache's folder: ``adloom`` in ``$XDG_CACHE_HOME`` (``~/.cache``);
        None without a home: nothing is cached then. A relative XDG_CACHE_HOME is
        ignored, as the XDG spec says (it would put the cache wherever adloom runs)."""
        given = self.environ.get("XDG_CACHE_HOME", "")
        base = given if os.path.isabs(given) else self._home(".cache")
        return Path(base) / "adloom" if base else None

    def _home(self, folder: str) -> str:
        home = self.environ.get("HOME", "")
        return str(Path(home) / folder) if home else ""

    @property
    def out_console(self) -> Console:
        """Rich output (tables, styled lines) on stdout."""
        return _console(cast(IO[str], _Results(self.stdout)))  # a stream, as rich takes

    @property
    def err_console(self) -> Console:
        return _console(self.stderr)

    @property
    def progress_enabled(self) -> bool:
        return self.stderr.isatty() and self.environ.get("TERM") != "dumb"

    def out(self, text: str = "") -> None:
        _Results(self.stdout).write(text + "\n")

    def json(self, obj: Any) -> None:
        _Results(self.stdout).write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")

    def flush(self) -> None:
        """Push out what is still buffered for stdout: a command's result is delivered
        only once this succeeds."""
        _Results(self.stdout).flush()

    def err(self, text: str, *, style: str | None = None) -> None:
        if not self.stderr.isatty():  # no colours to draw: what rich would print, as is
            print(text, file=self.stderr)
            return
        self.err_console.print(text, style=style, markup=False)

    def warn(self, text: str) -> None:
        self.err(f"warning: {text}", style="yellow")

    @contextmanager
    def progress(self) -> Iterator[Tracker]:
        if not self.progress_enabled:
            yield Tracker(None, self.err)
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

        bar = _progress_class()(
            TextColumn("{task.description:<8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
            console=Console(file=self.stderr),
            refresh_per_second=4,
            transient=False,
        )
        with bar:
            yield Tracker(bar, self.err)


class _Results:
    """stdout as results are written to it: what the machine refuses there (``--json >
    /dev/full``, a full disk) is a ``MachineError`` naming it (exit 74), not a bug. A
    closed pipe (``| head``) is left to the CLI's usual quiet end."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with self._machine():
            return self._stream.write(text)

    def flush(self) -> None:
        with self._machine():
            self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    @contextmanager
    def _machine(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            raise
        except OSError as err:
            raise MachineError(
                f"standard output: {err.strerror or err}",
                hint="the result could not be written where stdout goes: free space there,"
                " or send it elsewhere, and run again (what was paid for is kept)",
            ) from err


def _console(file: IO[str]) -> Console:
    from rich.console import Console

    # Piped or captured output keeps whole model ids rather than wrapping at 80 columns.
    width = None if file.isatty() else 200
    return Console(file=file, highlight=False, soft_wrap=True, width=width)


@cache
def _progress_class() -> type[Progress]:
    """rich's Progress with a status line under the bars, read at every refresh."""
    from rich.console import RenderableType
    from rich.progress import Progress
    from rich.text import Text

    class StatusProgress(Progress):
        status: Callable[[], str] = staticmethod(lambda: "")

        def get_renderables(self) -> Iterable[RenderableType]:
            yield self.make_tasks_table(self.tasks)
            line = self.status()
            if line:
                yield Text(line, style="dim", overflow="ellipsis", no_wrap=True)

    return StatusProgress


class Tracker:
    """Named progress counters and a status line; a no-op when progress is not shown."""

    def __init__(self, bar: Progress | None, err: Callable[[str], None]) -> None:
        self._bar = bar
        self._err = err
        self._tasks: dict[str, Any] = {}

    def add(self, name: str, total: int) -> None:
        if self._bar is not None:
            self._tasks[name] = self._bar.add_task(name, total=total, note="")

    def advance(self, name: str, note: str = "", *, by: int = 1) -> None:
        if self._bar is not None and name in self._tasks:
            self._bar.update(self._tasks[name], advance=by, note=note)

    def watch(self, status: Callable[[], str]) -> None:
        """Show ``status()`` under the bars (requests in flight, pace, cost)."""
        if self._bar is not None:
            self._bar.status = status  # type: ignore[attr-defined]  # a _progress_class()

    def note(self, message: str) -> None:
        """A message for the user, printed above the bars when they are shown."""
        if self._bar is not None:
            self._bar.console.print(message, markup=False, highlight=False)
        else:
            self._err(message)
