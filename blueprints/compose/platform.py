"""The platform layer of every cluster, built after the substrates: spec -> ClusterPlatform args.

Pool capacities come from the blueprint (blueprints.compose.facts.pool_facts and the site
inventory), never read back from the pool resources, so the plan, the policies and Kueue's
quotas agree.
With queueing across clusters, the worker clusters are built first: the manager's MultiKueue
needs each worker's kubeconfig, an output of the worker's platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pulumi

import catalog
from blueprints.compose.blame import blame
from blueprints.compose.facts import pool_facts
from blueprints.compose.lifecycle import build_lifecycle, monitoring_args, pool_teams
from blueprints.compose.sharing import operator_sharing
from blueprints.compose.tagging import k8s_labels
from blueprints.errors import BlueprintFieldError, ComponentArgsError
from blueprints.spec.models import Blueprint, GpuPool, OnPremSite, Team
from catalog.fabric import EFA_RDMA_TYPES, GPUDIRECT
from components.naming import child
from components.platform.cluster_platform import ClusterPlatform, ClusterPlatformArgs
from components.platform.common import ENVIRONMENT_LABEL, GpuPoolCapacity, NodeTaint
from components.platform.job_queue import (
    DEFAULT_PRIORITIES,
    JobQueueArgs,
    PriorityClass,
    QueueTeam,
    flavor_order,
)
from components.platform.kueue_worker import KueueWorkerArgs
from components.platform.mirror import ImageMirror, image_mirror
from components.platform.multikueue import WorkerCluster
from components.platform.storage import ClusterStorageArgs
from components.platform.team_queues import TeamQuota

if TYPE_CHECKING:
    from blueprints.compose import Built, EnvironmentBuild


def pool_capacity(spec: Blueprint, name: str, pool: GpuPool) -> GpuPoolCapacity:
    """What the platform layer needs of one pool, from the blueprint."""
    facts = pool_facts(spec, name, pool)
    env = spec.environment_of(pool)
    owned_gpus: int | None = None
    if isinstance(env, OnPremSite):
        chosen = set(pool.hosts) if pool.hosts is not None else {h.hostname for h in env.gpu_hosts}
        hosts = [h for h in env.hosts if h.hostname in chosen][: pool.max_nodes]
        owned_gpus = sum(catalog.server(h.server_model).gpus for h in hosts)
    return GpuPoolCapacity(
        pool=name, environment=pool.environment, substrate=env.kind,
        capacity=facts["capacity"], gpu_model=facts["gpuModel"],
        gpus_per_node=facts["gpusPerNode"], min_nodes=facts["minNodes"],
        max_nodes=facts["maxNodes"], owned_gpus=owned_gpus,
        taints=tuple(NodeTaint(t.key, t.value, t.effect) for t in pool.taints),
        gpu_resource=facts["gpuResource"], units_per_gpu=facts["unitsPerGpu"],
        sharing=operator_sharing(spec, name, pool),
        topology=topology_of(spec, pool),
    )


def topology_of(spec: Blueprint, pool: GpuPool) -> str | None:
    """The Kueue Topology of a multi-node pool whose nodes carry topology labels: EKS labels
    the types the instance topology API covers (the GPUDirect RDMA EFA types), GKE its
    GPUDirect machines; a site's first boot labels every host."""
    if pool.max_nodes < 2:
        return None
    env = spec.environment_of(pool)
    if isinstance(env, OnPremSite):
        return "site-fabric" if env.fabric is not None else "site-racks"
    if env.kind == "aws":
        return "eks-network" if all(t in EFA_RDMA_TYPES for t in pool.types) else None
    return "gke-network" if all(t in GPUDIRECT for t in pool.types) else None


def team_quotas(spec: Blueprint, team: Team,
                capacities: Sequence[GpuPoolCapacity]) -> tuple[TeamQuota, ...]:
    """A team's quotas by pool: pool keys as given; a GPU model's nominal (and lending) quota
    split over that model's pools in flavor order, each filled to its GPUs (the last takes
    what remains, so a quota above the model's GPUs shows on a pool), its borrowing limit on
    each."""
    out: list[TeamQuota] = []
    ordered = flavor_order(capacities)
    for key, q in team.quotas.items():
        if key in spec.pools:
            out.append(TeamQuota(pool=key, nominal=q.nominal, borrowing_limit=q.borrowing_limit,
                                 lending_limit=q.lending_limit))
            continue
        pools = [p for p in ordered if p.gpu_model == key]
        nominal, lending = q.nominal, q.lending_limit
        for i, p in enumerate(pools):
            share = nominal if i == len(pools) - 1 else min(nominal, p.quota_gpus)
            lend = None if lending is None else min(lending, share)
            out.append(TeamQuota(pool=p.pool, nominal=share, borrowing_limit=q.borrowing_limit,
                                 lending_limit=lend))
            nominal -= share
            lending = None if lending is None or lend is None else lending - lend
    return tuple(sorted(out, key=lambda t: t.pool))


def queue_teams(spec: Blueprint,
                capacities: Sequence[GpuPoolCapacity]) -> tuple[QueueTeam, ...]:
    """The blueprint's teams, with their quotas resolved to pools."""
    q = spec.queueing
    if q is None:
        return ()
    return tuple(QueueTeam(team=n, namespace=t.namespace,
                           quotas=team_quotas(spec, t, capacities), weight=t.weight,
                           priority=t.priority) for n, t in q.teams.items())


def priorities_of(spec: Blueprint) -> tuple[PriorityClass, ...]:
    """The blueprint's workload priority classes, highest first."""
    q = spec.queueing
    if q is None:
        return DEFAULT_PRIORITIES
    known = {p.name: p.description for p in DEFAULT_PRIORITIES}
    return tuple(PriorityClass(name, value, known.get(name, f"Priority {value} workloads."))
                 for name, value in sorted(q.priorities.items(), key=lambda i: (-i[1], i[0])))


def mirror_of(spec: Blueprint) -> ImageMirror | None:
    """The blueprint's in-jurisdiction chart and image mirror, if it declares one."""
    s = spec.sovereignty
    if s is None or s.mirror is None:
        return None
    return image_mirror(s.mirror.registry, s.mirror.charts, s.mirror.images)


def worker_environments(spec: Blueprint) -> list[str]:
    """Clusters that run queued jobs as MultiKueue workers: every one with GPU pools other than
    the queueing environment."""
    q = spec.queueing
    if q is None:
        return []
    return sorted({p.environment for p in spec.pools.values()} - {q.environment})


def storage_args(spec: Blueprint, env_name: str,
                 key: pulumi.Input[str] | None) -> ClusterStorageArgs | None:
    """The cluster's storage class: ours on EKS/GKE (encrypted with `key`; None without a
    key, which the policy capacity-volume-class-exists then reports), a site's own."""
    env = spec.environments[env_name]
    if isinstance(env, OnPremSite):
        drives = (env.object_storage.storage_class,) if env.object_storage is not None else ()
        return ClusterStorageArgs(substrate="onprem", existing_class=env.cluster.storage_class,
                                  other_classes=tuple(c for c in drives
                                                      if c != env.cluster.storage_class))
    if key is None:
        return None
    return ClusterStorageArgs(substrate=env.kind, kms_key=key)


def platform_args(spec: Blueprint, env_name: str, *,
                  workers: Mapping[str, pulumi.Input[str]] | None = None,
                  api_server: pulumi.Input[str] | None = None,
                  storage_key: pulumi.Input[str] | None = None) -> ClusterPlatformArgs:
    """ClusterPlatform arguments for one environment's cluster.

    `workers` (manager only): each worker environment's MultiKueue kubeconfig.
    `api_server` (workers only): the URL the manager reaches this cluster's API server at.
    `storage_key` (EKS, GKE): the key the cluster's default storage class encrypts with.
    """
    capacities = tuple(pool_capacity(spec, n, p) for n, p in spec.pools.items())
    q = spec.queueing
    teams = queue_teams(spec, capacities)
    integrations = tuple(spec.integrations())
    priorities = priorities_of(spec)
    queue = None
    worker = None
    if q is not None and q.environment == env_name and capacities:
        queue = JobQueueArgs(
            pools=capacities, teams=teams, cohort=q.cohort, environment=env_name,
            workers=tuple(WorkerCluster(e, k) for e, k in sorted((workers or {}).items())),
            priorities=priorities, integrations=integrations)
    elif q is not None and env_name in worker_environments(spec):
        if api_server is None:
            raise ComponentArgsError(f"`api_server` of worker {env_name!r} is missing: the "
                                     "manager's MultiKueue needs it to reach the cluster")
        worker = KueueWorkerArgs(
            environment=env_name, pools=tuple(c for c in capacities if c.environment == env_name),
            teams=teams, cohort=q.cohort, api_server=api_server, priorities=priorities,
            integrations=integrations)
    runs_jobs = env_name in spec.job_environments()
    return ClusterPlatformArgs(
        environment=env_name,
        substrate=spec.environments[env_name].kind,
        pools=tuple(c for c in capacities if c.environment == env_name),
        teams=teams,
        queue=queue,
        worker=worker,
        labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: env_name}),
        mirror=mirror_of(spec),
        storage=storage_args(spec, env_name, storage_key),
        workloads=tuple(spec.platform.workloads) if runs_jobs else (),
        priorities=priorities,
        monitoring=monitoring_args(spec),
        pool_teams=pool_teams(spec, list(capacities)),
    )


def storage_key_of(env_build: EnvironmentBuild) -> pulumi.Input[str] | None:
    """The customer-managed key an environment's storage class encrypts volumes with."""
    key = getattr(env_build, "key", None)  # AWS: the environment's KMS key
    if key is not None:
        return key.arn  # type: ignore[no-any-return]
    keys = getattr(env_build, "keys", None)  # GCP: the disk key of the key ring
    if keys is not None:
        from blueprints.compose.gcp import DISK_KEY

        return keys.key_id(DISK_KEY)  # type: ignore[no-any-return]
    return None


def api_server(spec: Blueprint, env_build: EnvironmentBuild) -> pulumi.Input[str]:
    """The https:// URL of an environment's Kubernetes API server."""
    env = spec.environments[env_build.environment]
    if isinstance(env, OnPremSite):
        return env.cluster.api_endpoint
    cluster = getattr(env_build, "cluster", None)
    if cluster is None:
        raise ComponentArgsError(f"environment {env_build.environment!r} built no cluster: "
                                 "MultiKueue needs its API server")
    endpoint: pulumi.Output[str] = pulumi.Output.from_input(cluster.endpoint)
    # EKS reports a URL; GKE the bare address of the control plane.
    return endpoint.apply(lambda e: e if (e or "").startswith("https://") else f"https://{e or ''}")


def build_platform(spec: Blueprint, built: Built) -> dict[str, ClusterPlatform]:
    """A ClusterPlatform for every environment that has a Kubernetes cluster."""
    q = spec.queueing
    if q is not None and q.environment in built.environments \
            and built.environments[q.environment].kubernetes is None:
        raise BlueprintFieldError("queueing.environment", f"{q.environment!r} has no "
                                  "Kubernetes provider: Kueue needs that environment's cluster")
    workers = worker_environments(spec)
    # workers first: the manager's MultiKueue takes their kubeconfigs
    order = sorted(built.environments, key=lambda e: (e not in workers, e))
    platforms: dict[str, ClusterPlatform] = {}
    kubeconfigs: dict[str, pulumi.Input[str]] = {}
    for env_name in order:
        env_build = built.environments[env_name]
        if env_build.kubernetes is None:
            continue
        is_worker = env_name in workers
        with blame(f"environments.{env_name}", spec.environments.get(env_name)):
            args = platform_args(spec, env_name, workers=kubeconfigs,
                                 api_server=api_server(spec, env_build) if is_worker else None,
                                 storage_key=storage_key_of(env_build))
            platform = ClusterPlatform(
                child(env_name, "platform"), args,
                pulumi.ResourceOptions(parent=env_build.component,
                                       providers=[env_build.kubernetes]))
        if platform.multikueue_kubeconfig is not None:
            kubeconfigs[env_name] = platform.multikueue_kubeconfig
        platforms[env_name] = platform
    build_lifecycle(spec, built, platforms)
    from blueprints.compose.lakehouse import build_lakehouse_tables

    build_lakehouse_tables(spec, built, platforms)
    return platforms
