"""Grafana dashboards as code: GPUs (DCGM exporter), queues (Kueue) and serving (vLLM).

Each dashboard is a small Grafana JSON model built here, loaded by Grafana's dashboard sidecar
from a ConfigMap labelled grafana_dashboard=1 (components.platform.monitoring).
"""

from __future__ import annotations

from typing import Any

DASHBOARD_LABEL = "grafana_dashboard"


def _panel(i: int, title: str, expr: str, unit: str, legend: str) -> dict[str, Any]:
    return {
        "id": i, "type": "timeseries", "title": title,
        "gridPos": {"x": (i - 1) % 2 * 12, "y": (i - 1) // 2 * 8, "w": 12, "h": 8},
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": legend}],
    }


def _dashboard(uid: str, title: str, panels: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "tags": ["aifactory"], "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"}, "refresh": "1m",
        "panels": [_panel(i, *p) for i, p in enumerate(panels, start=1)],
    }


def dashboards() -> dict[str, dict[str, Any]]:
    """Dashboard name -> Grafana JSON model."""
    return {
        "gpus": _dashboard("aifactory-gpus", "AI factory: GPUs (DCGM)", [
            ("GPU utilisation by pool", "avg by (pool) (DCGM_FI_DEV_GPU_UTIL)", "percent",
             "{{pool}}"),
            ("GPU memory used by pool", "sum by (pool) (DCGM_FI_DEV_FB_USED) * 1024 * 1024",
             "bytes", "{{pool}}"),
            ("Board power by pool", "sum by (pool) (DCGM_FI_DEV_POWER_USAGE)", "watt",
             "{{pool}}"),
            ("Hottest GPU by node", "max by (node) (DCGM_FI_DEV_GPU_TEMP)", "celsius",
             "{{node}}"),
            ("XID errors", "sum by (node, pool) (DCGM_FI_DEV_XID_ERRORS > 0)", "short",
             "{{node}} ({{pool}})"),
            ("GPUs visible by pool", "count by (pool) (DCGM_FI_DEV_GPU_TEMP)", "short",
             "{{pool}}"),
        ]),
        "queues": _dashboard("aifactory-queues", "AI factory: queues (Kueue)", [
            ("Pending workloads by queue", "sum by (cluster_queue) "
             "(kueue_pending_workloads)", "short", "{{cluster_queue}}"),
            ("Admitted workloads by queue", "sum by (cluster_queue) "
             "(kueue_admitted_active_workloads)", "short", "{{cluster_queue}}"),
            ("GPU quota used by queue", "sum by (cluster_queue, flavor) "
             "(kueue_cluster_queue_resource_usage{resource=~\"nvidia.com/.*\"})", "short",
             "{{cluster_queue}} / {{flavor}}"),
            ("Admission wait p90", "histogram_quantile(0.9, sum by (le, cluster_queue) "
             "(rate(kueue_admission_wait_time_seconds_bucket[30m])))", "s",
             "{{cluster_queue}}"),
        ]),
        "serving": _dashboard("aifactory-serving", "AI factory: serving (vLLM)", [
            ("Running requests by model", "sum by (model_name) (vllm:num_requests_running)",
             "short", "{{model_name}}"),
            ("Waiting requests by model", "sum by (model_name) (vllm:num_requests_waiting)",
             "short", "{{model_name}}"),
            ("p95 end-to-end latency", "histogram_quantile(0.95, sum by (le, model_name) "
             "(rate(vllm:e2e_request_latency_seconds_bucket[5m])))", "s", "{{model_name}}"),
            ("Time to first token p95", "histogram_quantile(0.95, sum by (le, model_name) "
             "(rate(vllm:time_to_first_token_seconds_bucket[5m])))", "s", "{{model_name}}"),
            ("Generated tokens/s", "sum by (model_name) "
             "(rate(vllm:generation_tokens_total[5m]))", "short", "{{model_name}}"),
            ("KV cache usage", "avg by (model_name) (vllm:gpu_cache_usage_perc)",
             "percentunit", "{{model_name}}"),
        ]),
    }
