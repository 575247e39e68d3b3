"""Hardware and cloud facts, each with its source: GPUs, servers, instance types, jurisdictions.

GPUs, servers and jurisdictions are kept in code (catalog.data); cloud instance types come from
the generated snapshot (catalog/instances.json via catalog.cloud), read on first use.

Look-ups raise `UnknownCatalogEntryError` (a ValueError) with a "did you mean" hint, so that the
spec can report an unknown name at its line in the blueprint.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping

from catalog.cloud import (
    HOURS_PER_MONTH,
    INSTANCE_TYPES,
    InstanceType,
    RegionOffer,
    node_board_power_w,
)
from catalog.data import (
    GPUS,
    JURISDICTIONS,
    SERVERS,
    Gpu,
    Jurisdiction,
    Server,
)

__all__ = [
    "GPUS",
    "HOURS_PER_MONTH",
    "INSTANCE_TYPES",
    "JURISDICTIONS",
    "SERVERS",
    "Gpu",
    "InstanceType",
    "Jurisdiction",
    "RegionOffer",
    "Server",
    "UnknownCatalogEntryError",
    "gpu",
    "instance",
    "instance_board_power_w",
    "jurisdiction",
    "server",
    "server_it_load_kw",
    "snapshot_description",
]


class UnknownCatalogEntryError(ValueError):
    """A name the catalog does not know."""


def _lookup(table: Mapping[str, object], key: str, what: str,  # type: ignore[no-untyped-def]
            listing: str | None = None, rank: Callable[[str], int] | None = None):
    try:
        return table[key]
    except KeyError:
        # a name the key begins (the most used first, for `rank`), else the closest spelling
        starts = sorted((k for k in table if k.startswith(key)),
                        key=lambda k: (-(rank(k) if rank else 0), k))
        close = starts[:1] or difflib.get_close_matches(key, list(table), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = listing or f"known: {', '.join(sorted(table))}"
        raise UnknownCatalogEntryError(
            f"{key!r} is not a {what} the catalog knows; {hint}{known}"
        ) from None


def gpu(model: str) -> Gpu:
    """The GPU model `model` (e.g. 'h100-sxm5')."""
    def cloud_types(m: str) -> int:
        return sum(1 for t in INSTANCE_TYPES.values() if t.gpu == m)

    return _lookup(GPUS, model, "GPU model", rank=cloud_types)  # type: ignore[no-any-return]


def server(model: str) -> Server:
    """The server model `model` (e.g. 'dgx-h100')."""
    return _lookup(SERVERS, model, "server model")  # type: ignore[no-any-return]


def instance(name: str) -> InstanceType:
    """The cloud instance or machine type `name` (e.g. 'p5.48xlarge', 'a3-highgpu-8g')."""
    from catalog.cloud import load

    if name not in INSTANCE_TYPES:
        if name in load().tpus:
            raise UnknownCatalogEntryError(
                f"{name!r} is a TPU slice: pools run GPU machine types (a3-highgpu-8g, "
                "g2-standard-8, ...); `aifactory catalog instances --cloud gcp` lists them")
        if name in load().attachable:
            raise UnknownCatalogEntryError(
                f"{name!r} is a GPU GCP attaches to N1 machines, not a machine type: pools run "
                "machine types with built-in GPUs (g2-standard-8 for L4, a2-highgpu-1g for "
                "A100, ...)")
    return _lookup(  # type: ignore[no-any-return]
        INSTANCE_TYPES, name, "cloud instance type",
        listing=f"`aifactory catalog instances` lists all {len(INSTANCE_TYPES)}")


def jurisdiction(name: str) -> Jurisdiction:
    """The jurisdiction `name` (e.g. 'EU')."""
    return _lookup(JURISDICTIONS, name, "jurisdiction")  # type: ignore[no-any-return]


def server_it_load_kw(model: str, host_overhead_w: int) -> float:
    """Maximum IT load of one server: its maximum input power, or GPUs x board power + overhead."""
    s = server(model)
    if s.max_input_kw is not None:
        return s.max_input_kw
    power = gpu(s.gpu).board_power_w
    if power is None:
        raise UnknownCatalogEntryError(f"server {model}: its GPU {s.gpu} has no board power in "
                                       "the catalog and the server no input figure")
    return (power * s.gpus + host_overhead_w) / 1000.0


def snapshot_description() -> str:
    """The instance snapshot the cloud data was generated from, for reports that name their
    inputs: its repository, the commit of its AWS file, and the day it was read."""
    from catalog.cloud import load

    src = load().source
    commits = {f["file"]: f["commit"] for f in src.get("files", [])}
    aws = commits.get("aws-gpu-vms.csv", "")
    return (f"public instance catalog snapshot ({src['repository']}"
            + (f" at {aws[:12]}" if aws else "") + f", read {src['snapshotDate']})")


def instance_board_power_w(itype: InstanceType) -> float | None:
    """GPU board power of one node of a cloud type (None when the vendor publishes none)."""
    return node_board_power_w(itype, gpu(itype.gpu).board_power_w)
