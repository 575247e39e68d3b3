"""High-speed GPU fabrics: what each cloud type or server model brings for multi-node training.

A fabric carries GPU-to-GPU traffic between nodes (NCCL) off the node's ordinary network: EFA
on AWS, GPUDirect-TCPX/TCPXO/RDMA on GCP, InfiniBand or RoCE adapters in an own server. Each
entry carries its source. Pure data, no Pulumi import: the spec, components and policies read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from catalog.cloud import InstanceType

FabricKind = Literal["efa", "gpudirect-tcpx", "gpudirect-tcpxo", "gpudirect-rdma", "adapters"]


@dataclass(frozen=True)
class CloudFabric:
    """The fabric of one cloud type."""

    kind: FabricKind
    """efa (AWS), gpudirect-tcpx, gpudirect-tcpxo or gpudirect-rdma (GCP)."""
    interfaces: int
    """EFA interfaces (AWS), or the additional GPU NICs, one VPC or subnet each (GCP)."""
    training: bool
    """A fabric multi-node training needs (GPUDirect RDMA/TCPX class): a multi-node pool of
    the type without it runs NCCL over the node's ordinary network (the capacity rule)."""
    compact_placement: bool
    """The type takes a cluster (AWS) or compact (GCP) placement policy."""
    source: str


EFA_RDMA_SOURCE = ("AWS EC2 User Guide, 'Elastic Fabric Adapter for AI/ML and HPC workloads': "
                   "EFA with GPUDirect RDMA on P4d, P4de, P5, P5e, P5en, P6-B200 and P6-B300")
EFA_RDMA_TYPES = frozenset({"p4d.24xlarge", "p4de.24xlarge", "p5.48xlarge", "p5e.48xlarge",
                            "p5en.48xlarge", "p6-b200.48xlarge", "p6-b300.48xlarge"})
"""AWS types whose EFA carries GPUDirect RDMA between the nodes' GPUs."""

GPUDIRECT_SOURCE = ("Google Cloud, 'Maximize GPU network bandwidth in Standard mode clusters' "
                    "(GPUDirect-TCPX: a3-highgpu-8g, 4 additional NICs; GPUDirect-TCPXO: "
                    "a3-megagpu-8g, 8) and 'Run AI workloads with GPUDirect RDMA' (a3-ultragpu-8g, "
                    "a4-highgpu-8g: 8 CX-7 NICs on a VPC with the RoCE network profile); compact "
                    "placement: GKE 'Define compact placement for GKE nodes' (A2, A3, A4)")
GPUDIRECT: dict[str, tuple[FabricKind, int]] = {
    "a3-highgpu-8g": ("gpudirect-tcpx", 4),
    "a3-megagpu-8g": ("gpudirect-tcpxo", 8),
    "a3-ultragpu-8g": ("gpudirect-rdma", 8),
    "a4-highgpu-8g": ("gpudirect-rdma", 8),
}
"""GCP machine types with GPUDirect: the kind and the GPU NICs beyond the node's own."""

SERVER_ADAPTERS_SOURCE = ("NVIDIA DGX H100/B200/B300 user guides and HGX reference designs: "
                          "eight ConnectX-7 (or ConnectX-8) 400G (800G) adapters for the compute "
                          "fabric, InfiniBand or Ethernet (RoCE)")
SERVER_ADAPTERS: dict[str, int] = {
    "dgx-h100": 8, "dgx-b200": 8, "dgx-b300": 8, "dgx-a100": 8,
    "hgx-h100-8gpu": 8, "hgx-h200-8gpu": 8, "hgx-b200-8gpu": 8, "hgx-b300-8gpu": 8,
}
"""Compute-fabric adapters of server models built for multi-node training."""


def cloud_fabric(itype: InstanceType) -> CloudFabric | None:
    """The fabric of a cloud type, None when it has none."""
    if itype.cloud == "aws":
        if not itype.efa_interfaces:
            return None
        return CloudFabric("efa", itype.efa_interfaces, itype.name in EFA_RDMA_TYPES, True,
                           EFA_RDMA_SOURCE if itype.name in EFA_RDMA_TYPES else
                           "AWS EC2 User Guide: EFA supported instance types")
    entry = GPUDIRECT.get(itype.name)
    if entry is None:
        return None
    return CloudFabric(entry[0], entry[1], True, True, GPUDIRECT_SOURCE)


def server_adapters(model: str) -> int:
    """Compute-fabric adapters of a server model (0: none built in)."""
    return SERVER_ADAPTERS.get(model, 0)
