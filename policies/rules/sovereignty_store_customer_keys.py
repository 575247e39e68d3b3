"""sovereignty-store-customer-keys: every store is encrypted with a customer-managed key."""

from __future__ import annotations

from collections.abc import Iterator

from policies.kinds import (
    AWS_BUCKET_SSE,
    AWS_BUCKETS,
    EBS_PROVISIONERS,
    GCE_PD_PROVISIONERS,
    GCP_LOG_BUCKETS,
    KARPENTER_NODE_CLASS,
    STORAGE_CLASS,
)
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView, Resource, dig, is_set


def _s3_kms(view: PlanView, bucket: Resource) -> bool:
    configs = [c["inputs"] for c in view.linked(bucket, *AWS_BUCKET_SSE, key="bucket")]
    inline = bucket["inputs"].get("serverSideEncryptionConfiguration")
    if inline:
        configs.append({"rules": [dig(inline, "rule", default={})]})
    for c in configs:
        for rule in c.get("rules") or []:
            default = dig(rule, "applyServerSideEncryptionByDefault", default={}) or {}
            if str(default.get("sseAlgorithm", "")).startswith("aws:kms") \
                    and is_set(default.get("kmsMasterKeyId")):
                return True
    return False


def _missing(view: PlanView, r: Resource) -> str | None:
    """What key is missing on a store, or None when it has a customer-managed key."""
    t, i = r["type"], r["inputs"]
    if t == KARPENTER_NODE_CLASS:
        mappings = dig(i, "spec", "blockDeviceMappings", default=[]) or []
        if not mappings:
            return "declares no block device mappings, so Karpenter's default root volume " \
                "uses the account's default key (add ebs with encrypted and kmsKeyID)"
        bad = [m.get("deviceName", str(n)) for n, m in enumerate(mappings)
               if not is_set(dig(m, "ebs", "kmsKeyID"))]
        return f"has volumes without a customer-managed key: {', '.join(bad)}" if bad else None
    if t == STORAGE_CLASS:
        params = i.get("parameters") or {}
        if i.get("provisioner") in EBS_PROVISIONERS and not is_set(params.get("kmsKeyId")):
            return "creates EBS volumes without a customer-managed key (parameters.kmsKeyId)"
        if i.get("provisioner") in GCE_PD_PROVISIONERS and not is_set(
                params.get("disk-encryption-kms-key")):
            return "creates persistent disks without a customer-managed key " \
                "(parameters.disk-encryption-kms-key)"
        return None
    if t in AWS_BUCKETS:
        return None if _s3_kms(view, r) else (
            "has no SSE-KMS default encryption with a customer-managed key "
            "(BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms and "
            "kmsMasterKeyId)")
    if t == "aws:ecr/repository:Repository":
        enc = (i.get("encryptionConfigurations") or [{}])[0]
        ok = str(enc.get("encryptionType", "")).upper().startswith("KMS") and is_set(
            enc.get("kmsKey"))
        return None if ok else "is not encrypted with a customer-managed KMS key " \
            "(encryptionConfigurations: KMS with kmsKey)"
    if t == "aws:eks/cluster:Cluster":
        enc = i.get("encryptionConfig") or {}
        ok = is_set(dig(enc, "provider", "keyArn")) and "secrets" in (enc.get("resources") or [])
        return None if ok else "does not encrypt Kubernetes secrets with a customer-managed " \
            "key (encryptionConfig with provider.keyArn and resources [secrets])"
    if t == "aws:ec2/launchTemplate:LaunchTemplate":
        mappings = i.get("blockDeviceMappings") or []
        if not mappings:
            return "declares no block device mappings, so node volumes use the account's " \
                "default key (add ebs with encrypted and kmsKeyId)"
        bad = [m.get("deviceName", str(n)) for n, m in enumerate(mappings)
               if not is_set(dig(m, "ebs", "kmsKeyId"))]
        return f"has volumes without a customer-managed key: {', '.join(bad)}" if bad else None
    if t == "aws:eks/nodeGroup:NodeGroup":
        return None if is_set(i.get("launchTemplate")) else \
            "has no launch template, so its volumes use the account's default key"
    if t == "aws:ebs/volume:Volume":
        return None if is_set(i.get("kmsKeyId")) else "has no kmsKeyId"
    if t in ("aws:efs/fileSystem:FileSystem", "aws:fsx/lustreFileSystem:LustreFileSystem"):
        return None if is_set(i.get("kmsKeyId")) else "has no kmsKeyId"
    if t == "aws:cloudwatch/logGroup:LogGroup":
        return None if is_set(i.get("kmsKeyId")) else "keeps logs without a customer-managed " \
            "key (kmsKeyId)"
    if t == "gcp:storage/bucket:Bucket":
        return None if is_set(dig(i, "encryption", "defaultKmsKeyName")) else \
            "has no encryption.defaultKmsKeyName"
    if t == "gcp:artifactregistry/repository:Repository":
        return None if is_set(i.get("kmsKeyName")) else "has no kmsKeyName"
    if t == "gcp:lustre/instance:Instance":
        return None if is_set(i.get("kmsKey")) else "has no kmsKey: its data uses a " \
            "Google-managed key"
    if t == "gcp:container/cluster:Cluster":
        enc = i.get("databaseEncryption") or {}
        ok = str(enc.get("state", "")).upper() == "ENCRYPTED" and is_set(enc.get("keyName"))
        return None if ok else "does not encrypt secrets with a customer-managed key " \
            "(databaseEncryption state ENCRYPTED with keyName)"
    if t == "gcp:container/nodePool:NodePool":
        return None if is_set(dig(i, "nodeConfig", "bootDiskKmsKey")) else \
            "has no nodeConfig.bootDiskKmsKey"
    if t in GCP_LOG_BUCKETS:
        return None if is_set(dig(i, "cmekSettings", "kmsKeyName")) else \
            "keeps logs without a customer-managed key (cmekSettings.kmsKeyName)"
    if t in ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"):
        if not is_set(i.get("kmsKeyId")):
            return "has no kmsKeyId: its storage and backups use the account's default key"
        if i.get("performanceInsightsEnabled") and not is_set(
                i.get("performanceInsightsKmsKeyId")):
            return "keeps Performance Insights data without a customer-managed key " \
                "(performanceInsightsKmsKeyId)"
        return None
    if t == "gcp:sql/databaseInstance:DatabaseInstance":
        return None if is_set(i.get("encryptionKeyName")) else "has no encryptionKeyName"
    if t == "gcp:compute/disk:Disk":
        return None if is_set(dig(i, "diskEncryptionKey", "kmsKeySelfLink")) else \
            "has no diskEncryptionKey.kmsKeySelfLink"
    return None


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.resources:
        if not r["type"].startswith(("aws:", "gcp:")) \
                and r["type"] not in (KARPENTER_NODE_CLASS, STORAGE_CLASS):
            continue
        what = _missing(view, r)
        if what:
            yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']} {what}")


STORES = (*AWS_BUCKETS, "aws:ecr/repository:Repository", "aws:eks/cluster:Cluster",
          "aws:ec2/launchTemplate:LaunchTemplate", "aws:eks/nodeGroup:NodeGroup",
          "aws:ebs/volume:Volume", "aws:efs/fileSystem:FileSystem",
          "aws:fsx/lustreFileSystem:LustreFileSystem", "aws:cloudwatch/logGroup:LogGroup",
          "gcp:storage/bucket:Bucket", "gcp:artifactregistry/repository:Repository",
          "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool", *GCP_LOG_BUCKETS,
          "gcp:compute/disk:Disk", "gcp:lustre/instance:Instance", "aws:rds/instance:Instance",
          "aws:rds/cluster:Cluster",
          "gcp:sql/databaseInstance:DatabaseInstance", KARPENTER_NODE_CLASS, STORAGE_CLASS)
KEY_INPUTS = ("performanceInsightsKmsKeyId", "encryptionKeyName", "spec.blockDeviceMappings",
              "provisioner", "parameters",
              "encryptionConfigurations", "encryptionConfig", "blockDeviceMappings",
              "launchTemplate", "kmsKeyId", "encryption.defaultKmsKeyName", "kmsKeyName",
              "databaseEncryption", "nodeConfig.bootDiskKmsKey", "cmekSettings.kmsKeyName",
              "diskEncryptionKey.kmsKeySelfLink", "kmsKey")


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.of_type(*STORES):
        if r["type"] in AWS_BUCKETS:
            configs = [c["name"] for c in view.linked(r, *AWS_BUCKET_SSE, key="bucket")]
            yield view.evidence(r, sseConfigurations=configs, customerKey=_s3_kms(view, r))
        else:
            yield view.evidence(r, *KEY_INPUTS)


RULE = Rule(
    name="sovereignty-store-customer-keys",
    domain="sovereignty",
    severity="high",
    description="With a declared jurisdiction, every store is encrypted with a customer-managed "
    "key: S3 buckets (SSE-KMS), GCS buckets, ECR and Artifact Registry repositories, EKS and "
    "GKE secrets, node volumes and boot disks (launch templates, Karpenter node classes), the "
    "volumes StorageClasses create, EBS/EFS/FSx for Lustre, Managed Lustre, CloudWatch log groups "
    "and GCP log buckets.",
    remediation="Create a KMS key (AWS) or Cloud KMS crypto key (GCP) in the environment and "
    "reference it from the store's encryption settings.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
