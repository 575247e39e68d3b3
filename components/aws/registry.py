"""ECR repositories for the factory's images and models: immutable tags, scanned, KMS-encrypted."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ecr

from blueprints.errors import ComponentArgsError
from components import naming
from components.aws.location import AwsLocation
from components.base import FactoryComponent


@dataclass(frozen=True)
class RegistryArgs:
    """Arguments of `Registry`."""

    location: AwsLocation
    """Partition, region and account of the repositories."""
    namespace: str
    """Prefix of every repository name (the factory name): <namespace>/<repository>."""
    repositories: Sequence[str]
    """Repositories to create."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key encrypting the images."""
    immutable_tags: bool = True
    """A pushed tag can never point at another image."""
    scan_on_push: bool = True
    """Scan every pushed image for known vulnerabilities."""
    untagged_expiry_days: int = 14
    """Delete untagged images (left behind by re-pushes and failed builds) after this many days."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags."""


def repository_name(namespace: str, repository: str) -> str:
    """Full ECR repository name."""
    return f"{namespace}/{repository}"


def repository_arn(location: AwsLocation, namespace: str, repository: str) -> str:
    """ARN of a repository (known from the blueprint, before it exists)."""
    return location.arn("ecr", f"repository/{repository_name(namespace, repository)}")


def lifecycle_policy(untagged_expiry_days: int) -> str:
    """ECR lifecycle policy expiring untagged images."""
    return json.dumps({"rules": [{
        "rulePriority": 1,
        "description": f"Expire untagged images after {untagged_expiry_days} days",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                      "countUnit": "days", "countNumber": untagged_expiry_days},
        "action": {"type": "expire"},
    }]}, sort_keys=True)


class Registry(FactoryComponent):
    """One protected ECR repository per name, with a lifecycle policy each."""

    def __init__(self, name: str, args: RegistryArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        where = f"Registry {name}"
        if not args.repositories:
            raise ComponentArgsError(f"{where}: repositories is empty: name at least one")
        repeated = sorted({r for r in args.repositories if list(args.repositories).count(r) > 1})
        if repeated:
            raise ComponentArgsError(f"{where}: repositories {repeated} are listed more than "
                                     "once: list each repository once")
        if args.untagged_expiry_days < 1:
            raise ComponentArgsError(f"{where}: untagged_expiry_days "
                                     f"({args.untagged_expiry_days}) must be at least 1")
        super().__init__("aifactory:aws:Registry", name, None, opts)

        urls: dict[str, pulumi.Output[str]] = {}
        for repo in args.repositories:
            full = repository_name(args.namespace, repo)
            repository = ecr.Repository(
                naming.child(name, repo), name=full,
                image_tag_mutability="IMMUTABLE" if args.immutable_tags else "MUTABLE",
                image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=args.scan_on_push),
                encryption_configurations=[ecr.RepositoryEncryptionConfigurationArgs(
                    encryption_type="KMS", kms_key=args.kms_key_arn)],
                force_delete=False,
                tags={**args.tags, "Name": full},
                opts=self.data_opts())
            ecr.LifecyclePolicy(naming.child(name, repo, "lifecycle"),
                                repository=repository.name,
                                policy=lifecycle_policy(args.untagged_expiry_days),
                                opts=self.child_opts())
            urls[repo] = repository.repository_url

        self.repository_arns: list[str] = [
            repository_arn(args.location, args.namespace, r) for r in args.repositories]
        """ARN of each repository (known from the blueprint)."""
        self.repository_urls: pulumi.Output[dict[str, str]] = pulumi.Output.all(**urls)
        self.register_outputs({"repository_urls": self.repository_urls,
                               "repository_arns": self.repository_arns})
