"""The platform layer of every cluster, built after the substrates: spec -> ClusterPlatform args.

Pool capacities come from the blueprint (aifactory.facts.pool_facts and the site inventory),
never read back from the pool resources, so the plan, the policies and Kueue's quotas agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from aifactory import catalog
from aifactory.components.platform.cluster_platform import ClusterPlatform, ClusterPlatformArgs
from aifactory.components.platform.common import ENVIRONMENT_LABEL, GpuPoolCapacity, NodeTaint
from aifactory.components.platform.job_queue import JobQueueArgs, QueueTeam
from aifactory.errors import ComponentArgsError
from aifactory.facts import pool_facts
from aifactory.naming import child
from aifactory.spec.models import Blueprint, GpuPool, OnPremSite
from aifactory.tagging import k8s_labels

if TYPE_CHECKING:
    from aifactory.build import Built


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


def platform_args(spec: Blueprint, env_name: str) -> ClusterPlatformArgs:
    """ClusterPlatform arguments for one environment's cluster."""
    capacities = tuple(pool_capacity(spec, n, p) for n, p in spec.pools.items())
    q = spec.queueing
    teams = tuple(QueueTeam(team=n, namespace=t.namespace)
                  for n, t in q.teams.items()) if q else ()
    queue = None
    if q is not None and q.environment == env_name and capacities:
        queue = JobQueueArgs(pools=capacities, teams=teams, cohort=q.cohort)
    return ClusterPlatformArgs(
        environment=env_name,
        substrate=spec.environments[env_name].kind,
        pools=tuple(c for c in capacities if c.environment == env_name),
        teams=teams,
        queue=queue,
        labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: env_name}),
    )


def build_platform(spec: Blueprint, built: Built) -> dict[str, ClusterPlatform]:
    """A ClusterPlatform for every environment that has a Kubernetes cluster."""
    q = spec.queueing
    if q is not None and q.environment in built.environments \
            and built.environments[q.environment].kubernetes is None:
        raise ComponentArgsError(f"queueing.environment {q.environment!r} has no Kubernetes "
                                 "provider: Kueue needs that environment's cluster")
    platforms: dict[str, ClusterPlatform] = {}
    for env_name, env_build in built.environments.items():
        if env_build.kubernetes is None:
            continue
        platforms[env_name] = ClusterPlatform(
            child(env_name, "platform"), platform_args(spec, env_name),
            pulumi.ResourceOptions(parent=env_build.component,
                                   providers=[env_build.kubernetes]))
    return platforms
