"""Which AWS partition a region belongs to: a pure fact the spec and the components share.

ARNs, service principals and endpoint names follow the partition, so the spec refuses a
blueprint whose `partition` does not match its region, and the components derive names from it.
"""

from __future__ import annotations

AWS_PARTITIONS = ("aws", "aws-eusc", "aws-us-gov", "aws-cn")
"""Every AWS partition the factory deploys to."""

# Region prefixes of the partitions other than the commercial one (botocore
# data/partitions.json, "regionRegex").
_PREFIXES = (("eusc-", "aws-eusc"), ("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))


def partition_of(region: str) -> str:
    """The partition a region belongs to, e.g. eusc-de-east-1 -> aws-eusc."""
    for prefix, partition in _PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"
