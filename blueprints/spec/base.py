"""Shared pieces of the blueprint spec: the strict base model, names, problem reporting."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="lower-case letters, digits, '-'")]


def fail(problems: list[tuple[str, str]]) -> None:
    """Raise the problems a cross-field validator found, each at its own path.

    The path is relative to the model being validated; the loader joins it to the model's own
    location, so each problem is reported at its own line of the blueprint.
    """
    if problems:
        raise ValueError("\n".join(f"@{path}|{message}" for path, message in problems))


class Strict(BaseModel):
    """Base for every spec model: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def check_cidr(value: str) -> str:
    """`value` if it is an IPv4 CIDR block, else a ValueError that shows the form."""
    try:
        ipaddress.IPv4Network(value)
    except ValueError as e:
        raise ValueError(f"{value!r} is not an IPv4 CIDR block such as 10.0.0.0/16 ({e})") from e
    return value
