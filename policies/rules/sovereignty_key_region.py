"""sovereignty-key-region: the customer-managed keys of stores lie inside the jurisdiction.

A store inside the jurisdiction encrypted with a key held elsewhere (a GCS bucket in
europe-west4 with a Cloud KMS key in us-central1, an S3 bucket with a KMS key ARN of us-east-1)
puts the data's only means of decryption outside. A key is found by its reference: an ARN or
Cloud KMS resource name says its region; a reference to a key in the plan (a name, a mock id,
or a value unknown until deploy with the dependency on the key) is followed to the key and,
for Cloud KMS, to its key ring's location.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from policies.model import Evidence, Finding, Rule
from policies.residency import allowed_places, arn_region, region_allowed
from policies.view import UNKNOWN, PlanView, Resource, cloud_of, gcp_region

AWS_KEY = "aws:kms/key:Key"
GCP_KEY = "gcp:kms/cryptoKey:CryptoKey"
GCP_RING = "gcp:kms/keyRing:KeyRing"
# Inputs that name a customer-managed key (anywhere in a store's inputs). `keyName` alone is
# also an EC2 key pair, so it counts only inside databaseEncryption (GKE).
KEY_FIELDS = frozenset({"kmsMasterKeyId", "kmsKey", "keyArn", "kmsKeyId", "defaultKmsKeyName",
                        "kmsKeyName", "bootDiskKmsKey", "kmsKeySelfLink", "encryptionKeyName"})
_GCP_KEY_NAME = re.compile(r"(?:^|/)projects/[^/]+/locations/([^/]+)/keyRings/")


def key_refs(value: Any, path: str = "", parent: str = "") -> Iterator[tuple[str, str]]:
    """(path, reference) of every customer-managed key a store's inputs name."""
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if isinstance(v, str) and v and (k in KEY_FIELDS or (
                    k == "keyName" and parent == "databaseEncryption")):
                yield sub, v
            else:
                yield from key_refs(v, sub, str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from key_refs(v, f"{path}[{i}]", parent)


def _named(view: PlanView, type_token: str, ref: str) -> Resource | None:
    leaf = re.split(r"[:/]", ref)[-1]
    return next((k for k in view.of_type(type_token)
                 if ref in (k["name"], f"{k['name']}-id") or leaf in (k["name"], f"{k['name']}-id")
                 or ref == k["inputs"].get("name")), None)


def _ring_location(view: PlanView, key: Resource) -> str | None:
    ring_ref = key["inputs"].get("keyRing")
    ring = _named(view, GCP_RING, ring_ref) if isinstance(ring_ref, str) and \
        ring_ref != UNKNOWN else None
    if ring is None:
        rings = view.dependencies(key, GCP_RING)
        ring = rings[0] if len(rings) == 1 else None
    if ring is None:
        m = _GCP_KEY_NAME.search(ring_ref) if isinstance(ring_ref, str) else None
        return gcp_region(m.group(1)) if m else None
    return view.region(ring)


def key_place(view: PlanView, store: Resource, ref: str) -> tuple[str | None, str] | None:
    """(region, key) of a key reference; None when it cannot be followed."""
    cloud = cloud_of(store["type"])
    if cloud == "aws":
        region = arn_region(ref) if ref != UNKNOWN else None
        if region:
            return region, ref
        key = _named(view, AWS_KEY, ref) if ref != UNKNOWN else None
        if key is None:
            deps = view.dependencies(store, AWS_KEY)
            key = deps[0] if len(deps) == 1 else None
        return (view.region(key), key["name"]) if key is not None else None
    m = _GCP_KEY_NAME.search(ref)
    if m:
        return gcp_region(m.group(1)), ref
    key = _named(view, GCP_KEY, ref) if ref != UNKNOWN else None
    if key is None:
        deps = view.dependencies(store, GCP_KEY)
        key = deps[0] if len(deps) == 1 else None
    return (_ring_location(view, key), key["name"]) if key is not None else None


def check(view: PlanView) -> Iterator[Finding]:
    j = view.jurisdiction
    assert j is not None
    for r in view.resources:
        cloud = cloud_of(r["type"])
        if cloud not in ("aws", "gcp") or r["type"] in (AWS_KEY, GCP_KEY, GCP_RING) \
                or r["type"].startswith("pulumi:"):
            continue
        for path, ref in key_refs(r["inputs"]):
            place = key_place(view, r, ref)
            if place is None:
                continue
            region, key = place
            if region is not None and region_allowed(j, cloud, region):
                continue
            store_region = view.region(r)
            yield view.finding(
                r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']}"
                f"{f' ({store_region})' if store_region else ''} is encrypted with key {key} "
                f"({path}) in {region or 'a region that cannot be shown'}, outside {j.name} "
                f"(allowed: {allowed_places(j, cloud)})", key=key, keyRegion=region, path=path,
                cause=view.region_cause(cloud, region))


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.resources:
        cloud = cloud_of(r["type"])
        if cloud not in ("aws", "gcp") or r["type"] in (AWS_KEY, GCP_KEY, GCP_RING) \
                or r["type"].startswith("pulumi:"):
            continue
        refs = {}
        for path, ref in key_refs(r["inputs"]):
            place = key_place(view, r, ref)
            if place is not None:
                refs[path] = f"{place[1]} ({place[0] or 'region unknown'})"
        if refs:
            yield view.evidence(r, **refs)


RULE = Rule(
    name="sovereignty-key-region",
    domain="sovereignty",
    severity="critical",
    description="With a declared jurisdiction, every customer-managed key a store is encrypted "
    "with (KMS key ARN, Cloud KMS key and its key ring) lies inside the jurisdiction.",
    remediation="Create the key (AWS KMS key, Cloud KMS key ring) in the store's own region, "
    "inside the jurisdiction, and reference that key from the store's encryption settings.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
