"""GCP building blocks on pulumi-gcp resources: keys, logs, network, GKE, GPU pools, storage.

Each component takes every value it needs from its args (built from the blueprint by
`blueprints.compose.gcp`), so a plan needs no live look-up and no credentials.
"""

from components.gcp.artifact_registry import ArtifactRegistry, ArtifactRegistryArgs
from components.gcp.environment import GcpEnvironment, GcpEnvironmentArgs
from components.gcp.gke_cluster import GkeCluster, GkeClusterArgs, kubeconfig
from components.gcp.gpu_node_pool import GpuNodePool, GpuNodePoolArgs, NodeTaint
from components.gcp.kms import KmsKeys, KmsKeysArgs
from components.gcp.lakehouse import BucketZone, Lakehouse, LakehouseArgs
from components.gcp.network import Network, NetworkArgs
from components.gcp.regional_logs import RegionalLogs, RegionalLogsArgs
from components.gcp.workload_access import WorkloadAccess, WorkloadAccessArgs

__all__ = [
    "ArtifactRegistry",
    "ArtifactRegistryArgs",
    "BucketZone",
    "GcpEnvironment",
    "GcpEnvironmentArgs",
    "GkeCluster",
    "GkeClusterArgs",
    "GpuNodePool",
    "GpuNodePoolArgs",
    "KmsKeys",
    "KmsKeysArgs",
    "Lakehouse",
    "LakehouseArgs",
    "Network",
    "NetworkArgs",
    "NodeTaint",
    "RegionalLogs",
    "RegionalLogsArgs",
    "WorkloadAccess",
    "WorkloadAccessArgs",
    "kubeconfig",
]
