"""MultiKueue on the manager cluster: run queued jobs in the other clusters of the factory.

Kueue admits a job in the cluster it is submitted to; GPU pools of other clusters (a cloud
burst cluster beside the own site) are reached through MultiKueue. The manager holds, besides
the teams' queue:

- per worker cluster, a Secret with the kubeconfig of a ServiceAccount on that worker (always a
  Pulumi secret) and a MultiKueueCluster pointing at it (`clusterSource.kubeConfig`,
  locationType Secret: the v1beta2 shape);
- a MultiKueueConfig listing the workers and an AdmissionCheck of controller
  kueue.x-k8s.io/multikueue using it;
- the remote ClusterQueue `<cohort>-remote`: one flavor per remote pool with that pool's GPUs as
  quota, and the admission check for every flavor. Kueue refuses a MultiKueue check applied per
  flavor (the queue goes inactive, reason MultiKueueAdmissionCheckAppliedPerFlavor), so remote
  pools get a queue of their own instead of sharing the teams' queue with the site's pools;
- a LocalQueue `remote` in each team namespace. A job sent there is copied to the workers (same
  namespace, same LocalQueue name, where KueueWorker set them up) and runs where it is admitted
  first.

The CRDs of MultiKueueCluster and MultiKueueConfig are not in ../shared/crds; these objects
follow kueue.x-k8s.io/v1beta2 (apis/kueue/v1beta2/multikueue_types.go at Kueue v0.19).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.naming import child
from components.platform.common import TEAM_LABEL, GpuPoolCapacity

KUEUE_GROUP = "kueue.x-k8s.io"
KUEUE_API = f"{KUEUE_GROUP}/v1beta2"
CONTROLLER = "kueue.x-k8s.io/multikueue"
REMOTE_QUEUE_NAME = "remote"
"""Name of the LocalQueue for jobs that run in a worker cluster (the same on every cluster)."""
KUBECONFIG_KEY = "kubeconfig"
"""Key of the kubeconfig in a MultiKueueCluster's Secret (Kueue's MultiKueueConfigSecretKey)."""
MAX_CLUSTERS = 20  # MultiKueueConfig spec.clusters maxItems


@dataclass(frozen=True)
class WorkerCluster:
    """A cluster the manager's Kueue sends jobs to."""

    environment: str
    """Environment (cluster) name; also the MultiKueueCluster's name."""
    kubeconfig: pulumi.Input[str]
    """Kubeconfig of the worker's MultiKueue ServiceAccount (kept secret)."""


def remote_queue_name(cohort: str) -> str:
    """Name of the ClusterQueue for remote pools, on the manager and on every worker."""
    return child(cohort, "remote")


def kubeconfig_secret_name(environment: str) -> str:
    """Name of the Secret (in Kueue's namespace) holding a worker's kubeconfig."""
    return child("multikueue", environment)


def gpu_resource_groups(pools: Sequence[GpuPoolCapacity]) -> list[dict[str, Any]]:
    """ClusterQueue resource groups: each pool a flavor with its units as nominal quota, one
    group per resource the pools expose (nvidia.com/gpu, a MIG profile's)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for p in pools:
        groups.setdefault(p.gpu_resource, []).append(
            {"name": p.pool, "resources": [{"name": p.gpu_resource,
                                            "nominalQuota": p.quota_units}]})
    return [{"coveredResources": [r], "flavors": f} for r, f in groups.items()]


def remote_queue_spec(pools: Sequence[GpuPoolCapacity], admission_check: str | None,
                      ) -> dict[str, Any]:
    """The remote ClusterQueue: the pools' GPUs, open to team namespaces; on the manager with
    the MultiKueue admission check (for every flavor), on a worker without."""
    spec: dict[str, Any] = {
        "namespaceSelector": {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]},
        "queueingStrategy": "BestEffortFIFO",
        "preemption": {"withinClusterQueue": "LowerPriority"},
        "resourceGroups": gpu_resource_groups(pools),
    }
    if admission_check is not None:
        spec["admissionChecksStrategy"] = {"admissionChecks": [{"name": admission_check}]}
    return spec


def validate_workers(manager: str, pools: Sequence[GpuPoolCapacity],
                     workers: Sequence[WorkerCluster]) -> None:
    """Every pool outside the manager's cluster has a worker; every worker has pools."""
    names = [w.environment for w in workers]
    if len(set(names)) != len(names):
        raise ComponentArgsError(f"`workers` name a cluster twice: {sorted(names)}")
    if manager in names:
        raise ComponentArgsError(f"`workers` include {manager!r}, the cluster Kueue manages "
                                 "from: its pools are queued locally, leave it out")
    if len(names) > MAX_CLUSTERS:
        raise ComponentArgsError(f"`workers` has {len(names)} clusters: a MultiKueueConfig "
                                 f"takes at most {MAX_CLUSTERS}")
    unreached = sorted({p.environment for p in pools} - {manager, *names})
    if unreached:
        raise ComponentArgsError(
            f"`pools` run in {unreached}, which are neither {manager!r} nor a MultiKueue "
            "worker: give each of those clusters a `workers` entry, or no job could run there")
    idle = sorted(set(names) - {p.environment for p in pools})
    if idle:
        raise ComponentArgsError(f"`workers` {idle} have no GPU pools: leave them out")


def manager_objects(name: str, cohort: str, namespace: str,
                    remote_pools: Sequence[GpuPoolCapacity], workers: Sequence[WorkerCluster],
                    labels: Mapping[str, str], opts: pulumi.ResourceOptions,
                    ) -> k8s.apiextensions.CustomResource:
    """The manager's MultiKueue objects and remote ClusterQueue (returned); `opts` must make
    them depend on the Kueue chart and the flavors of `remote_pools`."""
    clusters = []
    for w in workers:
        secret_name = kubeconfig_secret_name(w.environment)
        secret = k8s.core.v1.Secret(
            child(name, "kubeconfig", w.environment),
            metadata={"name": secret_name, "namespace": namespace, "labels": dict(labels)},
            type="Opaque",
            string_data={KUBECONFIG_KEY: pulumi.Output.secret(w.kubeconfig)},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                additional_secret_outputs=["stringData", "data"])))
        clusters.append(k8s.apiextensions.CustomResource(
            child(name, "cluster", w.environment), api_version=KUEUE_API,
            kind="MultiKueueCluster",
            metadata={"name": w.environment, "labels": dict(labels)},
            spec={"clusterSource": {"kubeConfig": {"locationType": "Secret",
                                                   "location": secret_name}}},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                depends_on=[secret]))))
    config_name = remote_queue_name(cohort)
    config = k8s.apiextensions.CustomResource(
        child(name, "multikueue-config"), api_version=KUEUE_API, kind="MultiKueueConfig",
        metadata={"name": config_name, "labels": dict(labels)},
        spec={"clusters": [w.environment for w in workers]},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=clusters)))
    check_name = child(cohort, "multikueue")
    check = k8s.apiextensions.CustomResource(
        child(name, "multikueue-check"), api_version=KUEUE_API, kind="AdmissionCheck",
        metadata={"name": check_name, "labels": dict(labels)},
        spec={"controllerName": CONTROLLER,
              "parameters": {"apiGroup": KUEUE_GROUP, "kind": "MultiKueueConfig",
                             "name": config_name}},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[config])))
    return k8s.apiextensions.CustomResource(
        child(name, "remote-queue"), api_version=KUEUE_API, kind="ClusterQueue",
        metadata={"name": remote_queue_name(cohort), "labels": dict(labels)},
        spec=remote_queue_spec(remote_pools, check_name),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[check])))
