"""Cluster monitoring: the Prometheus operator stack (kube-prometheus-stack), pinned.

Prometheus picks up every ServiceMonitor and PrometheusRule in the cluster, not only those
carrying the chart's release label, so the GPU telemetry objects of ours (GpuTelemetry) and the
Kueue metrics are scraped without knowing the release name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import KUBE_PROMETHEUS_STACK
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import chart, namespace
from components.platform.dashboards import DASHBOARD_LABEL, dashboards
from components.platform.mirror import ImageMirror

GRAFANA_SECRET = "grafana-admin"
ALERTS_LABEL = "aifactory.io/alerts"
"""Label of the AlertmanagerConfigs Alertmanager takes (components.platform.alerts)."""


@dataclass(frozen=True)
class MonitoringArgs:
    """Arguments of `Monitoring`."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    namespace: str = "monitoring"
    """Namespace of the stack (privileged: node-exporter reads the host)."""
    retention_days: int = 15
    """Days Prometheus keeps samples."""
    storage_gb: int = 100
    """Size of Prometheus' volume, GiB; samples are dropped at 90% of it, before it fills."""
    storage_class: str | None = None
    """StorageClass of the volume (None: the cluster's default class)."""
    grafana: bool = False
    """Install the chart's Grafana (off: its default admin password is public knowledge)."""
    grafana_admin_password: pulumi.Input[str] | None = None
    """Grafana's admin password (a Pulumi secret); required with `grafana`."""
    pool_teams: Mapping[str, str] = field(default_factory=dict)
    """Owning team of each GPU pool of the cluster: node-exporter's series (and so the node
    alerts) of the pool's nodes carry `pool` and `team`."""
    alert_routing: bool = False
    """Alertmanager takes the AlertmanagerConfigs labelled aifactory.io/alerts, routing
    alerts of every namespace (their team and severity labels)."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the chart and its images come from (None: upstream)."""


def monitoring_values(args: MonitoringArgs) -> dict[str, Any]:
    """Chart values: retention, a persistent volume, and select every monitor and rule."""
    claim: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{args.storage_gb}Gi"}},
    }
    if args.storage_class:
        claim["storageClassName"] = args.storage_class
    return {
        "prometheus": {"prometheusSpec": {
            "retention": f"{args.retention_days}d",
            "retentionSize": f"{args.storage_gb * 9 // 10}GB",
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "storageSpec": {"volumeClaimTemplate": {"spec": claim}},
        }},
        "grafana": grafana_values(args),
        **({"prometheus-node-exporter": {"prometheus": {"monitor": {
            "attachMetadata": {"node": True},
            "relabelings": node_relabelings(args.pool_teams)}}}} if args.pool_teams else {}),
        **({"alertmanager": {"alertmanagerSpec": {
            "alertmanagerConfigSelector": {"matchLabels": {ALERTS_LABEL: "true"}},
            "alertmanagerConfigMatcherStrategy": {"type": "None"},
        }}} if args.alert_routing else {}),
    }


def node_relabelings(pool_teams: Mapping[str, str]) -> list[dict[str, Any]]:
    """The node's pool label as `pool`, and the pool's owning team as `team`."""
    source = ["__meta_kubernetes_node_label_aifactory_io_pool"]
    return [{"action": "replace", "sourceLabels": source, "targetLabel": "pool"},
            *({"action": "replace", "sourceLabels": source, "regex": pool,
               "targetLabel": "team", "replacement": team}
              for pool, team in sorted(pool_teams.items()))]


def grafana_values(args: MonitoringArgs) -> dict[str, Any]:
    """Grafana off, or on with its admin password from our Secret and our dashboards."""
    if not args.grafana:
        return {"enabled": False}
    return {"enabled": True,
            "admin": {"existingSecret": GRAFANA_SECRET, "userKey": "admin-user",
                      "passwordKey": "admin-password"},
            "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL,
                                       "labelValue": "1"}}}


class Monitoring(FactoryComponent):
    """kube-prometheus-stack in a namespace of ours."""

    def __init__(self, name: str, args: MonitoringArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not 1 <= args.retention_days <= 3650:
            raise ComponentArgsError(f"`retention_days` ({args.retention_days}) must lie "
                                     "between 1 and 3650")
        if args.storage_gb < 10:
            raise ComponentArgsError(f"`storage_gb` ({args.storage_gb}) is too small for "
                                     "Prometheus: give at least 10")
        if args.grafana and args.grafana_admin_password is None:
            raise ComponentArgsError("`grafana` is on without `grafana_admin_password`: give "
                                     "its admin password (a Pulumi secret), never the chart's "
                                     "public default")
        if args.grafana and args.mirror is not None:
            raise ComponentArgsError("`grafana` is on with a `mirror`: Grafana's images are not "
                                     "in the mirror's lock; leave grafana off")
        super().__init__("aifactory:platform:Monitoring", name, {
            "namespace": args.namespace, "retentionDays": args.retention_days,
            "storageGb": args.storage_gb, "chartVersion": KUBE_PROMETHEUS_STACK.version}, opts)

        ns = namespace(child(name, "ns"), args.namespace, args.labels, "privileged",
                       self.child_opts())
        before: list[pulumi.Resource] = [ns]
        if args.grafana and args.grafana_admin_password is not None:
            before.append(k8s.core.v1.Secret(
                child(name, "grafana-admin"),
                metadata={"name": GRAFANA_SECRET, "namespace": args.namespace,
                          "labels": dict(args.labels)},
                type="Opaque",
                string_data={"admin-user": "admin",
                             "admin-password": pulumi.Output.secret(
                                 args.grafana_admin_password)},
                opts=self.child_opts(depends_on=[ns])))
            for board, doc in sorted(dashboards().items()):
                k8s.core.v1.ConfigMap(
                    child(name, "dashboard", board),
                    metadata={"name": f"aifactory-{board}", "namespace": args.namespace,
                              "labels": {**args.labels, DASHBOARD_LABEL: "1"}},
                    data={f"{board}.json": json.dumps(doc, sort_keys=True)},
                    opts=self.child_opts(depends_on=[ns]))
        self.chart = chart(child(name, "chart"), KUBE_PROMETHEUS_STACK, "kube-prometheus-stack",
                           args.namespace, monitoring_values(args),
                           self.child_opts(depends_on=before), args.mirror)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.register_outputs({"namespace": self.namespace})
