"""The GKE network: a custom-mode VPC, one regional subnet with pod and service ranges, NAT.

Nodes get no public IPs (the cluster's nodes are private); they reach the internet through
Cloud NAT and Google APIs through Private Google Access. Ingress from anywhere is denied
explicitly at the lowest priority, with logging, so the rules GKE adds for its own control
plane and health checks (priority 1000) still apply and nothing else gets in unnoticed.
"""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent

ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class NetworkArgs:
    """Arguments of `Network`."""

    region: str
    """Region of the subnet, router and NAT, e.g. europe-west4."""
    subnet_cidr: str
    """Primary range of the node subnet, e.g. 10.10.0.0/20."""
    pods_cidr: str
    """Secondary range for pod IPs (VPC-native cluster), e.g. 10.20.0.0/14."""
    services_cidr: str
    """Secondary range for service IPs, e.g. 10.24.0.0/20."""
    flow_log_sampling: float = 0.5
    """Share of flows VPC flow logs sample (0 < x <= 1)."""
    nat_min_ports_per_vm: int = 64
    """Cloud NAT ports reserved per VM (GPU nodes pull large images: raise if NAT drops)."""


class Network(FactoryComponent):
    """VPC, subnet with secondary ranges, Cloud Router and NAT, and a default-deny ingress rule."""

    def __init__(self, name: str, args: NetworkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:gcp:Network", name, None, opts)
        pods_range = naming.child(name, "pods")
        services_range = naming.child(name, "services")

        vpc = compute.Network(
            naming.child(name, "vpc"),
            name=naming.fit(naming.child(name, "vpc"), 63),
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description="AI factory network (custom mode: only the subnets declared here)",
            opts=self.child_opts(),
        )
        subnet = compute.Subnetwork(
            naming.child(name, "nodes"),
            name=naming.fit(naming.child(name, "nodes"), 63),
            network=vpc.id,
            region=args.region,
            ip_cidr_range=args.subnet_cidr,
            private_ip_google_access=True,
            secondary_ip_ranges=[
                {"range_name": pods_range, "ip_cidr_range": args.pods_cidr},
                {"range_name": services_range, "ip_cidr_range": args.services_cidr},
            ],
            log_config={"aggregation_interval": "INTERVAL_5_SEC",
                        "flow_sampling": args.flow_log_sampling,
                        "metadata": "INCLUDE_ALL_METADATA"},
            opts=self.child_opts(),
        )
        router = compute.Router(
            naming.child(name, "router"),
            name=naming.fit(naming.child(name, "router"), 63),
            network=vpc.id,
            region=args.region,
            opts=self.child_opts(),
        )
        compute.RouterNat(
            naming.child(name, "nat"),
            name=naming.fit(naming.child(name, "nat"), 63),
            router=router.name,
            region=args.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[{"name": subnet.id, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}],
            min_ports_per_vm=args.nat_min_ports_per_vm,
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=self.child_opts(),
        )
        compute.Firewall(
            naming.child(name, "deny-ingress"),
            name=naming.fit(naming.child(name, "deny-ingress"), 63),
            network=vpc.id,
            direction="INGRESS",
            priority=65534,
            source_ranges=[ANYWHERE],
            denies=[{"protocol": "all"}],
            log_config={"metadata": "INCLUDE_ALL_METADATA"},
            description="Default deny of ingress from anywhere; GKE's own rules (priority 1000) "
            "admit the control plane and health checks",
            opts=self.child_opts(),
        )
        self.network_id: pulumi.Output[str] = vpc.id
        self.subnetwork_id: pulumi.Output[str] = subnet.id
        self.pods_range_name: pulumi.Output[str] = pulumi.Output.from_input(pods_range)
        self.services_range_name: pulumi.Output[str] = pulumi.Output.from_input(services_range)
        self.register_outputs({
            "network_id": self.network_id,
            "subnetwork_id": self.subnetwork_id,
            "pods_range_name": self.pods_range_name,
            "services_range_name": self.services_range_name,
        })


def _validate(name: str, args: NetworkArgs) -> None:
    ranges = {}
    for field in ("subnet_cidr", "pods_cidr", "services_cidr"):
        value = getattr(args, field)
        try:
            ranges[field] = ipaddress.IPv4Network(value)
        except ValueError:
            raise ComponentArgsError(
                f"Network {name}: {field} ({value!r}) is not an IPv4 CIDR block: use one such "
                "as 10.10.0.0/20") from None
        if not ranges[field].is_private:
            raise ComponentArgsError(
                f"Network {name}: {field} ({value}) is not a private range: use RFC 1918 "
                "space such as 10.0.0.0/8")
    for (a, net_a), (b, net_b) in itertools.combinations(ranges.items(), 2):
        if net_a.overlaps(net_b):
            raise ComponentArgsError(
                f"Network {name}: {a} ({net_a}) overlaps {b} ({net_b}): give each range its "
                "own block")
    if not 0 < args.flow_log_sampling <= 1:
        raise ComponentArgsError(
            f"Network {name}: flow_log_sampling ({args.flow_log_sampling}) must lie in (0, 1]: "
            "use 0.5")
    if not 2 <= args.nat_min_ports_per_vm <= 65536:
        raise ComponentArgsError(
            f"Network {name}: nat_min_ports_per_vm ({args.nat_min_ports_per_vm}) must lie "
            "between 2 and 65536: use 64")
