"""GPU telemetry of one cluster: the DCGM exporter's ServiceMonitor and the GPU alert rules.

The ServiceMonitor attaches node metadata, so every DCGM series carries `node` and `pool` (from
the aifactory.io/pool node label). The rules then compare what the exporters report with what
the blueprint says each pool has: the whole inventory of an own site must always be visible; a
cloud pool must show at least its minimum nodes' GPUs; every node must show all its GPUs.
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
from components.platform.common import POOL_LABEL, GpuPoolCapacity, validate_pools

MONITORING_API = "monitoring.coreos.com/v1"
DCGM_JOB = "nvidia-dcgm-exporter"
"""Value of the `app` label of the GPU operator's DCGM exporter Service, used as the job name."""
DCGM_PORT = "gpu-metrics"
"""Port name of that Service."""
# XIDs that mean the GPU needs attention before it takes more work (NVIDIA XID catalogue):
# 48 double-bit ECC, 63/64 row remapping pending/failed, 74 NVLink, 79 fallen off the bus,
# 92 high single-bit ECC rate, 94/95 contained/uncontained ECC error.
FATAL_XIDS = (48, 63, 64, 74, 79, 92, 94, 95)


def _prom_label(label: str) -> str:
    """The name Prometheus gives a Kubernetes label in service discovery metadata."""
    return "".join(c if c.isalnum() else "_" for c in label)


@dataclass(frozen=True)
class GpuTelemetryArgs:
    """Arguments of `GpuTelemetry`."""

    pools: tuple[GpuPoolCapacity, ...]
    """The cluster's GPU pools (their expected GPU counts become alerts)."""
    monitoring_namespace: str
    """Namespace of the Prometheus stack; the monitor and the rules go there."""
    gpu_operator_namespace: str
    """Namespace of the GPU operator, where the DCGM exporter's Service is."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    temperature_limit_c: int = 85
    """GPU temperature (C) above which, held for 5 minutes, an alert fires."""
    scrape_interval: str = "30s"
    """How often Prometheus scrapes the exporters."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources that must exist first: the charts that install the monitoring CRDs."""
    pool_teams: Mapping[str, str] = field(default_factory=dict)
    """Owning team of a pool: every GPU series and alert of the pool carries `team`."""


def dcgm_service_monitor_spec(args: GpuTelemetryArgs) -> dict[str, Any]:
    """ServiceMonitor spec for the GPU operator's DCGM exporter, adding node and pool labels."""
    return {
        "jobLabel": "app",
        "selector": {"matchLabels": {"app": DCGM_JOB}},
        "namespaceSelector": {"matchNames": [args.gpu_operator_namespace]},
        "attachMetadata": {"node": True},
        "endpoints": [{
            "port": DCGM_PORT,
            "path": "/metrics",
            "interval": args.scrape_interval,
            # Keep the exporter's pod/namespace labels: they name the workload using the GPU.
            "honorLabels": True,
            "relabelings": [
                {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_node_name"],
                 "targetLabel": "node"},
                {"action": "replace",
                 "sourceLabels": [f"__meta_kubernetes_node_label_{_prom_label(POOL_LABEL)}"],
                 "targetLabel": "pool"},
                *({"action": "replace",
                   "sourceLabels": [f"__meta_kubernetes_node_label_{_prom_label(POOL_LABEL)}"],
                   "regex": pool, "targetLabel": "team", "replacement": team}
                  for pool, team in sorted(args.pool_teams.items())),
            ],
        }],
    }


def _rule(alert: str, expr: str, severity: str, summary: str, description: str,
          for_: str | None = None, **labels: str) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "alert": alert, "expr": expr, "labels": {"severity": severity, **labels},
        "annotations": {"summary": summary, "description": description},
    }
    if for_:
        rule["for"] = for_
    return rule


def gpu_alert_groups(args: GpuTelemetryArgs) -> list[dict[str, Any]]:
    """PrometheusRule groups: GPU health for every GPU, and expected GPUs per pool."""
    fatal = " or ".join(f"DCGM_FI_DEV_XID_ERRORS == {x}" for x in FATAL_XIDS)
    where = "GPU {{ $labels.gpu }} on {{ $labels.node }} (pool {{ $labels.pool }})"
    health = [
        _rule("GpuXidError", "DCGM_FI_DEV_XID_ERRORS > 0", "warning",
              "GPU reported an XID error",
              f"{where} reported XID {{{{ $value }}}}."),
        _rule("GpuFatalXidError", fatal, "critical",
              "GPU reported an XID that needs the GPU drained",
              f"{where} reported XID {{{{ $value }}}}: drain the node and check the GPU."),
        _rule("GpuTemperatureHigh", f"DCGM_FI_DEV_GPU_TEMP > {args.temperature_limit_c}",
              "warning", "GPU running hot",
              f"{where} has been above {args.temperature_limit_c} C for 5 minutes.", "5m"),
        _rule("GpuEccDoubleBitErrors", "increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m]) > 0",
              "critical", "GPU memory double-bit ECC errors",
              f"{where} had uncorrectable ECC errors in the last 10 minutes."),
        _rule("GpuRowRemapFailure", "DCGM_FI_DEV_ROW_REMAP_FAILURE > 0", "critical",
              "GPU memory row remapping failed",
              f"{where} could not remap a faulty memory row: replace the GPU."),
        _rule("DcgmExporterDown", f'up{{job="{DCGM_JOB}"}} == 0', "warning",
              "DCGM exporter not answering",
              "The DCGM exporter on {{ $labels.node }} (pool {{ $labels.pool }}) has not "
              "answered for 10 minutes: its GPUs are not monitored.", "10m"),
    ]
    capacity: list[dict[str, Any]] = []
    for p in sorted(args.pools, key=lambda p: p.pool):
        owner = {"team": args.pool_teams[p.pool]} if p.pool in args.pool_teams else {}
        selector = f'DCGM_FI_DEV_GPU_TEMP{{pool="{p.pool}"}}'
        if p.expected_gpus > 0:
            basis = ("its inventory" if p.owned else f"its minimum of {p.min_nodes} nodes")
            capacity.append(_rule(
                "GpuPoolGpusMissing", f"(count({selector}) or vector(0)) < {p.expected_gpus}",
                "critical" if p.owned else "warning", f"Pool {p.pool} shows fewer GPUs than "
                "it has",
                f"Pool {p.pool} should show {p.expected_gpus} GPUs ({basis}, "
                f"{p.gpus_per_node} per node) but shows {{{{ $value }}}}.", "15m", pool=p.pool,
                **owner))
        capacity.append(_rule(
            "GpuNodeGpusMissing", f"count by (node) ({selector}) < {p.gpus_per_node}",
            "warning", "GPU node shows fewer GPUs than its pool's nodes have",
            f"Node {{{{ $labels.node }}}} of pool {p.pool} shows {{{{ $value }}}} of "
            f"{p.gpus_per_node} GPUs.", "10m", pool=p.pool, **owner))
    return [{"name": "aifactory-gpu-health", "rules": health},
            {"name": "aifactory-gpu-capacity", "rules": capacity}]


class GpuTelemetry(FactoryComponent):
    """ServiceMonitor for the DCGM exporter and PrometheusRule with the GPU alerts."""

    def __init__(self, name: str, args: GpuTelemetryArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.pools:
            raise ComponentArgsError("`pools` is empty: GPU telemetry needs the cluster's GPU "
                                     "pools; leave it out of a cluster without GPUs")
        validate_pools("pools", args.pools)
        if not 40 <= args.temperature_limit_c <= 110:
            raise ComponentArgsError(f"`temperature_limit_c` ({args.temperature_limit_c}) is "
                                     "not a GPU temperature limit: give 40-110 C (e.g. 85)")
        super().__init__("aifactory:platform:GpuTelemetry", name, {
            "pools": [p.pool for p in args.pools],
            "expectedGpus": {p.pool: p.expected_gpus for p in args.pools}}, opts)

        deps = list(args.depends_on)
        self.service_monitor = k8s.apiextensions.CustomResource(
            child(name, "dcgm-monitor"), api_version=MONITORING_API, kind="ServiceMonitor",
            metadata={"name": DCGM_JOB, "namespace": args.monitoring_namespace,
                      "labels": dict(args.labels)},
            spec=dcgm_service_monitor_spec(args), opts=self.child_opts(depends_on=deps))
        self.rule = k8s.apiextensions.CustomResource(
            child(name, "gpu-alerts"), api_version=MONITORING_API, kind="PrometheusRule",
            metadata={"name": "aifactory-gpu-alerts", "namespace": args.monitoring_namespace,
                      "labels": dict(args.labels)},
            spec={"groups": gpu_alert_groups(args)}, opts=self.child_opts(depends_on=deps))
        self.expected_gpus = pulumi.Output.from_input(
            {p.pool: p.expected_gpus for p in args.pools})
        self.register_outputs({"expected_gpus": self.expected_gpus})
