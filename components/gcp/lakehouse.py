"""The GCS lakehouse: one regional bucket per zone (raw, curated, features, ...), or with
replication one configurable dual-region bucket per zone (the lakehouse's region and a second
one of the same multi-region, Google replicating between them).

Every bucket is encrypted with the customer-managed lakehouse key, uses uniform bucket-level
access (IAM only, no ACLs), enforces public access prevention, keeps object versions, and is
protected from deletion twice: `protect` in Pulumi and `force_destroy` off in GCS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import storage

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent


@dataclass(frozen=True)
class BucketZone:
    """Lifecycle of one lakehouse zone."""

    retention_days: int | None = None
    """Delete objects this many days after creation (None: keep)."""
    noncurrent_retention_days: int = 30
    """Delete superseded object versions this many days after they were superseded."""
    archive_after_days: int | None = None
    """Move objects to the ARCHIVE storage class this many days after creation."""


@dataclass(frozen=True)
class LakehouseArgs:
    """Arguments of `Lakehouse`."""

    region: str
    """Region of every bucket, e.g. europe-west4 (the key must live there too)."""
    bucket_names: Mapping[str, str]
    """Globally unique bucket name per zone (components.naming.bucket_name)."""
    zones: Mapping[str, BucketZone]
    """Lifecycle per zone; the same keys as bucket_names."""
    kms_key_id: pulumi.Input[str]
    """Cloud KMS key (same region) every bucket encrypts new objects with."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of every bucket."""
    key_grants: Sequence[pulumi.Resource] = ()
    """Grants of the key to the Cloud Storage service agent: buckets are created after them."""
    dual_region: DualRegion | None = None
    """Replicate every zone: each bucket a configurable dual-region (None: regional)."""


@dataclass(frozen=True)
class DualRegion:
    """A configurable dual-region: the lakehouse's region and a second one of the same
    multi-region; the bucket's location is the multi-region, its key lives in the matching
    Cloud KMS multi-region."""

    location: str
    """Multi-region of the pair: EU, US or ASIA."""
    replica_region: str
    """The second region, e.g. europe-west1."""


class Lakehouse(FactoryComponent):
    """A protected, CMEK-encrypted, private, versioned bucket per zone."""

    def __init__(self, name: str, args: LakehouseArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:gcp:Lakehouse", name, None, opts)

        self.buckets: dict[str, storage.Bucket] = {}
        for zone, lifecycle in args.zones.items():
            dual = args.dual_region
            placement: storage.BucketCustomPlacementConfigArgsDict | None = None if dual is None \
                else {"data_locations": [args.region.upper(), dual.replica_region.upper()]}
            self.buckets[zone] = storage.Bucket(
                naming.child(name, zone),
                name=args.bucket_names[zone],
                location=args.region.upper() if dual is None else dual.location,
                custom_placement_config=placement,
                storage_class="STANDARD",
                uniform_bucket_level_access=True,
                public_access_prevention="enforced",
                versioning={"enabled": True},
                encryption={"default_kms_key_name": args.kms_key_id},
                lifecycle_rules=lifecycle_rules(lifecycle),
                force_destroy=False,
                labels={**args.labels, "lakehouse-zone": naming.label_value(zone)},
                opts=self.data_opts(depends_on=list(args.key_grants)),
            )
        self.bucket_names: dict[str, pulumi.Output[str]] = {
            z: b.name for z, b in self.buckets.items()}
        self.register_outputs({"bucket_names": self.bucket_names})


def lifecycle_rules(zone: BucketZone) -> list[storage.BucketLifecycleRuleArgsDict]:
    """GCS lifecycle rules for a zone: expiry, expiry of old versions, archiving."""
    rules: list[storage.BucketLifecycleRuleArgsDict] = [{
        "action": {"type": "Delete"},
        "condition": {"days_since_noncurrent_time": zone.noncurrent_retention_days,
                      "with_state": "ARCHIVED"},
    }]
    if zone.retention_days is not None:
        rules.append({"action": {"type": "Delete"},
                      "condition": {"age": zone.retention_days, "with_state": "LIVE"}})
    if zone.archive_after_days is not None:
        rules.append({"action": {"type": "SetStorageClass", "storage_class": "ARCHIVE"},
                      "condition": {"age": zone.archive_after_days, "with_state": "LIVE",
                                    "matches_storage_classes": ["STANDARD"]}})
    return rules


def _validate(name: str, args: LakehouseArgs) -> None:
    dual = args.dual_region
    if dual is not None and (dual.replica_region == args.region
                             or dual.location not in ("EU", "US", "ASIA")):
        raise ComponentArgsError(
            f"Lakehouse {name}: replication to {dual.replica_region} in {dual.location}: a "
            f"dual-region pairs {args.region} with another region of the multi-region EU, US "
            "or ASIA")
    if not args.zones:
        raise ComponentArgsError(f"Lakehouse {name}: zones is empty: declare at least one zone")
    if set(args.zones) != set(args.bucket_names):
        raise ComponentArgsError(
            f"Lakehouse {name}: bucket_names ({sorted(args.bucket_names)}) must name exactly the "
            f"zones ({sorted(args.zones)})")
    for zone, bucket in args.bucket_names.items():
        if not 3 <= len(bucket) <= 63:
            raise ComponentArgsError(
                f"Lakehouse {name}: bucket name {bucket!r} of zone {zone!r} must have 3-63 "
                "characters: use components.naming.bucket_name")
    for zone, z in args.zones.items():
        if z.noncurrent_retention_days < 1:
            raise ComponentArgsError(
                f"Lakehouse {name}: zones[{zone!r}].noncurrent_retention_days "
                f"({z.noncurrent_retention_days}) must be at least 1")
        if (z.retention_days is not None and z.archive_after_days is not None
                and z.archive_after_days >= z.retention_days):
            raise ComponentArgsError(
                f"Lakehouse {name}: zones[{zone!r}].archive_after_days ({z.archive_after_days}) "
                f"is not before retention_days ({z.retention_days}): archive earlier or keep "
                "longer")
