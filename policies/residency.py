"""Whether a place (an AWS or GCP region, a GCS multi-region, a country) lies in a jurisdiction."""

from __future__ import annotations

import re

import catalog

# GCP multi- and dual-regions whose data stays inside a jurisdiction. Sources: Cloud Storage
# "Bucket locations" page: EU = data centres in EU member states; EUR4 = europe-north1
# (Finland) + europe-west4 (Netherlands); other dual-regions pair EU with non-EU regions.
# Cloud KMS and Artifact Registry "Locations" pages: the multi-region `europe` lies in the EU.
GCP_MULTI_REGIONS: dict[str, frozenset[str]] = {"EU": frozenset({"eu", "eur4", "europe"})}

_ARN_REGION = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:([a-z0-9-]*):")


def region_allowed(j: catalog.Jurisdiction, cloud: str, region: str) -> bool:
    """An AWS region, or a GCP region/zone/multi-region, lies in the jurisdiction."""
    region = region.lower()
    if cloud == "aws":
        return region in j.aws_regions
    if cloud == "gcp":
        return region in j.gcp_regions or region in GCP_MULTI_REGIONS.get(j.name, frozenset())
    return False


def allowed_places(j: catalog.Jurisdiction, cloud: str) -> str:
    """The allowed places of one cloud, for messages."""
    if cloud == "aws":
        return ", ".join(sorted(j.aws_regions))
    if cloud == "gcp":
        return ", ".join(sorted(j.gcp_regions | GCP_MULTI_REGIONS.get(j.name, frozenset())))
    return ", ".join(sorted(j.countries))


def arn_region(arn: str) -> str | None:
    """The region field of an ARN ('' for global services, None when not an ARN)."""
    m = _ARN_REGION.match(arn) if isinstance(arn, str) else None
    return m.group(1) if m else None
