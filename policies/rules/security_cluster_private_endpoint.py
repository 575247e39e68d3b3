"""security-cluster-private-endpoint: Kubernetes API endpoints are private."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Finding, Rule
from policies.view import PlanView, dig, examine, truthy


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.of_type("aws:eks/cluster:Cluster"):
        vpc = r["inputs"].get("vpcConfig") or {}
        env = view.environment(r)
        spec_path = f"environments.{env['inputs']['environment']}.endpoint_public_access" \
            if env else None
        # EKS defaults: public access on, private access off
        if truthy(vpc.get("endpointPublicAccess", True)):
            cidrs = vpc.get("publicAccessCidrs") or ["0.0.0.0/0"]
            yield view.finding(r, f"EKS cluster {r['name']} exposes its API endpoint publicly "
                               f"(to {', '.join(cidrs)})", spec_path=spec_path,
                               publicAccessCidrs=cidrs)
        if not truthy(vpc.get("endpointPrivateAccess", False)):
            yield view.finding(r, f"EKS cluster {r['name']} has no private API endpoint "
                               "(endpointPrivateAccess is not true)", spec_path=spec_path)
    for r in view.of_type("gcp:container/cluster:Cluster"):
        if not truthy(dig(r["inputs"], "privateClusterConfig", "enablePrivateEndpoint",
                          default=False)):
            env = view.environment(r)
            yield view.finding(r, f"GKE cluster {r['name']} exposes its control-plane endpoint "
                               "publicly (privateClusterConfig.enablePrivateEndpoint is not "
                               "true)", spec_path=f"environments.{env['inputs']['environment']}"
                               ".endpoint_public_access" if env else None)


evidence = examine(("aws:eks/cluster:Cluster", "gcp:container/cluster:Cluster"),
                   "vpcConfig.endpointPublicAccess", "vpcConfig.endpointPrivateAccess",
                   "vpcConfig.publicAccessCidrs", "privateClusterConfig.enablePrivateEndpoint")


RULE = Rule(
    name="security-cluster-private-endpoint",
    domain="security",
    severity="high",
    description="The Kubernetes API of every EKS and GKE cluster is reachable only from "
    "private networks.",
    remediation="Keep endpoint_public_access false in the environment (EKS: "
    "endpoint_private_access true, endpoint_public_access false; GKE: "
    "private_cluster_config.enable_private_endpoint true) and reach the API over VPN, "
    "interconnect or a bastion; waive with a reason if a public endpoint is intended.",
    enforcement="mandatory",
    check=check,
    scope="resource",
    evidence=evidence,
)
