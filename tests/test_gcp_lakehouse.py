"""Lakehouse: protected, CMEK, private, versioned regional buckets with lifecycle rules."""

from __future__ import annotations

from typing import Any

import pytest

from blueprints.errors import ComponentArgsError
from components.gcp import BucketZone, Lakehouse, LakehouseArgs

BUCKET = "gcp:storage/bucket:Bucket"
KEY = "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/lakehouse"
LABELS = {"factory": "acme-gcp", "data-residency": "eu"}


def args(**overrides: Any) -> LakehouseArgs:
    zones = {"raw": BucketZone(retention_days=730, archive_after_days=90),
             "curated": BucketZone(),
             "features": BucketZone(noncurrent_retention_days=14)}
    values: dict[str, Any] = dict(
        region="europe-west4", zones=zones,
        bucket_names={z: f"acme-gcp-{z}-acme-ml-prod" for z in zones},
        kms_key_id=KEY, labels=LABELS)
    values.update(overrides)
    return LakehouseArgs(**values)


def test_a_protected_private_cmek_bucket_per_zone(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Lakehouse("lake", args()))
    buckets = {b.name: b for b in rec.of_type(BUCKET)}
    assert sorted(buckets) == ["lake-curated", "lake-features", "lake-raw"]
    component = rec.one("aifactory:gcp:Lakehouse")
    for zone in ("raw", "curated", "features"):
        bucket = buckets[f"lake-{zone}"]
        assert bucket.protect
        assert bucket.parent == component.urn
        i = bucket.inputs
        assert i["name"] == f"acme-gcp-{zone}-acme-ml-prod"
        assert i["location"] == "EUROPE-WEST4"
        assert i["encryption"] == {"defaultKmsKeyName": KEY}
        assert i["uniformBucketLevelAccess"] is True
        assert i["publicAccessPrevention"] == "enforced"
        assert i["versioning"] == {"enabled": True}
        assert i["forceDestroy"] is False
        assert i["labels"] == {**LABELS, "lakehouse-zone": zone}


def test_lifecycle_retention_old_versions_and_archive(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: Lakehouse("lake", args()))
    assert rec.one(BUCKET, "lake-raw").inputs["lifecycleRules"] == [
        {"action": {"type": "Delete"},
         "condition": {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"}},
        {"action": {"type": "Delete"}, "condition": {"age": 730, "withState": "LIVE"}},
        {"action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"},
         "condition": {"age": 90, "withState": "LIVE", "matchesStorageClasses": ["STANDARD"]}},
    ]
    assert rec.one(BUCKET, "lake-features").inputs["lifecycleRules"] == [
        {"action": {"type": "Delete"},
         "condition": {"daysSinceNoncurrentTime": 14, "withState": "ARCHIVED"}}]


def test_buckets_wait_for_the_key_grant(run) -> None:  # type: ignore[no-untyped-def]
    from pulumi_gcp import kms

    def program() -> None:
        grant = kms.CryptoKeyIAMMember("grant", crypto_key_id=KEY, member="serviceAccount:x",
                                       role="roles/cloudkms.cryptoKeyEncrypterDecrypter")
        Lakehouse("lake", args(key_grants=[grant]))

    rec = run(program)
    grant = rec.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert all(grant.urn in b.dependencies for b in rec.of_type(BUCKET))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"zones": {"raw": BucketZone(retention_days=30, archive_after_days=90)},
      "bucket_names": {"raw": "acme-raw"}},
     "Lakehouse lake: zones['raw'].archive_after_days (90) is not before retention_days (30): "
     "archive earlier or keep longer"),
    ({"bucket_names": {"raw": "acme-raw"}},
     "Lakehouse lake: bucket_names (['raw']) must name exactly the zones (['curated', "
     "'features', 'raw'])"),
])
def test_bad_args_are_refused(run, overrides, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: Lakehouse("lake", args(**overrides)))
    assert str(e.value) == message


def test_replication_makes_each_bucket_a_dual_region(run) -> None:  # type: ignore[no-untyped-def]
    from components.gcp.lakehouse import DualRegion

    rec = run(lambda: Lakehouse("lake", args(
        dual_region=DualRegion(location="EU", replica_region="europe-west1"))))
    for bucket in rec.of_type(BUCKET):
        assert bucket.inputs["location"] == "EU"
        assert bucket.inputs["customPlacementConfig"] == {
            "dataLocations": ["EUROPE-WEST4", "EUROPE-WEST1"]}
        assert bucket.inputs["encryption"] == {"defaultKmsKeyName": KEY}
        assert bucket.protect


def test_a_dual_region_needs_a_second_region(run) -> None:  # type: ignore[no-untyped-def]
    from components.gcp.lakehouse import DualRegion

    with pytest.raises(ComponentArgsError) as e:
        Lakehouse("lake", args(dual_region=DualRegion("EU", "europe-west4")))
    assert str(e.value) == (
        "Lakehouse lake: replication to europe-west4 in EU: a dual-region pairs europe-west4 "
        "with another region of the multi-region EU, US or ASIA")


def test_a_replicated_gcs_lakehouse_in_the_sovereign_example_stays_in_the_eu() -> None:
    from conftest import EXAMPLES, spec_from_yaml

    from aifactory.plan.document import plan_blueprint
    from policies import BY_NAME, evaluate

    text = (EXAMPLES / "sovereign-eu.yaml").read_text().replace(
        "  environment: gcp-eu               # no replication: data never leaves europe-west4\n",
        "  environment: gcp-eu\n  replication: {region: europe-west1}\n")
    plan = plan_blueprint(spec_from_yaml(text), "eu.yaml")
    buckets = [r for r in plan["resources"] if r["type"] == BUCKET]
    assert {b["inputs"]["location"] for b in buckets} == {"EU"}
    rings = {r["name"]: r["inputs"]["location"] for r in plan["resources"]
             if r["type"] == "gcp:kms/keyRing:KeyRing"}
    assert rings == {"gcp-eu-kms-ring": "europe-west4", "gcp-eu-kms-europe-ring": "europe"}
    rules = [BY_NAME[n] for n in ("sovereignty-replication-destination",
                                  "sovereignty-key-region", "sovereignty-resource-region",
                                  "sovereignty-store-customer-keys")]
    assert evaluate(plan, rules).violations == []
    moved = text.replace("replication: {region: europe-west1}", "replication: {region: "
                         "europe-west9}")
    plan = plan_blueprint(spec_from_yaml(moved), "eu.yaml")
    assert evaluate(plan, rules).violations == []  # Paris: still in the EU
