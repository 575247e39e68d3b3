"""The Kubernetes platform layer that runs on every cluster of a factory.

Upstream operators (NVIDIA GPU operator, kube-prometheus-stack, Kueue, the workload operators)
are pinned Helm charts; everything of our own (storage classes, namespaces, quotas, network
policies, admission policies, Kueue flavors, cohorts and queues, GPU sharing configs, the DCGM
ServiceMonitor and GPU alert rules) is a real Kubernetes object, visible in the plan.
"""

from components.platform.cluster_platform import ClusterPlatform, ClusterPlatformArgs
from components.platform.common import (
    GPU_RESOURCE,
    POOL_LABEL,
    TEAM_LABEL,
    GpuPoolCapacity,
    NodeTaint,
)
from components.platform.gpu_operator import GpuOperator, GpuOperatorArgs
from components.platform.gpu_sharing import PoolSharing
from components.platform.gpu_telemetry import GpuTelemetry, GpuTelemetryArgs
from components.platform.job_queue import (
    JobQueue,
    JobQueueArgs,
    PriorityClass,
    QueueTeam,
)
from components.platform.monitoring import Monitoring, MonitoringArgs
from components.platform.storage import ClusterStorage, ClusterStorageArgs
from components.platform.team_namespace import TeamNamespace, TeamNamespaceArgs
from components.platform.team_queues import TeamQuota
from components.platform.workload_operator import WorkloadOperatorArgs, WorkloadOperatorRelease

__all__ = [
    "GPU_RESOURCE",
    "POOL_LABEL",
    "TEAM_LABEL",
    "ClusterPlatform",
    "ClusterPlatformArgs",
    "ClusterStorage",
    "ClusterStorageArgs",
    "GpuOperator",
    "GpuOperatorArgs",
    "GpuPoolCapacity",
    "GpuTelemetry",
    "GpuTelemetryArgs",
    "JobQueue",
    "JobQueueArgs",
    "Monitoring",
    "MonitoringArgs",
    "NodeTaint",
    "PoolSharing",
    "PriorityClass",
    "QueueTeam",
    "TeamNamespace",
    "TeamNamespaceArgs",
    "TeamQuota",
    "WorkloadOperatorArgs",
    "WorkloadOperatorRelease",
]
