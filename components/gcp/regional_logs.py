"""Logs kept in the environment's region: a CMEK log bucket, the _Default sink, audit configs.

A project's own `_Default` log bucket is global, so by default GKE's control-plane, workload
and audit logs may be stored anywhere. Here a regional log bucket, encrypted with a key of the
same region and protected twice (`protect` in Pulumi, `deletion_policy` PREVENT in the
provider), receives everything the project's `_Default` sink routes, and Data Access audit
logs are turned on for the services the factory uses, so they land there too.

The `_Required` bucket (Admin Activity, System Event and Access Transparency audit logs, kept
400 days) cannot be moved or disabled from inside a project; the `_Default` sink here also
copies those logs into the regional bucket. Moving `_Required` itself takes the organisation's
default storage location (`gcp.logging.OrganizationSettings.storage_location`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_gcp import logging, projects

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent

DEFAULT_SINK = "_Default"
"""Name of the sink every project has; the provider adopts it instead of creating one."""
AUDIT_LOG_TYPES = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
"""Data Access audit log types turned on for each audited service."""
ALL_LOGS = ""
"""Sink filter matching every log entry, audit logs included."""
BUCKET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
SERVICE = re.compile(r"^[a-z0-9.-]+\.googleapis\.com$")


@dataclass(frozen=True)
class RegionalLogsArgs:
    """Arguments of `RegionalLogs`."""

    project: str
    """Project whose logs are kept (its _Default sink is re-pointed)."""
    location: str
    """Region of the log bucket, e.g. europe-west4: the environment's region."""
    bucket_id: str
    """Log bucket id (1-100 letters, digits, '_', '-', '.'; not starting with '_')."""
    kms_key_id: pulumi.Input[str]
    """Cloud KMS key of the same region encrypting the bucket (the Logging agent holds it)."""
    retention_days: int = 365
    """Days the bucket keeps log entries (1-3650)."""
    locked: bool = False
    """Lock the bucket: its retention can never change, it can be deleted only once empty."""
    audited_services: Sequence[str] = ()
    """Services (e.g. container.googleapis.com) whose Data Access audit logs are turned on."""
    key_grants: Sequence[pulumi.Resource] = ()
    """Grants of the key to the Cloud Logging service agent: the bucket is created after them."""


class RegionalLogs(FactoryComponent):
    """A protected regional CMEK log bucket receiving the project's logs, and audit configs."""

    def __init__(self, name: str, args: RegionalLogsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:gcp:RegionalLogs", name, None, opts)

        bucket = logging.ProjectBucketConfig(
            naming.child(name, "bucket"),
            project=args.project,
            location=args.location,
            bucket_id=args.bucket_id,
            retention_days=args.retention_days,
            locked=args.locked,
            cmek_settings={"kms_key_name": args.kms_key_id},
            deletion_policy="PREVENT",
            description=f"Logs of project {args.project}, kept in {args.location}",
            opts=self.data_opts(depends_on=list(args.key_grants)),
        )
        # Built from the bucket's own outputs (they echo its inputs) so the plan shows the
        # destination's region offline and the sink waits for the bucket.
        destination = pulumi.Output.all(bucket.project, bucket.location, bucket.bucket_id).apply(
            lambda v: log_bucket_destination(v[0], v[1], v[2]))
        sink = logging.ProjectSink(
            naming.child(name, "default-sink"),
            name=DEFAULT_SINK,
            project=args.project,
            destination=destination,
            filter=ALL_LOGS,
            unique_writer_identity=True,
            description=f"Every log of the project, audit logs included, into {args.bucket_id} "
            f"in {args.location}",
            opts=self.child_opts(),
        )
        self.audit_configs = [
            projects.IAMAuditConfig(
                naming.child(name, "audit", service.split(".", 1)[0]),
                project=args.project,
                service=service,
                audit_log_configs=[{"log_type": t} for t in AUDIT_LOG_TYPES],
                opts=self.child_opts(),
            )
            for service in args.audited_services
        ]
        self.bucket = bucket
        self.sink = sink
        self.bucket_name: pulumi.Output[str] = bucket.name
        self.destination: pulumi.Output[str] = destination
        self.writer_identity: pulumi.Output[str] = sink.writer_identity
        self.register_outputs({
            "bucket_name": self.bucket_name,
            "destination": self.destination,
            "writer_identity": self.writer_identity,
        })


def log_bucket_destination(project: str, location: str, bucket_id: str) -> str:
    """Sink destination of a log bucket: logging.googleapis.com/projects/P/locations/L/buckets/B."""
    return f"logging.googleapis.com/projects/{project}/locations/{location}/buckets/{bucket_id}"


def _validate(name: str, args: RegionalLogsArgs) -> None:
    if not 1 <= args.retention_days <= 3650:
        raise ComponentArgsError(
            f"RegionalLogs {name}: retention_days ({args.retention_days}) must lie between 1 "
            "and 3650: Cloud Logging keeps entries at most ten years")
    if not BUCKET_ID.fullmatch(args.bucket_id):
        raise ComponentArgsError(
            f"RegionalLogs {name}: bucket_id ({args.bucket_id!r}) must have 1-100 letters, "
            "digits, '_', '-' or '.' and not start with '_' (reserved for _Default and "
            "_Required): use components.naming.fit(name, 100)")
    if not REGION.fullmatch(args.location):
        raise ComponentArgsError(
            f"RegionalLogs {name}: location ({args.location!r}) must be a region such as "
            "europe-west4: a global or multi-region bucket does not keep logs in one region")
    wrong = [s for s in args.audited_services if not SERVICE.fullmatch(s)]
    if wrong:
        raise ComponentArgsError(
            f"RegionalLogs {name}: audited_services {wrong} are not service names: use names "
            "such as container.googleapis.com")
    if len(set(args.audited_services)) != len(args.audited_services):
        raise ComponentArgsError(
            f"RegionalLogs {name}: audited_services ({list(args.audited_services)}) repeat a "
            "service: list each once (an audit config is authoritative for its service)")
