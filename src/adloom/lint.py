"""Copy checks: what a platform would reject, said in words a marketer can act on."""

from __future__ import annotations

from collections.abc import Mapping

from adloom.model import CopyLimits
from adloom.textlen import measure

COPY_FIELDS = ("headline", "body", "cta")


def check_copy(
    copy: Mapping[str, str], limits: CopyLimits, *, supplied: tuple[str, ...] = ()
) -> list[str]:
    """Violations of ``limits`` (lengths counted as the platform counts them).

    ``supplied`` names fields the marketer wrote: they are checked the same way,
    and the message says so, since adloom never rewrites them.
    """
    problems = []
    for name in COPY_FIELDS:
        value = copy.get(name, "")
        limit = getattr(limits, f"{name}_max")
        if not value.strip() and limit > 0 and name != "cta":
            problems.append(f"{name} is empty")
            continue
        used = measure(value, limits.width_rule)
        if used > limit:
            unit = "width units" if limits.width_rule == "double_width" else "characters"
            who = " (supplied copy, not changed)" if name in supplied else ""
            problems.append(f"{name} is {used} {unit}, over the limit of {limit}{who}")
    return problems
