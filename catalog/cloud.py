"""Cloud instance types: the generated snapshot joined with the facts it lacks, kept here.

catalog/instances.json (written by scripts/gen_catalog.py from the public snapshot in
../shared/catalog) gives every accelerator type's GPUs, vCPUs, memory, and per region the zones
that offer it with their on-demand and spot prices. This module adds, each with its source, what
the snapshot does not carry: which quota each type counts against, the EFA interfaces of AWS
types, and the zones each region has. The JSON is read once, on first use (about 3 ms).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

DATA_FILE = Path(__file__).with_name("instances.json")

Cloud = Literal["aws", "gcp"]

HOURS_PER_MONTH = 730.0
"""Hours in an average month (365 x 24 / 12), for monthly cost figures."""


@dataclass(frozen=True)
class RegionOffer:
    """Where a type is offered in one region: its zones and their prices (USD per hour)."""

    region: str
    zones: Mapping[str, tuple[float | None, float | None]]
    """Zone (GCP zone name; AWS AZ id such as euw2-az1) -> (on-demand, spot)."""

    @property
    def zone_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.zones))

    @property
    def on_demand_usd_per_hour(self) -> float | None:
        """The region's on-demand list price (the highest of its zones, when they differ)."""
        prices = [p for p, _ in self.zones.values() if p is not None]
        return max(prices) if prices else None

    @property
    def spot_usd_per_hour(self) -> float | None:
        """The spot price of the region: the median of its zones' prices in the snapshot (a
        pool's nodes spread over its zones; spot prices move, the snapshot has one moment)."""
        prices = sorted(p for _, p in self.zones.values() if p is not None)
        if not prices:
            return None
        mid = len(prices) // 2
        return prices[mid] if len(prices) % 2 else round((prices[mid - 1] + prices[mid]) / 2, 6)


@dataclass(frozen=True)
class InstanceType:
    """A cloud instance (AWS) or machine (GCP) type with GPUs or other accelerators."""

    name: str
    cloud: Cloud
    gpu: str
    """Catalog GPU model (catalog.GPUS)."""
    gpus: int
    """Accelerator devices the node advertises (a g6f fraction of an L4 shows as one)."""
    gpu_share: float
    """Share of each device the type has: 1.0, or e.g. 0.125 for g6f.large (1/8 of an L4)."""
    vcpus: int
    memory_gib: float
    accelerator: str
    """The accelerator as the snapshot names it (H100, A100-80GB, Trainium2, ...)."""
    arch: str
    quota_class: str
    """AWS: the vCPU quota class (P, G, Inf, Trn, DL); GCP: 'gpu:<model>'."""
    quota_keys: tuple[str, str]
    """(on-demand, spot) quota: AWS quota codes (L-417A185B), GCP quota metrics."""
    efa_interfaces: int | None
    """AWS: most EFA interfaces (network cards) the type takes; None: no EFA, or GCP."""
    offers: Mapping[str, RegionOffer]
    source: str

    @property
    def regions(self) -> frozenset[str]:
        return frozenset(self.offers)

    def offer(self, region: str) -> RegionOffer | None:
        return self.offers.get(region)

    def price(self, region: str, capacity: str) -> float | None:
        """USD per hour of one node in `region`: the on-demand list price, the snapshot's spot
        price for spot (None where the snapshot has none, or the type is not offered)."""
        offer = self.offers.get(region)
        if offer is None:
            return None
        return offer.spot_usd_per_hour if capacity == "spot" else offer.on_demand_usd_per_hour

    @property
    def family(self) -> str:
        """'p5' of p5.48xlarge, 'a3-highgpu' of a3-highgpu-8g."""
        if self.cloud == "aws":
            return self.name.split(".")[0]
        return "-".join(self.name.split("-")[:2])


@dataclass(frozen=True)
class AttachableGpu:
    """A GCP GPU attached to N1 machines (no machine type of its own): listed, priced per
    count, not used by pools yet."""

    accelerator: str
    gpu: str
    host: str
    counts: Mapping[int, Mapping[str, RegionOffer]]
    """GPUs per VM -> region -> offer (the GPUs' price only; the N1 machine is extra)."""


@dataclass(frozen=True)
class TpuSlice:
    """A GCP TPU slice (listed only: pools run GPU machine types)."""

    name: str
    offers: Mapping[str, RegionOffer]


# ---------------------------------------------------------------------------------------------
# Facts the snapshot lacks

AWS_QUOTA_CLASSES: dict[str, tuple[str, str, str, str]] = {
    "P": ("L-417A185B", "L-7212CCBC", "Running On-Demand P instances",
          "All P Spot Instance Requests"),
    "G": ("L-DB2E81BA", "L-3819A6DF", "Running On-Demand G and VT instances",
          "All G and VT Spot Instance Requests"),
    "Inf": ("L-1945791B", "L-B5D1601B", "Running On-Demand Inf instances",
            "All Inf Spot Instance Requests"),
    "Trn": ("L-2C3B7624", "L-6B0D517C", "Running On-Demand Trn instances",
            "All Trn Spot Instance Requests"),
    "DL": ("L-6E869C2A", "L-85EED4F7", "Running On-Demand DL instances",
           "All DL Spot Instance Requests"),
}
"""class -> (on-demand code, spot code, on-demand name, spot name): AWS Service Quotas for
Amazon EC2 (vCPU-based On-Demand and Spot instance quotas). The snapshot's mappings give the
P, G and DL codes; the Inf and Trn codes come from the Service Quotas console and API."""

AWS_CLASS_OF_PREFIX = (("inf", "Inf"), ("trn", "Trn"), ("dl", "DL"), ("gr", "G"), ("vt", "G"),
                       ("g", "G"), ("p", "P"))
"""Instance family prefix -> quota class, for families the snapshot's mapping leaves out
(p5, p6, g6, g7e, inf, trn): AWS EC2 "On-Demand Instance quotas" (P: p*, G and VT: g*, vt*,
Inf: inf*, Trn: trn*, DL: dl*)."""

GCP_QUOTA_METRICS: dict[str, tuple[str, str]] = {
    "H100": ("NVIDIA_H100_GPUS", "PREEMPTIBLE_NVIDIA_H100_GPUS"),
    "H100-MEGA": ("NVIDIA_H100_MEGA_GPUS", "PREEMPTIBLE_NVIDIA_H100_MEGA_GPUS"),
    "H200": ("NVIDIA_H200_GPUS", "PREEMPTIBLE_NVIDIA_H200_GPUS"),
    "B200": ("NVIDIA_B200_GPUS", "PREEMPTIBLE_NVIDIA_B200_GPUS"),
    "L4": ("NVIDIA_L4_GPUS", "PREEMPTIBLE_NVIDIA_L4_GPUS"),
}
"""GPU quota metrics per accelerator the snapshot's mapping leaves out: GCP "GPU quotas"
(Compute Engine: NVIDIA_<MODEL>_GPUS per region, PREEMPTIBLE_ for spot)."""

GCP_GLOBAL_GPU_METRIC = "GPUS_ALL_REGIONS"
"""Project-wide GPU quota across every region (GCP "GPU quotas")."""

EFA_SOURCE = ("AWS EC2 User Guide: EFA supported instance types and the network cards of "
              "accelerated computing instances (one EFA per network card), as configured by "
              "public EKS launch templates and the EFA DRA driver's instance metadata")
EFA_INTERFACES: dict[str, int] = {
    "p6-b300.48xlarge": 16, "p6-b200.48xlarge": 8, "p5en.48xlarge": 16, "p5e.48xlarge": 32,
    "p5.48xlarge": 32, "p5.4xlarge": 1, "p4de.24xlarge": 4, "p4d.24xlarge": 4,
    "p3dn.24xlarge": 1,
    "g7e.48xlarge": 4, "g7e.24xlarge": 2, "g7e.12xlarge": 1, "g7e.8xlarge": 1,
    "g6e.48xlarge": 4, "g6e.24xlarge": 2, "g6e.16xlarge": 1, "g6e.12xlarge": 1,
    "g6e.8xlarge": 1,
    "g6.48xlarge": 1, "g6.24xlarge": 1, "g6.16xlarge": 1, "g6.12xlarge": 1, "g6.8xlarge": 1,
    "gr6.8xlarge": 1,
    "g5.48xlarge": 1, "g5.24xlarge": 1, "g5.16xlarge": 1, "g5.12xlarge": 1, "g5.8xlarge": 1,
    "g4dn.metal": 1, "g4dn.16xlarge": 1, "g4dn.12xlarge": 1, "g4dn.8xlarge": 1,
    "trn2.48xlarge": 16, "trn1n.32xlarge": 16, "trn1.32xlarge": 8,
}
"""Most EFA interfaces per AWS type (types not listed take none)."""

AWS_ZONE_LETTERS: dict[str, str] = {
    "us-east-1": "abcdef", "us-east-2": "abc", "us-west-1": "abc", "us-west-2": "abcd",
    "af-south-1": "abc", "ap-east-1": "abc", "ap-south-1": "abc", "ap-south-2": "abc",
    "ap-northeast-1": "acd", "ap-northeast-2": "abcd", "ap-northeast-3": "abc",
    "ap-southeast-1": "abc", "ap-southeast-2": "abc", "ap-southeast-3": "abc",
    "ap-southeast-4": "abc", "ap-southeast-5": "abc", "ap-southeast-7": "abc",
    "ca-central-1": "abd", "ca-west-1": "abc", "eu-central-1": "abc", "eu-central-2": "abc",
    "eu-west-1": "abc", "eu-west-2": "abc", "eu-west-3": "abc", "eu-south-1": "abc",
    "eu-south-2": "abc", "eu-north-1": "abc", "il-central-1": "abc", "me-south-1": "abc",
    "me-central-1": "abc", "mx-central-1": "abc", "sa-east-1": "abc",
    "eusc-de-east-1": "abc", "us-gov-west-1": "abc", "us-gov-east-1": "abc",
    "cn-north-1": "abd", "cn-northwest-1": "abc",
}
"""Zone letters of each AWS region (AWS "Regions and Zones": ap-northeast-1 has no b, ca-central-1
no c; in us-west-1 an account sees two of a, b, c). Zone names map to AZ ids per account, so
which named zone offers a type cannot be known offline; that a zone exists can."""

GCP_REGION_ZONES: dict[str, str] = {
    "africa-south1": "abc", "asia-east1": "abc", "asia-east2": "abc",
    "asia-northeast1": "abc", "asia-northeast2": "abc", "asia-northeast3": "abc",
    "asia-south1": "abc", "asia-south2": "abc", "asia-southeast1": "abc",
    "asia-southeast2": "abc", "australia-southeast1": "abc", "australia-southeast2": "abc",
    "europe-central2": "abc", "europe-north1": "abc", "europe-north2": "abc",
    "europe-southwest1": "abc", "europe-west1": "bcd", "europe-west2": "abc",
    "europe-west3": "abc", "europe-west4": "abc", "europe-west6": "abc", "europe-west8": "abc",
    "europe-west9": "abc", "europe-west10": "abc", "europe-west12": "abc",
    "me-central1": "abc", "me-central2": "abc", "me-west1": "abc",
    "northamerica-northeast1": "abc", "northamerica-northeast2": "abc",
    "northamerica-south1": "abc", "southamerica-east1": "abc", "southamerica-west1": "abc",
    "us-central1": "abcf", "us-east1": "bcd", "us-east4": "abc", "us-east5": "abc",
    "us-south1": "abc", "us-west1": "abc", "us-west2": "abc", "us-west3": "abc",
    "us-west4": "abc",
}
"""Zone letters of each GCP region (GCP "Regions and zones"); the snapshot adds any other zone
it lists (AI zones such as us-south1-ai1b, TPU-only us-central2-b)."""


GCP_DUAL_REGION_GROUPS: dict[str, tuple[str, frozenset[str]]] = {
    "EU": ("europe", frozenset({
        "europe-central2", "europe-north1", "europe-north2", "europe-southwest1",
        "europe-west1", "europe-west3", "europe-west4", "europe-west8", "europe-west9",
        "europe-west10", "europe-west12"})),
    "US": ("us", frozenset({
        "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1",
        "us-west2", "us-west3", "us-west4"})),
    "ASIA": ("asia", frozenset({
        "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
        "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2"})),
}
"""Configurable dual-regions of Cloud Storage: two regions of one multi-region (EU, US, ASIA),
the bucket's location being the multi-region; its CMEK key lives in the matching Cloud KMS
multi-region (europe, us, asia). Sources: Cloud Storage "Bucket locations" (configurable
dual-regions), Cloud Storage "Customer-managed encryption keys" (key location), Cloud KMS
"Locations"."""


def gcp_dual_region(a: str, b: str) -> tuple[str, str] | None:
    """(bucket location, KMS key location) of a configurable dual-region of regions `a` and
    `b`; None when the two regions do not form one."""
    for location, (kms_location, regions) in GCP_DUAL_REGION_GROUPS.items():
        if a != b and a in regions and b in regions:
            return location, kms_location
    return None


# ---------------------------------------------------------------------------------------------
# Loading the generated data


def _offers(regions: Mapping[str, Mapping[str, list[float | None]]]) -> dict[str, RegionOffer]:
    return {region: RegionOffer(region, {z: (p[0], p[1]) for z, p in zones.items()})
            for region, zones in regions.items()}


def aws_quota_class(name: str, family_codes: Mapping[str, Any]) -> str:
    """The quota class of an AWS type: its family's codes in the snapshot, else its prefix."""
    family = name.split(".")[0]
    known = family_codes.get(family)
    if known is not None:
        for cls, (on_demand, spot, _, _) in AWS_QUOTA_CLASSES.items():
            if (on_demand, spot) == (known["onDemand"], known["spot"]):
                return cls
    return next(cls for prefix, cls in AWS_CLASS_OF_PREFIX if family.startswith(prefix))


def gcp_quota_metrics(accelerator: str, snapshot: Mapping[str, Any]) -> tuple[str, str]:
    """(on-demand, spot) quota metrics of a GCP accelerator: the snapshot's, else ours."""
    known = snapshot.get(accelerator)
    if known is not None:
        return known["onDemand"], known["spot"]
    if accelerator in GCP_QUOTA_METRICS:
        return GCP_QUOTA_METRICS[accelerator]
    base = f"NVIDIA_{accelerator.upper().replace('-', '_')}_GPUS"
    return base, f"PREEMPTIBLE_{base}"


@dataclass(frozen=True)
class Catalog:
    """Everything read from catalog/instances.json."""

    instance_types: Mapping[str, InstanceType]
    attachable: Mapping[str, AttachableGpu]
    tpus: Mapping[str, TpuSlice]
    gcp_metrics: frozenset[str]
    """Every GCP GPU quota metric a blueprint may declare (GPUS_ALL_REGIONS included)."""
    source: Mapping[str, Any]


def _snapshot_source(data: Mapping[str, Any]) -> str:
    src = data["source"]
    return f"public instance snapshot ({src['repository']}, read {src['snapshotDate']})"


def _build(data: Mapping[str, Any]) -> Catalog:
    snapshot = _snapshot_source(data)
    types: dict[str, InstanceType] = {}
    family_codes = data["aws"]["familyQuotaCodes"]
    for name, e in data["aws"]["instances"].items():
        cls = aws_quota_class(name, family_codes)
        count = float(e["count"])
        types[name] = InstanceType(
            name=name, cloud="aws", gpu=e["gpu"], gpus=max(1, int(count)),
            gpu_share=count if count < 1 else 1.0, vcpus=int(e["vcpus"]),
            memory_gib=float(e["memoryGib"]), accelerator=e["accelerator"], arch=e["arch"],
            quota_class=cls, quota_keys=AWS_QUOTA_CLASSES[cls][:2],
            efa_interfaces=EFA_INTERFACES.get(name), offers=_offers(e["regions"]),
            source=snapshot)
    metrics_snapshot = data["gcp"]["acceleratorQuotaMetrics"]
    metrics = {GCP_GLOBAL_GPU_METRIC}
    for name, e in data["gcp"]["machines"].items():
        keys = gcp_quota_metrics(e["accelerator"], metrics_snapshot)
        metrics.update(keys)
        types[name] = InstanceType(
            name=name, cloud="gcp", gpu=e["gpu"], gpus=int(e["count"]), gpu_share=1.0,
            vcpus=int(e["vcpus"]), memory_gib=float(e["memoryGib"]),
            accelerator=e["accelerator"], arch="x86_64", quota_class=f"gpu:{e['gpu']}",
            quota_keys=keys, efa_interfaces=None, offers=_offers(e["regions"]),
            source=snapshot)
    attachable = {}
    for accelerator, e in data["gcp"]["attachable"].items():
        metrics.update(gcp_quota_metrics(accelerator, metrics_snapshot))
        attachable[accelerator] = AttachableGpu(
            accelerator=accelerator, gpu=e["gpu"], host=e["host"],
            counts={int(c): _offers(regions) for c, regions in e["counts"].items()})
    tpus = {name: TpuSlice(name, _offers(e["regions"])) for name, e in data["gcp"]["tpus"].items()}
    return Catalog(instance_types=types, attachable=attachable, tpus=tpus,
                   gcp_metrics=frozenset(metrics), source=data["source"])


@functools.cache
def load() -> Catalog:
    """The catalog's cloud data, read once."""
    return _build(json.loads(DATA_FILE.read_text(encoding="utf-8")))


class LazyInstanceTypes(Mapping[str, InstanceType]):
    """`catalog.INSTANCE_TYPES`: read from the generated data on first use."""

    def __getitem__(self, key: str) -> InstanceType:
        return load().instance_types[key]

    def __iter__(self) -> Iterator[str]:
        return iter(load().instance_types)

    def __len__(self) -> int:
        return len(load().instance_types)

    def __contains__(self, key: object) -> bool:
        return key in load().instance_types


INSTANCE_TYPES: Mapping[str, InstanceType] = LazyInstanceTypes()


# ---------------------------------------------------------------------------------------------
# Regions and zones


def _snapshot_zones(cloud: Cloud, region: str) -> set[str]:
    found: set[str] = set()
    for t in load().instance_types.values():
        if t.cloud == cloud and region in t.offers:
            found.update(t.offers[region].zones)
    if cloud == "gcp":
        for a in load().attachable.values():
            for offers in a.counts.values():
                if region in offers:
                    found.update(offers[region].zones)
        for tpu in load().tpus.values():
            if region in tpu.offers:
                found.update(tpu.offers[region].zones)
    return found


@functools.cache
def gcp_regions() -> frozenset[str]:
    """GCP regions the catalog knows (its zone table and every region of the snapshot)."""
    found = set(GCP_REGION_ZONES)
    data = load()
    for t in data.instance_types.values():
        if t.cloud == "gcp":
            found.update(t.offers)
    for tpu in data.tpus.values():
        found.update(tpu.offers)
    for a in data.attachable.values():
        for offers in a.counts.values():
            found.update(offers)
    return frozenset(found)


@functools.cache
def gcp_zones(region: str) -> tuple[str, ...]:
    """Zones of a GCP region (empty: the region is not one the catalog knows)."""
    zones = {f"{region}-{letter}" for letter in GCP_REGION_ZONES.get(region, "")}
    return tuple(sorted(zones | _snapshot_zones("gcp", region)))


def aws_zones(region: str) -> tuple[str, ...] | None:
    """Zone names of an AWS region (None: a region the table does not list)."""
    letters = AWS_ZONE_LETTERS.get(region)
    return None if letters is None else tuple(f"{region}{letter}" for letter in letters)


def offered_zones(itype: InstanceType, region: str) -> tuple[str, ...]:
    """The zones of `region` that offer `itype` (GCP names, AWS AZ ids)."""
    offer = itype.offers.get(region)
    return offer.zone_names if offer else ()


def node_board_power_w(itype: InstanceType, board_power_w: int | None) -> float | None:
    """GPU board power of one node (None when the accelerator's power is unpublished)."""
    if board_power_w is None:
        return None
    return board_power_w * itype.gpus * itype.gpu_share
