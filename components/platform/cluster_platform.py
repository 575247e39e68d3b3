"""The Kubernetes platform layer of one cluster: what runs on every cluster of the factory.

The cluster's storage class (created on EKS and GKE, a site's own) and monitoring on every
cluster; the GPU operator (with the pools' GPU sharing) and GPU telemetry where the cluster has
GPU pools; the workload operators the blueprint asks for; the teams' namespaces, each with a
ResourceQuota equal to what the team's queue can admit here; in the cluster named by the
blueprint's queueing.environment, Kueue with a flavor for every GPU pool of the factory (the
MultiKueue manager); in every other cluster with GPU pools, Kueue as a MultiKueue worker. With
a sovereign mirror, every chart and image comes from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi

from blueprints.errors import ComponentArgsError
from catalog.workloads import WORKLOAD_OPERATORS, job_kinds
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import (
    GpuPoolCapacity,
    NodeTaint,
    Substrate,
    validate_pools,
)
from components.platform.gpu_operator import GpuOperator, GpuOperatorArgs
from components.platform.gpu_telemetry import GpuTelemetry, GpuTelemetryArgs
from components.platform.job_queue import (
    DEFAULT_PRIORITIES,
    JobQueue,
    JobQueueArgs,
    PriorityClass,
    QueueTeam,
)
from components.platform.kueue_worker import KueueWorker, KueueWorkerArgs
from components.platform.mirror import ImageMirror
from components.platform.monitoring import Monitoring, MonitoringArgs
from components.platform.storage import ClusterStorage, ClusterStorageArgs
from components.platform.team_namespace import TeamNamespace, TeamNamespaceArgs
from components.platform.team_queues import team_limits
from components.platform.workload_operator import WorkloadOperatorArgs, WorkloadOperatorRelease


@dataclass(frozen=True)
class ClusterPlatformArgs:
    """Arguments of `ClusterPlatform`."""

    environment: str
    """Environment (cluster) name."""
    substrate: Substrate
    """aws, gcp or onprem (decides whether the GPU operator installs drivers)."""
    pools: tuple[GpuPoolCapacity, ...]
    """GPU pools whose nodes are in this cluster."""
    teams: tuple[QueueTeam, ...] = ()
    """Teams: each gets a namespace here."""
    queue: JobQueueArgs | None = None
    """Kueue, for the one cluster that manages the queues (None elsewhere)."""
    worker: KueueWorkerArgs | None = None
    """Kueue as a MultiKueue worker, for the other clusters with GPU pools (None elsewhere)."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror every chart and image comes from (None: upstream)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on every object created."""
    monitoring: MonitoringArgs = field(default_factory=MonitoringArgs)
    """Prometheus stack settings (its labels, mirror and storage class are set here)."""
    storage: ClusterStorageArgs | None = None
    """The storage class the platform's volumes use (None: the cluster's default class)."""
    workloads: tuple[str, ...] = ()
    """Workload operators to install (catalog.workloads: jobset, leaderworkerset, ray)."""
    priorities: tuple[PriorityClass, ...] = DEFAULT_PRIORITIES
    """The factory's workload priority classes (teams' priority caps are read against them)."""
    pool_teams: Mapping[str, str] = field(default_factory=dict)
    """Owning team of each pool (its GPU alerts carry the team's label)."""


class ClusterPlatform(FactoryComponent):
    """Operators, team namespaces, queueing and GPU monitoring of one cluster."""

    def __init__(self, name: str, args: ClusterPlatformArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate_pools("pools", args.pools)
        foreign = sorted(p.pool for p in args.pools if p.environment != args.environment)
        if foreign:
            raise ComponentArgsError(f"`pools` {foreign} run in other environments than "
                                     f"{args.environment!r}: give only this cluster's pools")
        for role, kueue in (("queue", args.queue), ("worker", args.worker)):
            if kueue is not None and kueue.teams != args.teams:
                raise ComponentArgsError(f"`{role}.teams` differ from `teams`: every team with "
                                         "a LocalQueue needs its namespace in this cluster")
        if args.queue is not None and args.worker is not None:
            raise ComponentArgsError(f"{args.environment!r} has both `queue` and `worker`: a "
                                     "cluster is either the MultiKueue manager or a worker")
        unknown = sorted(set(args.workloads) - set(WORKLOAD_OPERATORS))
        if unknown:
            raise ComponentArgsError(f"`workloads` {unknown} are not workload operators: use "
                                     f"{', '.join(WORKLOAD_OPERATORS)}")
        kueue = args.queue or args.worker
        integrations = kueue.integrations if kueue is not None else ()
        if kueue is not None and kueue.priorities != args.priorities:
            raise ComponentArgsError("Kueue's `priorities` differ from `priorities`: give the "
                                     "factory's priority classes to both")
        missing = sorted(set(integrations) - set(args.workloads))
        if missing:
            raise ComponentArgsError(f"Kueue integrates {missing} but `workloads` does not "
                                     "install their operators: add them to `workloads`")
        cluster_gpus = sum(p.quota_gpus for p in args.pools)
        super().__init__("aifactory:platform:ClusterPlatform", name, {
            "environment": args.environment, "substrate": args.substrate,
            "pools": [p.pool for p in args.pools], "clusterGpus": cluster_gpus,
            "teams": [t.team for t in args.teams], "queueing": args.queue is not None,
            "multikueueWorker": args.worker is not None, "workloads": list(args.workloads),
            "mirror": args.mirror.registry if args.mirror else None}, opts)

        labels = dict(args.labels)
        storage_class = args.monitoring.storage_class
        after_storage: list[pulumi.Resource] = []
        if args.storage is not None:
            storage = ClusterStorage(child(name, "storage"),
                                     replace(args.storage, labels=labels),
                                     pulumi.ResourceOptions(parent=self))
            storage_class = storage_class or storage.class_name
            if storage.storage_class_resource is not None:
                after_storage.append(storage.storage_class_resource)
        own_pools = {p.pool for p in args.pools}
        monitoring_args = replace(args.monitoring, labels=labels, mirror=args.mirror,
                                  storage_class=storage_class,
                                  pool_teams={p: t for p, t in args.pool_teams.items()
                                              if p in own_pools})
        monitoring = Monitoring(child(name, "monitoring"), monitoring_args,
                                pulumi.ResourceOptions(parent=self, depends_on=after_storage))

        if args.pools:
            taints: tuple[NodeTaint, ...] = tuple(
                sorted({t for p in args.pools for t in p.taints},
                       key=lambda t: (t.key, t.value, t.effect)))
            sharing = tuple(p.sharing for p in args.pools if p.sharing is not None)
            operator_args = GpuOperatorArgs(substrate=args.substrate, taints=taints,
                                            labels=labels, mirror=args.mirror, sharing=sharing)
            operator = GpuOperator(child(name, "gpu-operator"), operator_args,
                                   pulumi.ResourceOptions(parent=self))
            GpuTelemetry(child(name, "gpu-telemetry"), GpuTelemetryArgs(
                pools=args.pools, monitoring_namespace=monitoring_args.namespace,
                gpu_operator_namespace=operator_args.namespace, labels=labels,
                depends_on=(monitoring.chart, operator.chart),
                pool_teams=monitoring_args.pool_teams),
                pulumi.ResourceOptions(parent=self))

        operators = [
            WorkloadOperatorRelease(child(name, "workload", w), WorkloadOperatorArgs(
                operator=w, labels=labels, mirror=args.mirror),
                pulumi.ResourceOptions(parent=self))
            for w in args.workloads
        ]

        priorities = args.priorities
        team_namespaces = [
            TeamNamespace(child(name, "team", t.team), TeamNamespaceArgs(
                team=t.team, namespace=t.namespace, gpu_quota=team_limits(t, args.pools),
                labels=labels, monitoring_namespace=monitoring_args.namespace,
                allowed_priorities=allowed_priorities(t, priorities),
                job_kinds=tuple(job_kinds(integrations))),
                pulumi.ResourceOptions(parent=self))
            for t in args.teams
        ]

        after = (monitoring.chart, *(o.chart for o in operators),
                 *(t.namespace_resource for t in team_namespaces))
        if args.queue is not None:
            queue_args = replace(
                args.queue, labels={**labels, **args.queue.labels}, mirror=args.mirror,
                depends_on=(*args.queue.depends_on, *after))
            JobQueue(child(name, "kueue"), queue_args, pulumi.ResourceOptions(parent=self))
        self.multikueue_kubeconfig: pulumi.Output[str] | None = None
        if args.worker is not None:
            worker_args = replace(
                args.worker, labels={**labels, **args.worker.labels}, mirror=args.mirror,
                depends_on=(*args.worker.depends_on, *after))
            worker = KueueWorker(child(name, "kueue-worker"), worker_args,
                                 pulumi.ResourceOptions(parent=self))
            self.multikueue_kubeconfig = worker.kubeconfig

        self.monitoring = monitoring
        self.team_namespaces = team_namespaces
        self.cluster_gpus = pulumi.Output.from_input(cluster_gpus)
        self.register_outputs({"cluster_gpus": self.cluster_gpus})


def allowed_priorities(team: QueueTeam,
                       priorities: Sequence[PriorityClass]) -> tuple[str, ...] | None:
    """The priority classes a team's jobs may name: up to the team's own (None: any)."""
    if team.priority is None:
        return None
    cap = next((p.value for p in priorities if p.name == team.priority), None)
    if cap is None:
        raise ComponentArgsError(f"team {team.team!r} names priority {team.priority!r}, "
                                 f"which is none of {[p.name for p in priorities]}")
    return tuple(p.name for p in sorted(priorities, key=lambda p: (-p.value, p.name))
                 if p.value <= cap)
