"""Numbers and other option values, checked once the same way everywhere.

``float()`` takes ``nan``, ``inf`` and ``1e309`` (inf), and ``int()`` takes 4,300
digits; none of them is a budget, a timeout or a quota. Every numeric option and
setting goes through ``number`` (text) or ``in_range`` (a value typer already
parsed): finite, inside its documented range, at most ``MAX_DIGITS`` characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from adloom.errors import InputError

# Requests in flight per model unless --concurrency says; here, not in the engine, so the
# CLI can show it in --help without loading the engine.
DEFAULT_CONCURRENCY = 16

MAX_DIGITS = 32  # characters of a number as written; more is never a real setting
# AWS region names: us-east-1, eu-central-2, us-gov-west-1, us-iso-east-1, us-isob-east-1.
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}")


@dataclass(frozen=True)
class Range:
    """What a number may be: ``low`` (excluded if ``above``) to ``high``, whole or not."""

    low: float
    high: float
    above: bool = False  # the low end itself is not allowed (a timeout of 0)
    whole: bool = False

    def describe(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        if self.above:
            return f"{kind} above {_shown(self.low)} and at most {_shown(self.high)}"
        return f"{kind} from {_shown(self.low)} to {_shown(self.high)}"


BUDGET_USD = Range(0, 1_000_000)  # --max-cost, max_cost_usd
TIMEOUT_SECONDS = Range(0, 3600, above=True)  # bedrock.*_timeout
QUOTA_PER_MINUTE = Range(0, 10**12, above=True, whole=True)  # quota.<model>.tpm / ipm
TEMPERATURE = Range(0, 1)
KEEP = Range(1, 10_000, whole=True)  # --keep, keep: the best ads kept per slot
POLL_SECONDS = Range(0, 3600, above=True)  # batch.poll_seconds: between batch job checks
BATCH_TIMEOUT_HOURS = Range(24, 168, whole=True)  # batch.timeout_hours (Bedrock's limits)


def _shown(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def problem(value: float, allowed: Range) -> str | None:
    """Why ``value`` is not allowed (None if it is)."""
    if not math.isfinite(value):
        return f"not a finite number — give {allowed.describe()}"
    if allowed.whole and not float(value).is_integer():
        return f"not a whole number — give {allowed.describe()}"
    too_low = value <= allowed.low if allowed.above else value < allowed.low
    if too_low or value > allowed.high:
        return f"out of range — give {allowed.describe()}"
    return None


def parse(text: str, allowed: Range) -> float | str:
    """``text`` as a number within ``allowed``, or the reason it is not one."""
    text = text.strip()
    if len(text) > MAX_DIGITS:
        return f"too long for a number — give {allowed.describe()}"
    try:
        value = float(text)  # "3", "3.0" and "3e0" all mean 3
    except ValueError:
        return f"not a number — give {allowed.describe()}"
    return problem(value, allowed) or value


def number(text: str, allowed: Range, where: str) -> float:
    """``text`` as a number within ``allowed``; ``InputError`` naming ``where`` if not."""
    value = parse(text, allowed)
    if isinstance(value, str):
        raise InputError(f'{where} "{text.strip()[:MAX_DIGITS]}": {value}')
    return value


def whole(text: str, allowed: Range, where: str) -> int:
    return int(number(text, Range(allowed.low, allowed.high, allowed.above, whole=True), where))


def in_range(value: float | None, allowed: Range, where: str) -> None:
    """Check an option typer already turned into a number (it lets nan and inf through)."""
    if value is not None:
        reason = problem(value, allowed)
        if reason:
            raise InputError(f"{where} {value}: {reason}")


def region(value: str | None, where: str = "--region") -> None:
    """A region name of AWS's form; a typo would otherwise become a DNS lookup of a
    made-up endpoint, or a path-like string in a URL."""
    if value is not None and not _REGION.fullmatch(value):
        raise InputError(
            f'{where} "{value[:64]}": not an AWS region name — give one like us-east-1 or eu-west-3'
        )


def folder(path: Path | None, where: str) -> None:
    if path is not None and not path.is_dir():
        state = "is not a folder" if path.exists() else "does not exist"
        raise InputError(f'{where} "{path}": {state} — give an existing folder')


def overrides(pairs: Sequence[str] | None) -> dict[str, str]:
    """``--set key=value`` options as settings."""
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f'--set "{pair}": expected key=value, e.g. --set variants=2')
        out[key.strip()] = value.strip()
    return out
