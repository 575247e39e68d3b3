"""MLflow, tracking server and model registry (community-charts/mlflow, pinned).

The database is pluggable: any PostgreSQL reachable from the cluster (RDS on EKS, Cloud SQL on
GKE give the same host, database, user and password); on a site, a CloudNativePG cluster this
component creates in its namespace (components.platform.postgres_cluster), backed up to the
site's MinIO tenant. On a site the artifacts go to the tenant's models bucket over verified TLS
(the tenant's CA mounted, AWS_CA_BUNDLE), as a tenant user allowed that bucket only.

Its password, the OIDC client secret and the basic-auth admin password come in as Pulumi
secrets and are written to Secrets the chart reads (`existing*Secret`): never in the chart's
values. In a cloud, artifacts go to the lakehouse's models zone through the service account's
cloud identity (IRSA, Workload Identity). Login is OIDC through the factory's issuer, or
MLflow's basic auth: never open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import MLFLOW
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import chart, namespace
from components.platform.mirror import ImageMirror

if TYPE_CHECKING:
    from components.platform.postgres_cluster import PostgresClusterArgs

DB_SECRET = "mlflow-database"
LOGIN_SECRET = "mlflow-login"
STORE_SECRET = "mlflow-artifact-store"
CA_MOUNT = "/etc/ssl/aifactory"
"""Where the tenant's CA is mounted (a site's S3 endpoint)."""


@dataclass(frozen=True)
class PostgresConnection:
    """Where the database is and who MLflow connects as."""

    host: pulumi.Input[str]
    """Host name."""
    database: str
    """Database name."""
    username: str
    """User."""
    password: pulumi.Input[str]
    """Password (a Pulumi secret)."""
    port: int = 5432
    """Port."""


@dataclass(frozen=True)
class ArtifactStore:
    """The bucket of the models zone."""

    kind: Literal["s3", "gcs"]
    """s3 or gcs."""
    bucket: pulumi.Input[str]
    """Bucket name."""
    path: str = "mlflow"
    """Prefix of MLflow's artifacts in the bucket."""
    endpoint: str | None = None
    """https:// S3 endpoint of a site's MinIO tenant (None: the cloud's own store)."""
    credentials: pulumi.Input[str] | None = None
    """With `endpoint`: secret 'access_key:secret_key' of a tenant user allowed the bucket."""
    ca_secret: str | None = None
    """With `endpoint`: existing Secret (ca.crt) in MLflow's namespace trusting the tenant."""


@dataclass(frozen=True)
class MlflowArgs:
    """Arguments of `Mlflow`."""

    namespace: str
    """Namespace."""
    database: PostgresConnection | PostgresClusterArgs
    """The tracking and registry database: a server's connection, or a CloudNativePG cluster
    to create in `namespace`."""
    artifacts: ArtifactStore
    """Where artifacts go."""
    identity: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Service-account annotations binding MLflow to its cloud identity."""
    oidc_issuer: str | None = None
    """OIDC issuer (login through it)."""
    oidc_client_id: str | None = None
    """OIDC client id."""
    oidc_client_secret: pulumi.Input[str] | None = None
    """OIDC client secret (a Pulumi secret)."""
    basic_auth_password: pulumi.Input[str] | None = None
    """Admin password of basic auth (a Pulumi secret), when there is no issuer."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist first (the database)."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror of the chart and its images (None: upstream)."""


def connection_of(database: PostgresConnection | PostgresClusterArgs) -> PostgresConnection:
    """Where MLflow connects: the server given, or the CloudNativePG cluster's primary."""
    if isinstance(database, PostgresConnection):
        return database
    from components.platform.postgres_cluster import host

    return PostgresConnection(host=host(database.name, database.namespace),
                              database=database.database, username=database.owner,
                              password=database.password)


def mlflow_values(args: MlflowArgs) -> dict[str, Any]:
    """Chart values: PostgreSQL through the Secret, artifacts in the bucket, login required."""
    db = connection_of(args.database)
    postgres = {"enabled": True, "host": db.host, "port": db.port, "database": db.database,
                "user": db.username}
    db_secret = {"name": DB_SECRET, "usernameKey": "username", "passwordKey": "password"}
    store = args.artifacts
    values: dict[str, Any] = {
        "backendStore": {"databaseMigration": True, "postgres": postgres,
                         "existingDatabaseSecret": db_secret},
        "artifactRoot": {"proxiedArtifactStorage": True,
                         store.kind: {"enabled": True, "bucket": store.bucket,
                                      "path": store.path}},
        "serviceAccount": {"create": True, "annotations": dict(args.identity)},
    }
    if store.endpoint is not None:
        values["artifactRoot"]["s3"]["existingSecret"] = {
            "name": STORE_SECRET, "keyOfAccessKeyId": "AWS_ACCESS_KEY_ID",
            "keyOfSecretAccessKey": "AWS_SECRET_ACCESS_KEY"}
        values["extraEnvVars"] = {"MLFLOW_S3_ENDPOINT_URL": store.endpoint,
                                  "AWS_CA_BUNDLE": f"{CA_MOUNT}/ca.crt"}
        values["extraVolumes"] = [{"name": "tenant-ca", "secret": {
            "secretName": store.ca_secret, "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]
        values["extraVolumeMounts"] = [{"name": "tenant-ca", "mountPath": CA_MOUNT,
                                        "readOnly": True}]
    if args.oidc_issuer is not None:
        values["oidcAuth"] = {
            "enabled": True,
            "discoveryUrl": f"{args.oidc_issuer.rstrip('/')}/.well-known/openid-configuration",
            "clientId": args.oidc_client_id,
            "existingSecret": {"name": LOGIN_SECRET, "clientSecretKey": "OIDC_CLIENT_SECRET"},
            "database": {"postgres": {**postgres, "existingSecret": db_secret}},
        }
    else:
        values["auth"] = {
            "enabled": True,
            "existingAdminSecret": {"name": LOGIN_SECRET, "usernameKey": "username",
                                    "passwordKey": "password"},
            "postgres": {**postgres, "existingSecret": db_secret},
        }
    return values


class Mlflow(FactoryComponent):
    """MLflow's chart with its database and login Secrets."""

    def __init__(self, name: str, args: MlflowArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        oidc = args.oidc_issuer is not None
        if oidc and (args.oidc_client_id is None or args.oidc_client_secret is None):
            raise ComponentArgsError("`oidc_issuer` without `oidc_client_id` and "
                                     "`oidc_client_secret`: give all three")
        if not oidc and args.basic_auth_password is None:
            raise ComponentArgsError("neither `oidc_issuer` nor `basic_auth_password`: MLflow "
                                     "would be open; give one")
        if oidc and args.basic_auth_password is not None:
            raise ComponentArgsError("give `oidc_issuer` or `basic_auth_password`, not both")
        store = args.artifacts
        if store.endpoint is not None and (store.kind != "s3" or store.credentials is None
                                           or store.ca_secret is None):
            raise ComponentArgsError("`artifacts.endpoint` needs kind s3, `credentials` and "
                                     "`ca_secret`: give all three for a site's tenant")
        from components.platform.postgres_cluster import PostgresCluster, PostgresClusterArgs
        from components.platform.postgres_cluster import validate as validate_cluster

        cluster_args = args.database if isinstance(args.database, PostgresClusterArgs) else None
        if cluster_args is not None:
            if cluster_args.namespace != args.namespace:
                raise ComponentArgsError(f"`database.namespace` ({cluster_args.namespace!r}) is "
                                         f"not MLflow's ({args.namespace!r}): its cluster runs "
                                         "in its namespace")
            validate_cluster(cluster_args)
        connection = connection_of(args.database)
        super().__init__("aifactory:platform:Mlflow", name, {
            "namespace": args.namespace, "login": "oidc" if oidc else "basic-auth",
            "artifacts": args.artifacts.kind, "chartVersion": MLFLOW.version}, opts)
        labels = dict(args.labels)
        ns = namespace(child(name, "ns"), args.namespace, labels, "restricted",
                       self.child_opts(depends_on=list(args.depends_on)))
        db = k8s.core.v1.Secret(
            child(name, "database"),
            metadata={"name": DB_SECRET, "namespace": args.namespace, "labels": labels},
            type="Opaque",
            string_data={"username": connection.username,
                         "password": pulumi.Output.secret(connection.password)},
            opts=self.child_opts(depends_on=[ns]))
        first: list[pulumi.Resource] = [ns, db]
        if cluster_args is not None:
            from dataclasses import replace

            first.append(PostgresCluster(
                child(name, "db"), replace(cluster_args, create_namespace=False,
                                           depends_on=(ns, *cluster_args.depends_on)),
                pulumi.ResourceOptions(parent=self)))
        if store.endpoint is not None:
            assert store.credentials is not None  # validated above
            from components.platform.object_store import secret_text

            creds = secret_text(store.credentials)
            first.append(k8s.core.v1.Secret(
                child(name, "artifact-store"),
                metadata={"name": STORE_SECRET, "namespace": args.namespace, "labels": labels},
                type="Opaque", string_data={
                    "AWS_ACCESS_KEY_ID": secret_text(creds.apply(lambda c: c.partition(":")[0])),
                    "AWS_SECRET_ACCESS_KEY": secret_text(
                        creds.apply(lambda c: c.partition(":")[2]))},
                opts=self.child_opts(depends_on=[ns])))
        login_data: dict[str, pulumi.Input[str]]
        if oidc:
            assert args.oidc_client_secret is not None
            login_data = {"OIDC_CLIENT_SECRET": pulumi.Output.secret(args.oidc_client_secret)}
        else:
            assert args.basic_auth_password is not None
            login_data = {"username": "admin",
                          "password": pulumi.Output.secret(args.basic_auth_password)}
        login = k8s.core.v1.Secret(
            child(name, "login"),
            metadata={"name": LOGIN_SECRET, "namespace": args.namespace, "labels": labels},
            type="Opaque", string_data=login_data, opts=self.child_opts(depends_on=[ns]))
        self.chart = chart(child(name, "chart"), MLFLOW, "mlflow", args.namespace,
                           mlflow_values(args),
                           self.child_opts(depends_on=[*first, login, *args.depends_on]),
                           args.mirror)
        self.register_outputs({})
