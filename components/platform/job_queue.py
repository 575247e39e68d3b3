"""Kueue job queueing across every GPU pool of the factory: own hardware first, cloud on overflow.

- One ResourceFlavor per GPU pool (node label aifactory.io/pool=<pool>, tolerations for the
  pool's taints, which Kueue adds to the jobs it admits there).
- A ClusterQueue per team (`<cohort>-<team>`, team_queues.py) with the team's quotas on the
  pools of Kueue's own cluster, in flavor order: every on-prem pool first, then the cloud pools
  (prepaid capacity blocks, then on-demand, then spot, then by name). What no team holds
  nominally is the Cohort's own quota (`<cohort>`), which every team may borrow; fair sharing
  divides it between borrowing teams by weight. Kueue tries flavors in order: a job takes own
  GPUs while they last; when it would have to preempt there (`whenCanPreempt: TryNextFlavor`)
  it tries the next flavor.
- Within a team's queue higher-priority work may preempt lower (WorkloadPriorityClasses, by
  default production and research); a LocalQueue named `default` in each team namespace points
  to the team's queue (the name Kueue's LocalQueueDefaulting uses for jobs without a
  queue-name label).

Kueue accounts only for GPUs: cpu, memory and ephemeral storage are excluded in the Kueue
configuration, because a workload that requests a resource its ClusterQueue does not cover is
never admitted, and the blueprint gives GPUs per pool, not host CPU or memory. Kueue integrates
batch Jobs, pods, and exactly the job kinds whose operators the platform installs
(catalog.workloads).

Kueue manages from one cluster (queueing.environment); the queues above hold only that
cluster's pools. Pools of other clusters are reached through MultiKueue (see multikueue.py):
teams submit to the LocalQueue `remote`, whose ClusterQueue sends the job to the worker
clusters (each with its own Kueue and the same per-team queues, see KueueWorker). A job queued
in `default` never leaves the manager's cluster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from blueprints.errors import ComponentArgsError
from catalog.charts import KUEUE
from catalog.workloads import WORKLOAD_OPERATORS, kueue_frameworks
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import (
    POOL_LABEL,
    GpuPoolCapacity,
    chart,
    namespace,
    validate_pools,
)
from components.platform.kubernetes_object import KubernetesObject
from components.platform.mirror import ImageMirror
from components.platform.multikueue import (
    KUEUE_API,
    REMOTE_QUEUE_NAME,
    WorkerCluster,
    manager_objects,
    remote_queue_name,
    validate_workers,
)
from components.platform.team_queues import (
    QueueTeam,
    cohort_spec,
    team_queue_name,
    team_queue_spec,
    validate_teams,
)
from components.platform.topology import topology_objects

LOCAL_QUEUE_NAME = "default"
MAX_FLAVORS = 64  # ClusterQueue resourceGroups[].flavors maxItems
MAX_TOLERATIONS = 8  # ResourceFlavor tolerations maxItems
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_CAPACITY_ORDER = {"capacity-block": 0, "on-demand": 1, "spot": 2}
# Resources Kueue leaves to the scheduler and ResourceQuotas: see the module docstring.
EXCLUDED_RESOURCE_PREFIXES = ("cpu", "memory", "ephemeral-storage", "hugepages-")
# Fair-sharing preemption: a team below its fair share may preempt a borrower's workload
# (Kueue's recommended pair of strategies, docs "Preemption", Fair Sharing).
FAIR_SHARING_STRATEGIES = ("LessThanOrEqualToFinalShare", "LessThanInitialShare")


@dataclass(frozen=True)
class PriorityClass:
    """A Kueue WorkloadPriorityClass."""

    name: str
    """Name jobs give in the kueue.x-k8s.io/priority-class label."""
    value: int
    """Priority: higher may preempt lower within the ClusterQueue."""
    description: str
    """What the class is for."""


DEFAULT_PRIORITIES = (
    PriorityClass("production", 1000, "Production training and batch inference: may preempt "
                  "research work."),
    PriorityClass("research", 100, "Experiments and research jobs: preemptible by production."),
)


@dataclass(frozen=True)
class JobQueueArgs:
    """Arguments of `JobQueue`."""

    pools: tuple[GpuPoolCapacity, ...]
    """Every GPU pool of the factory: each becomes a ResourceFlavor."""
    teams: tuple[QueueTeam, ...]
    """Teams that submit jobs: each team namespace gets a LocalQueue."""
    cohort: str
    """Cohort of the ClusterQueues (cloud quota is borrowed within it)."""
    environment: str | None = None
    """Cluster Kueue runs in; pools of other clusters run there through MultiKueue `workers`
    (None: every pool is in this cluster)."""
    workers: tuple[WorkerCluster, ...] = ()
    """MultiKueue worker clusters: every cluster other than `environment` with pools."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the chart and its image come from (None: upstream)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    namespace: str = "kueue-system"
    """Namespace of the Kueue controller."""
    priorities: tuple[PriorityClass, ...] = DEFAULT_PRIORITIES
    """WorkloadPriorityClasses to create."""
    integrations: tuple[str, ...] = ()
    """Workload operators (catalog.workloads) whose job kinds Kueue manages, besides batch
    Jobs and pods; each operator must run in the cluster."""
    prometheus: bool = True
    """Let the chart create a ServiceMonitor for Kueue's metrics (needs the monitoring CRDs)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources that must exist first: team namespaces, the monitoring chart."""


def flavor_order(pools: Sequence[GpuPoolCapacity]) -> list[GpuPoolCapacity]:
    """Pools in the order Kueue should try them: own hardware first, then cloud."""
    owned = sorted((p for p in pools if p.owned), key=lambda p: p.pool)
    rented = sorted((p for p in pools if not p.owned),
                    key=lambda p: (_CAPACITY_ORDER.get(p.capacity, 9), p.pool))
    return owned + rented


def local_pools(args: JobQueueArgs) -> list[GpuPoolCapacity]:
    """Pools in Kueue's own cluster, in flavor order."""
    return [p for p in flavor_order(args.pools)
            if args.environment is None or p.environment == args.environment]


def remote_pools(args: JobQueueArgs) -> list[GpuPoolCapacity]:
    """Pools in MultiKueue worker clusters, in flavor order."""
    return [p for p in flavor_order(args.pools)
            if args.environment is not None and p.environment != args.environment]


def kueue_values(args: JobQueueArgs) -> dict[str, Any]:
    """Chart values: the controller configuration (GPU-only accounting, the installed
    frameworks, fair sharing) and metrics."""
    config = {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "controller": {"groupKindConcurrency": {
            "Job.batch": 5, "Pod": 5, "Workload.kueue.x-k8s.io": 5,
            "LocalQueue.kueue.x-k8s.io": 1, "ClusterQueue.kueue.x-k8s.io": 1,
            "ResourceFlavor.kueue.x-k8s.io": 1}},
        "clientConnection": {"qps": 50, "burst": 100},
        "integrations": {"frameworks": kueue_frameworks(args.integrations)},
        "fairSharing": {"preemptionStrategies": list(FAIR_SHARING_STRATEGIES)},
        "resources": {"excludeResourcePrefixes": list(EXCLUDED_RESOURCE_PREFIXES)},
    }
    return {
        "enablePrometheus": args.prometheus,
        "managerConfig": {"controllerManagerConfigYaml": yaml.safe_dump(config, sort_keys=False)},
    }


def _validate(args: JobQueueArgs) -> None:
    if not args.pools:
        raise ComponentArgsError("`pools` is empty: Kueue needs at least one GPU pool to give "
                                 "quota for; leave JobQueue out of a factory without GPU pools")
    validate_pools("pools", args.pools)
    if len(args.pools) > MAX_FLAVORS:
        raise ComponentArgsError(f"`pools` has {len(args.pools)} pools: a ClusterQueue takes at "
                                 f"most {MAX_FLAVORS} flavors; merge pools")
    for p in args.pools:
        if not DNS_SUBDOMAIN.match(p.pool):
            raise ComponentArgsError(f"`pools`: {p.pool!r} is not a valid ResourceFlavor name: "
                                     "use lower-case letters, digits and '-'")
        if len(p.taints) > MAX_TOLERATIONS:
            raise ComponentArgsError(f"`pools`: pool {p.pool!r} has {len(p.taints)} taints: a "
                                     f"ResourceFlavor takes at most {MAX_TOLERATIONS} tolerations")
    if not args.teams:
        raise ComponentArgsError("`teams` is empty: give at least one team, or no team could "
                                 "submit a job")
    namespaces = [t.namespace for t in args.teams]
    repeated = sorted({n for n in namespaces if namespaces.count(n) > 1})
    if repeated:
        raise ComponentArgsError(f"`teams` share namespaces {repeated}: give each team its own")
    if not DNS_SUBDOMAIN.match(args.cohort):
        raise ComponentArgsError(f"`cohort` ({args.cohort!r}) is not a valid name: use "
                                 "lower-case letters, digits and '-'")
    names = [c.name for c in args.priorities]
    if len(set(names)) != len(names):
        raise ComponentArgsError(f"`priorities` repeat a name: {names}")
    unknown = sorted(set(args.integrations) - set(WORKLOAD_OPERATORS))
    if unknown:
        raise ComponentArgsError(f"`integrations` {unknown} are not workload operators: use "
                                 f"{', '.join(WORKLOAD_OPERATORS)}")
    validate_teams(args.teams, {p.pool for p in args.pools}, names)
    teams = [t.team for t in args.teams]
    if len(set(teams)) != len(teams):
        raise ComponentArgsError(f"`teams` repeat a name: {teams}")
    if remote_queue_name(args.cohort) in {team_queue_name(args.cohort, t) for t in teams}:
        raise ComponentArgsError(f"a team's queue would be named {remote_queue_name(args.cohort)!r}"
                                 ", the MultiKueue queue's name: rename the team 'remote'")
    if args.environment is not None:
        validate_workers(args.environment, args.pools, args.workers)
    elif args.workers:
        raise ComponentArgsError("`workers` are given but `environment` is not: name the "
                                 "cluster Kueue runs in")


def priority_objects(name: str, priorities: Sequence[PriorityClass],
                     labels: Mapping[str, str], opts: pulumi.ResourceOptions) -> None:
    """A WorkloadPriorityClass for each priority."""
    for pc in priorities:
        KubernetesObject(
            child(name, "priority", pc.name), KUEUE_API, "WorkloadPriorityClass",
            metadata={"name": pc.name, "labels": dict(labels)},
            fields={"value": pc.value, "description": pc.description}, opts=opts)


def flavor_objects(name: str, pools: Sequence[GpuPoolCapacity], labels: Mapping[str, str],
                   opts: pulumi.ResourceOptions) -> list[k8s.apiextensions.CustomResource]:
    """A ResourceFlavor per pool: its nodes by the pool label, tolerating the pool's taints,
    naming its Topology (created here too) for topology-aware placement."""
    topologies = topology_objects(name, [p.topology for p in pools if p.topology], labels, opts)
    return [
        k8s.apiextensions.CustomResource(
            child(name, "flavor", p.pool), api_version=KUEUE_API, kind="ResourceFlavor",
            metadata={"name": p.pool, "labels": dict(labels)},
            spec={"nodeLabels": {POOL_LABEL: p.pool}, "tolerations": p.tolerations(),
                  **({"topologyName": p.topology} if p.topology else {})},
            opts=opts if not p.topology else pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=topologies)))
        for p in pools
    ]


def team_queue_objects(name: str, cohort: str, teams: Sequence[QueueTeam],
                       pools: Sequence[GpuPoolCapacity], labels: Mapping[str, str],
                       opts: pulumi.ResourceOptions,
                       ) -> dict[str, tuple[str, pulumi.Resource]]:
    """The Cohort with the quota no team holds, and each team's ClusterQueue on `pools`
    (team -> (queue name, queue resource)); nothing when there are no pools. `opts` must make
    them depend on the Kueue chart and the pools' flavors."""
    if not pools:
        return {}
    cohort_object = k8s.apiextensions.CustomResource(
        child(name, "cohort"), api_version=KUEUE_API, kind="Cohort",
        metadata={"name": cohort, "labels": dict(labels)}, spec=cohort_spec(teams, pools),
        opts=opts)
    out: dict[str, tuple[str, pulumi.Resource]] = {}
    for team in teams:
        queue = team_queue_name(cohort, team.team)
        out[team.team] = (queue, k8s.apiextensions.CustomResource(
            child(name, "team-queue", team.team), api_version=KUEUE_API, kind="ClusterQueue",
            metadata={"name": queue, "labels": dict(labels)},
            spec=team_queue_spec(cohort, team, pools),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                depends_on=[cohort_object]))))
    return out


def local_queue(resource_name: str, queue_name: str, team: QueueTeam, cluster_queue: str,
                labels: Mapping[str, str], opts: pulumi.ResourceOptions,
                ) -> k8s.apiextensions.CustomResource:
    """A team's LocalQueue pointing at a ClusterQueue."""
    return k8s.apiextensions.CustomResource(
        resource_name, api_version=KUEUE_API, kind="LocalQueue",
        metadata={"name": queue_name, "namespace": team.namespace, "labels": dict(labels)},
        spec={"clusterQueue": cluster_queue}, opts=opts)


class JobQueue(FactoryComponent):
    """Kueue (pinned chart) with flavors, ClusterQueues, priorities and LocalQueues; with
    MultiKueue workers, the remote queue that sends jobs to them."""

    def __init__(self, name: str, args: JobQueueArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        ordered = flavor_order(args.pools)
        remote = remote_pools(args)
        local = local_pools(args)
        queues = {t.team: team_queue_name(args.cohort, t.team) for t in args.teams} \
            if local else {}
        super().__init__("aifactory:platform:JobQueue", name, {
            "cohort": args.cohort, "clusterQueues": queues,
            "flavorOrder": [p.pool for p in ordered],
            "ownedGpus": sum(p.quota_gpus for p in ordered if p.owned),
            "cloudGpus": sum(p.quota_gpus for p in ordered if not p.owned),
            "teamQuotas": {t.team: {q.pool: q.nominal for q in t.quotas} for t in args.teams},
            "frameworks": kueue_frameworks(args.integrations),
            "remoteQueue": remote_queue_name(args.cohort) if remote else None,
            "workers": [w.environment for w in args.workers],
            "chartVersion": KUEUE.version}, opts)

        labels = dict(args.labels)
        ns = namespace(child(name, "ns"), args.namespace, labels, "baseline", self.child_opts())
        release = chart(child(name, "chart"), KUEUE, "kueue", args.namespace, kueue_values(args),
                        self.child_opts(depends_on=[ns, *args.depends_on]), args.mirror)
        after_chart = self.child_opts(depends_on=[release])
        priority_objects(name, args.priorities, labels, after_chart)
        flavors = flavor_objects(name, ordered, labels, after_chart)
        after_flavors = self.child_opts(depends_on=[release, *flavors])

        team_targets = team_queue_objects(name, args.cohort, args.teams, local, labels,
                                          after_flavors)
        for team in args.teams:
            if team.team in team_targets:
                target, resource = team_targets[team.team]
                local_queue(child(name, "queue", team.team), LOCAL_QUEUE_NAME, team, target,
                            labels, self.child_opts(depends_on=[release, resource,
                                                                *args.depends_on]))
        if remote:
            remote_queue = manager_objects(name, args.cohort, args.namespace, remote,
                                           args.workers, labels, after_flavors)
            for team in args.teams:
                local_queue(child(name, "queue", team.team, REMOTE_QUEUE_NAME),
                            REMOTE_QUEUE_NAME, team, remote_queue_name(args.cohort), labels,
                            self.child_opts(depends_on=[release, remote_queue,
                                                        *args.depends_on]))

        self.cluster_queues = pulumi.Output.from_input(queues)
        self.remote_queue = pulumi.Output.from_input(
            remote_queue_name(args.cohort) if remote else "")
        self.flavor_order = pulumi.Output.from_input([p.pool for p in ordered])
        self.register_outputs({"cluster_queues": self.cluster_queues,
                               "remote_queue": self.remote_queue,
                               "flavor_order": self.flavor_order})
