"""Every error adloom raises on purpose, and the exit code each one maps to.

The hierarchy::

    AdloomError                      exit code carried by the class
    ├── InputError                   2  the user's input is wrong (file, sheet, cell, option)
    │   └── BriefError               2  one or more Problems found in a brief
    ├── ProviderError                3  provider/auth/config problem: nothing more can be done
    │   ├── CredentialsError         3  no AWS credentials for a paid provider
    │   └── ModelAccessError         3  model unknown, retired, not enabled, or wrong id kind
    ├── MachineError                 74 the machine refused a file: disk full, read-only, too long
    ├── Busy                         75 another adloom run holds the out folder
    └── Interrupted                  130 Ctrl-C (143 SIGTERM); finished work is kept

Errors that concern a single request and must not stop a run live in
``adloom.providers.base`` (``TransientError`` is retried by the engine;
``RequestFailed`` fails one variant). They never reach the CLI.

The CLI catches ``AdloomError`` only: anything else is a bug and shows a traceback
with ``--debug``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Documented exit codes (README, docs/cli.md)."""

    OK = 0
    SOME_FAILED = 1
    BAD_INPUT = 2
    PROVIDER = 3
    INTERNAL = 70  # a bug in adloom (EX_SOFTWARE); --debug shows the traceback
    MACHINE = 74  # disk full, read-only, permission, name too long (EX_IOERR)
    BUSY = 75  # another run holds the out folder; try again later (EX_TEMPFAIL)
    INTERRUPTED = 130
    TERMINATED = 143  # stopped by SIGTERM (128 + 15, as shells report it); clean as Ctrl-C


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, and where: ``Briefs!C7``, a file, a model id."""

    where: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class AdloomError(Exception):
    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputError(AdloomError):
    exit_code = ExitCode.BAD_INPUT


class BriefError(InputError):
    """All the problems of a brief at once, so the user can fix them in one pass."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        errors = [p for p in self.problems if not p.warning]
        super().__init__(
            f"{len(errors)} problem(s) in the brief:\n" + "\n".join(f"  {p}" for p in errors)
        )


class ProviderError(AdloomError):
    exit_code = ExitCode.PROVIDER


class CredentialsError(ProviderError):
    pass


class ModelAccessError(ProviderError):
    pass


class MachineError(AdloomError):
    """The machine, not adloom or the brief: a full disk, a read-only or forbidden
    folder, a path the file system cannot hold. Made by ``safepath.machine_error``."""

    exit_code = ExitCode.MACHINE


class Busy(AdloomError):
    """Another adloom run is writing the same out folder."""

    exit_code = ExitCode.BUSY


class Interrupted(AdloomError):
    exit_code = ExitCode.INTERRUPTED
