"""Blueprint spec of training storage: a high-throughput file system per environment, linked to
a lakehouse zone, mounted in the teams' namespaces as a PersistentVolume and claim per team.

- fsx-lustre (AWS): FSx for Lustre PERSISTENT_2, encrypted with the environment's key, with a
  data repository association to the zone's bucket (import and export).
- managed-lustre (GCP, where the region offers it): Google Cloud Managed Lustre, encrypted with
  the environment's key, mounted through GKE's Lustre CSI driver.
- gcs-fuse (GCP): the zone's bucket itself, mounted through GKE's Cloud Storage FUSE CSI driver
  (the teams' training service account already reads and writes the lakehouse buckets).
- nfs, lustre, gpfs (a site): an existing file system, mounted by the StorageClass the site
  names: an NFS server and export, or a CSI driver and its volume handle.

References to environments, the lakehouse zone and the teams are checked by
`training_storage_problems`, which the Blueprint's cross-field validator calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from blueprints.spec.base import Name, ProblemPath, Strict
from catalog.storage import (
    FSX_PERSISTENT_2_TIERS,
    MANAGED_LUSTRE_TIERS,
    MANAGED_LUSTRE_ZONES,
    LustreTier,
)

if TYPE_CHECKING:
    from blueprints.spec.models import Blueprint

StorageKind = Literal["fsx-lustre", "managed-lustre", "gcs-fuse", "nfs", "lustre", "gpfs"]
KINDS_OF: dict[str, tuple[str, ...]] = {
    "aws": ("fsx-lustre",),
    "gcp": ("managed-lustre", "gcs-fuse"),
    "onprem": ("nfs", "lustre", "gpfs"),
}
"""The kinds of training storage each substrate offers."""
SIZED = ("fsx-lustre", "managed-lustre")
"""Kinds the factory creates, with a capacity and a throughput tier."""


class TrainingStorage(Strict):
    """A training file system of one environment, mounted in each team's namespace."""

    environment: str = Field(description="Environment whose cluster mounts the file system.")
    kind: StorageKind = Field(
        description="aws: fsx-lustre; gcp: managed-lustre (where the region offers it) or "
        "gcs-fuse; a site: nfs, lustre or gpfs (an existing file system).")
    capacity_gib: int | None = Field(
        None, ge=1, le=100_000_000, description="fsx-lustre, managed-lustre: capacity, GiB "
        "(FSx PERSISTENT_2: 1200 or a multiple of 2400; Managed Lustre: a multiple of its "
        "tier's step, 9000 at 1000 MB/s/TiB).")
    throughput_per_tib: Literal[125, 250, 500, 1000] | None = Field(
        None, description="fsx-lustre, managed-lustre: throughput tier, MB/s per TiB "
        "(default 250 on FSx, 1000 on Managed Lustre).")
    zone: str | None = Field(
        None, description="Lakehouse zone the file system links: FSx imports from and exports "
        "to its bucket; GCS FUSE mounts that bucket; Managed Lustre jobs import from it. "
        "Required on aws and gcp.")
    path: str = Field(
        "/lakehouse", pattern=r"^/[A-Za-z0-9._/-]*$",
        description="fsx-lustre: the file system directory the zone's bucket appears under.")
    teams: list[Name] | None = Field(
        None, description="Teams (keys of queueing.teams) whose namespaces get a volume and "
        "claim (default: every team).")
    storage_class: str | None = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="Site: the cluster's StorageClass that mounts the file system (the "
        "volumes name it). Cloud kinds name their own class.")
    server: str | None = Field(None, min_length=1, description="Site nfs: the NFS server.")
    export: str | None = Field(None, pattern=r"^/", description="Site nfs: the exported path.")
    csi_driver: str | None = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="Site lustre, gpfs (or nfs through a CSI driver): the CSI driver name.")
    volume_handle: str | None = Field(
        None, min_length=1, description="Site: the CSI volume handle of the file system.")
    volume_attributes: dict[str, str] = Field(
        default_factory=dict, description="Site: the CSI driver's volume attributes.")
    capacity_label: str = Field(
        "10Ti", pattern=r"^[0-9]+(Ki|Mi|Gi|Ti|Pi)$",
        description="Site: the capacity the volumes declare (Kubernetes quantity).")


def tier_problems(kind: str, capacity: int, tier: LustreTier) -> list[str]:
    """What is wrong with a capacity at a tier, in words (empty when the service accepts it)."""
    if kind == "fsx-lustre":
        if capacity == tier.min_gib or capacity % tier.step_gib == 0:
            return []
        below = max(tier.min_gib, capacity // tier.step_gib * tier.step_gib)
        above = (capacity // tier.step_gib + 1) * tier.step_gib
        return [f"{capacity} GiB is not a capacity FSx for Lustre PERSISTENT_2 accepts (1200 "
                f"or a multiple of 2400): use {below} or {above}"]
    if capacity < tier.min_gib:
        return [f"{capacity} GiB is below the {tier.min_gib} GiB Managed Lustre takes at "
                f"{tier.throughput_per_tib} MB/s/TiB: use {tier.min_gib} or more"]
    if tier.max_gib is not None and capacity > tier.max_gib:
        return [f"{capacity} GiB is above the {tier.max_gib} GiB of the "
                f"{tier.throughput_per_tib} MB/s/TiB tier: lower it"]
    if capacity % tier.step_gib:
        below = capacity // tier.step_gib * tier.step_gib
        return [f"{capacity} GiB is not a multiple of {tier.step_gib} GiB, the step of "
                f"Managed Lustre at {tier.throughput_per_tib} MB/s/TiB: use {below} or "
                f"{below + tier.step_gib}"]
    return []


def default_throughput(kind: str) -> int:
    """The tier a file system gets when the blueprint names none."""
    return 1000 if kind == "managed-lustre" else 250


def storage_teams(bp: Blueprint, store: TrainingStorage) -> list[str]:
    """The teams whose namespaces mount a store."""
    teams = sorted(bp.queueing.teams) if bp.queueing is not None else []
    return sorted(store.teams) if store.teams is not None else teams


def _store_problems(bp: Blueprint, name: str,
                    store: TrainingStorage) -> list[tuple[ProblemPath, str]]:
    where = f"training_storage.{name}"
    env = bp.environments.get(store.environment)
    if env is None:
        return [(f"{where}.environment", f"{store.environment!r} is not an environment: "
                 f"declared are {sorted(bp.environments)}")]
    problems: list[tuple[ProblemPath, str]] = []
    offered = KINDS_OF[env.kind]
    if store.kind not in offered:
        problems.append((f"{where}.kind", f"{store.kind!r} is not training storage "
                         f"{store.environment} ({env.kind}) offers: use {' or '.join(offered)}"))
        return problems
    region = getattr(env, "region", None)
    if store.kind == "managed-lustre" and region not in MANAGED_LUSTRE_ZONES:
        problems.append((f"{where}.kind", f"Managed Lustre is not offered in {region} "
                         "(catalog.storage.MANAGED_LUSTRE_ZONES): use kind: gcs-fuse"))
    if store.kind in SIZED:
        if store.capacity_gib is None:
            example = 2400 if store.kind == "fsx-lustre" else 9000
            problems.append((f"{where}.capacity_gib", f"required for {store.kind}: give the "
                             f"capacity in GiB, e.g. capacity_gib: {example}"))
        else:
            tiers = FSX_PERSISTENT_2_TIERS if store.kind == "fsx-lustre" else \
                MANAGED_LUSTRE_TIERS
            tier = tiers[store.throughput_per_tib or default_throughput(store.kind)]
            problems.extend((f"{where}.capacity_gib", m)
                            for m in tier_problems(store.kind, store.capacity_gib, tier))
    else:
        for field in ("capacity_gib", "throughput_per_tib"):
            if getattr(store, field) is not None:
                problems.append((f"{where}.{field}", f"{store.kind} is not sized by the "
                                 f"factory: remove {field}"))
    if env.kind in ("aws", "gcp"):
        lake = bp.lakehouse
        if store.zone is None:
            problems.append((f"{where}.zone", f"required on {env.kind}: name the lakehouse "
                             "zone the file system links"
                             + (f" (one of {sorted(lake.zones)})" if lake else "")))
        elif lake is None:
            problems.append((f"{where}.zone", f"{store.zone!r} names a lakehouse zone, but "
                             "the blueprint has no lakehouse: add one or remove zone"))
        elif store.zone not in lake.zones:
            problems.append((f"{where}.zone", f"{store.zone!r} is not a lakehouse zone: "
                             f"declared are {sorted(lake.zones)}"))
        elif lake.environment != store.environment and store.kind != "managed-lustre":
            problems.append((f"{where}.environment", f"the lakehouse is in "
                             f"{lake.environment!r}, not {store.environment!r}: {store.kind} "
                             "links a bucket of its own region; put the storage in the "
                             "lakehouse's environment"))
        for field in ("storage_class", "server", "export", "csi_driver", "volume_handle"):
            if getattr(store, field) is not None:
                problems.append((f"{where}.{field}", f"{field} is for a site's existing file "
                                 f"system: {store.kind} is created by the factory; remove it"))
    else:
        if store.zone is not None:
            problems.append((f"{where}.zone", "a site's file system is not linked to the "
                             "lakehouse by the factory: remove zone"))
        if store.storage_class is None:
            problems.append((f"{where}.storage_class", "required on a site: name the "
                             "cluster's StorageClass that mounts the file system"))
        nfs_server = store.server is not None or store.export is not None
        csi = store.csi_driver is not None or store.volume_handle is not None
        if store.kind == "nfs" and not csi and (store.server is None or store.export is None):
            problems.append((f"{where}.server", "nfs needs server and export (or csi_driver "
                             "and volume_handle): give both, e.g. server: nfs.dc1.internal, "
                             "export: /training"))
        if store.kind != "nfs" and nfs_server:
            problems.append((f"{where}.server", f"{store.kind} is mounted through its CSI "
                             "driver: remove server and export, give csi_driver and "
                             "volume_handle"))
        if (store.kind != "nfs" or csi) and (store.csi_driver is None
                                              or store.volume_handle is None):
            problems.append((f"{where}.csi_driver", f"{store.kind} needs csi_driver and "
                             "volume_handle: give both (the driver's name and the file "
                             "system's handle)"))
        if nfs_server and csi:
            problems.append((f"{where}.server", "give server/export or csi_driver/"
                             "volume_handle, not both"))
    known = sorted(bp.queueing.teams) if bp.queueing is not None else []
    if not storage_teams(bp, store):
        problems.append((f"{where}.teams", "no team would mount it: training storage is "
                         "mounted in the teams' namespaces; add queueing teams"))
    for i, team in enumerate(store.teams or []):
        if team not in known:
            problems.append((f"{where}.teams.{i}", f"{team!r} is not a team: declared are "
                             f"{known}"))
    return problems


def training_storage_problems(bp: Blueprint) -> list[tuple[ProblemPath, str]]:
    """Cross-section problems of every training store."""
    problems: list[tuple[ProblemPath, str]] = []
    seen: dict[str, str] = {}
    for name, store in bp.training_storage.items():
        problems.extend(_store_problems(bp, name, store))
        other = seen.setdefault(store.environment, name)
        if other != name:
            problems.append((f"training_storage.{name}.environment", f"{store.environment!r} "
                             f"already has training storage {other!r}: one a cluster (its "
                             "volumes are named after the environment)"))
    return problems
