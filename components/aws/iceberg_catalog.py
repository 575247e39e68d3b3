"""The lakehouse's Iceberg catalog on AWS: the Glue Data Catalog (engines reach it at its Iceberg
REST endpoint, https://glue.<region>.amazonaws.com/iceberg) with Lake Formation grants.

Each namespace is a Glue database whose location is a prefix of its zone's bucket, so the
warehouse is the lakehouse itself. Lake Formation governs the files: each namespace's prefix is
registered with a data-access role that alone may touch those objects, and engines get
credentials vended for the tables a team is granted. Each team has an IRSA role (trusted by its
namespace's `lakehouse` service account) whose IAM policy reaches only its namespaces' Glue
objects: read for readers, create/alter/drop for writers; the same split is granted in Lake
Formation. The catalog's metadata is encrypted with the environment's customer-managed key;
every catalog resource names its region, so the sovereignty rules judge it on its own.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import glue, iam, lakeformation

from blueprints.errors import ComponentArgsError
from components import naming
from components.aws.location import AwsLocation
from components.aws.policy import (
    allow,
    assert_least_privilege,
    document,
    service_trust,
    trust_policy,
)
from components.base import FactoryComponent
from components.iceberg import SERVICE_ACCOUNT, CatalogNamespaceArgs, grants

GLUE_READ = ["glue:GetCatalog", "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable",
             "glue:GetTables", "glue:GetTableVersion", "glue:GetTableVersions",
             "glue:GetPartition", "glue:GetPartitions"]
GLUE_WRITE = ["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
              "glue:BatchCreatePartition", "glue:BatchDeletePartition", "glue:CreatePartition",
              "glue:UpdatePartition", "glue:DeletePartition"]
LF_DATABASE_READ = ["DESCRIBE"]
LF_DATABASE_WRITE = ["ALTER", "CREATE_TABLE", "DESCRIBE"]
LF_TABLE_READ = ["DESCRIBE", "SELECT"]
LF_TABLE_WRITE = ["ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT"]


@dataclass(frozen=True)
class CatalogTeam:
    """A team that reaches the catalog: its namespace and service account."""

    namespace: str
    """Kubernetes namespace of the team."""
    service_account: str = SERVICE_ACCOUNT
    """Service account its jobs and pipelines run as."""
    object_prefixes: tuple[str, ...] = ()
    """S3 object ARN patterns the team reads and writes directly, outside the catalog (the
    pipelines' artifacts)."""
    read_prefixes: tuple[str, ...] = ()
    """S3 object ARN patterns the team only reads, outside the catalog (the served models'
    request logs the drift watch compares)."""


@dataclass(frozen=True)
class IcebergCatalogArgs:
    """Arguments of `IcebergCatalog` (AWS)."""

    location: AwsLocation
    """Partition, region and account of the catalog: the lakehouse's."""
    factory: str
    """Factory name: the first part of every database name."""
    name_prefix: str
    """Prefix of IAM role names (factory and environment)."""
    zone_buckets: Mapping[str, str]
    """Bucket name of each lakehouse zone."""
    kms_key_arn: pulumi.Input[str]
    """The environment's customer-managed key (the buckets' and the catalog's)."""
    namespaces: tuple[CatalogNamespaceArgs, ...]
    """The namespaces."""
    teams: Mapping[str, CatalogTeam]
    """Every team a namespace names, by team name."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (teams' roles trust it)."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's issuer without https://."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags."""


def _validate(name: str, args: IcebergCatalogArgs) -> None:
    where = f"IcebergCatalog {name}"
    if not args.namespaces:
        raise ComponentArgsError(f"{where}: namespaces is empty: declare at least one")
    seen: set[str] = set()
    for ns in args.namespaces:
        if ns.name in seen:
            raise ComponentArgsError(f"{where}: namespace {ns.name!r} is given twice")
        seen.add(ns.name)
        if ns.zone not in args.zone_buckets:
            raise ComponentArgsError(f"{where}: namespace {ns.name!r} is in zone {ns.zone!r}, "
                                     f"which has no bucket (zones: {sorted(args.zone_buckets)})")
        if not ns.writers:
            raise ComponentArgsError(f"{where}: namespace {ns.name!r} has no writers: name "
                                     "the team that writes its tables")
        for team in (*ns.writers, *ns.readers):
            if team not in args.teams:
                raise ComponentArgsError(f"{where}: namespace {ns.name!r} names team {team!r}, "
                                         f"which is not among teams {sorted(args.teams)}")


def team_policy(args: IcebergCatalogArgs, team: str, key_arn: str) -> str:
    """A team's IAM policy: its namespaces' Glue objects (read, or write), Lake Formation's
    credential vending, and the object prefixes it uses outside the catalog."""
    loc = args.location
    db = {ns.name: naming.catalog_namespace(args.factory, ns.name) for ns in args.namespaces}
    reads = [ns.name for ns in args.namespaces if team in (*ns.writers, *ns.readers)]
    writes = [ns.name for ns in args.namespaces if team in ns.writers]

    def objects(names: list[str]) -> list[str]:
        return [r for n in names for r in (loc.arn("glue", f"database/{db[n]}"),
                                           loc.arn("glue", f"table/{db[n]}/*"))]

    statements = [allow("ReadGrantedNamespaces", GLUE_READ,
                        [loc.arn("glue", "catalog"), *objects(reads)])]
    if writes:
        statements.append(allow("WriteOwnNamespaces", GLUE_WRITE, objects(writes)))
    # Lake Formation vends table credentials; GetDataAccess has no resource type ("*" only),
    # and what it vends is what Lake Formation granted.
    statements.append(allow("VendedTableCredentials", ["lakeformation:GetDataAccess"], "*"))
    prefixes = args.teams[team].object_prefixes
    logs = args.teams[team].read_prefixes
    if prefixes or logs:
        buckets = sorted({p.split("/", 1)[0] for p in (*prefixes, *logs)})
        statements.append(allow("ListArtifactBuckets", ["s3:ListBucket", "s3:GetBucketLocation"],
                                buckets))
        if prefixes:
            statements.append(allow("ReadWriteArtifacts",
                                    ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                                    list(prefixes)))
        if logs:
            statements.append(allow("ReadRequestLogs", ["s3:GetObject"], list(logs)))
        statements.append(allow(
            "UseBucketKeyThroughS3",
            ["kms:Decrypt", "kms:GenerateDataKey"] if prefixes else ["kms:Decrypt"], [key_arn],
            {"StringEquals": {"kms:ViaService": f"s3.{loc.region}.{loc.dns_suffix}"}}))
    policy = document(statements)
    assert_least_privilege(policy)
    return policy


def data_access_policy(args: IcebergCatalogArgs, key_arn: str) -> str:
    """What Lake Formation's data-access role may do: the namespaces' prefixes only."""
    loc = args.location
    prefixes = [f"{loc.bucket_arn(args.zone_buckets[ns.zone])}/{ns.name}"
                for ns in args.namespaces]
    buckets = sorted({loc.bucket_arn(args.zone_buckets[ns.zone]) for ns in args.namespaces})
    policy = document([
        allow("ListZoneBuckets", ["s3:ListBucket", "s3:GetBucketLocation"], buckets),
        allow("ReadWriteNamespaceFiles", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
              [f"{p}/*" for p in prefixes]),
        allow("UseBucketKeyThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], [key_arn],
              {"StringEquals": {"kms:ViaService": f"s3.{loc.region}.{loc.dns_suffix}"}}),
    ])
    assert_least_privilege(policy)
    return policy


def _trust(subject: str, values: list[Any]) -> str:
    return trust_policy(str(values[0]), str(values[1]), [subject])


def _team_policy(args: IcebergCatalogArgs, team: str, key_arn: Any) -> str:
    return team_policy(args, team, str(key_arn))


class IcebergCatalog(FactoryComponent):
    """Glue databases over the zone buckets, Lake Formation locations and grants per team."""

    def __init__(self, name: str, args: IcebergCatalogArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        loc = args.location
        super().__init__("aifactory:aws:IcebergCatalog", name, {
            "region": loc.region, "grants": grants(args.namespaces),
            "zones": {ns.name: ns.zone for ns in args.namespaces},
            "endpoint": f"https://glue.{loc.region}.{loc.dns_suffix}/iceberg"}, opts)
        region = loc.region
        glue.DataCatalogEncryptionSettings(
            naming.child(name, "encryption"), catalog_id=loc.account_id, region=region,
            data_catalog_encryption_settings=glue.
            DataCatalogEncryptionSettingsDataCatalogEncryptionSettingsArgs(
                encryption_at_rest=glue.
                DataCatalogEncryptionSettingsDataCatalogEncryptionSettingsEncryptionAtRestArgs(
                    catalog_encryption_mode="SSE-KMS", sse_aws_kms_key_id=args.kms_key_arn),
                connection_password_encryption=glue.
                DataCatalogEncryptionSettingsDataCatalogEncryptionSettingsConnectionPasswordEncryptionArgs(
                    return_connection_password_encrypted=True,
                    aws_kms_key_id=args.kms_key_arn)),
            opts=self.child_opts())

        access_name = naming.iam_role_name(args.name_prefix, "", "lakehouse-catalog-access")
        access = iam.Role(
            naming.child(name, "data-access-role"), name=access_name,
            description="Lake Formation's access to the catalog's namespace prefixes",
            assume_role_policy=service_trust(loc.service_principal("lakeformation"),
                                             source_account=loc.account_id),
            tags={**args.tags, "Name": access_name}, opts=self.child_opts())
        access_policy = iam.RolePolicy(
            naming.child(name, "data-access-policy"), role=access.id,
            policy=pulumi.Output.from_input(args.kms_key_arn).apply(
                lambda k: data_access_policy(args, str(k))),
            opts=self.child_opts())

        self.databases: dict[str, glue.CatalogDatabase] = {}
        locations: dict[str, lakeformation.Resource] = {}
        for ns in args.namespaces:
            bucket = args.zone_buckets[ns.zone]
            self.databases[ns.name] = glue.CatalogDatabase(
                naming.child(name, ns.name.replace("_", "-")),
                name=naming.catalog_namespace(args.factory, ns.name), catalog_id=loc.account_id,
                region=region, location_uri=f"s3://{bucket}/{ns.name}/",
                description=f"Iceberg namespace {ns.name} (zone {ns.zone})",
                parameters={"aifactory.io/zone": ns.zone},
                tags={**args.tags, "aifactory.io/zone": ns.zone}, opts=self.data_opts())
            locations[ns.name] = lakeformation.Resource(
                naming.child(name, ns.name.replace("_", "-"), "location"),
                arn=f"{loc.bucket_arn(bucket)}/{ns.name}", role_arn=access.arn, region=region,
                hybrid_access_enabled=False,
                opts=self.child_opts(depends_on=[access_policy]))

        self.team_roles: dict[str, pulumi.Output[str]] = {}
        for team in sorted(args.teams):
            t = args.teams[team]
            role_name = naming.iam_role_name(args.name_prefix, "", f"lakehouse-{team}")
            subject = f"{t.namespace}:{t.service_account}"
            trust = pulumi.Output.all(args.oidc_issuer, args.oidc_provider_arn).apply(
                functools.partial(_trust, subject))
            role = iam.Role(naming.child(name, team, "role"), name=role_name,
                            description=f"Team {team}: the lakehouse catalog's namespaces it "
                            "is granted", assume_role_policy=trust, max_session_duration=3600,
                            tags={**args.tags, "Name": role_name, "aifactory.io/team": team},
                            opts=self.child_opts())
            iam.RolePolicy(naming.child(name, team, "permissions"), role=role.id,
                           policy=pulumi.Output.from_input(args.kms_key_arn).apply(
                               functools.partial(_team_policy, args, team)),
                           opts=self.child_opts())
            self.team_roles[team] = role.arn
            for ns in args.namespaces:
                self._grant(name, args, team, ns, role, locations[ns.name])
        self.endpoint = f"https://glue.{loc.region}.{loc.dns_suffix}/iceberg"
        """The catalog's Iceberg REST endpoint (the warehouse is the account id)."""
        self.register_outputs({"endpoint": self.endpoint, "team_roles": self.team_roles})

    def _grant(self, name: str, args: IcebergCatalogArgs, team: str, ns: CatalogNamespaceArgs,
               role: iam.Role, location: lakeformation.Resource) -> None:
        """Lake Formation grants of one team on one namespace: write or read."""
        if team not in (*ns.writers, *ns.readers):
            return
        write = team in ns.writers
        db = self.databases[ns.name]
        region = args.location.region
        after: Sequence[pulumi.Resource] = [db, location]
        base = naming.child(name, team, ns.name.replace("_", "-"))
        lakeformation.Permissions(
            naming.child(base, "database"), principal=role.arn, region=region,
            catalog_id=args.location.account_id,
            permissions=LF_DATABASE_WRITE if write else LF_DATABASE_READ,
            database=lakeformation.PermissionsDatabaseArgs(name=db.name),
            opts=self.child_opts(depends_on=list(after)))
        lakeformation.Permissions(
            naming.child(base, "tables"), principal=role.arn, region=region,
            catalog_id=args.location.account_id,
            permissions=LF_TABLE_WRITE if write else LF_TABLE_READ,
            table=lakeformation.PermissionsTableArgs(database_name=db.name, wildcard=True),
            opts=self.child_opts(depends_on=list(after)))
        if write:
            lakeformation.Permissions(
                naming.child(base, "location"), principal=role.arn, region=region,
                catalog_id=args.location.account_id, permissions=["DATA_LOCATION_ACCESS"],
                data_location=lakeformation.PermissionsDataLocationArgs(arn=location.arn),
                opts=self.child_opts(depends_on=list(after)))

