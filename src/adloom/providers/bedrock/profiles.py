"""Which inference profile a model is called through, from the region and data rules.

A model served only through inference profiles (``on_demand: false``) named by its
base id is called through the profile that fits the client's region: ``us.`` from
us-*, ``eu.`` from eu-*, ``jp.`` from Tokyo/Osaka (processing stays in Japan) and
``au.`` from Sydney/Melbourne where the model has one, else ``apac.``; ``global.``
(any commercial region) only when no geography fits, with a warning. The
``profile`` setting (``--set profile=jp``) forces one for every model named by its
base id that has profiles; a model without it is refused before the run. Ids
already naming a profile (``eu.…``) or an ARN are sent as written.
"""

from __future__ import annotations

from dataclasses import dataclass

from adloom.errors import InputError, ModelAccessError
from adloom.registry import PROFILE_PREFIXES, ModelInfo, profile_of

# Region prefix -> profiles that keep processing closest, best first. The first
# matching prefix wins, so the specific regions come before their area.
_BY_REGION: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("us-gov-", ("us-gov",)),
    ("us-", ("us",)),
    ("ca-", ("ca", "us")),
    ("eu-", ("eu",)),
    ("ap-northeast-1", ("jp", "apac")),
    ("ap-northeast-3", ("jp", "apac")),
    ("ap-southeast-2", ("au", "apac")),
    ("ap-southeast-4", ("au", "apac")),
    ("ap-", ("apac",)),
)


def preferred(region: str) -> tuple[str, ...]:
    """The profiles for a client in ``region``, closest first; ``global`` last."""
    for prefix, profiles in _BY_REGION:
        if region.startswith(prefix):
            return (*profiles, "global")
    return ("global",)


@dataclass(frozen=True)
class Choice:
    model_id: str  # the id to send
    note: str = ""  # what the user is told (a picked profile), "" when nothing was picked


def choose(
    model_id: str, info: ModelInfo, *, region: str | None, forced: str = "", where: str = ""
) -> Choice:
    """The id to send for ``model_id`` (as configured) and what to tell the user."""
    if profile_of(model_id) is not None or model_id.startswith("arn:"):
        return Choice(model_id)
    if forced:
        return _forced(model_id, info, forced, where)
    if info.on_demand:
        return Choice(model_id)
    if not region and info.profiles:  # `plan` without AWS set-up: every profile costs the same
        picked = f"{info.profiles[0]}.{model_id}"
        return Choice(
            picked,
            f'model "{model_id}" is served through inference profiles only; no AWS region '
            f"is configured, so {picked} stands in (a run picks the profile for its region).",
        )
    for prefix in preferred(region or ""):
        if prefix in info.profiles:
            picked = f"{prefix}.{model_id}"
            note = f'model "{model_id}" is served through inference profiles only: using {picked}'
            if prefix == "global":
                note += (
                    " (requests may be processed in any commercial AWS region; "
                    "--set profile=… chooses another)"
                )
            else:
                note += f" for region {region}"
            return Choice(picked, note + ".")
    ids = info.profile_ids()
    raise ModelAccessError(
        f'model "{model_id}" cannot be called by its base id on demand; it is served '
        "through inference profiles only"
        + (f", and none of them fits region {region}." if region and ids else "."),
        hint=f"Use an inference profile id, e.g. {ids[0]}"
        + (f" (or {', '.join(ids[1:])})" if len(ids) > 1 else "")
        + ", or --set profile=… to choose one."
        if ids
        else "Use an inference profile id or ARN for it.",
    )


def _forced(model_id: str, info: ModelInfo, forced: str, where: str) -> Choice:
    place = f"{where}: " if where else ""
    if forced not in PROFILE_PREFIXES:
        raise InputError(
            f'{place}profile "{forced}" is not an inference profile geography.',
            hint=f"Use one of: {', '.join(PROFILE_PREFIXES)}.",
        )
    if forced in info.profiles:
        return Choice(f"{forced}.{model_id}")
    if not info.profiles and info.on_demand:
        return Choice(model_id)  # no profiles at all: called in the client's own region
    raise InputError(
        f'{place}profile "{forced}": model "{model_id}" has no {forced}. inference profile.',
        hint=f"Its profiles: {', '.join(info.profiles)}; pick one of them or another model."
        if info.profiles
        else "It has none; drop the profile setting or pick another model.",
    )
