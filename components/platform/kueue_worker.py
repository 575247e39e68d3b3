"""Kueue on a MultiKueue worker cluster: where jobs queued in the manager's `remote` queue run.

The worker mirrors the manager's set-up for its own pools: Kueue (same pinned chart and
integrations), the priority classes, a ResourceFlavor per pool of this cluster (node label,
taints), the teams' ClusterQueues with their quotas on this cluster's pools and the Cohort with
the rest (team_queues.py), and a LocalQueue `remote` in each team namespace pointing to the
team's queue (MultiKueue creates the job copy under the same namespace and queue name).

The manager reaches the worker as a ServiceAccount of its own with the permissions the
upstream create-multikueue-kubeconfig.sh grants, restricted to the job kinds Kueue integrates
here (catalog.workloads.remote_kinds). Its token comes from a
`kubernetes.io/service-account-token` Secret (the Kubernetes provider waits for the token
controller to fill it); the kubeconfig built from the API server URL, that Secret's CA and
token is an output of this component, always a Pulumi secret.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import KUEUE
from catalog.workloads import kueue_frameworks, remote_kinds
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import GpuPoolCapacity, chart, namespace
from components.platform.job_queue import (
    DEFAULT_PRIORITIES,
    JobQueueArgs,
    PriorityClass,
    QueueTeam,
    flavor_objects,
    flavor_order,
    kueue_values,
    local_queue,
    priority_objects,
    team_queue_objects,
)
from components.platform.mirror import ImageMirror
from components.platform.multikueue import REMOTE_QUEUE_NAME
from components.platform.team_queues import team_queue_name, validate_teams

SERVICE_ACCOUNT = "multikueue"
"""ServiceAccount (in Kueue's namespace) the manager acts as on this worker."""
_CRUD = ["create", "delete", "get", "list", "watch"]
KUEUE_WORKLOADS = ("kueue.x-k8s.io", "workloads")


@dataclass(frozen=True)
class KueueWorkerArgs:
    """Arguments of `KueueWorker`."""

    environment: str
    """This cluster's environment name."""
    pools: tuple[GpuPoolCapacity, ...]
    """The GPU pools of this cluster."""
    teams: tuple[QueueTeam, ...]
    """Teams whose namespaces get the `remote` LocalQueue."""
    cohort: str
    """The factory's cohort (names the remote ClusterQueue, as on the manager)."""
    api_server: pulumi.Input[str]
    """https:// URL of this cluster's API server, as the manager's Kueue reaches it."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    namespace: str = "kueue-system"
    """Namespace of the Kueue controller and the MultiKueue ServiceAccount."""
    priorities: tuple[PriorityClass, ...] = DEFAULT_PRIORITIES
    """WorkloadPriorityClasses (the same as the manager's: job copies carry their label)."""
    integrations: tuple[str, ...] = ()
    """Workload operators whose job kinds Kueue manages here (as on the manager)."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the chart and its image come from (None: upstream)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources that must exist first: team namespaces, the monitoring chart."""


def remote_role_rules(integrations: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """ClusterRole rules of the manager's ServiceAccount on a worker (PolicyRuleArgs fields):
    the job kinds MultiKueue dispatches for the installed operators, their status, pods and
    Kueue's workloads."""
    rules: list[dict[str, Any]] = []
    for group, resource in [*remote_kinds(integrations), KUEUE_WORKLOADS]:
        rules.append({"api_groups": [group], "resources": [resource], "verbs": list(_CRUD)})
        if resource != "pods":
            status_verbs = ["get", "patch", "update"] if resource == "workloads" else ["get"]
            rules.append({"api_groups": [group], "resources": [f"{resource}/status"],
                          "verbs": status_verbs})
    return rules


def worker_kubeconfig(cluster: str, server: str, token_data: Mapping[str, str] | None) -> str:
    """A token kubeconfig for the MultiKueue ServiceAccount (JSON, which is YAML)."""
    data = token_data or {}
    token = base64.b64decode(data.get("token", "")).decode()
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": cluster,
        "clusters": [{"name": cluster, "cluster": {
            "server": server, "certificate-authority-data": data.get("ca.crt", "")}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster,
                                                   "user": SERVICE_ACCOUNT}}],
        "users": [{"name": SERVICE_ACCOUNT, "user": {"token": token}}],
    }, sort_keys=True)


class KueueWorker(FactoryComponent):
    """Kueue, flavors, the remote queue and the manager's access on one worker cluster."""

    def __init__(self, name: str, args: KueueWorkerArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.pools:
            raise ComponentArgsError(f"`pools` is empty: worker {args.environment!r} needs GPU "
                                     "pools, or leave it out of MultiKueue")
        foreign = sorted(p.pool for p in args.pools if p.environment != args.environment)
        if foreign:
            raise ComponentArgsError(f"`pools` {foreign} are not in {args.environment!r}: give "
                                     "only this cluster's pools")
        if not args.teams:
            raise ComponentArgsError("`teams` is empty: give the teams that submit jobs")
        validate_teams(args.teams, None, [c.name for c in args.priorities])
        ordered = flavor_order(args.pools)
        queues = {t.team: team_queue_name(args.cohort, t.team) for t in args.teams}
        super().__init__("aifactory:platform:KueueWorker", name, {
            "environment": args.environment, "clusterQueues": queues,
            "flavorOrder": [p.pool for p in ordered],
            "gpus": sum(p.quota_gpus for p in ordered),
            "frameworks": kueue_frameworks(args.integrations),
            "chartVersion": KUEUE.version}, opts)

        labels = dict(args.labels)
        ns = namespace(child(name, "ns"), args.namespace, labels, "baseline", self.child_opts())
        values = kueue_values(JobQueueArgs(pools=args.pools, teams=args.teams,
                                           cohort=args.cohort, integrations=args.integrations))
        release = chart(child(name, "chart"), KUEUE, "kueue", args.namespace, values,
                        self.child_opts(depends_on=[ns, *args.depends_on]), args.mirror)
        after_chart = self.child_opts(depends_on=[release])
        priority_objects(name, args.priorities, labels, after_chart)
        flavors = flavor_objects(name, ordered, labels, after_chart)
        targets = team_queue_objects(name, args.cohort, args.teams, ordered, labels,
                                     self.child_opts(depends_on=[release, *flavors]))
        for team in args.teams:
            target, cluster_queue = targets[team.team]
            local_queue(child(name, "queue", team.team), REMOTE_QUEUE_NAME, team, target,
                        labels, self.child_opts(depends_on=[release, cluster_queue,
                                                            *args.depends_on]))

        account = k8s.core.v1.ServiceAccount(
            child(name, "multikueue-sa"),
            metadata={"name": SERVICE_ACCOUNT, "namespace": args.namespace, "labels": labels},
            opts=self.child_opts(depends_on=[ns]))
        role_name = child(SERVICE_ACCOUNT, "remote")
        role = k8s.rbac.v1.ClusterRole(
            child(name, "multikueue-role"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=role_name, labels=labels),
            rules=[k8s.rbac.v1.PolicyRuleArgs(**r)
                   for r in remote_role_rules(args.integrations)],
            opts=self.child_opts())
        k8s.rbac.v1.ClusterRoleBinding(
            child(name, "multikueue-binding"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=role_name, labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io",
                                             kind="ClusterRole", name=role_name),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=SERVICE_ACCOUNT,
                                              namespace=args.namespace)],
            opts=self.child_opts(depends_on=[account, role]))
        token = k8s.core.v1.Secret(
            child(name, "multikueue-token"),
            metadata={"name": child(SERVICE_ACCOUNT, "token"), "namespace": args.namespace,
                      "labels": labels,
                      "annotations": {"kubernetes.io/service-account.name": SERVICE_ACCOUNT}},
            type="kubernetes.io/service-account-token",
            opts=pulumi.ResourceOptions.merge(self.child_opts(depends_on=[account]),
                                              pulumi.ResourceOptions(
                                                  additional_secret_outputs=["data"])))

        self.cluster_queues = pulumi.Output.from_input(queues)
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(args.api_server, token.data).apply(
                lambda v: worker_kubeconfig(args.environment, v[0], v[1])))
        self.register_outputs({"cluster_queues": self.cluster_queues,
                               "kubeconfig": self.kubeconfig})
