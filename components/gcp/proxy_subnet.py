"""The proxy-only subnet a region's internal Application Load Balancers run their proxies in.

GKE's gke-l7-rilb Gateway (model serving) is such a load balancer: without a proxy-only subnet
in the cluster's VPC and region, GKE cannot program the Gateway. One per VPC and region.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent


@dataclass(frozen=True)
class ProxySubnetArgs:
    """Arguments of `ProxySubnet`."""

    network_id: pulumi.Input[str]
    """VPC of the cluster."""
    region: str
    """Region of the cluster."""
    cidr: str
    """Range of the proxies (a /26 or larger; not overlapping the VPC's other ranges)."""


class ProxySubnet(FactoryComponent):
    """A REGIONAL_MANAGED_PROXY subnet, active."""

    def __init__(self, name: str, args: ProxySubnetArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        try:
            net = ipaddress.IPv4Network(args.cidr)
        except ValueError as e:
            raise ComponentArgsError(f"`cidr` {args.cidr!r} is not an IPv4 CIDR block: {e}") \
                from None
        if net.prefixlen > 26:
            raise ComponentArgsError(f"`cidr` {args.cidr} is smaller than a /26: Google "
                                     "requires at least 64 addresses for the proxies")
        super().__init__("aifactory:gcp:ProxySubnet", name, {"region": args.region,
                                                             "cidr": args.cidr}, opts)
        self.subnet = compute.Subnetwork(
            naming.child(name, "subnet"), name=naming.fit(naming.child(name, "subnet"), 63),
            network=args.network_id, region=args.region, ip_cidr_range=args.cidr,
            purpose="REGIONAL_MANAGED_PROXY", role="ACTIVE", opts=self.child_opts())
        self.register_outputs({})
