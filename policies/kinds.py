"""Which resource types are what: data-bearing stores, taggable resources, workloads.

Taggability is read from the installed provider SDK (the argument list of the resource's
Python class declares `tags` / `labels`), so every type the builders use is covered without a
list to keep up to date; without the SDK, a resource counts as taggable when its inputs carry
tags or labels.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache, lru_cache
from pathlib import Path

# Stores that hold data (bucket contents, images, keys, databases): protected and encrypted.
DATA_BEARING = frozenset({
    "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:ecr/repository:Repository",
    "aws:kms/key:Key", "aws:rds/instance:Instance", "aws:rds/cluster:Cluster",
    "aws:dynamodb/table:Table", "aws:efs/fileSystem:FileSystem",
    "aws:fsx/lustreFileSystem:LustreFileSystem",
    "gcp:storage/bucket:Bucket", "gcp:artifactregistry/repository:Repository",
    "gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey",
    "gcp:sql/databaseInstance:DatabaseInstance", "gcp:bigquery/dataset:Dataset",
    "gcp:filestore/instance:Instance", "gcp:lustre/instance:Instance",
    "gcp:parallelstore/instance:Instance",
    # Iceberg catalogs: dropping one drops the tables' metadata (the files stay orphaned)
    "aws:glue/catalogDatabase:CatalogDatabase", "gcp:biglake/icebergCatalog:IcebergCatalog",
    "gcp:biglake/icebergNamespace:IcebergNamespace",
    # a site's own: its MinIO tenant (the lakehouse, the registry's blobs), Harbor's projects
    "kubernetes:minio.min.io/v2:Tenant", "harbor:index/project:Project",
})

AWS_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
AWS_BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
AWS_BUCKET_PAB = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
AWS_IAM_POLICIES = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy",
                    "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy")
AWS_IAM_ROLE = "aws:iam/role:Role"
"""Carries inlinePolicies ([{name, policy}]) and managedPolicyArns as inputs of its own."""
AWS_IAM_ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                       "aws:iam/userPolicyAttachment:UserPolicyAttachment",
                       "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
                       "aws:iam/policyAttachment:PolicyAttachment")
AWS_IAM_ATTACHMENT_SETS = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
)
# Types of pulumi-kubernetes that register as components (their rendering happens in the
# provider): under mocks and in a preview they carry inputs but register no children.
COMPONENT_TYPES = frozenset({
    "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart",
    "kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:yaml:ConfigGroup", "kubernetes:yaml:ConfigFile",
    "kubernetes:kustomize/v2:Directory", "kubernetes:kustomize:Directory",
})
GCP_LOG_BUCKETS = ("gcp:logging/projectBucketConfig:ProjectBucketConfig",
                   "gcp:logging/folderBucketConfig:FolderBucketConfig",
                   "gcp:logging/organizationBucketConfig:OrganizationBucketConfig",
                   "gcp:logging/billingAccountBucketConfig:BillingAccountBucketConfig")
HELM_TYPES = ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release",
              "kubernetes:helm.sh/v3:Chart")
WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job",
                  "CronJob", "PodTemplate", "ReplicationController")

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp"}
_FIELDS = {"aws": ("tags",), "gcp": ("labels", "resource_labels")}


@cache
def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1024)
def tag_field(type_token: str) -> str | None:
    """The input carrying tags/labels for a type ('tags', 'labels', 'resourceLabels'), if any.

    None when the type cannot be tagged (or the SDK that would tell is not installed).
    """
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] not in _PACKAGES:
        return None
    if type_token == "gcp:container/nodePool:NodePool":
        return "nodeConfig.resourceLabels"
    base = _package_dir(_PACKAGES[parts[0]])
    module, _, leaf = parts[1].partition("/")
    if base is None or not leaf:
        return None
    path = base / module / f"{_CAMEL.sub('_', leaf).lower()}.py"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    for name in _FIELDS[parts[0]]:
        if re.search(rf"^\s+{name}: pulumi\.Input\[Optional\[Mapping", text, re.M):
            head, *rest = name.split("_")
            return head + "".join(w.title() for w in rest)
    return None

KARPENTER_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
"""What Karpenter launches nodes with: AMI, IMDS options, volumes (like a launch template)."""
KARPENTER_NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
"""A Karpenter NodePool: instance types, capacity type (on-demand, spot, reserved), limits."""
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
"""A StorageClass: how the CSI driver creates (and encrypts) the cluster's volumes."""
EBS_PROVISIONERS = ("ebs.csi.aws.com", "kubernetes.io/aws-ebs")
GCE_PD_PROVISIONERS = ("pd.csi.storage.gke.io", "kubernetes.io/gce-pd")
