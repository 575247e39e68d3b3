"""Workload operators the platform installs on demand, and what each brings to Kueue.

Each operator is an upstream chart pinned in catalog.charts. Kueue integrates a framework only
when its operator runs in the cluster (a Kueue integration without its CRDs fails to start the
framework's controller), so the Kueue configuration is built from this table: batch/job and pod
always, plus the frameworks of every installed operator. MultiKueue copies a job kind to the
worker clusters only for the kinds its adapters support (Kueue v0.19: batch Job, JobSet, the
Kubeflow jobs, TrainJob, RayJob, RayCluster, AppWrapper); LeaderWorkerSet is queued locally.

Framework names: Kueue v0.19.2 apis/config/v1beta2/configuration_types.go (Integrations).
Pure data, no Pulumi import: the blueprint loader reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.charts import JOBSET, KUBERAY_OPERATOR, LEADERWORKERSET, ChartRef

BASE_FRAMEWORKS = ("batch/job", "pod")
"""Kueue integrations every cluster gets: they need no operator."""
BASE_REMOTE_KINDS = (("batch", "jobs"), ("", "pods"))
"""(API group, resource) MultiKueue creates on a worker whatever operators run there."""


@dataclass(frozen=True)
class WorkloadOperator:
    """An operator of job (or serving) kinds, and how Kueue integrates them."""

    name: str
    """Name in the blueprint (platform.workloads)."""
    title: str
    """What it is, for messages."""
    chart: ChartRef
    """The pinned chart."""
    namespace: str
    """Namespace the operator runs in (the upstream installation guide's)."""
    frameworks: tuple[str, ...]
    """Kueue integration names of its kinds."""
    remote_kinds: tuple[tuple[str, str], ...]
    """(API group, resource) of its kinds that MultiKueue dispatches to worker clusters."""
    job_kinds: tuple[tuple[str, str], ...]
    """(API group, resource) of every kind of it that Kueue queues."""
    crds: tuple[str, ...]
    """Its CRDs (group/kind), for the record."""


WORKLOAD_OPERATORS: dict[str, WorkloadOperator] = {
    w.name: w
    for w in (
        WorkloadOperator(
            name="jobset", title="JobSet", chart=JOBSET, namespace="jobset-system",
            frameworks=("jobset.x-k8s.io/jobset",),
            remote_kinds=(("jobset.x-k8s.io", "jobsets"),),
            job_kinds=(("jobset.x-k8s.io", "jobsets"),),
            crds=("jobset.x-k8s.io/JobSet",)),
        WorkloadOperator(
            name="leaderworkerset", title="LeaderWorkerSet", chart=LEADERWORKERSET,
            namespace="lws-system",
            frameworks=("leaderworkerset.x-k8s.io/leaderworkerset",), remote_kinds=(),
            job_kinds=(("leaderworkerset.x-k8s.io", "leaderworkersets"),),
            crds=("leaderworkerset.x-k8s.io/LeaderWorkerSet",)),
        WorkloadOperator(
            name="ray", title="KubeRay", chart=KUBERAY_OPERATOR, namespace="ray-system",
            frameworks=("ray.io/rayjob", "ray.io/raycluster"),
            remote_kinds=(("ray.io", "rayjobs"), ("ray.io", "rayclusters")),
            job_kinds=(("ray.io", "rayjobs"), ("ray.io", "rayclusters")),
            crds=("ray.io/RayCluster", "ray.io/RayJob", "ray.io/RayService")),
    )
}
"""Operator name -> operator."""


def kueue_frameworks(installed: list[str] | tuple[str, ...]) -> list[str]:
    """Kueue's integrations: batch/job and pod, plus each installed operator's frameworks."""
    out = list(BASE_FRAMEWORKS)
    for name in installed:
        out += [f for f in WORKLOAD_OPERATORS[name].frameworks if f not in out]
    return out


def remote_kinds(installed: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """Kinds MultiKueue creates on a worker for the installed operators."""
    out = list(BASE_REMOTE_KINDS)
    for name in installed:
        out += [k for k in WORKLOAD_OPERATORS[name].remote_kinds if k not in out]
    return out


def job_kinds(installed: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """(API group, resource) of every kind Kueue queues with the installed operators."""
    out = list(BASE_REMOTE_KINDS)
    for name in installed:
        out += [k for k in WORKLOAD_OPERATORS[name].job_kinds if k not in out]
    return out
