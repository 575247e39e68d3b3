"""Data and drift watched: a CronWorkflow in the pipelines' namespace runs Evidently over the
features table on a schedule; the shares of drifted columns and of missing values become
Prometheus gauges of the workflow controller (argo_workflows_lakehouse_feature_*), which the
factory's Prometheus scrapes; a PrometheusRule alerts the owning team (its `team` label, so the
lifecycle's AlertmanagerConfig routes it to that team's receiver) when drift or missing values
pass their thresholds, or when the watch has not reported for two schedules.

Served models' inputs likewise, alerting the model's team. Everywhere, recording rules take
quantiles of vLLM's own per-request input histograms (prompt tokens, max_tokens) over the
newest window and over the days before it, and alert when one shifts by more than the
threshold. Where KServe's agent logs the requests to the lakehouse (AWS), a step of the same
workflow per model reads them (one JSON object per request), compares the newest window of
their shape (prompt length, messages, sampling parameters) with the days before it, and
reports the share of drifted columns and the window's request count
(argo_workflows_lakehouse_served_*).
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
SERVED_DRIFT_METRIC = "lakehouse_served_input_drift_share"
SERVED_REQUESTS_METRIC = "lakehouse_served_requests"
PREFIX = "argo_workflows_"
"""Argo prepends it to every custom metric's name."""
NAME = "lakehouse-drift"


@dataclass(frozen=True)
class ServedInputs:
    """A served model whose inputs are watched: through vLLM's input histograms always, and
    its logged requests when it has a log."""

    model: str
    """Model name (vLLM's model_name label: the served model name)."""
    team: str
    """Team its alerts go to."""
    namespace: str = "serving"
    """Namespace of the model's pods."""
    bucket: str | None = None
    """Lakehouse bucket of the request log (None: no log)."""
    prefix: str | None = None
    """Key prefix of the log (inference-log/<model>)."""
    region: str | None = None
    """The bucket's region (None: looked up by the S3 client)."""

    @property
    def logged(self) -> bool:
        """Whether KServe's agent logs its requests."""
        return self.bucket is not None


INPUT_HISTOGRAMS = (("prompt_tokens", "vllm:request_prompt_tokens_bucket"),
                    ("max_tokens", "vllm:request_params_max_tokens_bucket"))
"""vLLM's per-request input histograms: (input label, bucket series)."""
QUANTILES = (0.5, 0.9)
SHIFT_METRIC = "aifactory:served_input_shift"


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
    served: tuple[ServedInputs, ...] = ()
    """Served models whose inputs are watched too (vLLM's histograms; their logged requests
    where they have a log)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects."""
    depends_on: Sequence[pulumi.Resource] = ()
    """The pipelines (the engine, the steps' ConfigMap) and the monitoring CRDs."""


def _gauge(name: str, help_text: str, output: str,
           labels: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A step's output parameter as an Argo gauge, emitted when the step succeeded."""
    return {"name": name, "help": help_text, "when": "{{status}} == Succeeded",
            "labels": [{"key": k, "value": v} for k, v in labels],
            "gauge": {"value": f"{{{{outputs.parameters.{output}}}}}", "realtime": False}}


def cron_spec(args: DriftWatchArgs, team_label: str) -> dict[str, Any]:
    """The CronWorkflow: one Evidently step whose outputs are the metrics."""
    p = args.pipelines
    table = (("namespace_name", p.stages.features), ("table", p.stages.table),
             ("team", args.alert_team))
    env = {"TABLE": p.stages.table, "FEATURES_NAMESPACE": p.stages.features,
           "REFERENCE_DAYS": str(args.reference_days),
           "CURRENT_HOURS": str(args.current_hours)}
    step = container_step("drift", "drift.py", p, env, outputs={"parameters": [
        {"name": "drift_share", "valueFrom": {"path": "/tmp/drift_share"}},
        {"name": "missing_share", "valueFrom": {"path": "/tmp/missing_share"}}]},
        metrics={"prometheus": [
            _gauge(DRIFT_METRIC, "Share of drifted columns of a lakehouse table (Evidently)",
                   "drift_share", table),
            _gauge(MISSING_METRIC, "Share of missing values of a lakehouse table (Evidently)",
                   "missing_share", table)]})
    templates = [step]
    entrypoint = "drift"
    logged = [s for s in args.served if s.logged]
    if logged:
        # one DAG: the features and each model are independent steps, a failure of one
        # neither stops nor hides the others
        entrypoint = "watch"
        templates = [{"name": "watch", "dag": {"tasks": [
            {"name": "features", "template": "drift"},
            *({"name": served_step(s.model), "template": served_step(s.model)}
              for s in logged)]}},
            step, *(served_template(args, s) for s in logged)]
    return {"schedules": [args.schedule], "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "workflowSpec": {**workflow_base(p, team_label), "entrypoint": entrypoint,
                             "templates": templates}}


def served_step(model: str) -> str:
    """Name of a watched model's step."""
    return f"served-{model}"


def served_template(args: DriftWatchArgs, s: ServedInputs) -> dict[str, Any]:
    """A model's step: its logged requests, newest window against the days before it."""
    assert s.bucket is not None and s.prefix is not None
    env = {"MODEL": s.model, "LOG_BUCKET": s.bucket, "LOG_PREFIX": s.prefix,
           "REFERENCE_DAYS": str(args.reference_days),
           "CURRENT_HOURS": str(args.current_hours)}
    if s.region is not None:
        env["LOG_REGION"] = s.region
    labels = (("model", s.model), ("team", s.team))
    return container_step(
        served_step(s.model), "served_drift.py", args.pipelines, env,
        outputs={"parameters": [
            {"name": "drift_share", "valueFrom": {"path": "/tmp/drift_share"}},
            {"name": "requests", "valueFrom": {"path": "/tmp/requests"}}]},
        metrics={"prometheus": [
            _gauge(SERVED_DRIFT_METRIC, "Share of drifted input columns of a served model's "
                   "requests (Evidently)", "drift_share", labels),
            _gauge(SERVED_REQUESTS_METRIC, "Requests a served model logged in the current "
                   "window", "requests", labels)]})


def shift_group(args: DriftWatchArgs) -> dict[str, Any]:
    """Recording rules: each watched model's input quantiles (vLLM's histograms) over the newest
    window and over the days before it, and their relative shift."""
    window, days = f"{args.current_hours}h", f"{args.reference_days}d"
    rules: list[dict[str, Any]] = []
    for s in args.served:
        sel = f'namespace="{s.namespace}",model_name="{s.model}"'
        for label, series in INPUT_HISTOGRAMS:
            for q in QUANTILES:
                labels = {"model": s.model, "input": label, "quantile": f"{q:g}"}
                for record, rng in (("current", f"[{window}]"),
                                    ("reference", f"[{days}] offset {window}")):
                    rules.append({
                        "record": f"aifactory:served_input_quantile:{record}",
                        "expr": f"histogram_quantile({q:g}, sum by (le) (rate("
                                f"{series}{{{sel}}}{rng})))",
                        "labels": labels})
    rules.append({"record": SHIFT_METRIC,
                  "expr": "abs(aifactory:served_input_quantile:current / "
                          "aifactory:served_input_quantile:reference - 1)"})
    return {"name": "aifactory-served-input-shift", "interval": "15m", "rules": rules}


def served_alert_group(args: DriftWatchArgs) -> dict[str, Any]:
    """Each watched model's input shift (vLLM's histograms) and, when its requests are logged,
    their drift and a silent watch; each carrying the model's team."""
    rules: list[dict[str, Any]] = []
    for s in args.served:
        sel = f'model="{s.model}"'
        labels = {"team": s.team, "model": s.model, "severity": "warning"}
        rules.append(
            {"alert": "ServedInputShift",
             "expr": f"max by (model, input, quantile) ({SHIFT_METRIC}{{{sel}}}) > "
                     f"{args.threshold:g}",
             "for": "1h", "labels": labels,
             "annotations": {"summary": f"Inputs of model {s.model} shifted",
                             "description": f"The {{{{ $labels.quantile }}}} quantile of "
                             f"{s.model}'s {{{{ $labels.input }}}} over the last "
                             f"{args.current_hours} h moved {{{{ $value | humanizePercentage }}}}"
                             f" from the {args.reference_days} days before (threshold "
                             f"{args.threshold:.0%}, vLLM's histograms): check what callers "
                             "send."}})
        if not s.logged:
            continue
        rules += [
            {"alert": "ServedInputDrift",
             "expr": f"max({PREFIX}{SERVED_DRIFT_METRIC}{{{sel}}}) > {args.threshold:g}",
             "labels": labels,
             "annotations": {"summary": f"Inputs of model {s.model} drifted",
                             "description": f"{{{{ $value | humanizePercentage }}}} of the "
                             f"input columns of {s.model}'s requests drifted from the "
                             f"{args.reference_days} days before (threshold "
                             f"{args.threshold:.0%}): check what callers send before "
                             "trusting its answers."}},
            {"alert": "ServedInputWatchSilent",
             "expr": f"absent_over_time({PREFIX}{SERVED_DRIFT_METRIC}{{{sel}}}"
                     f"[{args.stale_after_minutes}m])",
             "labels": labels,
             "annotations": {"summary": f"The input watch of model {s.model} has not reported",
                             "description": f"No input drift figure for {s.model} in "
                             f"{args.stale_after_minutes} minutes: its step of the CronWorkflow "
                             f"{NAME} fails (no logged requests, no access to "
                             f"s3://{s.bucket}/{s.prefix}) or is not admitted."}},
        ]
    return {"name": "aifactory-served-input-drift", "rules": rules}


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
        models = [s.model for s in args.served]
        if len(set(models)) != len(models):
            raise ComponentArgsError(f"`served` names a model twice: {sorted(models)}")
        if args.stale_after_minutes < 10:
            raise ComponentArgsError(f"`stale_after_minutes` ({args.stale_after_minutes}) "
                                     "is below 10: give the watch time to run")
        p = args.pipelines
        super().__init__("aifactory:platform:DriftWatch", name, {
            "namespace": p.namespace, "table": f"{p.stages.features}.{p.stages.table}",
            "team": args.alert_team, "schedule": args.schedule,
            "threshold": args.threshold,
            **({"servedModels": models} if models else {})}, opts)
        labels = dict(args.labels)
        k8s.apiextensions.CustomResource(
            child(name, "schedule"), api_version=ARGO_API, kind="CronWorkflow",
            metadata={"name": NAME, "namespace": p.namespace, "labels": labels},
            spec=cron_spec(args, TEAM_LABEL), opts=self.child_opts(depends_on=list(
                args.depends_on)))
        k8s.apiextensions.CustomResource(
            child(name, "alerts"), api_version=MONITORING_API, kind="PrometheusRule",
            metadata={"name": NAME, "namespace": p.namespace, "labels": labels},
            spec={"groups": [*alert_groups(args), *([shift_group(args),
                                                      served_alert_group(args)]
                                                     if args.served else [])]},
            opts=self.child_opts(depends_on=list(args.depends_on)))
        self.register_outputs({})
