"""AWS building blocks on pulumi-aws resources (every resource visible to policies)."""

from components.aws.block_storage import BlockStorage, BlockStorageArgs
from components.aws.eks_cluster import EksCluster, EksClusterArgs, kubeconfig
from components.aws.environment import Environment, EnvironmentArgs
from components.aws.gpu_node_pool import (
    GpuNodePool,
    GpuNodePoolArgs,
    KarpenterScaling,
    NodeTaint,
)
from components.aws.karpenter import NodeAutoscaler, NodeAutoscalerArgs
from components.aws.kms_key import KmsKey, KmsKeyArgs
from components.aws.lakehouse import Lakehouse, LakehouseArgs, ZoneRules
from components.aws.location import AwsLocation
from components.aws.network import Network, NetworkArgs
from components.aws.registry import Registry, RegistryArgs
from components.aws.secure_bucket import SecureBucket, SecureBucketArgs
from components.aws.workload_role import WorkloadRole, WorkloadRoleArgs

__all__ = [
    "AwsLocation",
    "BlockStorage",
    "BlockStorageArgs",
    "EksCluster",
    "EksClusterArgs",
    "Environment",
    "EnvironmentArgs",
    "GpuNodePool",
    "GpuNodePoolArgs",
    "KarpenterScaling",
    "KmsKey",
    "KmsKeyArgs",
    "Lakehouse",
    "LakehouseArgs",
    "Network",
    "NetworkArgs",
    "NodeAutoscaler",
    "NodeAutoscalerArgs",
    "NodeTaint",
    "Registry",
    "RegistryArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "WorkloadRole",
    "WorkloadRoleArgs",
    "ZoneRules",
    "kubeconfig",
]
