"""sovereignty-replication-destination: replicas and data locations stay inside (logs and
metrics: sovereignty-telemetry-destination)."""

from __future__ import annotations

from collections.abc import Iterator

from policies.kinds import AWS_BUCKETS
from policies.model import Cause, Evidence, Finding, Rule
from policies.residency import allowed_places, arn_region, region_allowed
from policies.view import UNKNOWN, PlanView, Resource, dig

REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def _bucket_named(view: PlanView, ref: str) -> Resource | None:
    name = ref.rsplit(":", 1)[-1] if ref.startswith("arn:") else ref
    for b in view.of_type(*AWS_BUCKETS):
        if name in (b["inputs"].get("bucket"), b["name"], f"{b['name']}-id"):
            return b
    return None


def _replica_bucket(view: PlanView, r: Resource, ref: object) -> Resource | None:
    if isinstance(ref, str) and ref != UNKNOWN:
        found = _bucket_named(view, ref)
        if found is not None:
            return found
    # the destination ARN is not known before deploy: the dependency on the bucket is
    source = r["inputs"].get("bucket")
    candidates = [b for b in view.dependencies(r, *AWS_BUCKETS)
                  if source not in (b["inputs"].get("bucket"), b["name"], f"{b['name']}-id")]
    return candidates[0] if len(candidates) == 1 else None


RDS_BACKUP_REPLICATION = ("aws:rds/instanceAutomatedBackupsReplication:"
                          "InstanceAutomatedBackupsReplication")
CLOUD_SQL = "gcp:sql/databaseInstance:DatabaseInstance"


def check(view: PlanView) -> Iterator[Finding]:
    j = view.jurisdiction
    assert j is not None
    places = allowed_places(j, "aws")
    for r in view.of_type(REPLICATION):
        for i, rule in enumerate(r["inputs"].get("rules") or []):
            dest = dig(rule, "destination", "bucket")
            bucket = _replica_bucket(view, r, dest)
            if bucket is None:
                yield view.finding(r, f"replication {r['name']} rule {i} copies to {dest}, a "
                                   "bucket outside the plan whose region cannot be shown to lie "
                                   f"in {j.name}", destination=dest)
                continue
            region = view.region(bucket)
            if region is None or not region_allowed(j, "aws", region):
                yield view.finding(r, f"replication {r['name']} rule {i} copies to bucket "
                                   f"{bucket['name']} in {region or 'an unknown region'}, "
                                   f"outside {j.name} (allowed: {places})",
                                   destination=bucket["name"], region=region,
                                   spec_path="lakehouse.replication.region",
                                   cause=Cause("lakehouse.replication.region",
                                               region or "unknown", f"outside {j.name}",
                                               f"replicate to a region in {j.name} ({places}), "
                                               "or remove lakehouse.replication"))
            key = dig(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
            key_region = arn_region(key) if isinstance(key, str) else None
            if key_region and not region_allowed(j, "aws", key_region):
                yield view.finding(r, f"replication {r['name']} rule {i} encrypts replicas with "
                                   f"a key in {key_region}, outside {j.name}", keyRegion=key_region)
    for b in view.of_type("gcp:storage/bucket:Bucket"):
        for loc in dig(b, "inputs", "customPlacementConfig", "dataLocations", default=[]) or []:
            if isinstance(loc, str) and not region_allowed(j, "gcp", loc):
                yield view.finding(b, f"bucket {b['name']} keeps a copy in {loc.lower()}, outside "
                                   f"{j.name} (allowed: {allowed_places(j, 'gcp')})",
                                   dataLocation=loc)
    for r in view.of_type(RDS_BACKUP_REPLICATION):
        # the replication resource lives in the region its backups are copied to
        region = view.region(r)
        if region is None or not region_allowed(j, "aws", region):
            yield view.finding(r, f"automated backups replication {r['name']} copies database "
                               f"backups to {region or 'an unknown region'}, outside {j.name} "
                               f"(allowed: {places})", region=region)
    for db in view.of_type(CLOUD_SQL):
        loc = dig(db["inputs"], "settings", "backupConfiguration", "location")
        if isinstance(loc, str) and not region_allowed(j, "gcp", loc):
            yield view.finding(db, f"Cloud SQL instance {db['name']} keeps its backups in "
                               f"{loc.lower()}, outside {j.name} (allowed: "
                               f"{allowed_places(j, 'gcp')})", backupLocation=loc)


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.of_type(REPLICATION):
        yield view.evidence(r, "rules")
    for b in view.of_type("gcp:storage/bucket:Bucket"):
        yield view.evidence(b, "location", "customPlacementConfig.dataLocations")
    for r in view.of_type(RDS_BACKUP_REPLICATION):
        yield view.evidence(r, "sourceDbInstanceArn", region=view.region(r))
    for db in view.of_type("aws:rds/instance:Instance"):
        yield view.evidence(db, "backupRetentionPeriod", region=view.region(db))
    for db in view.of_type(CLOUD_SQL):
        yield view.evidence(db, "region", "settings.backupConfiguration.location")


RULE = Rule(
    name="sovereignty-replication-destination",
    domain="sovereignty",
    severity="critical",
    description="With a declared jurisdiction, every copy of the data stays inside it: S3 "
    "replication destinations and their keys, the data locations of dual-region buckets, and "
    "where database backups go (RDS automated backups replication, Cloud SQL backup location).",
    remediation="Replicate to a bucket of an environment in an allowed region (set "
    "lakehouse.replication.region to one) with a replica key in that region, and keep "
    "dual-region buckets to pairs of allowed regions.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
