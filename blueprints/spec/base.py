"""Shared pieces of the blueprint spec: the strict base model, names, problem reporting."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="lower-case letters, digits, '-'")]


PATH_PARTS = "\x1f"
"""Separates the parts of a path given as a tuple (parts that hold dots: image references)."""

ProblemPath = str | tuple[str | int, ...]


def encode_path(path: ProblemPath) -> str:
    """A problem's path as the loader reads it: dotted text, or tuple parts kept whole."""
    if isinstance(path, str):
        return path
    return "".join(PATH_PARTS + (f"#{p}" if isinstance(p, int) else p) for p in path)


def fail(problems: Sequence[tuple[ProblemPath, str]]) -> None:
    """Raise the problems a cross-field validator found, each at its own path.

    The path is relative to the model being validated ('hosts.3.rack', or a tuple of parts
    when a part holds dots); the loader joins it to the model's own location, so each problem
    is reported at its own line of the blueprint.
    """
    if problems:
        raise ValueError("\n".join(f"@{encode_path(path)}|{message}"
                                    for path, message in problems))


def site_only(path: str, given: bool, env_name: str, kind: str, *, site: str,
              cloud: str) -> list[tuple[ProblemPath, str]]:
    """A setting only a site takes: required when `env_name` is a site, refused in a cloud.

    `site` says why a site needs it and what to give ("KServe reads the models zone as a user
    of the site's tenant; name the stack secret ..."); `cloud` what the cloud uses instead
    ("KServe reads the weights through the workload's identity there").
    """
    if kind == "onprem" and not given:
        return [(path, f"required: {env_name!r} is a site, so {site}")]
    if kind != "onprem" and given:
        return [(path, f"{env_name!r} is {kind}: {cloud}; remove "
                 f"{path.rsplit('.', 1)[-1]} (a site's setting)")]
    return []


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
