"""PostgreSQL on a site: the CloudNativePG operator (pinned chart) and a Cluster per database.

The operator is an upstream chart (`PostgresOperator`, one a site); each database is a
`postgresql.cnpg.io/v1` Cluster of ours (`PostgresCluster`), so the plan shows it and
../shared/crds/postgresql.cnpg.io validates it:

- `instances` PostgreSQL pods (a primary and streaming replicas, spread over nodes), each on a
  volume of the blueprint's StorageClass and size, with a PodDisruptionBudget;
- one application database and its owner, bootstrapped by initdb with the owner's password from
  a Secret of ours (kubernetes.io/basic-auth) whose value is a Pulumi secret: the plan masks it
  and the connection this component outputs carries the same secret;
- continuous backup to the site's MinIO tenant: WAL archiving and base backups by barman-cloud
  (the Cluster's `spec.backup.barmanObjectStore`, over verified TLS, as a tenant user allowed
  its bucket only), a retention policy, and a ScheduledBackup on the blueprint's schedule.

Why barmanObjectStore and not the Barman Cloud plugin's ObjectStore: the plugin
(barmancloud.cnpg.io) is a separate chart and CRD that is neither pinned in catalog/charts.py nor
in ../shared/crds, while the CRD of CloudNativePG 1.30 (chart 0.29.0) still serves the in-tree
field; the operand image is the `system` variant, which carries barman-cloud.

The Cluster is protected and retained on delete: its volumes are owned by it, so deleting it
would delete the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import CLOUDNATIVE_PG, CLOUDNATIVE_PG_RELEASE, CNPG_POSTGRES_IMAGE
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import chart, namespace
from components.platform.mirror import ImageMirror
from components.platform.mlflow import PostgresConnection
from components.platform.object_store import object_meta, secret_text

CNPG_API = "postgresql.cnpg.io/v1"
OPERATOR_NAMESPACE = "cnpg-system"
DNS_LABEL = r"^[a-z]([-a-z0-9]{0,48}[a-z0-9])?$"
"""A Cluster's name: its Services (<name>-rw, -ro, -r) and pods must stay DNS labels."""
IDENTIFIER = r"^[a-z_][a-z0-9_]{0,62}$"
"""A PostgreSQL database or role name we accept (unquoted, lower case)."""


@dataclass(frozen=True)
class BackupDestination:
    """Where a cluster's backups go: a bucket of the site's MinIO tenant."""

    endpoint: str
    """https:// endpoint of the tenant inside the cluster."""
    bucket: str
    """Bucket the base backups and WAL go to (under <bucket>/<path>/<cluster>/)."""
    credentials: pulumi.Input[str]
    """Secret 'access_key:secret_key' of a tenant user allowed that bucket."""
    ca_secret: str
    """Existing Secret (key ca.crt) in the cluster's namespace with the CA that signed the
    tenant's certificate: backups go over verified TLS."""
    path: str = "postgres"
    """Prefix in the bucket."""


@dataclass(frozen=True)
class PostgresClusterArgs:
    """Arguments of `PostgresCluster`."""

    name: str
    """Cluster name (its Services are <name>-rw, <name>-ro, <name>-r)."""
    namespace: str
    """Namespace of the cluster (the namespace of the service that uses it)."""
    database: str
    """The application database."""
    owner: str
    """Its owner, the role the service connects as."""
    password: pulumi.Input[str]
    """Secret: the owner's password (a Pulumi secret, never plain text)."""
    storage_size: str
    """Volume of each instance, a Kubernetes quantity (e.g. 20Gi)."""
    storage_class: str
    """StorageClass of the volumes."""
    backup: BackupDestination
    """The tenant bucket backups go to."""
    instances: int = 3
    """PostgreSQL pods: one primary, the rest streaming replicas."""
    retention_days: int = 30
    """Base backups and WAL are kept this many days."""
    schedule: str = "0 0 2 * * *"
    """Base backup schedule: a six-field cron expression (seconds first), as the
    ScheduledBackup takes it."""
    create_namespace: bool = False
    """Create `namespace` (False: it exists, or the caller creates it)."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Node labels the instances run on (e.g. the site's management hosts)."""
    image: str = CNPG_POSTGRES_IMAGE
    """Operand image (upstream by tag, or the mirror's by digest)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create (and, inherited, on the pods)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist first (the operator, the namespace, the tenant's bucket)."""


def owner_secret(cluster: str) -> str:
    """The Secret holding the owner's login (initdb reads it)."""
    return f"{cluster}-owner"


def backup_secret(cluster: str) -> str:
    """The Secret holding the tenant user's keys barman-cloud writes with."""
    return f"{cluster}-backup"


def host(cluster: str, namespace_name: str) -> str:
    """The primary's read-write Service, the host services connect to."""
    return f"{cluster}-rw.{namespace_name}.svc.cluster.local"


def validate(args: PostgresClusterArgs) -> None:
    """ComponentArgsError for arguments no cluster can be built from."""
    import re

    if not re.match(DNS_LABEL, args.name):
        raise ComponentArgsError(f"`name` ({args.name!r}) is not a DNS label of at most 50 "
                                 "characters: use lower-case letters, digits and '-'")
    for key, value in (("database", args.database), ("owner", args.owner)):
        if not re.match(IDENTIFIER, value):
            raise ComponentArgsError(f"`{key}` ({value!r}) is not a PostgreSQL identifier: use "
                                     "lower-case letters, digits and '_'")
    if args.owner == "postgres":
        raise ComponentArgsError("`owner` ('postgres') is the superuser: give the service a "
                                 "role of its own")
    if args.instances < 1:
        raise ComponentArgsError(f"`instances` ({args.instances}) is below 1: give at least 1 "
                                 "(3 for a primary and two replicas)")
    if not 1 <= args.retention_days <= 3650:
        raise ComponentArgsError(f"`retention_days` ({args.retention_days}) is outside "
                                 "1..3650: give the days backups are kept")
    if len(args.schedule.split()) != 6:
        raise ComponentArgsError(f"`schedule` ({args.schedule!r}) is not a six-field cron "
                                 "expression (seconds first), e.g. '0 0 2 * * *'")
    if not re.match(r"^[1-9][0-9]*(Mi|Gi|Ti)$", args.storage_size):
        raise ComponentArgsError(f"`storage_size` ({args.storage_size!r}) is not a quantity in "
                                 "Mi, Gi or Ti, e.g. '20Gi'")
    if not args.storage_class:
        raise ComponentArgsError("`storage_class` is empty: name the StorageClass of the "
                                 "instances' volumes")
    if not args.backup.endpoint.startswith("https://"):
        raise ComponentArgsError(f"`backup.endpoint` ({args.backup.endpoint!r}) is not "
                                 "https://: backups reach the tenant over TLS")


def cluster_spec(args: PostgresClusterArgs) -> dict[str, Any]:
    """The Cluster's spec (every field one the postgresql.cnpg.io/v1 CRD declares)."""
    backups = backup_secret(args.name)
    store: dict[str, Any] = {
        "destinationPath": f"s3://{args.backup.bucket}/{args.backup.path}",
        "endpointURL": args.backup.endpoint,
        "endpointCA": {"name": args.backup.ca_secret, "key": "ca.crt"},
        "s3Credentials": {"accessKeyId": {"name": backups, "key": "ACCESS_KEY_ID"},
                          "secretAccessKey": {"name": backups, "key": "ACCESS_SECRET_KEY"}},
        "wal": {"compression": "gzip", "maxParallel": 2},
        "data": {"compression": "gzip", "jobs": 2},
    }
    spec: dict[str, Any] = {
        "instances": args.instances,
        "imageName": args.image,
        "primaryUpdateStrategy": "unsupervised",
        "enablePDB": True,
        "enableSuperuserAccess": False,
        "storage": {"size": args.storage_size, "storageClass": args.storage_class},
        "bootstrap": {"initdb": {"database": args.database, "owner": args.owner,
                                 "secret": {"name": owner_secret(args.name)},
                                 "dataChecksums": True}},
        "backup": {"barmanObjectStore": store, "retentionPolicy": f"{args.retention_days}d"},
        # instances on different hosts where there are enough (a small site may have fewer)
        "affinity": {"enablePodAntiAffinity": True, "topologyKey": "kubernetes.io/hostname",
                     "podAntiAffinityType": "preferred"},
        "inheritedMetadata": {"labels": dict(args.labels)},
    }
    if args.node_selector:
        spec["affinity"]["nodeSelector"] = dict(args.node_selector)
    return spec


def scheduled_backup_spec(args: PostgresClusterArgs) -> dict[str, Any]:
    """The ScheduledBackup's spec: a base backup on the schedule, one at creation."""
    return {"schedule": args.schedule, "cluster": {"name": args.name},
            "method": "barmanObjectStore", "backupOwnerReference": "self",
            "immediate": True}


def operator_values() -> dict[str, Any]:
    """The operator chart's values: its release image, its CRDs, two replicas."""
    return {"replicaCount": 2, "crds": {"create": True},
            "image": {"repository": "ghcr.io/cloudnative-pg/cloudnative-pg",
                      "tag": CLOUDNATIVE_PG_RELEASE, "pullPolicy": "IfNotPresent"}}


@dataclass(frozen=True)
class PostgresOperatorArgs:
    """Arguments of `PostgresOperator`."""

    namespace: str = OPERATOR_NAMESPACE
    """Namespace of the operator."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the namespace."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror of the chart and its image (None: upstream)."""


class PostgresOperator(FactoryComponent):
    """The CloudNativePG operator (one a cluster), watching every namespace."""

    def __init__(self, name: str, args: PostgresOperatorArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aifactory:platform:PostgresOperator", name, {
            "namespace": args.namespace, "chartVersion": CLOUDNATIVE_PG.version}, opts)
        ns = namespace(child(name, "ns"), args.namespace, dict(args.labels), "restricted",
                       self.child_opts())
        self.chart = chart(child(name, "chart"), CLOUDNATIVE_PG, "cnpg", args.namespace,
                           operator_values(), self.child_opts(depends_on=[ns]), args.mirror)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.register_outputs({"namespace": self.namespace})


class PostgresCluster(FactoryComponent):
    """A CloudNativePG Cluster with its owner's login, its backups to the site's tenant and
    their schedule; `connection` is what services (MLflow, Harbor, catalogs) connect with."""

    def __init__(self, name: str, args: PostgresClusterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("aifactory:platform:PostgresCluster", name, {
            "cluster": args.name, "namespace": args.namespace, "instances": args.instances,
            "database": args.database, "owner": args.owner,
            "storage": {"size": args.storage_size, "class": args.storage_class},
            "backup": {"bucket": args.backup.bucket, "path": args.backup.path,
                       "retentionDays": args.retention_days, "schedule": args.schedule}}, opts)
        labels = dict(args.labels)
        ns_name = args.namespace
        first: list[pulumi.Resource] = list(args.depends_on)
        if args.create_namespace:
            first.append(namespace(child(name, "ns"), ns_name, labels, "restricted",
                                   self.child_opts(depends_on=list(args.depends_on))))
        password = secret_text(args.password)
        login = k8s.core.v1.Secret(
            child(name, "owner"), metadata=object_meta(owner_secret(args.name), ns_name, labels),
            type="kubernetes.io/basic-auth",
            string_data={"username": args.owner, "password": password},
            opts=self.child_opts(depends_on=first))
        creds = secret_text(args.backup.credentials)
        keys = k8s.core.v1.Secret(
            child(name, "backup-credentials"),
            metadata=object_meta(backup_secret(args.name), ns_name, labels), type="Opaque",
            string_data={
                "ACCESS_KEY_ID": secret_text(creds.apply(lambda c: c.partition(":")[0])),
                "ACCESS_SECRET_KEY": secret_text(creds.apply(lambda c: c.partition(":")[2]))},
            opts=self.child_opts(depends_on=first))
        self.cluster = k8s.apiextensions.CustomResource(
            child(name, "cluster"), api_version=CNPG_API, kind="Cluster",
            metadata={"name": args.name, "namespace": ns_name, "labels": labels},
            spec=cluster_spec(args),
            opts=pulumi.ResourceOptions.merge(
                self.data_opts(depends_on=[*first, login, keys]),
                pulumi.ResourceOptions(retain_on_delete=True)))
        k8s.apiextensions.CustomResource(
            child(name, "scheduled-backup"), api_version=CNPG_API, kind="ScheduledBackup",
            metadata={"name": f"{args.name}-daily", "namespace": ns_name, "labels": labels},
            spec=scheduled_backup_spec(args),
            opts=self.child_opts(depends_on=[self.cluster]))
        self.host = host(args.name, ns_name)
        """The read-write Service's DNS name (a plain value: known before it runs)."""
        self.connection = PostgresConnection(host=self.host, database=args.database,
                                             username=args.owner, password=password)
        """Host, database, owner and password (a Pulumi secret), as MLflow takes them."""
        self.app_secret = owner_secret(args.name)
        """Name of the kubernetes.io/basic-auth Secret (username, password) of the owner."""
        self.register_outputs({"host": pulumi.Output.from_input(self.host),
                               "database": pulumi.Output.from_input(args.database),
                               "username": pulumi.Output.from_input(args.owner),
                               "password": password})
