"""A private PostgreSQL on RDS for a platform service (MLflow's tracking and registry store).

In the VPC's private subnets, reachable only from the VPC on 5432, encrypted with the
environment's customer-managed key (storage and Performance Insights), TLS required, protected
and with deletion protection; automated backups stay in the instance's region (no cross-region
backup replication is configured) for the days given, and a final snapshot is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2, rds

from blueprints.errors import ComponentArgsError
from components import naming
from components.aws.location import AwsLocation
from components.base import FactoryComponent

ENGINE_VERSION = "17"
"""PostgreSQL major version (RDS picks the newest minor and upgrades it in maintenance)."""
PORT = 5432


@dataclass(frozen=True)
class PostgresDatabaseArgs:
    """Arguments of `PostgresDatabase`."""

    location: AwsLocation
    """Partition, region and account."""
    identifier: str
    """RDS instance identifier."""
    database: str
    """Database name."""
    username: str
    """Owner user."""
    password: pulumi.Input[str]
    """Owner's password (a Pulumi secret)."""
    vpc_id: pulumi.Input[str]
    """VPC of the cluster."""
    vpc_cidr: str
    """The VPC's CIDR: the only source allowed to connect."""
    subnet_ids: pulumi.Input[list[str]]
    """Private subnets."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key of storage and Performance Insights."""
    instance_class: str = "db.t4g.medium"
    """Instance class."""
    storage_gb: int = 20
    """Allocated storage, GiB (autoscaling up to 5x)."""
    backup_retention_days: int = 7
    """Days automated backups are kept (in this region)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags."""


class PostgresDatabase(FactoryComponent):
    """RDS PostgreSQL: private, customer-keyed, protected, backed up in its region."""

    def __init__(self, name: str, args: PostgresDatabaseArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not 1 <= args.backup_retention_days <= 35:
            raise ComponentArgsError(f"`backup_retention_days` ({args.backup_retention_days}) "
                                     "must lie between 1 and 35 (RDS)")
        if args.storage_gb < 20:
            raise ComponentArgsError(f"`storage_gb` ({args.storage_gb}) is below RDS's "
                                     "minimum of 20")
        if not args.instance_class.startswith("db."):
            raise ComponentArgsError(f"`instance_class` {args.instance_class!r} is not an RDS "
                                     "class: give e.g. db.t4g.medium")
        super().__init__("aifactory:aws:PostgresDatabase", name, {
            "identifier": args.identifier, "region": args.location.region,
            "backupRetentionDays": args.backup_retention_days}, opts)

        def tags(suffix: str) -> dict[str, str]:
            return {**args.tags, "Name": f"{args.identifier}-{suffix}"}

        subnets = rds.SubnetGroup(naming.child(name, "subnets"), name=args.identifier,
                                  description=f"{args.identifier}: private subnets",
                                  subnet_ids=args.subnet_ids, tags=tags("subnets"),
                                  opts=self.child_opts())
        sg = ec2.SecurityGroup(
            naming.child(name, "sg"), vpc_id=args.vpc_id,
            description=f"PostgreSQL {args.identifier} from inside the VPC",
            ingress=[ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=PORT, to_port=PORT, cidr_blocks=[args.vpc_cidr],
                description="PostgreSQL from the VPC")],
            egress=[], tags=tags("sg"), opts=self.child_opts())
        params = rds.ParameterGroup(
            naming.child(name, "params"), name=args.identifier, family=f"postgres{ENGINE_VERSION}",
            description=f"{args.identifier}: TLS only",
            parameters=[rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1")],
            tags=tags("params"), opts=self.child_opts())
        self.instance = rds.Instance(
            naming.child(name, "db"), identifier=args.identifier, engine="postgres",
            engine_version=ENGINE_VERSION, instance_class=args.instance_class,
            allocated_storage=args.storage_gb, max_allocated_storage=args.storage_gb * 5,
            storage_type="gp3", storage_encrypted=True, kms_key_id=args.kms_key_arn,
            db_name=args.database, username=args.username,
            password=pulumi.Output.secret(args.password), port=PORT,
            db_subnet_group_name=subnets.name, vpc_security_group_ids=[sg.id],
            parameter_group_name=params.name, publicly_accessible=False, multi_az=True,
            backup_retention_period=args.backup_retention_days, copy_tags_to_snapshot=True,
            deletion_protection=True, skip_final_snapshot=False,
            final_snapshot_identifier=f"{args.identifier}-final",
            auto_minor_version_upgrade=True, iam_database_authentication_enabled=True,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.kms_key_arn,
            enabled_cloudwatch_logs_exports=["postgresql"], tags=tags("db"),
            opts=self.data_opts())
        self.host: pulumi.Output[str] = self.instance.address
        self.port = PORT
        self.register_outputs({"host": self.host})
