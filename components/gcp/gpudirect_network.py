"""The extra VPCs a GPUDirect node pool's GPU NICs attach to (GKE multi-networking).

As Google documents for A3 and A4 machines ("Maximize GPU network bandwidth in Standard mode
clusters", "Run AI workloads with GPUDirect RDMA"), and as Cluster Toolkit's a3-megagpu and
gke-a4 blueprints build them:

- GPUDirect-TCPX (a3-highgpu-8g, 4 NICs) and GPUDirect-TCPXO (a3-megagpu-8g, 8 NICs): one VPC
  per NIC (MTU 8244), each with one regional subnet and a firewall rule that lets in only traffic
  from that subnet (the NICs talk to their peers' NICs, nothing else).
- GPUDirect RDMA (a3-ultragpu-8g, a4-highgpu-8g, 8 CX-7 NICs): one VPC with the zone's RoCE
  network profile (`<zone>-vpc-roce`, MTU 8896) and a subnet per NIC; RoCE VPCs take no
  firewall rules.

The node pool lists the subnets as additional node networks; the GKE side (Network and
GKENetworkParamSet objects) is in components/platform/gpudirect.py.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent

KINDS = ("gpudirect-tcpx", "gpudirect-tcpxo", "gpudirect-rdma")
MTU = {"gpudirect-tcpx": 8244, "gpudirect-tcpxo": 8244, "gpudirect-rdma": 8896}


@dataclass(frozen=True)
class GpuDirectNetworksArgs:
    """Arguments of `GpuDirectNetworks`."""

    project: str
    """GCP project."""
    region: str
    """Region of the subnets (the cluster's)."""
    zone: str
    """Zone of the pool (a RoCE network profile is zonal)."""
    kind: str
    """gpudirect-tcpx, gpudirect-tcpxo or gpudirect-rdma."""
    nics: int
    """GPU NICs per node: one subnet each."""
    name_prefix: str
    """Prefix of the networks' and subnets' names."""
    cidr: str
    """Range the subnets are cut from (one /24 a NIC)."""


@dataclass(frozen=True)
class GpuNic:
    """One GPU NIC's network: what the node pool and the GKE objects name."""

    network: pulumi.Output[str]
    """VPC name."""
    subnetwork: pulumi.Output[str]
    """Subnet name."""
    index: int
    """NIC index (0-based)."""


def nic_ranges(cidr: str, nics: int) -> list[str]:
    """The /24 of each NIC, in order."""
    net = ipaddress.ip_network(cidr)
    if net.prefixlen > 24 or 2 ** (24 - net.prefixlen) < nics:
        raise ComponentArgsError(f"`cidr` ({cidr}) holds fewer than {nics} /24 ranges: give "
                                 f"a /{24 - max(0, (nics - 1).bit_length())} or larger")
    return [str(s) for s in list(net.subnets(new_prefix=24))[:nics]]


class GpuDirectNetworks(FactoryComponent):
    """The GPU NICs' VPCs and subnets (and, TCPX/TCPXO, their firewall rules)."""

    def __init__(self, name: str, args: GpuDirectNetworksArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if args.kind not in KINDS:
            raise ComponentArgsError(f"`kind` ({args.kind!r}) must be one of {', '.join(KINDS)}")
        if not 1 <= args.nics <= 16:
            raise ComponentArgsError(f"`nics` ({args.nics}) must lie between 1 and 16")
        ranges = nic_ranges(args.cidr, args.nics)
        super().__init__("aifactory:gcp:GpuDirectNetworks", name, {
            "kind": args.kind, "nics": args.nics, "region": args.region, "zone": args.zone,
            "ranges": ranges}, opts)
        mtu = MTU[args.kind]
        self.nics: list[GpuNic] = []
        if args.kind == "gpudirect-rdma":
            vpc = compute.Network(
                naming.child(name, "rdma-vpc"), name=naming.fit(f"{args.name_prefix}-rdma", 63),
                project=args.project, auto_create_subnetworks=False, mtu=mtu,
                routing_mode="REGIONAL",
                network_profile=f"projects/{args.project}/global/networkProfiles/"
                f"{args.zone}-vpc-roce",
                description="GPUDirect RDMA: the GPU NICs' RoCE network",
                opts=self.child_opts())
            for i, cidr in enumerate(ranges):
                sub = compute.Subnetwork(
                    naming.child(name, "rdma-subnet", str(i)),
                    name=naming.fit(f"{args.name_prefix}-rdma-{i}", 63), project=args.project,
                    region=args.region, network=vpc.id, ip_cidr_range=cidr,
                    private_ip_google_access=True, opts=self.child_opts())
                self.nics.append(GpuNic(vpc.name, sub.name, i))
        else:
            for i, cidr in enumerate(ranges):
                vpc = compute.Network(
                    naming.child(name, "vpc", str(i)),
                    name=naming.fit(f"{args.name_prefix}-gpunic-{i}", 63), project=args.project,
                    auto_create_subnetworks=False, mtu=mtu, routing_mode="REGIONAL",
                    description=f"{args.kind}: GPU NIC {i}", opts=self.child_opts())
                sub = compute.Subnetwork(
                    naming.child(name, "subnet", str(i)),
                    name=naming.fit(f"{args.name_prefix}-gpunic-{i}", 63), project=args.project,
                    region=args.region, network=vpc.id, ip_cidr_range=cidr,
                    private_ip_google_access=True, opts=self.child_opts())
                compute.Firewall(
                    naming.child(name, "firewall", str(i)),
                    name=naming.fit(f"{args.name_prefix}-gpunic-{i}-internal", 63),
                    project=args.project, network=vpc.id, direction="INGRESS",
                    source_ranges=[cidr], allows=[{"protocol": "tcp"}, {"protocol": "udp"},
                                                  {"protocol": "icmp"}],
                    description=f"GPU NIC {i}: traffic between the pool's own NICs only",
                    opts=self.child_opts())
                self.nics.append(GpuNic(vpc.name, sub.name, i))
        self.network_names: pulumi.Output[list[str]] = pulumi.Output.all(
            *(n.network for n in self.nics))
        self.register_outputs({"network_names": self.network_names})


def additional_networks(nics: Sequence[GpuNic]) -> list[dict[str, pulumi.Input[str]]]:
    """The node pool's additional node network configs, one per NIC."""
    return [{"network": n.network, "subnetwork": n.subnetwork} for n in nics]
