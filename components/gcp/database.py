"""A private PostgreSQL on Cloud SQL for a platform service (MLflow's tracking and registry).

Private IP only (private services access to the cluster's VPC; no public IPv4), TLS required,
encrypted with the environment's customer-managed key (same region), regional high
availability, protected and with deletion protection; automated backups and point-in-time
recovery with the backups kept in the instance's own region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import compute, servicenetworking, sql

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent

DATABASE_VERSION = "POSTGRES_17"


@dataclass(frozen=True)
class CloudSqlPostgresArgs:
    """Arguments of `CloudSqlPostgres`."""

    project: str
    """Project of the instance."""
    region: str
    """Region of the instance and of its backups."""
    instance_name: str
    """Instance name."""
    database: str
    """Database name."""
    username: str
    """Owner user."""
    password: pulumi.Input[str]
    """Owner's password (a Pulumi secret)."""
    network_id: pulumi.Input[str]
    """VPC the instance gets its private IP in."""
    kms_key_id: pulumi.Input[str]
    """Cloud KMS key (same region) of the instance's disks and backups."""
    tier: str = "db-custom-2-7680"
    """Machine tier."""
    storage_gb: int = 20
    """Disk size, GB (grows automatically)."""
    backup_retention_days: int = 7
    """Automated backups kept."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the instance."""
    key_grants: Sequence[pulumi.Resource] = ()
    """Grants of the key to the Cloud SQL service agent: the instance waits for them."""


class CloudSqlPostgres(FactoryComponent):
    """Cloud SQL PostgreSQL: private, customer-keyed, protected, backed up in its region."""

    def __init__(self, name: str, args: CloudSqlPostgresArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not 1 <= args.backup_retention_days <= 365:
            raise ComponentArgsError(f"`backup_retention_days` ({args.backup_retention_days}) "
                                     "must lie between 1 and 365 (Cloud SQL)")
        if not args.tier.startswith("db-"):
            raise ComponentArgsError(f"`tier` {args.tier!r} is not a Cloud SQL tier: give "
                                     "e.g. db-custom-2-7680")
        super().__init__("aifactory:gcp:CloudSqlPostgres", name, {
            "instance": args.instance_name, "region": args.region,
            "backupRetentionDays": args.backup_retention_days}, opts)
        peering = compute.GlobalAddress(
            naming.child(name, "peering-range"),
            name=naming.fit(naming.child(args.instance_name, "psa"), 63),
            purpose="VPC_PEERING", address_type="INTERNAL", prefix_length=20,
            network=args.network_id, opts=self.child_opts())
        connection = servicenetworking.Connection(
            naming.child(name, "private-services"), network=args.network_id,
            service="servicenetworking.googleapis.com", reserved_peering_ranges=[peering.name],
            opts=self.child_opts())
        self.instance = sql.DatabaseInstance(
            naming.child(name, "instance"), name=args.instance_name, project=args.project,
            region=args.region, database_version=DATABASE_VERSION,
            encryption_key_name=args.kms_key_id, deletion_protection=True,
            settings={
                "tier": args.tier, "availability_type": "REGIONAL",
                "disk_type": "PD_SSD", "disk_size": args.storage_gb, "disk_autoresize": True,
                "deletion_protection_enabled": True, "user_labels": dict(args.labels),
                "ip_configuration": {"ipv4_enabled": False, "private_network": args.network_id,
                                     "ssl_mode": "ENCRYPTED_ONLY"},
                "backup_configuration": {
                    "enabled": True, "point_in_time_recovery_enabled": True,
                    "location": args.region,
                    "backup_retention_settings": {
                        "retained_backups": args.backup_retention_days,
                        "retention_unit": "COUNT"}},
            },
            opts=self.data_opts(depends_on=[connection, *args.key_grants]))
        sql.Database(naming.child(name, "database"), name=args.database,
                     instance=self.instance.name, project=args.project,
                     opts=self.child_opts())
        sql.User(naming.child(name, "user"), name=args.username, instance=self.instance.name,
                 project=args.project, password=pulumi.Output.secret(args.password),
                 opts=self.child_opts())
        self.host: pulumi.Output[str] = self.instance.private_ip_address
        self.register_outputs({"host": self.host})
