"""Validate a request body against botocore's service model, as the service does.

botocore checks parameters on the client side (types, required members, minimums),
but a body built by other means, or by a client with ``parameter_validation=False``,
reaches the service unchecked: the fake applies the service model's constraints
itself (unknown members, enums, ranges, list lengths, tagged unions) and answers
with the real ``ValidationException`` wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape


@cache
def operation(service: str, name: str) -> OperationModel:
    return botocore.session.get_session().get_service_model(service).operation_model(name)


def _fmt(value: Any) -> str:
    return str(value) if not isinstance(value, str) else value


def validate_body(service: str, op: str, body: Any) -> list[str]:
    """Every violation of the operation's input shape by the JSON ``body``."""
    shape = operation(service, op).input_shape
    assert shape is not None
    problems: list[str] = []
    # Members bound to the URI, headers or query string are not part of the body.
    members = {
        name: member
        for name, member in shape.members.items()
        if not member.serialization.get("location")
    }
    if not isinstance(body, Mapping):
        return ["the request body is not a JSON object"]
    for key in body:
        if key not in members:
            problems.append(f"Unknown parameter '{key}' in the request body")
    for key, value in body.items():
        if key in members:
            _check(members[key], value, key, problems)
    return problems


def validate_output(service: str, op: str, body: Any) -> list[str]:
    """Every way the JSON ``body`` breaks the operation's output shape.

    Enum values are not checked: the service answers values newer than a client's
    model (``INFERENCE_PROFILE`` in ``inferenceTypesSupported``), as botocore allows."""
    shape = operation(service, op).output_shape
    assert shape is not None
    problems: list[str] = []
    _check_structure(shape, body, op, problems)
    return [p for p in problems if "enum value set" not in p]


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if isinstance(shape, StructureShape):
        if not shape.metadata.get("document"):  # a Document member holds any JSON
            _check_structure(shape, value, path, problems)
    elif isinstance(shape, ListShape):
        _check_list(shape, value, path, problems)
    elif isinstance(shape, MapShape):
        _check_map(shape, value, path, problems)
    else:
        _check_scalar(shape, value, path, problems)


def _must_be(path: str, what: str) -> str:
    return f"Value at '{path}' failed to satisfy constraint: Member must be {what}"


def _check_list(shape: ListShape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, list):
        problems.append(_must_be(path, "a list"))
        return
    _check_length(len(value), shape.metadata, path, problems)
    for i, item in enumerate(value):
        _check(shape.member, item, f"{path}.{i + 1}.member", problems)


def _check_map(shape: MapShape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, Mapping):
        problems.append(_must_be(path, "a map"))
        return
    _check_length(len(value), shape.metadata, path, problems)
    for k, v in value.items():
        _check(shape.key, k, f"{path}.key", problems)
        _check(shape.value, v, f"{path}.{k}", problems)


_SCALARS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "string": (str, "a string"),
    "integer": (int, "an integer"),
    "long": (int, "an integer"),
    "float": ((int, float), "a number"),
    "double": ((int, float), "a number"),
    "boolean": (bool, "a boolean"),
}


def _check_scalar(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    if kind not in _SCALARS:
        return  # blobs and timestamps: not in the bodies the fake checks
    expected, what = _SCALARS[kind]
    if not isinstance(value, expected) or (isinstance(value, bool) and kind != "boolean"):
        problems.append(_must_be(path, what))
    elif kind == "string":
        if shape.enum and value not in shape.enum:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy "
                f"enum value set: [{', '.join(shape.enum)}]"
            )
        _check_length(len(value), shape.metadata, path, problems)
    elif kind != "boolean":
        _check_range(value, shape.metadata, path, problems)


def _check_structure(shape: StructureShape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, Mapping):
        problems.append(_must_be(path, "an object"))
        return
    for key in value:
        if key not in shape.members:
            problems.append(f"Unknown parameter '{key}' at '{path}'")
    for name in shape.required_members:
        if name not in value:
            problems.append(
                f"Value null at '{path}.{name}' failed to satisfy constraint: "
                "Member must not be null"
            )
    if shape.metadata.get("union") and len(value) != 1:
        problems.append(
            f"Value at '{path}' failed to satisfy constraint: exactly one member must be set "
            f"(union), got {len(value)}"
        )
    for key, item in value.items():
        if key in shape.members:
            _check(shape.members[key], item, f"{path}.{key}", problems)


def _check_length(length: int, meta: Mapping[str, Any], path: str, problems: list[str]) -> None:
    if "min" in meta and length < meta["min"]:
        problems.append(
            f"Value at '{path}' failed to satisfy constraint: Member must have length greater "
            f"than or equal to {_fmt(meta['min'])}"
        )
    if "max" in meta and length > meta["max"]:
        problems.append(
            f"Value at '{path}' failed to satisfy constraint: Member must have length less "
            f"than or equal to {_fmt(meta['max'])}"
        )


def _check_range(value: float, meta: Mapping[str, Any], path: str, problems: list[str]) -> None:
    if "min" in meta and value < meta["min"]:
        problems.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value "
            f"greater than or equal to {_fmt(meta['min'])}"
        )
    if "max" in meta and value > meta["max"]:
        problems.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value "
            f"less than or equal to {_fmt(meta['max'])}"
        )


def validation_message(problems: list[str]) -> str:
    """The service's wording: "N validation error(s) detected: a; b"."""
    n = len(problems)
    return f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(problems)
