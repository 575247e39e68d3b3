"""Data and drift watched: a CronWorkflow in the pipelines' namespace runs Evidently over the
features table on a schedule; the shares of drifted columns and of missing values become
Prometheus gauges of the workflow controller (argo_workflows_lakehouse_feature_*), which the
factory's Prometheus scrapes; a PrometheusRule alerts the owning team (its `team` label, so the
lifecycle's AlertmanagerConfig routes it to that team's receiver) when drift or missing values
pass their thresholds, or when the watch has not reported for two schedules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.base import FactoryComponent
from components.naming import child
from components.platform.pipelines import ARGO_API, PipelinesArgs, container_step, workflow_base

MONITORING_API = "monitoring.coreos.com/v1"
DRIFT_METRIC = "lakehouse_feature_drift_share"
MISSING_METRIC = "lakehouse_feature_missing_share"
PREFIX = "argo_workflows_"
"""Argo prepends it to every custom metric's name."""
NAME = "lakehouse-drift"


@dataclass(frozen=True)
class DriftWatchArgs:
    """Arguments of `DriftWatch`."""

    pipelines: PipelinesArgs
    """The pipelines it runs beside (namespace, team, queue, image, the features table)."""
    schedule: str
    """Cron schedule."""
    alert_team: str
    """Team its alerts go to."""
    reference_days: int = 7
    """Days of rows before the current window that are the reference."""
    current_hours: int = 24
    """Hours of the newest rows compared to the reference."""
    threshold: float = 0.3
    """Share of drifted columns that alerts."""
    missing_threshold: float = 0.05
    """Share of missing values that alerts."""
    stale_after_minutes: int = 180
    """Minutes without a report before the watch itself alerts (two schedules or more)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects."""
    depends_on: Sequence[pulumi.Resource] = ()
    """The pipelines (the engine, the steps' ConfigMap) and the monitoring CRDs."""


def _gauge(name: str, help_text: str, output: str, args: DriftWatchArgs) -> dict[str, Any]:
    s = args.pipelines.stages
    return {"name": name, "help": help_text, "when": "{{status}} == Succeeded",
            "labels": [{"key": "namespace_name", "value": s.features},
                       {"key": "table", "value": s.table},
                       {"key": "team", "value": args.alert_team}],
            "gauge": {"value": f"{{{{outputs.parameters.{output}}}}}", "realtime": False}}


def cron_spec(args: DriftWatchArgs, team_label: str) -> dict[str, Any]:
    """The CronWorkflow: one Evidently step whose outputs are the metrics."""
    p = args.pipelines
    env = {"TABLE": p.stages.table, "FEATURES_NAMESPACE": p.stages.features,
           "REFERENCE_DAYS": str(args.reference_days),
           "CURRENT_HOURS": str(args.current_hours)}
    step = container_step("drift", "drift.py", p, env, outputs={"parameters": [
        {"name": "drift_share", "valueFrom": {"path": "/tmp/drift_share"}},
        {"name": "missing_share", "valueFrom": {"path": "/tmp/missing_share"}}]},
        metrics={"prometheus": [
            _gauge(DRIFT_METRIC, "Share of drifted columns of a lakehouse table (Evidently)",
                   "drift_share", args),
            _gauge(MISSING_METRIC, "Share of missing values of a lakehouse table (Evidently)",
                   "missing_share", args)]})
    return {"schedules": [args.schedule], "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "workflowSpec": {**workflow_base(p, team_label), "entrypoint": "drift",
                             "templates": [step]}}


def alert_groups(args: DriftWatchArgs) -> list[dict[str, Any]]:
    """Drift, missing values and a silent watch, each carrying the owning team."""
    s = args.pipelines.stages
    sel = f'table="{s.table}",namespace_name="{s.features}"'
    where = f"{s.features}.{s.table}"
    labels = {"team": args.alert_team}
    return [{"name": "aifactory-lakehouse-drift", "rules": [
        {"alert": "LakehouseFeatureDrift",
         "expr": f"max({PREFIX}{DRIFT_METRIC}{{{sel}}}) > {args.threshold:g}",
         "labels": {**labels, "severity": "warning"},
         "annotations": {"summary": f"Features of {where} drifted",
                         "description": f"{{{{ $value | humanizePercentage }}}} of the columns "
                         f"of {where} drifted from the {args.reference_days} days before "
                         f"(threshold {args.threshold:.0%}): check the inputs before "
                         "training on them."}},
        {"alert": "LakehouseFeatureMissingValues",
         "expr": f"max({PREFIX}{MISSING_METRIC}{{{sel}}}) > {args.missing_threshold:g}",
         "labels": {**labels, "severity": "warning"},
         "annotations": {"summary": f"Missing values in {where}",
                         "description": f"{{{{ $value | humanizePercentage }}}} of the values "
                         f"of {where} are missing (threshold "
                         f"{args.missing_threshold:.0%})."}},
        {"alert": "LakehouseDriftWatchSilent",
         "expr": f"absent_over_time({PREFIX}{DRIFT_METRIC}{{{sel}}}"
                 f"[{args.stale_after_minutes}m])",
         "labels": {**labels, "severity": "warning"},
         "annotations": {"summary": f"The drift watch of {where} has not reported",
                         "description": f"No drift figure for {where} in "
                         f"{args.stale_after_minutes} minutes: the CronWorkflow {NAME} fails "
                         "or is not admitted."}},
    ]}]


class DriftWatch(FactoryComponent):
    """The drift CronWorkflow and its alerts."""

    def __init__(self, name: str, args: DriftWatchArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        from components.platform.common import TEAM_LABEL

        if not 0 < args.threshold <= 1 or not 0 < args.missing_threshold <= 1:
            raise ComponentArgsError(f"`threshold` ({args.threshold}) and `missing_threshold` "
                                     f"({args.missing_threshold}) are shares: give each in "
                                     "(0, 1]")
        if args.stale_after_minutes < 10:
            raise ComponentArgsError(f"`stale_after_minutes` ({args.stale_after_minutes}) "
                                     "is below 10: give the watch time to run")
        p = args.pipelines
        super().__init__("aifactory:platform:DriftWatch", name, {
            "namespace": p.namespace, "table": f"{p.stages.features}.{p.stages.table}",
            "team": args.alert_team, "schedule": args.schedule,
            "threshold": args.threshold}, opts)
        labels = dict(args.labels)
        k8s.apiextensions.CustomResource(
            child(name, "schedule"), api_version=ARGO_API, kind="CronWorkflow",
            metadata={"name": NAME, "namespace": p.namespace, "labels": labels},
            spec=cron_spec(args, TEAM_LABEL), opts=self.child_opts(depends_on=list(
                args.depends_on)))
        k8s.apiextensions.CustomResource(
            child(name, "alerts"), api_version=MONITORING_API, kind="PrometheusRule",
            metadata={"name": NAME, "namespace": p.namespace, "labels": labels},
            spec={"groups": alert_groups(args)},
            opts=self.child_opts(depends_on=list(args.depends_on)))
        self.register_outputs({})
