"""What a team's jobs need to reach the lakehouse's Iceberg catalog: in each team namespace the
`lakehouse` service account (bound to the team's cloud identity: an IRSA role annotation on
EKS; on GKE the grants go to the Kubernetes identity itself) and a ConfigMap with the catalog's
connection, as PyIceberg reads it from the environment (`envFrom` it; Spark and Trino take the
same URI, warehouse and signing settings). No credential is written: the identity is the
credential, and the catalog vends scoped storage credentials for the tables a team is granted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.base import FactoryComponent
from components.iceberg import SERVICE_ACCOUNT
from components.naming import child

CONFIG_MAP = "lakehouse-catalog"
"""ConfigMap holding the catalog connection in each team namespace."""
CATALOG_NAME = "lakehouse"
"""The catalog's name in PyIceberg's configuration (load_catalog("lakehouse"))."""


@dataclass(frozen=True)
class CatalogConnection:
    """How engines reach the catalog (no secret in it)."""

    uri: str
    """Iceberg REST endpoint."""
    warehouse: str
    """Warehouse identifier the endpoint expects (AWS: the account id; GCP: the catalog)."""
    properties: Mapping[str, str] = field(default_factory=dict)
    """Further catalog properties (request signing, auth), PyIceberg's dotted keys."""

    def environment(self) -> dict[str, str]:
        """The connection as PyIceberg's environment variables (PYICEBERG_CATALOG__<NAME>__*:
        '__' for '.', '_' for '-')."""
        props = {"type": "rest", "uri": self.uri, "warehouse": self.warehouse,
                 **self.properties}
        prefix = f"PYICEBERG_CATALOG__{CATALOG_NAME.upper()}__"
        return {prefix + k.replace(".", "__").replace("-", "_").upper(): v
                for k, v in sorted(props.items())}


@dataclass(frozen=True)
class TeamAccess:
    """One team namespace's identity."""

    team: str
    """Team name."""
    namespace: str
    """Its Kubernetes namespace."""
    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Service-account annotations binding it to the team's cloud identity (IRSA)."""


@dataclass(frozen=True)
class LakehouseAccessArgs:
    """Arguments of `LakehouseAccess`."""

    teams: Sequence[TeamAccess]
    """Teams the catalog grants something to."""
    connection: CatalogConnection
    """The catalog's connection."""
    namespaces: Mapping[str, str]
    """Namespace as the blueprint names it -> its name in the catalog."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects."""
    depends_on: Sequence[pulumi.Resource] = ()
    """The team namespaces."""


class LakehouseAccess(FactoryComponent):
    """The `lakehouse` service account and the catalog ConfigMap of each team namespace."""

    def __init__(self, name: str, args: LakehouseAccessArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        names = [t.namespace for t in args.teams]
        if not names:
            raise ComponentArgsError("`teams` is empty: the catalog grants no team anything")
        if len(set(names)) != len(names):
            raise ComponentArgsError(f"`teams` name a namespace twice ({names}): one team a "
                                     "namespace")
        super().__init__("aifactory:platform:LakehouseAccess", name, {
            "teams": {t.team: t.namespace for t in args.teams},
            "uri": args.connection.uri}, opts)
        env = args.connection.environment()
        data = {**env, **{f"LAKEHOUSE_NAMESPACE_{k.upper()}": v
                          for k, v in sorted(args.namespaces.items())}}
        self.service_accounts: dict[str, k8s.core.v1.ServiceAccount] = {}
        for t in args.teams:
            labels = {**args.labels, "aifactory.io/team": t.team}
            self.service_accounts[t.team] = k8s.core.v1.ServiceAccount(
                child(name, t.team), metadata={
                    "name": SERVICE_ACCOUNT, "namespace": t.namespace, "labels": labels,
                    "annotations": dict(t.annotations)},
                automount_service_account_token=True,
                opts=self.child_opts(depends_on=list(args.depends_on)))
            k8s.core.v1.ConfigMap(
                child(name, t.team, "catalog"), metadata={
                    "name": CONFIG_MAP, "namespace": t.namespace, "labels": labels},
                data=data, opts=self.child_opts(depends_on=list(args.depends_on)))
        self.register_outputs({})
