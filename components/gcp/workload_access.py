"""Lakehouse access for training jobs through GKE Workload Identity Federation.

Jobs run as a Kubernetes service account in their team's namespace; IAM grants go straight to
that Kubernetes identity (a `principal://` of the project's workload identity pool), so there is
no Google service account, no key and no impersonation to manage. Each job identity may read
and write objects of the lakehouse buckets and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_gcp import storage

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent

OBJECT_USER = "roles/storage.objectUser"
K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def workload_principal(project: str, project_number: str, namespace: str,
                       service_account: str) -> str:
    """IAM principal of a Kubernetes service account of a GKE cluster in `project`."""
    return (f"principal://iam.googleapis.com/projects/{project_number}/locations/global/"
            f"workloadIdentityPools/{project}.svc.id.goog/subject/ns/{namespace}/sa/"
            f"{service_account}")


@dataclass(frozen=True)
class WorkloadAccessArgs:
    """Arguments of `WorkloadAccess`."""

    project: str
    """Project of the cluster (names its workload identity pool)."""
    project_number: str
    """Project number (the pool's principals carry it)."""
    namespaces: Sequence[str]
    """Namespaces whose job service account gets access."""
    service_account: str
    """Kubernetes service account jobs run as in each namespace, e.g. training."""
    buckets: Mapping[str, pulumi.Input[str]]
    """Lakehouse bucket names by zone."""


class WorkloadAccess(FactoryComponent):
    """Object read/write on each lakehouse bucket for the jobs' Kubernetes identities."""

    def __init__(self, name: str, args: WorkloadAccessArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:gcp:WorkloadAccess", name, None, opts)
        self.members: list[str] = [
            workload_principal(args.project, args.project_number, ns, args.service_account)
            for ns in args.namespaces]
        for zone, bucket in args.buckets.items():
            for ns, member in zip(args.namespaces, self.members, strict=True):
                storage.BucketIAMMember(
                    naming.child(name, zone, ns),
                    bucket=bucket,
                    role=OBJECT_USER,
                    member=member,
                    opts=self.child_opts(),
                )
        self.principals: pulumi.Output[list[str]] = pulumi.Output.from_input(self.members)
        self.register_outputs({"principals": self.principals})


def _validate(name: str, args: WorkloadAccessArgs) -> None:
    if not args.namespaces:
        raise ComponentArgsError(f"WorkloadAccess {name}: namespaces is empty: name at least one")
    for value in (*args.namespaces, args.service_account):
        if not K8S_NAME.fullmatch(value):
            raise ComponentArgsError(
                f"WorkloadAccess {name}: {value!r} is not a Kubernetes name (lower-case letters, "
                "digits and '-', at most 63)")
    if not re.fullmatch(r"\d{6,20}", args.project_number):
        raise ComponentArgsError(
            f"WorkloadAccess {name}: project_number ({args.project_number!r}) must be 6-20 "
            "digits")
