"""Catalog entries kept in code: GPUs, servers and jurisdictions, every entry with its source
(see ../shared/REFERENCE-DATA.md upstream). Cloud instance types come from the generated
snapshot (catalog/instances.json, read by catalog.cloud).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Gpu:
    """An accelerator model."""

    model: str
    vendor: str
    """nvidia, amd or aws (Trainium, Inferentia)."""
    board_power_w: int | None
    """Maximum board power (None: the vendor publishes none)."""
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
class Jurisdiction:
    """Where data may live: cloud regions and countries inside a jurisdiction."""

    name: str
    aws_regions: frozenset[str]
    aws_partitions: frozenset[str]
    gcp_regions: frozenset[str]
    countries: frozenset[str]
    source: str


SECONDARY = "secondary source: confirm against the vendor's datasheet before relying on it"

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
        Gpu("b300", "nvidia", 1400, 288,
            f"Blackwell Ultra: 1,400 W maximum, 288 GB HBM3e ({SECONDARY}); the higher "
            "figure is used for power planning (air-cooled HGX boards may be capped lower)"),
        Gpu(
            "gb200",
            "nvidia",
            1200,
            186,
            "GB200 NVL72: ~120 kW per 72-GPU rack incl. CPUs "
            "and switches (secondary); per-GPU figure for sizing only",
        ),
        Gpu("gb300", "nvidia", 1400, 288,
            f"GB300 NVL72: Blackwell Ultra at 1,400 W, 288 GB HBM3e ({SECONDARY})"),
        Gpu("l4", "nvidia", 72, 24, "NVIDIA L4 datasheet (secondary)"),
        Gpu(
            "l40s",
            "nvidia",
            350,
            48,
            "NVIDIA L40S datasheet: 350 W (some sources 300 W; the "
            "higher figure is used for power planning)",
        ),
        Gpu("rtx-pro-6000-server", "nvidia", 600, 96,
            "NVIDIA RTX PRO 6000 Blackwell Server Edition datasheet: up to 600 W "
            "(configurable), 96 GB GDDR7; AWS g7e"),
        Gpu("t4", "nvidia", 70, 16, "NVIDIA T4 datasheet (secondary)"),
        Gpu("t4g", "nvidia", 70, 16, "NVIDIA T4G on AWS g5g: the T4 Tensor Core GPU (70 W) "
            "beside a Graviton host"),
        Gpu("v100-sxm2-16gb", "nvidia", 300, 16, "NVIDIA V100 datasheet: SXM2 300 W (AWS p3, "
            "GCP)"),
        Gpu("v100-sxm2-32gb", "nvidia", 300, 32, "NVIDIA V100 datasheet: SXM2 300 W (AWS "
            "p3dn)"),
        Gpu("p100", "nvidia", 250, 16, "NVIDIA Tesla P100 PCIe datasheet: 250 W (GCP)"),
        Gpu("p4", "nvidia", 75, 8, "NVIDIA Tesla P4 datasheet: 50/75 W; the higher figure"),
        Gpu("mi300x", "amd", 750, 192, "AMD MI300X footnote (secondary)"),
        Gpu("mi325x", "amd", 1000, 256, "AMD Instinct MI325X datasheet: 1,000 W, 256 GB "
            "HBM3E"),
        Gpu("mi355x", "amd", 1400, 288, "AMD Instinct MI355X datasheet: 1,400 W, 288 GB "
            "HBM3E, liquid cooled (the air-cooled MI350X: 1,000 W)"),
        Gpu("radeon-pro-v520", "amd", None, 8, "AMD Radeon Pro V520 on AWS g4ad: 8 GB; AMD "
            "publishes no board power for this cloud-only part"),
        Gpu("inferentia", "aws", None, 8, "AWS Inferentia (inf1): 8 GB per chip (AWS Neuron "
            "docs); AWS publishes no per-chip power"),
        Gpu("inferentia2", "aws", None, 32, "AWS Inferentia2 (inf2): 32 GB HBM per chip (AWS "
            "Neuron docs); AWS publishes no per-chip power"),
        Gpu("trainium", "aws", None, 32, "AWS Trainium (trn1): 32 GB HBM per chip (AWS Neuron "
            "docs); AWS publishes no per-chip power"),
        Gpu("trainium2", "aws", None, 96, "AWS Trainium2 (trn2): 96 GB HBM per chip (AWS "
            "Neuron docs); AWS publishes no per-chip power"),
    )
}

NO_GPU = "none"
"""The `gpu` of a server without GPUs (storage, registry and management hosts)."""

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
        Server("dgx-b300", "b300", 8, 14.5, 10, "air",
               f"DGX B300 (8 x B300): 8-GPU HGX B300 servers draw ~14.5 kW at the wall "
               f"({SECONDARY}: NVIDIA's DGX B300 user guide)"),
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
        Server("hgx-b200-8gpu", "b200", 8, None, 10, "air",
               "OEM HGX B200 8-GPU board; GPUs x 1,000 W + overhead"),
        Server("hgx-b300-8gpu", "b300", 8, None, 10, "air",
               "OEM HGX B300 8-GPU board; GPUs x 1,400 W + overhead"),
        Server(
            "l40s-4gpu",
            "l40s",
            4,
            None,
            2,
            "air",
            "OEM 2U server with 4 x L40S; GPUs x 350 W + overhead",
        ),
        Server("rtx-pro-6000-8gpu", "rtx-pro-6000-server", 8, None, 4, "air",
               "OEM RTX PRO Server with 8 x RTX PRO 6000 Blackwell Server Edition; GPUs x "
               "600 W + overhead"),
        Server("mi300x-8gpu", "mi300x", 8, None, 8, "air",
               "OEM AMD Instinct MI300X platform (8 GPUs); GPUs x 750 W + overhead"),
        Server("mi325x-8gpu", "mi325x", 8, None, 8, "air",
               "OEM AMD Instinct MI325X platform (8 GPUs); GPUs x 1,000 W + overhead"),
        Server("mi355x-8gpu", "mi355x", 8, None, 4, "liquid",
               "OEM AMD Instinct MI355X platform (8 GPUs, direct liquid cooling); GPUs x "
               "1,400 W + overhead"),
        Server(
            "gb200-nvl72",
            "gb200",
            72,
            132.0,
            48,
            "liquid",
            "GB200 NVL72 rack: ~120 kW, power shelves 132 kW, liquid cooled (secondary)",
        ),
        Server("dgx-gb200", "gb200", 72, 132.0, 48, "liquid",
               "NVIDIA DGX GB200 NVL72 rack: ~120 kW, power shelves 132 kW, liquid cooled "
               "(secondary)"),
        Server("gb300-nvl72", "gb300", 72, 140.0, 48, "liquid",
               f"GB300 NVL72 rack: 120-140 kW reported (Supermicro 132-140 kW, Microsoft "
               f"~136 kW), liquid cooled; the upper figure ({SECONDARY})"),
        Server("dgx-gb300", "gb300", 72, 140.0, 48, "liquid",
               f"NVIDIA DGX GB300 NVL72 rack: 120-140 kW reported, liquid cooled; the upper "
               f"figure ({SECONDARY})"),
        # Servers without GPUs: the site's storage, registry and management hosts. Their
        # maximum input is the rating of one power supply of a redundant (1+1) pair, the most
        # the server can draw while either supply carries it alone.
        Server("supermicro-ssg-121e-nes24r", NO_GPU, 0, 1.6, 1, "air",
               "Supermicro SSG-121E-NES24R (1U, 24 x E1.S NVMe, dual Xeon): 2 x 1,600 W "
               f"Titanium power supplies, 1+1 redundant ({SECONDARY})"),
        Server("supermicro-ssg-221e-ne324r", NO_GPU, 0, 2.0, 2, "air",
               "Supermicro SSG-221E-NE324R (2U, 32 x E3.S NVMe, dual Xeon): 2 x 2,000 W "
               f"Titanium power supplies, 1+1 redundant ({SECONDARY})"),
        Server("dell-r660", NO_GPU, 0, 1.4, 1, "air",
               "Dell PowerEdge R660 (1U, dual Xeon; management and registry nodes): up to "
               f"2 x 1,400 W power supplies, 1+1 redundant ({SECONDARY})"),
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
