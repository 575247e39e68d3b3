"""Artifact Registry: a Docker repository per blueprint repository, and one Python repository.

Every repository is regional (images stay in the region of the factory), encrypted with the
customer-managed registry key and protected; Docker tags are immutable when asked, so a tag
always names the image that was reviewed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import artifactregistry

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent

REPOSITORY_ID = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class ArtifactRegistryArgs:
    """Arguments of `ArtifactRegistry`."""

    region: str
    """Region of every repository, e.g. europe-west4 (the key must live there too)."""
    docker_repositories: Sequence[str]
    """Repository ids of the Docker repositories, e.g. acme-training."""
    kms_key_id: pulumi.Input[str]
    """Cloud KMS key (same region) encrypting every repository."""
    python_repository: str | None = None
    """Repository id of a Python (PyPI) repository, when the blueprint asks for one."""
    immutable_tags: bool = True
    """Docker tags cannot be moved once pushed."""
    scan_on_push: bool = True
    """Scan pushed images for vulnerabilities (Artifact Analysis)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of every repository."""
    key_grants: Sequence[pulumi.Resource] = ()
    """Grants of the key to the Artifact Registry service agent: repositories wait for them."""


class ArtifactRegistry(FactoryComponent):
    """Protected, CMEK-encrypted Docker repositories (and a Python one, when asked) in one
    region."""

    def __init__(self, name: str, args: ArtifactRegistryArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:gcp:ArtifactRegistry", name, None, opts)
        scanning: artifactregistry.RepositoryVulnerabilityScanningConfigArgsDict = {
            "enablement_config": "INHERITED" if args.scan_on_push else "DISABLED"}

        self.repositories: dict[str, artifactregistry.Repository] = {}
        for repo in args.docker_repositories:
            self.repositories[repo] = artifactregistry.Repository(
                naming.child(name, repo),
                repository_id=repo,
                location=args.region,
                format="DOCKER",
                mode="STANDARD_REPOSITORY",
                description=f"Container images: {repo}",
                docker_config={"immutable_tags": args.immutable_tags},
                kms_key_name=args.kms_key_id,
                vulnerability_scanning_config=scanning,
                labels=dict(args.labels),
                opts=self.data_opts(depends_on=list(args.key_grants)),
            )
        if args.python_repository is not None:
            self.repositories[args.python_repository] = self._python(name, args)
        # <region>-docker.pkg.dev/<project>/<repository>: where the platform layer pulls from.
        self.docker_host: pulumi.Output[str] = pulumi.Output.from_input(
            f"{args.region}-docker.pkg.dev")
        self.repository_ids: dict[str, pulumi.Output[str]] = {
            r: repo.repository_id for r, repo in self.repositories.items()}
        self.register_outputs({"docker_host": self.docker_host,
                               "repository_ids": self.repository_ids})

    def _python(self, name: str, args: ArtifactRegistryArgs) -> artifactregistry.Repository:
        assert args.python_repository is not None
        return artifactregistry.Repository(
            naming.child(name, args.python_repository),
            repository_id=args.python_repository,
            location=args.region,
            format="PYTHON",
            mode="STANDARD_REPOSITORY",
            description="Python packages of the factory's jobs and models",
            kms_key_name=args.kms_key_id,
            labels=dict(args.labels),
            opts=self.data_opts(depends_on=list(args.key_grants)),
        )


def _validate(name: str, args: ArtifactRegistryArgs) -> None:
    if not args.docker_repositories:
        raise ComponentArgsError(
            f"ArtifactRegistry {name}: docker_repositories is empty: name at least one")
    every = [*args.docker_repositories,
             *([args.python_repository] if args.python_repository is not None else [])]
    for repo in every:
        if not REPOSITORY_ID.fullmatch(repo):
            raise ComponentArgsError(
                f"ArtifactRegistry {name}: repository id {repo!r} must be 1-63 lower-case "
                "letters, digits and '-', starting with a letter")
    if len(set(every)) != len(every):
        raise ComponentArgsError(
            f"ArtifactRegistry {name}: repository ids {every} repeat one: the Python "
            f"repository ({args.python_repository!r}) needs a name of its own")
