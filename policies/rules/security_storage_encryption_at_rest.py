"""security-storage-encryption-at-rest: volumes, file systems and cluster secrets are encrypted."""

from __future__ import annotations

from collections.abc import Iterator

from policies.kinds import EBS_PROVISIONERS, KARPENTER_NODE_CLASS, STORAGE_CLASS
from policies.model import Finding, Rule
from policies.view import PlanView, Resource, dig, examine, is_set, truthy

MINIO_TENANT = "kubernetes:minio.min.io/v2:Tenant"


def _unencrypted(r: Resource) -> str | None:
    t, i = r["type"], r["inputs"]
    if t == MINIO_TENANT:  # a site's object storage: KES with the site's KMS, a default key
        kes = dig(i, "spec", "kes", default=None)
        if not is_set(kes) or not dig(kes, "kesSecret", "name", default=None):
            return "has no KES (spec.kes): its objects are not encrypted with the site's KMS"
        if not dig(kes, "keyName", default=None):
            return "names no default key (spec.kes.keyName): objects are stored unencrypted"
    if t == KARPENTER_NODE_CLASS:  # Karpenter's default volumes are encrypted
        bad = [m.get("deviceName", str(n)) for n, m in enumerate(
            dig(i, "spec", "blockDeviceMappings", default=[]) or [])
            if is_set(m.get("ebs")) and not truthy(dig(m, "ebs", "encrypted", default=True))]
        return f"maps unencrypted volumes: {', '.join(bad)}" if bad else None
    if t == STORAGE_CLASS and i.get("provisioner") in EBS_PROVISIONERS \
            and not truthy(dig(i, "parameters", "encrypted", default=False)):
        return "creates unencrypted EBS volumes (parameters.encrypted is not 'true')"
    if t == "aws:ebs/volume:Volume" and not truthy(i.get("encrypted", False)):
        return "is not encrypted (encrypted is not true)"
    if t == "aws:ec2/launchTemplate:LaunchTemplate":
        bad = [m.get("deviceName", str(n)) for n, m in enumerate(i.get("blockDeviceMappings") or [])
               if is_set(m.get("ebs")) and not truthy(dig(m, "ebs", "encrypted", default=False))]
        if bad:
            return f"maps unencrypted volumes: {', '.join(bad)}"
    if t == "aws:efs/fileSystem:FileSystem" and not truthy(i.get("encrypted", False)):
        return "is not encrypted"
    if t in ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster") and \
            not truthy(i.get("storageEncrypted", False)):
        return "is not encrypted (storageEncrypted is not true)"
    if t == "aws:eks/cluster:Cluster" and "secrets" not in (
            dig(i, "encryptionConfig", "resources", default=[]) or []):
        return "does not envelope-encrypt Kubernetes secrets (encryptionConfig)"
    if t == "gcp:container/cluster:Cluster" and \
            str(dig(i, "databaseEncryption", "state", default="")).upper() != "ENCRYPTED":
        return "does not encrypt Kubernetes secrets at the application layer " \
            "(databaseEncryption)"
    if t.startswith("aws:s3/bucketServerSideEncryptionConfiguration"):
        for rule in i.get("rules") or []:
            algo = dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm", default="")
            if algo and algo not in ("AES256", "aws:kms", "aws:kms:dsse", "[unknown]"):
                return f"sets an unknown sseAlgorithm {algo}"
    return None


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.resources:
        if not r["type"].startswith(("aws:", "gcp:")) \
                and r["type"] not in (KARPENTER_NODE_CLASS, STORAGE_CLASS, MINIO_TENANT):
            continue
        what = _unencrypted(r)
        if what:
            yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']} {what}")


ENCRYPTABLE = ("aws:ebs/volume:Volume", "aws:ec2/launchTemplate:LaunchTemplate",
               "aws:efs/fileSystem:FileSystem", "aws:rds/instance:Instance",
               "aws:rds/cluster:Cluster", "aws:eks/cluster:Cluster",
               "gcp:container/cluster:Cluster",
               "aws:s3/bucketServerSideEncryptionConfiguration:"
               "BucketServerSideEncryptionConfiguration",
               "aws:s3/bucketServerSideEncryptionConfigurationV2:"
               "BucketServerSideEncryptionConfigurationV2", KARPENTER_NODE_CLASS, STORAGE_CLASS,
               MINIO_TENANT)
evidence = examine(ENCRYPTABLE, "encrypted", "blockDeviceMappings", "storageEncrypted",
                   "encryptionConfig.resources", "databaseEncryption.state", "rules",
                   "spec.blockDeviceMappings", "provisioner", "parameters.encrypted",
                   "spec.kes.keyName")


RULE = Rule(
    name="security-storage-encryption-at-rest",
    domain="security",
    severity="high",
    description="Data at rest is encrypted: EBS volumes, launch-template and Karpenter "
    "node-class volumes, the volumes EBS StorageClasses create, EFS, "
    "databases, Kubernetes secrets of EKS and GKE clusters, and a site's MinIO tenant (KES "
    "with the site's KMS and a default key; S3, GCS, ECR and Artifact Registry encrypt by "
    "default).",
    remediation="Set encrypted=true on volumes (ebs.encrypted in launch templates), "
    "storage_encrypted on databases, encryption_config on EKS and database_encryption on GKE.",
    enforcement="mandatory",
    check=check,
    scope="resource",
    evidence=evidence,
)
