"""Network: custom-mode VPC, subnet with pod/service ranges, NAT, default-deny ingress."""

from __future__ import annotations

from typing import Any

import pytest

from blueprints.errors import ComponentArgsError
from components.gcp import Network, NetworkArgs


def args(**overrides: Any) -> NetworkArgs:
    values: dict[str, Any] = dict(region="europe-west4", subnet_cidr="10.10.0.0/20",
                                  pods_cidr="10.20.0.0/14", services_cidr="10.24.0.0/20")
    values.update(overrides)
    return NetworkArgs(**values)


def test_vpc_is_custom_mode(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Network("net", args()))
    vpc = rec.one("gcp:compute/network:Network", "net-vpc")
    assert vpc.inputs["autoCreateSubnetworks"] is False
    assert vpc.inputs["routingMode"] == "REGIONAL"
    assert vpc.parent == rec.one("aifactory:gcp:Network").urn


def test_subnet_has_pod_and_service_ranges_private_google_access_and_flow_logs(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Network("net", args()))
    subnet = rec.one("gcp:compute/subnetwork:Subnetwork", "net-nodes").inputs
    assert subnet["region"] == "europe-west4"
    assert subnet["ipCidrRange"] == "10.10.0.0/20"
    assert subnet["network"] == "net-vpc-id"
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["secondaryIpRanges"] == [
        {"rangeName": "net-pods", "ipCidrRange": "10.20.0.0/14"},
        {"rangeName": "net-services", "ipCidrRange": "10.24.0.0/20"},
    ]
    assert subnet["logConfig"] == {"aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.5,
                                   "metadata": "INCLUDE_ALL_METADATA"}


def test_nodes_leave_through_cloud_nat_without_public_ips(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Network("net", args()))
    router = rec.one("gcp:compute/router:Router").inputs
    assert router == {"name": "net-router", "network": "net-vpc-id", "region": "europe-west4"}
    nat = rec.one("gcp:compute/routerNat:RouterNat").inputs
    assert nat["router"] == "net-router"
    assert nat["region"] == "europe-west4"
    assert nat["natIpAllocateOption"] == "AUTO_ONLY"
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetworks"] == [{"name": "net-nodes-id",
                                   "sourceIpRangesToNats": ["ALL_IP_RANGES"]}]
    assert nat["logConfig"] == {"enable": True, "filter": "ERRORS_ONLY"}
    assert not rec.of_type("gcp:compute/address:Address")  # no public address of our own


def test_ingress_from_anywhere_is_denied_and_logged(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Network("net", args()))
    rule = rec.one("gcp:compute/firewall:Firewall", "net-deny-ingress").inputs
    assert rule["direction"] == "INGRESS"
    assert rule["sourceRanges"] == ["0.0.0.0/0"]
    assert rule["denies"] == [{"protocol": "all"}]
    assert "allows" not in rule
    assert rule["priority"] == 65534  # below GKE's own allow rules (1000)
    assert rule["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"pods_cidr": "10.10.0.0/16"}, "Network net: subnet_cidr (10.10.0.0/20) overlaps pods_cidr "
     "(10.10.0.0/16): give each range its own block"),
    ({"services_cidr": "10.24.0.0/33"}, "Network net: services_cidr ('10.24.0.0/33') is not an "
     "IPv4 CIDR block: use one such as 10.10.0.0/20"),
    ({"subnet_cidr": "8.8.0.0/20"}, "Network net: subnet_cidr (8.8.0.0/20) is not a private "
     "range: use RFC 1918 space such as 10.0.0.0/8"),
    ({"flow_log_sampling": 0.0}, "Network net: flow_log_sampling (0.0) must lie in (0, 1]: use "
     "0.5"),
])
def test_bad_ranges_are_refused(run, overrides, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: Network("net", args(**overrides)))
    assert str(e.value) == message
