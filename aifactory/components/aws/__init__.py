"""AWS building blocks on pulumi-aws resources (every resource visible to policies)."""

from aifactory.components.aws.eks_cluster import EksCluster, EksClusterArgs, kubeconfig
from aifactory.components.aws.environment import Environment, EnvironmentArgs
from aifactory.components.aws.gpu_node_pool import GpuNodePool, GpuNodePoolArgs, NodeTaint
from aifactory.components.aws.kms_key import KmsKey, KmsKeyArgs
from aifactory.components.aws.lakehouse import Lakehouse, LakehouseArgs, ZoneRules
from aifactory.components.aws.location import AwsLocation
from aifactory.components.aws.network import Network, NetworkArgs
from aifactory.components.aws.registry import Registry, RegistryArgs
from aifactory.components.aws.secure_bucket import SecureBucket, SecureBucketArgs
from aifactory.components.aws.workload_role import WorkloadRole, WorkloadRoleArgs

__all__ = [
    "AwsLocation",
    "EksCluster",
    "EksClusterArgs",
    "Environment",
    "EnvironmentArgs",
    "GpuNodePool",
    "GpuNodePoolArgs",
    "KmsKey",
    "KmsKeyArgs",
    "Lakehouse",
    "LakehouseArgs",
    "Network",
    "NetworkArgs",
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
