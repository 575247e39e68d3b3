"""Where AWS resources live: partition, region and account, and the names that follow from them.

ARNs, service principals and VPC endpoint service names differ between partitions (aws,
aws-eusc, aws-us-gov, aws-cn). Components take every such value from here, computed from the
blueprint, so a plan needs no live look-up and the European Sovereign Cloud gets its own names.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.partitions import partition_of

__all__ = ["DNS_SUFFIX", "AwsLocation", "partition_of"]

# DNS suffix per partition (botocore data/partitions.json, "dnsSuffix").
DNS_SUFFIX = {
    "aws": "amazonaws.com",
    "aws-us-gov": "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
    "aws-eusc": "amazonaws.eu",
}

# VPC endpoint service names are `<prefix>.<region>.<service>`; outside the commercial
# partitions some services use a partition prefix (aws-cdk-lib aws-ec2 vpc-endpoint.ts,
# VPC_ENDPOINT_SERVICE_EXCEPTIONS: in eusc-de-east-1 only ecr.api, ecr.dkr, execute-api and
# securityhub carry "eu.amazonaws"; in China most interface endpoints carry "cn.com.amazonaws").
_ENDPOINT_PREFIX_EXCEPTIONS = {
    "aws-eusc": ("eu.amazonaws", frozenset({"ecr.api", "ecr.dkr", "execute-api", "securityhub"})),
    "aws-cn": ("cn.com.amazonaws", frozenset({"ecr.api", "ecr.dkr", "sts"})),
}


@dataclass(frozen=True)
class AwsLocation:
    """An AWS account in one region of one partition."""

    partition: str
    """AWS partition: aws, aws-eusc, aws-us-gov or aws-cn."""
    region: str
    """Region, e.g. eu-west-2 or eusc-de-east-1."""
    account_id: str
    """12-digit account id."""

    @property
    def dns_suffix(self) -> str:
        """The partition's DNS suffix (amazonaws.com, amazonaws.eu, ...)."""
        return DNS_SUFFIX.get(self.partition, "amazonaws.com")

    def arn(self, service: str, resource: str, *, regional: bool = True,
            in_account: bool = True) -> str:
        """An ARN in this partition, e.g. arn('logs', 'log-group:/x')."""
        region = self.region if regional else ""
        account = self.account_id if in_account else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def managed_policy(self, name: str) -> str:
        """ARN of an AWS-managed IAM policy, e.g. AmazonEKSClusterPolicy."""
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    def bucket_arn(self, bucket: str) -> str:
        """ARN of an S3 bucket (bucket ARNs carry neither region nor account)."""
        return f"arn:{self.partition}:s3:::{bucket}"

    def role_arn(self, role: str) -> str:
        """ARN of an IAM role of this account."""
        return f"arn:{self.partition}:iam::{self.account_id}:role/{role}"

    def root_arn(self) -> str:
        """The account principal, for key policies that delegate to IAM."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def service_principal(self, service: str, *, regional: bool = False) -> str:
        """Service principal for trust and key policies.

        IAM in aws-eusc keeps the commercial form `ec2.amazonaws.com` (it rejects
        `ec2.amazonaws.eu`); only China uses its own suffix for EC2.
        """
        if self.partition == "aws-cn" and service == "ec2":
            return "ec2.amazonaws.com.cn"
        if regional:
            suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
            return f"{service}.{self.region}.{suffix}"
        return f"{service}.amazonaws.com"

    def endpoint_service(self, service: str) -> str:
        """VPC endpoint service name, e.g. com.amazonaws.eu-west-2.ecr.dkr."""
        prefix, services = _ENDPOINT_PREFIX_EXCEPTIONS.get(self.partition, ("", frozenset()))
        head = prefix if service in services else "com.amazonaws"
        return f"{head}.{self.region}.{service}"
