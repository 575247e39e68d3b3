"""A team's namespace: Pod Security baseline, a GPU quota, default requests, closed ingress.

The ResourceQuota bounds the GPUs a team can hold in this cluster at once: what its Kueue
ClusterQueue can admit here (its nominal quota plus what it may borrow, per resource; Kueue
shares idle GPUs fairly below that bound). The LimitRange gives containers that name no
requests sane ones, so the scheduler can place them; ingress is denied except from the team's
own pods (and from Prometheus, to scrape them). With a priority cap, a ValidatingAdmissionPolicy
refuses the team's jobs that ask for a higher Kueue priority class than the team may use.
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
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
"""Label a job names its Kueue WorkloadPriorityClass with."""


@dataclass(frozen=True)
class TeamNamespaceArgs:
    """Arguments of `TeamNamespace`."""

    team: str
    """Team name (a key of the blueprint's queueing.teams)."""
    namespace: str
    """Namespace name."""
    gpu_quota: int | Mapping[str, int]
    """Most GPUs the team's pods may request at once in this cluster: per extended resource
    (nvidia.com/gpu, nvidia.com/mig-1g.10gb, ...), or a number of nvidia.com/gpu."""
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
    allowed_priorities: tuple[str, ...] | None = None
    """Kueue priority classes the team's jobs may name (None: any)."""
    job_kinds: tuple[tuple[str, str], ...] = ()
    """(API group, resource) of the job kinds the priority cap applies to."""


class TeamNamespace(FactoryComponent):
    """Namespace, ResourceQuota, LimitRange and NetworkPolicies of one team."""

    def __init__(self, name: str, args: TeamNamespaceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not DNS_LABEL.match(args.namespace):
            raise ComponentArgsError(f"`namespace` ({args.namespace!r}) is not a DNS label: use "
                                     "lower-case letters, digits and '-', at most 63")
        quota = ({GPU_RESOURCE: args.gpu_quota} if isinstance(args.gpu_quota, int)
                 else dict(sorted(args.gpu_quota.items())))
        negative = {k: v for k, v in quota.items() if v < 0}
        if negative:
            raise ComponentArgsError(f"`gpu_quota` {negative} is negative: give 0 or more GPUs")
        if args.allowed_priorities is not None and not args.allowed_priorities:
            raise ComponentArgsError("`allowed_priorities` is empty: name at least one "
                                     "priority class, or None for any")
        if args.allowed_priorities is not None and not args.job_kinds:
            raise ComponentArgsError("`job_kinds` is empty: the priority cap needs the job "
                                     "kinds it applies to")
        super().__init__("aifactory:platform:TeamNamespace", name, {
            "team": args.team, "namespace": args.namespace,
            "gpuQuota": quota[GPU_RESOURCE] if list(quota) == [GPU_RESOURCE] else quota,
            "allowedPriorities": list(args.allowed_priorities)
            if args.allowed_priorities is not None else None}, opts)

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
                hard={f"requests.{resource}": str(units) for resource, units in quota.items()}),
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

        if args.allowed_priorities is not None:
            self._priority_cap(name, args, labels)

        self.team: str = args.team
        """The team (what a caller matches the namespace by)."""
        self.namespace = pulumi.Output.from_input(ns_name)
        self.gpu_quota = pulumi.Output.from_input(quota)
        self.register_outputs({"namespace": self.namespace, "gpu_quota": self.gpu_quota})

    def _priority_cap(self, name: str, args: TeamNamespaceArgs,
                      labels: Mapping[str, str]) -> None:
        """Refuse the team's jobs that name a priority class above the team's."""
        assert args.allowed_priorities is not None
        policy_name = child("aifactory-priority", args.team)
        allowed = ", ".join(f"'{p}'" for p in args.allowed_priorities)
        label = PRIORITY_LABEL
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            child(name, "priority-policy"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=policy_name, labels=dict(labels)),
            spec=k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs(
                failure_policy="Fail",
                match_constraints=k8s.admissionregistration.v1.MatchResourcesArgs(
                    namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                        match_labels={TEAM_LABEL: args.team}),
                    resource_rules=[
                        k8s.admissionregistration.v1.NamedRuleWithOperationsArgs(
                            api_groups=[group], api_versions=["*"], resources=[resource],
                            operations=["CREATE", "UPDATE"])
                        for group, resource in args.job_kinds]),
                validations=[k8s.admissionregistration.v1.ValidationArgs(
                    expression=f"!has(object.metadata.labels) || !('{label}' in "
                    f"object.metadata.labels) || object.metadata.labels['{label}'] in "
                    f"[{allowed}]",
                    message=f"team {args.team} may use the priority classes {allowed} only",
                    reason="Forbidden")]),
            opts=self.child_opts())
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            child(name, "priority-binding"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=policy_name, labels=dict(labels)),
            spec=k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgs(
                policy_name=policy_name, validation_actions=["Deny"]),
            opts=self.child_opts(depends_on=[policy]))
