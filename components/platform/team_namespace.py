"""A team's namespace: Pod Security baseline, a GPU quota, default requests, closed ingress.

The ResourceQuota bounds the GPUs a team can hold in this cluster at once (Kueue shares them
fairly below that bound where it runs); the LimitRange gives containers that name no requests
sane ones, so the scheduler can place them; ingress is denied except from the team's own pods
(and from Prometheus, to scrape them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import GPU_RESOURCE, TEAM_LABEL, namespace

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class TeamNamespaceArgs:
    """Arguments of `TeamNamespace`."""

    team: str
    """Team name (a key of the blueprint's queueing.teams)."""
    namespace: str
    """Namespace name."""
    gpu_quota: int
    """Most GPUs the team's pods may request at once in this cluster."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create (the namespace also gets the team label)."""
    monitoring_namespace: str | None = "monitoring"
    """Namespace whose pods (Prometheus) may reach the team's pods; None for none."""
    default_cpu_request: str = "500m"
    """CPU request of a container that names none."""
    default_memory_request: str = "1Gi"
    """Memory request of a container that names none."""
    default_memory_limit: str = "8Gi"
    """Memory limit of a container that names none."""


class TeamNamespace(FactoryComponent):
    """Namespace, ResourceQuota, LimitRange and NetworkPolicies of one team."""

    def __init__(self, name: str, args: TeamNamespaceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not DNS_LABEL.match(args.namespace):
            raise ComponentArgsError(f"`namespace` ({args.namespace!r}) is not a DNS label: use "
                                     "lower-case letters, digits and '-', at most 63")
        if args.gpu_quota < 0:
            raise ComponentArgsError(f"`gpu_quota` ({args.gpu_quota}) is negative: give 0 or "
                                     "more GPUs")
        super().__init__("aifactory:platform:TeamNamespace", name, {
            "team": args.team, "namespace": args.namespace, "gpuQuota": args.gpu_quota}, opts)

        ns_name = args.namespace
        labels = dict(args.labels)
        self.namespace_resource = namespace(
            child(name, "ns"), ns_name, {**labels, TEAM_LABEL: args.team}, "baseline",
            self.child_opts())
        after_ns = self.child_opts(depends_on=[self.namespace_resource])

        def meta(object_name: str) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=ns_name,
                                              labels=labels)

        every_pod = k8s.meta.v1.LabelSelectorArgs()
        k8s.core.v1.ResourceQuota(
            child(name, "gpu-quota"), metadata=meta("gpu-quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                hard={f"requests.{GPU_RESOURCE}": str(args.gpu_quota)}),
            opts=after_ns)
        k8s.core.v1.LimitRange(
            child(name, "defaults"), metadata=meta("container-defaults"),
            spec=k8s.core.v1.LimitRangeSpecArgs(limits=[k8s.core.v1.LimitRangeItemArgs(
                type="Container",
                default_request={"cpu": args.default_cpu_request,
                                 "memory": args.default_memory_request},
                default={"memory": args.default_memory_limit},
            )]), opts=after_ns)
        k8s.networking.v1.NetworkPolicy(
            child(name, "default-deny"), metadata=meta("default-deny-ingress"),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(pod_selector=every_pod,
                                                         policy_types=["Ingress"]),
            opts=after_ns)
        k8s.networking.v1.NetworkPolicy(
            child(name, "allow-same-ns"), metadata=meta("allow-same-namespace"),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=every_pod, policy_types=["Ingress"],
                ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=every_pod)])]),
            opts=after_ns)
        if args.monitoring_namespace:
            monitoring = k8s.meta.v1.LabelSelectorArgs(
                match_labels={"kubernetes.io/metadata.name": args.monitoring_namespace})
            k8s.networking.v1.NetworkPolicy(
                child(name, "allow-monitoring"), metadata=meta("allow-monitoring"),
                spec=k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=every_pod, policy_types=["Ingress"],
                    ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[k8s.networking.v1.NetworkPolicyPeerArgs(
                            namespace_selector=monitoring)])]),
                opts=after_ns)

        self.namespace = pulumi.Output.from_input(ns_name)
        self.gpu_quota = pulumi.Output.from_input(args.gpu_quota)
        self.register_outputs({"namespace": self.namespace, "gpu_quota": self.gpu_quota})
