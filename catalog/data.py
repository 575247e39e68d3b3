"""Catalog entries. Every entry names its source; see ../shared/REFERENCE-DATA.md upstream.

Region lists are what public catalog snapshots showed; they change, and a blueprint that needs a
newer region should add it here with its source in the same pull request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Gpu:
    """An accelerator model."""

    model: str
    vendor: str
    board_power_w: int
    memory_gb: int
    source: str


@dataclass(frozen=True)
class Server:
    """A server (or rack-scale system) model."""

    model: str
    gpu: str
    gpus: int
    max_input_kw: float | None
    rack_units: int
    cooling: Literal["air", "liquid"]
    source: str


@dataclass(frozen=True)
class InstanceType:
    """A cloud instance (AWS) or machine (GCP) type with GPUs."""

    name: str
    cloud: Literal["aws", "gcp"]
    gpu: str
    gpus: int
    vcpus: int
    quota_class: str
    regions: frozenset[str]
    on_demand_usd_per_hour: float | None
    source: str


@dataclass(frozen=True)
class Jurisdiction:
    """Where data may live: cloud regions and countries inside a jurisdiction."""

    name: str
    aws_regions: frozenset[str]
    aws_partitions: frozenset[str]
    gcp_regions: frozenset[str]
    countries: frozenset[str]
    source: str


NVIDIA_DATASHEETS = "NVIDIA datasheets via ../shared/REFERENCE-DATA.md"

GPUS: dict[str, Gpu] = {
    g.model: g
    for g in (
        Gpu("a100-sxm4-40gb", "nvidia", 400, 40, "techpowerup A100 SXM4 spec page"),
        Gpu("a100-sxm4-80gb", "nvidia", 400, 80, "techpowerup A100 SXM4 spec page"),
        Gpu(
            "a10g",
            "nvidia",
            300,
            24,
            "nvidia-smi on AWS g5 (A10 datasheet: 150 W); the "
            "higher figure is used for power planning",
        ),
        Gpu("h100-sxm5", "nvidia", 700, 80, "NVIDIA H100 datasheet"),
        Gpu("h100-pcie", "nvidia", 350, 80, "NVIDIA product brief PB-11133-001"),
        Gpu("h200-sxm", "nvidia", 700, 141, "NVIDIA H200 datasheet (secondary copies)"),
        Gpu("b200", "nvidia", 1000, 180, "NVIDIA DGX B200 user guide"),
        Gpu(
            "gb200",
            "nvidia",
            1200,
            186,
            "GB200 NVL72: ~120 kW per 72-GPU rack incl. CPUs "
            "and switches (secondary); per-GPU figure for sizing only",
        ),
        Gpu("l4", "nvidia", 72, 24, "NVIDIA L4 datasheet (secondary)"),
        Gpu(
            "l40s",
            "nvidia",
            350,
            48,
            "NVIDIA L40S datasheet: 350 W (some sources 300 W; the "
            "higher figure is used for power planning)",
        ),
        Gpu("t4", "nvidia", 70, 16, "NVIDIA T4 datasheet (secondary)"),
        Gpu("mi300x", "amd", 750, 192, "AMD MI300X footnote (secondary)"),
    )
}

SERVERS: dict[str, Server] = {
    s.model: s
    for s in (
        Server(
            "dgx-h100",
            "h100-sxm5",
            8,
            10.2,
            8,
            "air",
            "NVIDIA DGX H100 user guide: 6 x 3.3 kW PSU (4+2), 10.2 kW max",
        ),
        Server(
            "dgx-b200",
            "b200",
            8,
            14.3,
            10,
            "air",
            "NVIDIA DGX B200 user guide: 6 x 3.3 kW PSU (5+1), 14.3 kW max",
        ),
        Server("dgx-a100", "a100-sxm4-80gb", 8, 6.5, 6, "air", "NVIDIA DGX A100 user guide"),
        Server(
            "hgx-h100-8gpu",
            "h100-sxm5",
            8,
            None,
            8,
            "air",
            "OEM HGX H100 8-GPU board; no vendor-wide input figure: GPUs x 700 W + overhead",
        ),
        Server(
            "hgx-h200-8gpu",
            "h200-sxm",
            8,
            None,
            8,
            "air",
            "OEM HGX H200 8-GPU board; GPUs x 700 W + overhead",
        ),
        Server(
            "l40s-4gpu",
            "l40s",
            4,
            None,
            2,
            "air",
            "OEM 2U server with 4 x L40S; GPUs x 350 W + overhead",
        ),
        Server(
            "gb200-nvl72",
            "gb200",
            72,
            132.0,
            48,
            "liquid",
            "GB200 NVL72 rack: ~120 kW, power shelves 132 kW, liquid cooled (secondary)",
        ),
    )
}

SNAPSHOT = "public instance catalog snapshot (instances.vantage.sh / gcloud machine-types), 2025"
AWS_PRICE = "AWS on-demand list price, us-east-1, Linux"
GCP_PRICE = "GCP on-demand list price, us-central1"


def _aws(
    name: str, gpu: str, gpus: int, vcpus: int, regions: str, price: float | None, quota_class: str
) -> InstanceType:
    return InstanceType(
        name,
        "aws",
        gpu,
        gpus,
        vcpus,
        quota_class,
        frozenset(regions.split()),
        price,
        f"{SNAPSHOT}; {AWS_PRICE}" if price else SNAPSHOT,
    )


def _gcp(
    name: str, gpu: str, gpus: int, vcpus: int, regions: str, price: float | None
) -> InstanceType:
    return InstanceType(
        name,
        "gcp",
        gpu,
        gpus,
        vcpus,
        f"gpu:{gpu}",
        frozenset(regions.split()),
        price,
        f"{SNAPSHOT}; {GCP_PRICE}" if price else SNAPSHOT,
    )


_P5_REGIONS = "us-east-1 us-east-2 us-west-2 eu-north-1 eu-west-2 ap-northeast-1 ap-southeast-2"
_G_REGIONS = (
    "us-east-1 us-east-2 us-west-2 eu-central-1 eu-west-1 eu-west-2 eu-west-3 "
    "eu-north-1 ap-northeast-1 ap-southeast-2"
)

INSTANCE_TYPES: dict[str, InstanceType] = {
    i.name: i
    for i in (
        # AWS: quotas are vCPUs per class: "P" (p*), "G" (g* and vt*)
        _aws("p5.48xlarge", "h100-sxm5", 8, 192, _P5_REGIONS, 55.04, "P"),
        _aws("p5e.48xlarge", "h200-sxm", 8, 192, "us-east-2 us-west-2 eu-north-1", None, "P"),
        _aws(
            "p5en.48xlarge",
            "h200-sxm",
            8,
            192,
            "us-east-1 us-east-2 us-west-2 eu-north-1",
            None,
            "P",
        ),
        _aws(
            "p4d.24xlarge",
            "a100-sxm4-40gb",
            8,
            96,
            "us-east-1 us-west-2 eu-central-1 eu-west-1 ap-northeast-1",
            32.77,
            "P",
        ),
        _aws("p4de.24xlarge", "a100-sxm4-80gb", 8, 96, "us-east-1 us-west-2", 40.97, "P"),
        _aws("p6-b200.48xlarge", "b200", 8, 192, "us-east-1 us-west-2", None, "P"),
        _aws("g5.xlarge", "a10g", 1, 4, _G_REGIONS, 1.006, "G"),
        _aws("g5.12xlarge", "a10g", 4, 48, _G_REGIONS, 5.672, "G"),
        _aws("g5.48xlarge", "a10g", 8, 192, _G_REGIONS, 16.288, "G"),
        _aws("g6.xlarge", "l4", 1, 4, _G_REGIONS, 0.8048, "G"),
        _aws("g6.12xlarge", "l4", 4, 48, _G_REGIONS, 4.6016, "G"),
        _aws(
            "g6e.xlarge",
            "l40s",
            1,
            4,
            "us-east-1 us-east-2 us-west-2 eu-central-1 eu-north-1 "
            "eu-west-2 eu-west-3 ap-northeast-1",
            1.861,
            "G",
        ),
        _aws(
            "g6e.12xlarge",
            "l40s",
            4,
            48,
            "us-east-1 us-east-2 us-west-2 eu-central-1 eu-north-1 eu-west-2 ap-northeast-1",
            10.493,
            "G",
        ),
        # GCP: quotas are GPUs per model per region (NVIDIA_H100_GPUS, PREEMPTIBLE_...)
        _gcp(
            "a3-highgpu-8g",
            "h100-sxm5",
            8,
            208,
            "us-central1 us-east4 us-east5 us-west1 europe-west1 europe-west3 europe-west4 "
            "europe-west9 europe-north1 asia-northeast1 asia-southeast1",
            88.25,
        ),
        _gcp(
            "a3-megagpu-8g",
            "h100-sxm5",
            8,
            208,
            "us-central1 us-east4 us-east5 us-west1 europe-west1 europe-west4 asia-northeast1",
            None,
        ),
        _gcp(
            "a3-ultragpu-8g",
            "h200-sxm",
            8,
            224,
            "us-central1 us-east4 europe-west1 asia-south1",
            None,
        ),
        _gcp(
            "a2-highgpu-1g",
            "a100-sxm4-40gb",
            1,
            12,
            "us-central1 us-east1 us-west1 us-west4 europe-west4 asia-northeast1 asia-southeast1",
            3.67,
        ),
        _gcp(
            "a2-highgpu-8g",
            "a100-sxm4-40gb",
            8,
            96,
            "us-central1 us-east1 us-west1 us-west4 europe-west4 asia-northeast1 asia-southeast1",
            29.39,
        ),
        _gcp(
            "a2-ultragpu-8g",
            "a100-sxm4-80gb",
            8,
            96,
            "us-central1 us-east4 us-east5 europe-west4 asia-southeast1",
            40.22,
        ),
        _gcp(
            "g2-standard-8",
            "l4",
            1,
            8,
            "us-central1 us-east1 us-east4 us-west1 us-west4 europe-west1 europe-west2 "
            "europe-west3 europe-west4 europe-west6 asia-northeast1 asia-southeast1",
            0.8536,
        ),
        _gcp(
            "g2-standard-24",
            "l4",
            2,
            24,
            "us-central1 us-east1 us-east4 us-west1 us-west4 europe-west1 europe-west2 "
            "europe-west3 europe-west4 europe-west6 asia-northeast1 asia-southeast1",
            2.0000,
        ),
        _gcp(
            "g2-standard-48",
            "l4",
            4,
            48,
            "us-central1 us-east1 us-east4 us-west1 us-west4 europe-west1 europe-west2 "
            "europe-west3 europe-west4 europe-west6 asia-northeast1 asia-southeast1",
            4.0000,
        ),
    )
}

EU_COUNTRIES = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"

JURISDICTIONS: dict[str, Jurisdiction] = {
    "EU": Jurisdiction(
        name="EU",
        # London (eu-west-2) and Zurich (eu-central-2) carry the eu- prefix but lie outside the EU.
        aws_regions=frozenset(
            [
                "eu-central-1",
                "eu-west-1",
                "eu-west-3",
                "eu-north-1",
                "eu-south-1",
                "eu-south-2",
                "eusc-de-east-1",
            ]
        ),
        aws_partitions=frozenset({"aws", "aws-eusc"}),
        # europe-west2 (London) and europe-west6 (Zurich) lie outside the EU.
        gcp_regions=frozenset(
            [
                "europe-west1",
                "europe-west3",
                "europe-west4",
                "europe-west8",
                "europe-west9",
                "europe-west10",
                "europe-west12",
                "europe-north1",
                "europe-north2",
                "europe-central2",
                "europe-southwest1",
            ]
        ),
        countries=frozenset(EU_COUNTRIES.split()),
        source="AWS and GCP region location pages; EU member states (europa.eu); AWS European "
        "Sovereign Cloud partition aws-eusc, region eusc-de-east-1",
    ),
}
