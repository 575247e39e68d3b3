"""security-storage-encryption-at-rest: volumes, file systems and cluster secrets are encrypted."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Finding, Rule
from policies.view import PlanView, Resource, dig, examine, is_set, truthy


def _unencrypted(r: Resource) -> str | None:
    t, i = r["type"], r["inputs"]
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
        if not r["type"].startswith(("aws:", "gcp:")):
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
               "BucketServerSideEncryptionConfigurationV2")
evidence = examine(ENCRYPTABLE, "encrypted", "blockDeviceMappings", "storageEncrypted",
                   "encryptionConfig.resources", "databaseEncryption.state", "rules")


RULE = Rule(
    name="security-storage-encryption-at-rest",
    domain="security",
    severity="high",
    description="Data at rest is encrypted: EBS volumes and launch-template volumes, EFS, "
    "databases, and Kubernetes secrets of EKS and GKE clusters (S3, GCS, ECR and Artifact "
    "Registry encrypt by default).",
    remediation="Set encrypted=true on volumes (ebs.encrypted in launch templates), "
    "storage_encrypted on databases, encryption_config on EKS and database_encryption on GKE.",
    enforcement="mandatory",
    check=check,
    scope="resource",
    evidence=evidence,
)
