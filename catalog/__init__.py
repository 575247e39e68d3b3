"""Hardware and cloud facts, each with its source: GPUs, servers, instance types, jurisdictions.

Look-ups raise `UnknownCatalogEntryError` (a ValueError) with a "did you mean" hint, so that the
spec can report an unknown name at its line in the blueprint.
"""

from __future__ import annotations

import difflib

from catalog.data import (
    GPUS,
    INSTANCE_TYPES,
    JURISDICTIONS,
    SERVERS,
    Gpu,
    InstanceType,
    Jurisdiction,
    Server,
)

__all__ = [
    "GPUS",
    "INSTANCE_TYPES",
    "JURISDICTIONS",
    "SERVERS",
    "Gpu",
    "InstanceType",
    "Jurisdiction",
    "Server",
    "UnknownCatalogEntryError",
    "gpu",
    "instance",
    "jurisdiction",
    "server",
    "server_it_load_kw",
]


class UnknownCatalogEntryError(ValueError):
    """A name the catalog does not know."""


def _lookup(table: dict, key: str, what: str):  # type: ignore[no-untyped-def]
    try:
        return table[key]
    except KeyError:
        close = difflib.get_close_matches(key, table, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownCatalogEntryError(
            f"{key!r} is not a {what} the catalog knows; {hint}"
            f"known: {', '.join(sorted(table))}"
        ) from None


def gpu(model: str) -> Gpu:
    """The GPU model `model` (e.g. 'h100-sxm5')."""
    return _lookup(GPUS, model, "GPU model")  # type: ignore[no-any-return]


def server(model: str) -> Server:
    """The server model `model` (e.g. 'dgx-h100')."""
    return _lookup(SERVERS, model, "server model")  # type: ignore[no-any-return]


def instance(name: str) -> InstanceType:
    """The cloud instance or machine type `name` (e.g. 'p5.48xlarge', 'a3-highgpu-8g')."""
    return _lookup(INSTANCE_TYPES, name, "cloud instance type")  # type: ignore[no-any-return]


def jurisdiction(name: str) -> Jurisdiction:
    """The jurisdiction `name` (e.g. 'EU')."""
    return _lookup(JURISDICTIONS, name, "jurisdiction")  # type: ignore[no-any-return]


def server_it_load_kw(model: str, host_overhead_w: int) -> float:
    """Maximum IT load of one server: its maximum input power, or GPUs x board power + overhead."""
    s = server(model)
    if s.max_input_kw is not None:
        return s.max_input_kw
    return (gpu(s.gpu).board_power_w * s.gpus + host_overhead_w) / 1000.0
