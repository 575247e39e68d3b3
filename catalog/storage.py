"""Facts of the training file systems: what capacities and throughputs each one accepts, and
where Google Cloud Managed Lustre is offered.

Pure data, no Pulumi import: the blueprint loader reads it to refuse a capacity the service
would refuse at deploy time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LustreTier:
    """Capacities a file system of one throughput tier accepts."""

    throughput_per_tib: int
    """MB/s per TiB of storage."""
    min_gib: int
    """Smallest capacity, GiB."""
    step_gib: int
    """Capacities above the smallest are multiples of this, GiB."""
    max_gib: int | None
    """Largest capacity at this step, GiB (None: bounded by the account's quota only)."""


FSX_PERSISTENT_2_TIERS: dict[int, LustreTier] = {
    t: LustreTier(t, 1200, 2400, None) for t in (125, 250, 500, 1000)
}
"""FSx for Lustre PERSISTENT_2 on SSD: 1,200 GiB, or a multiple of 2,400 GiB; 125, 250, 500 or
1,000 MB/s/TiB. Source: Amazon FSx for Lustre User Guide, "Managing storage capacity" (SSD
PERSISTENT_2: 1.2 TiB or increments of 2.4 TiB) and "Managing provisioned throughput capacity"
(Persistent 2 SSD: 125, 250, 500, and 1000 MBps/TiB); API CreateFileSystem StorageCapacity."""
FSX_SOURCE = ("docs.aws.amazon.com/fsx/latest/LustreGuide/managing-storage-capacity.html; "
              "managing-throughput-capacity.html")

MANAGED_LUSTRE_TIERS: dict[int, LustreTier] = {
    1000: LustreTier(1000, 9_000, 9_000, 1_530_000),
    500: LustreTier(500, 18_000, 18_000, 3_060_000),
    250: LustreTier(250, 36_000, 36_000, 6_120_000),
    125: LustreTier(125, 72_000, 72_000, 12_240_000),
}
"""Google Cloud Managed Lustre performance tiers (the smaller-step ranges). Source:
docs.cloud.google.com/managed-lustre/docs/performance-tiers (Tier, Min Capacity, Max Capacity,
Step Size)."""

MANAGED_LUSTRE_ZONES: dict[str, tuple[str, ...]] = {
    "europe-west1": ("europe-west1-b", "europe-west1-c", "europe-west1-d"),
    "europe-west2": ("europe-west2-a", "europe-west2-b", "europe-west2-c"),
    "europe-west3": ("europe-west3-a", "europe-west3-b", "europe-west3-c"),
    "europe-west4": ("europe-west4-a", "europe-west4-b", "europe-west4-c"),
    "europe-west9": ("europe-west9-a", "europe-west9-b"),
    "us-central1": ("us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"),
    "asia-northeast1": ("asia-northeast1-b", "asia-northeast1-c"),
    "asia-southeast1": ("asia-southeast1-a", "asia-southeast1-b", "asia-southeast1-c"),
    "australia-southeast1": ("australia-southeast1-a", "australia-southeast1-b"),
}
"""Zones that offer Managed Lustre, by region (a region not listed is taken as offering none:
its training storage is GCS FUSE on the lakehouse buckets). Source:
docs.cloud.google.com/managed-lustre/docs/locations ("Supported regions and zones"), the
regions listed in every language edition of the page."""
MANAGED_LUSTRE_SOURCE = "docs.cloud.google.com/managed-lustre/docs/locations"
