"""MLflow, tracking server and model registry (community-charts/mlflow, pinned).

The database is pluggable: any PostgreSQL reachable from the cluster (RDS on EKS today; Cloud
SQL and CloudNativePG give the same host, database, user and password). Its password, the OIDC
client secret and the basic-auth admin password come in as Pulumi secrets and are written to
Secrets the chart reads (`existing*Secret`): never in the chart's values. Artifacts go to the
lakehouse's models zone through the service account's cloud identity (IRSA, Workload
Identity). Login is OIDC through the factory's issuer, or MLflow's basic auth: never open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import MLFLOW
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import chart, namespace

DB_SECRET = "mlflow-database"
LOGIN_SECRET = "mlflow-login"


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


@dataclass(frozen=True)
class MlflowArgs:
    """Arguments of `Mlflow`."""

    namespace: str
    """Namespace."""
    database: PostgresConnection
    """The tracking and registry database."""
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


def mlflow_values(args: MlflowArgs) -> dict[str, Any]:
    """Chart values: PostgreSQL through the Secret, artifacts in the bucket, login required."""
    db = args.database
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
            string_data={"username": args.database.username,
                         "password": pulumi.Output.secret(args.database.password)},
            opts=self.child_opts(depends_on=[ns]))
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
                           self.child_opts(depends_on=[ns, db, login, *args.depends_on]))
        self.register_outputs({})
