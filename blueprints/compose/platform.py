"""The platform layer of every cluster, built after the substrates: spec -> ClusterPlatform args.

Pool capacities come from the blueprint (blueprints.compose.facts.pool_facts and the site
inventory), never read back from the pool resources, so the plan, the policies and Kueue's
quotas agree.
With queueing across clusters, the worker clusters are built first: the manager's MultiKueue
needs each worker's kubeconfig, an output of the worker's platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi

import catalog
from blueprints.compose.blame import blame
from blueprints.compose.facts import pool_facts
from blueprints.compose.tagging import k8s_labels
from blueprints.errors import BlueprintFieldError, ComponentArgsError
from blueprints.spec.models import Blueprint, GpuPool, OnPremSite
from components.naming import child
from components.platform.cluster_platform import ClusterPlatform, ClusterPlatformArgs
from components.platform.common import ENVIRONMENT_LABEL, GpuPoolCapacity, NodeTaint
from components.platform.job_queue import JobQueueArgs, QueueTeam
from components.platform.kueue_worker import KueueWorkerArgs
from components.platform.mirror import ImageMirror, image_mirror
from components.platform.multikueue import WorkerCluster

if TYPE_CHECKING:
    from blueprints.compose import Built, EnvironmentBuild


def pool_capacity(spec: Blueprint, name: str, pool: GpuPool) -> GpuPoolCapacity:
    """What the platform layer needs of one pool, from the blueprint."""
    facts = pool_facts(spec, name, pool)
    env = spec.environment_of(pool)
    owned_gpus: int | None = None
    if isinstance(env, OnPremSite):
        chosen = set(pool.hosts) if pool.hosts is not None else {h.hostname for h in env.hosts}
        hosts = [h for h in env.hosts if h.hostname in chosen][: pool.max_nodes]
        owned_gpus = sum(catalog.server(h.server_model).gpus for h in hosts)
    return GpuPoolCapacity(
        pool=name, environment=pool.environment, substrate=env.kind,
        capacity=facts["capacity"], gpu_model=facts["gpuModel"],
        gpus_per_node=facts["gpusPerNode"], min_nodes=facts["minNodes"],
        max_nodes=facts["maxNodes"], owned_gpus=owned_gpus,
        taints=tuple(NodeTaint(t.key, t.value, t.effect) for t in pool.taints),
    )


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


def platform_args(spec: Blueprint, env_name: str, *,
                  workers: Mapping[str, pulumi.Input[str]] | None = None,
                  api_server: pulumi.Input[str] | None = None) -> ClusterPlatformArgs:
    """ClusterPlatform arguments for one environment's cluster.

    `workers` (manager only): each worker environment's MultiKueue kubeconfig.
    `api_server` (workers only): the URL the manager reaches this cluster's API server at.
    """
    capacities = tuple(pool_capacity(spec, n, p) for n, p in spec.pools.items())
    q = spec.queueing
    teams = tuple(QueueTeam(team=n, namespace=t.namespace)
                  for n, t in q.teams.items()) if q else ()
    queue = None
    worker = None
    if q is not None and q.environment == env_name and capacities:
        queue = JobQueueArgs(
            pools=capacities, teams=teams, cohort=q.cohort, environment=env_name,
            workers=tuple(WorkerCluster(e, k) for e, k in sorted((workers or {}).items())))
    elif q is not None and env_name in worker_environments(spec):
        if api_server is None:
            raise ComponentArgsError(f"`api_server` of worker {env_name!r} is missing: the "
                                     "manager's MultiKueue needs it to reach the cluster")
        worker = KueueWorkerArgs(
            environment=env_name, pools=tuple(c for c in capacities if c.environment == env_name),
            teams=teams, cohort=q.cohort, api_server=api_server)
    return ClusterPlatformArgs(
        environment=env_name,
        substrate=spec.environments[env_name].kind,
        pools=tuple(c for c in capacities if c.environment == env_name),
        teams=teams,
        queue=queue,
        worker=worker,
        labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: env_name}),
        mirror=mirror_of(spec),
    )


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
                                 api_server=api_server(spec, env_build) if is_worker else None)
            platform = ClusterPlatform(
                child(env_name, "platform"), args,
                pulumi.ResourceOptions(parent=env_build.component,
                                       providers=[env_build.kubernetes]))
        if platform.multikueue_kubeconfig is not None:
            kubeconfigs[env_name] = platform.multikueue_kubeconfig
        platforms[env_name] = platform
    return platforms
