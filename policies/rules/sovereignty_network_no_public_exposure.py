"""sovereignty-network-no-public-exposure: no public buckets, IPs, LBs or open ingress."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.kinds import AWS_BUCKET_PAB, AWS_BUCKETS
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView, Resource, dig, truthy

OPEN = ("0.0.0.0/0", "::/0")
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
}


GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
GKE_INTERNAL_CLASSES = ("gke-l7-rilb", "gke-l7-cross-regional-internal-managed-mc",
                        "gke-l7-rilb-mc")
"""GKE GatewayClasses whose load balancer is internal; the other gke-l7-* are external."""


def _gateway_exposure(i: dict[str, Any]) -> str | None:
    """Why a Gateway API Gateway's load balancer may face the internet, or None."""
    cls = str(dig(i, "spec", "gatewayClassName", default=""))
    if cls.startswith("gke-l7-"):
        return None if cls in GKE_INTERNAL_CLASSES else \
            f"uses GatewayClass {cls}, an external GKE load balancer (use gke-l7-rilb)"
    if dig(i, "spec", "addresses"):
        return None  # the site's own announced addresses
    annotations = dig(i, "spec", "infrastructure", "annotations", default={}) or {}
    if any(str(annotations.get(k, "")).lower() == v.lower()
           for k, v in INTERNAL_LB_ANNOTATIONS.items()):
        return None
    return "gets a LoadBalancer Service without an internal load-balancer annotation " \
        "(spec.infrastructure.annotations)"


def _open(cidrs: object) -> list[str]:
    return [c for c in (cidrs or []) if c in OPEN] if isinstance(cidrs, list) else []


def _exposures(view: PlanView, r: Resource) -> Iterator[str]:
    t, i = r["type"], r["inputs"]
    if t in AWS_BUCKETS:
        blocks = view.linked(r, *AWS_BUCKET_PAB, key="bucket")
        if not blocks:
            yield "has no public access block"
        for b in blocks:
            off = [f for f in PAB_FLAGS if not truthy(b["inputs"].get(f, False))]
            if off:
                yield f"has a public access block that leaves {', '.join(off)} off"
    elif t == "aws:ec2/securityGroup:SecurityGroup":
        for n, rule in enumerate(i.get("ingress") or []):
            cidrs = _open(rule.get("cidrBlocks")) + _open(rule.get("ipv6CidrBlocks"))
            if cidrs:
                yield f"admits {', '.join(cidrs)} in ingress rule {n} (ports " \
                    f"{rule.get('fromPort')}-{rule.get('toPort')})"
    elif t == "aws:ec2/securityGroupRule:SecurityGroupRule" and i.get("type") == "ingress":
        cidrs = _open(i.get("cidrBlocks")) + _open(i.get("ipv6CidrBlocks"))
        if cidrs:
            yield f"admits {', '.join(cidrs)}"
    elif t == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        cidrs = [c for c in (i.get("cidrIpv4"), i.get("cidrIpv6")) if c in OPEN]
        if cidrs:
            yield f"admits {', '.join(cidrs)}"
    elif t == "aws:ec2/subnet:Subnet" and truthy(i.get("mapPublicIpOnLaunch", False)):
        yield "gives instances public IPs (mapPublicIpOnLaunch)"
    elif t in ("aws:ec2/instance:Instance",) and truthy(i.get("associatePublicIpAddress", False)):
        yield "has a public IP (associatePublicIpAddress)"
    elif t == "aws:ec2/launchTemplate:LaunchTemplate":
        for n, nic in enumerate(i.get("networkInterfaces") or []):
            if truthy(nic.get("associatePublicIpAddress", False)):
                yield f"gives network interface {n} a public IP"
    elif t in ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer") \
            and not truthy(i.get("internal", False)):
        yield "is internet-facing (internal is not true)"
    elif t == "gcp:storage/bucket:Bucket" and \
            str(i.get("publicAccessPrevention", "")).lower() != "enforced":
        yield "does not enforce public access prevention"
    elif t.startswith("gcp:storage/bucketIAM"):
        members = [i.get("member")] + list(i.get("members") or [])
        public = [m for m in members if m in PUBLIC_MEMBERS]
        if public:
            yield f"grants access to {', '.join(public)}"
    elif t == "gcp:compute/firewall:Firewall" and \
            str(i.get("direction", "INGRESS")).upper() == "INGRESS" and i.get("allows"):
        # deny rules from 0.0.0.0/0 are what a closed network wants
        cidrs = _open(i.get("sourceRanges"))
        if cidrs and not truthy(i.get("disabled", False)):
            yield f"admits {', '.join(cidrs)}"
    elif t in ("gcp:compute/address:Address", "gcp:compute/globalAddress:GlobalAddress") and \
            str(i.get("addressType", "EXTERNAL")).upper() == "EXTERNAL" and \
            not view.dependents(r, "gcp:compute/routerNat:RouterNat"):
        yield "reserves an external IP address"
    elif t == "gcp:container/cluster:Cluster" and \
            not truthy(dig(i, "privateClusterConfig", "enablePrivateNodes", default=False)):
        yield "gives nodes public IPs (privateClusterConfig.enablePrivateNodes is not true)"
    elif t == "gcp:container/nodePool:NodePool" and \
            dig(i, "networkConfig", "enablePrivateNodes") is False:
        yield "gives nodes public IPs (networkConfig.enablePrivateNodes false)"
    elif t in ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster") \
            and truthy(i.get("publiclyAccessible", False)):
        yield "has a public endpoint (publiclyAccessible)"
    elif t == "gcp:sql/databaseInstance:DatabaseInstance" and truthy(
            dig(i, "settings", "ipConfiguration", "ipv4Enabled", default=True)):
        yield "has a public IP (settings.ipConfiguration.ipv4Enabled is not false)"
    elif t == GATEWAY:
        what = _gateway_exposure(i)
        if what:
            yield what
    elif t == "kubernetes:core/v1:Service" and dig(i, "spec", "type") == "LoadBalancer":
        annotations = dig(i, "metadata", "annotations", default={}) or {}
        if not any(str(annotations.get(k, "")).lower() == v.lower()
                   for k, v in INTERNAL_LB_ANNOTATIONS.items()):
            yield "is a LoadBalancer Service without an internal load-balancer annotation"


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.resources:
        if not r["type"].startswith(("aws:", "gcp:", "kubernetes:core/v1:Service", GATEWAY)):
            continue
        for what in _exposures(view, r):
            yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']} {what}")


EXPOSABLE = (*AWS_BUCKETS, "aws:ec2/securityGroup:SecurityGroup",
             "aws:ec2/securityGroupRule:SecurityGroupRule",
             "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:ec2/subnet:Subnet",
             "aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate",
             "aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer",
             "gcp:storage/bucket:Bucket", "gcp:compute/firewall:Firewall",
             "gcp:compute/address:Address", "gcp:compute/globalAddress:GlobalAddress",
             "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool",
             "kubernetes:core/v1:Service", "aws:rds/instance:Instance", "aws:rds/cluster:Cluster",
             "gcp:sql/databaseInstance:DatabaseInstance", GATEWAY)
EXPOSURE_INPUTS = ("ingress", "type", "cidrBlocks", "ipv6CidrBlocks", "cidrIpv4", "cidrIpv6",
                   "mapPublicIpOnLaunch", "associatePublicIpAddress", "networkInterfaces",
                   "internal", "publicAccessPrevention", "direction", "sourceRanges",
                   "disabled", "addressType", "privateClusterConfig.enablePrivateNodes",
                   "networkConfig.enablePrivateNodes", "spec.type", "publiclyAccessible",
                   "settings.ipConfiguration.ipv4Enabled", "spec.gatewayClassName",
                   "spec.addresses", "spec.infrastructure.annotations")


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.resources:
        if r["type"] in AWS_BUCKETS:
            blocks = view.linked(r, *AWS_BUCKET_PAB, key="bucket")
            yield view.evidence(r, publicAccessBlocks={
                b["name"]: {f: b["inputs"].get(f) for f in PAB_FLAGS} for b in blocks})
        elif r["type"] in EXPOSABLE or r["type"].startswith("gcp:storage/bucketIAM"):
            yield view.evidence(r, *EXPOSURE_INPUTS, "member", "members")


RULE = Rule(
    name="sovereignty-network-no-public-exposure",
    domain="sovereignty",
    severity="critical",
    description="With a declared jurisdiction, nothing is reachable from the internet: "
    "buckets block public access, no security group or firewall admits 0.0.0.0/0, no node, "
    "instance, address or database has a public IP, and load balancers (Services, Gateway "
    "API Gateways) are internal; cluster API "
    "endpoints are judged by security-cluster-private-endpoint.",
    remediation="Add the public access block / public access prevention, narrow ingress to "
    "the VPC or corporate ranges, use private nodes and internal load balancers; reach the "
    "factory over VPN, interconnect or a bastion.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
