"""One served model: its InferenceServices (the new revision, and the last good one during a
canary or after a rollback), the HTTPRoute that splits traffic between them, a ServiceMonitor
for vLLM's metrics, its alerts, and a LocalModelCache for large weights.

KServe's own canary (`canaryTrafficPercent`) needs Knative; in RawDeployment mode each revision
is an InferenceService of its own and the Gateway API route weighs them, so a canary is a
weight and a rollback sends every request to the last good revision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import GPU_RESOURCE, POOL_LABEL, TEAM_LABEL, NodeTaint

KSERVE_API = "serving.kserve.io/v1beta1"
KSERVE_ALPHA_API = "serving.kserve.io/v1alpha1"
GATEWAY_API = "gateway.networking.k8s.io/v1"
MONITORING_API = "monitoring.coreos.com/v1"
MODEL_LABEL = "aifactory.io/model"
REVISION_LABEL = "aifactory.io/revision"
ISVC_LABEL = "serving.kserve.io/inferenceservice"
"""Label KServe puts on the pods and Services of an InferenceService."""
VLLM_PORT = 8080
CACHE_FROM_GB = 50
"""Weights of this size and more are cached on the pool's nodes (LocalModelCache)."""


@dataclass(frozen=True)
class Revision:
    """One revision of a served model."""

    revision: str
    """Its label (v3)."""
    storage_uri: str
    """Where its weights are (s3:// or gs:// in the models zone)."""


@dataclass(frozen=True)
class ServedModelArgs:
    """Arguments of `ServedModel`."""

    model: str
    """Model name (a key of serving.models): the route's path prefix /<model>."""
    namespace: str
    """Serving namespace."""
    pool: str
    """GPU pool the replicas run on (its aifactory.io/pool node label)."""
    current: Revision
    """The revision being rolled out."""
    runtime: str
    """Name of the vLLM ServingRuntime."""
    gateway: str
    """Name of the Gateway (same namespace) the route attaches to."""
    service_account: str
    """Service account reading the weights (the workload's identity)."""
    prometheus_url: str
    """Prometheus the autoscaler (KEDA) queries."""
    last_good: Revision | None = None
    """The last good revision (kept for a canary and a rollback)."""
    canary_percent: int = 0
    """Traffic share of `current` while `last_good` serves the rest."""
    rollback: bool = False
    """Serve `last_good` only."""
    gpus_per_replica: int = 1
    """GPUs (units of `gpu_resource`) each replica requests."""
    gpu_resource: str = GPU_RESOURCE
    """Extended resource the pool exposes."""
    min_replicas: int = 1
    """Fewest replicas."""
    max_replicas: int = 1
    """Most replicas."""
    target_concurrency: int = 8
    """Running requests per replica the autoscaler keeps."""
    weights_gb: int = 16
    """Size of the weights, GB."""
    max_model_len: int | None = None
    """vLLM --max-model-len."""
    taints: tuple[NodeTaint, ...] = ()
    """Taints of the pool."""
    team: str | None = None
    """Owning team (label on its alerts)."""
    cache_node_group: str | None = None
    """LocalModelNodeGroup caching the weights on the pool (None: no cache)."""
    latency_p95_seconds: float = 30.0
    """p95 end-to-end latency above which an alert fires."""
    error_ratio: float = 0.05
    """Share of aborted requests above which an alert fires."""
    request_log: str | None = None
    """s3://bucket/prefix KServe's agent writes each request to (None: no log); the drift watch
    reads it."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on every object."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist first (KServe, the runtime, the Gateway)."""


@dataclass(frozen=True)
class Deployed:
    """One InferenceService of a served model, with its replica bounds and traffic weight."""

    revision: Revision
    min_replicas: int
    max_replicas: int
    weight: int


def deployed_revisions(args: ServedModelArgs) -> list[Deployed]:
    """What runs: the current revision alone, both during a canary (the canary sized to its
    share of traffic), or the last good one after a rollback."""
    if args.rollback:
        assert args.last_good is not None
        return [Deployed(args.last_good, args.min_replicas, args.max_replicas, 100)]
    if args.canary_percent and args.last_good is not None:
        canary_max = max(1, math.ceil(args.max_replicas * args.canary_percent / 100))
        return [Deployed(args.last_good, args.min_replicas, args.max_replicas,
                         100 - args.canary_percent),
                Deployed(args.current, min(args.min_replicas, canary_max), canary_max,
                         args.canary_percent)]
    return [Deployed(args.current, args.min_replicas, args.max_replicas, 100)]


def isvc_name(model: str, revision: str) -> str:
    """InferenceService name of a model's revision."""
    return f"{model}-{revision}"


LOG_PATH = "requests"
"""storage.path of the request log: KServe 0.20's agent writes each request to
<url>/<namespace>/<isvc>/predictor/requests/<id>-request.json."""


def logger_spec(url: str, service_account: str) -> dict[str, Any]:
    """KServe's request logger to a bucket: requests only (the inputs), as JSON, with the
    predictor's own service account (its cloud identity may put under the prefix). KServe
    0.20 refuses a storage without path, parameters and key; the agent ignores the key."""
    if not url.startswith("s3://") or url.count("/") < 3:
        raise ComponentArgsError(f"`request_log` ({url!r}) is not s3://bucket/prefix: the "
                                 "factory logs to its lakehouse's S3 buckets only")
    return {"mode": "request", "url": url, "storage": {
        "path": LOG_PATH, "parameters": {"type": "s3", "format": "json"},
        "key": "default", "serviceAccountName": service_account}}


def inference_service_spec(args: ServedModelArgs, d: Deployed) -> dict[str, Any]:
    """The predictor: vLLM on the pool's GPUs, scaled by KEDA on running requests."""
    name = isvc_name(args.model, d.revision.revision)
    vllm_args = ["--served-model-name", args.model]
    if args.max_model_len is not None:
        vllm_args += ["--max-model-len", str(args.max_model_len)]
    if args.gpus_per_replica > 1:
        vllm_args += ["--tensor-parallel-size", str(args.gpus_per_replica)]
    gpus = str(args.gpus_per_replica)
    running = (f'sum(vllm:num_requests_running{{namespace="{args.namespace}",'
               f'pod=~"{name}-predictor-.*"}})')
    return {"predictor": {
        "minReplicas": d.min_replicas,
        "maxReplicas": d.max_replicas,
        "serviceAccountName": args.service_account,
        "nodeSelector": {POOL_LABEL: args.pool},
        "tolerations": [t.toleration() for t in args.taints],
        "labels": {MODEL_LABEL: args.model, REVISION_LABEL: d.revision.revision},
        "autoScaling": {"metrics": [{"type": "External", "external": {
            "metric": {"backend": "prometheus", "serverAddress": args.prometheus_url,
                       "query": running},
            "target": {"type": "AverageValue", "averageValue": str(args.target_concurrency)},
        }}]},
        "model": {
            "modelFormat": {"name": "vllm"},
            "runtime": args.runtime,
            "storageUri": d.revision.storage_uri,
            "args": vllm_args,
            "resources": {"requests": {args.gpu_resource: gpus},
                          "limits": {args.gpu_resource: gpus}},
        },
        **({"logger": logger_spec(args.request_log, args.service_account)}
           if args.request_log is not None else {}),
    }}


def http_route_spec(args: ServedModelArgs, deployed: Sequence[Deployed]) -> dict[str, Any]:
    """/<model> on the internal Gateway, weighted over the revisions' predictor Services."""
    return {
        "parentRefs": [{"name": args.gateway}],
        "rules": [{
            "matches": [{"path": {"type": "PathPrefix", "value": f"/{args.model}"}}],
            "filters": [{"type": "URLRewrite", "urlRewrite": {
                "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
            "backendRefs": [{"name": f"{isvc_name(args.model, d.revision.revision)}-predictor",
                             "port": 80, "weight": d.weight} for d in deployed],
        }],
    }


def alert_groups(args: ServedModelArgs, names: Sequence[str]) -> list[dict[str, Any]]:
    """p95 latency, error ratio and queue depth of the model's pods, with its team's label."""
    pods = f'namespace="{args.namespace}",pod=~"({"|".join(names)})-predictor-.*"'
    labels: dict[str, str] = {"model": args.model}
    if args.team:
        labels["team"] = args.team
    where = f"Model {args.model} (pool {args.pool})"

    def rule(alert: str, expr: str, severity: str, summary: str, for_: str) -> dict[str, Any]:
        return {"alert": alert, "expr": expr, "for": for_,
                "labels": {"severity": severity, **labels},
                "annotations": {"summary": summary, "description": f"{where}: {summary}; "
                                "value {{ $value }}."}}

    queue = 2 * args.target_concurrency
    return [{"name": f"aifactory-serving-{args.model}", "rules": [
        rule("ServingLatencyP95High",
             f"histogram_quantile(0.95, sum by (le) (rate("
             f"vllm:e2e_request_latency_seconds_bucket{{{pods}}}[5m]))) > "
             f"{args.latency_p95_seconds:g}", "warning",
             f"p95 latency above {args.latency_p95_seconds:g} s", "10m"),
        rule("ServingErrorRatioHigh",
             f'sum(rate(vllm:request_success_total{{{pods},finished_reason="abort"}}[5m])) / '
             f"sum(rate(vllm:request_success_total{{{pods}}}[5m])) > {args.error_ratio:g}",
             "critical", f"more than {args.error_ratio:.0%} of requests aborted", "5m"),
        rule("ServingQueueDeep",
             f"sum(vllm:num_requests_waiting{{{pods}}}) / "
             f"clamp_min(count(vllm:num_requests_running{{{pods}}}), 1) > {queue}",
             "warning", f"more than {queue} requests waiting per replica", "10m"),
    ]}]


class ServedModel(FactoryComponent):
    """A model's InferenceServices, route, monitor, alerts and weight cache."""

    def __init__(self, name: str, args: ServedModelArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if args.max_replicas < args.min_replicas:
            raise ComponentArgsError(f"`max_replicas` ({args.max_replicas}) is below "
                                     f"`min_replicas` ({args.min_replicas})")
        if (args.canary_percent or args.rollback) and args.last_good is None:
            raise ComponentArgsError("a canary or a rollback needs `last_good`")
        if not 0 <= args.canary_percent < 100:
            raise ComponentArgsError(f"`canary_percent` ({args.canary_percent}) must be 0-99")
        if args.request_log is not None:
            logger_spec(args.request_log, args.service_account)  # refuses a bad URL first
        deployed = deployed_revisions(args)
        super().__init__("aifactory:platform:ServedModel", name, {
            "model": args.model, "pool": args.pool, "gpusPerReplica": args.gpus_per_replica,
            "revisions": {d.revision.revision: d.weight for d in deployed},
            **({"requestLog": args.request_log} if args.request_log is not None else {}),
            "maxGpus": sum(d.max_replicas for d in deployed) * args.gpus_per_replica}, opts)
        labels = {**args.labels, MODEL_LABEL: args.model}
        if args.team:
            labels[TEAM_LABEL] = args.team
        after = list(args.depends_on)
        names = [isvc_name(args.model, d.revision.revision) for d in deployed]
        services = []
        for d, isvc in zip(deployed, names, strict=True):
            services.append(k8s.apiextensions.CustomResource(
                child(name, d.revision.revision), api_version=KSERVE_API,
                kind="InferenceService",
                metadata={"name": isvc, "namespace": args.namespace,
                          "labels": {**labels, REVISION_LABEL: d.revision.revision},
                          "annotations": {
                              "serving.kserve.io/deploymentMode": "RawDeployment",
                              "serving.kserve.io/autoscalerClass": "keda"}},
                spec=inference_service_spec(args, d), opts=self.child_opts(depends_on=after)))
        k8s.apiextensions.CustomResource(
            child(name, "route"), api_version=GATEWAY_API, kind="HTTPRoute",
            metadata={"name": args.model, "namespace": args.namespace, "labels": labels},
            spec=http_route_spec(args, deployed), opts=self.child_opts(depends_on=services))
        k8s.apiextensions.CustomResource(
            child(name, "monitor"), api_version=MONITORING_API, kind="ServiceMonitor",
            metadata={"name": f"{args.model}-vllm", "namespace": args.namespace,
                      "labels": labels},
            spec={"selector": {"matchExpressions": [
                      {"key": ISVC_LABEL, "operator": "In", "values": names}]},
                  "endpoints": [{"targetPort": VLLM_PORT, "path": "/metrics",
                                 "interval": "30s"}]},
            opts=self.child_opts(depends_on=after))
        k8s.apiextensions.CustomResource(
            child(name, "alerts"), api_version=MONITORING_API, kind="PrometheusRule",
            metadata={"name": f"{args.model}-serving", "namespace": args.namespace,
                      "labels": labels},
            spec={"groups": alert_groups(args, names)}, opts=self.child_opts(depends_on=after))
        if args.cache_node_group is not None:
            for d in deployed:
                k8s.apiextensions.CustomResource(
                    child(name, "cache", d.revision.revision), api_version=KSERVE_ALPHA_API,
                    kind="LocalModelCache",
                    metadata={"name": isvc_name(args.model, d.revision.revision),
                              "labels": labels},
                    spec={"sourceModelUri": d.revision.storage_uri,
                          "modelSize": f"{args.weights_gb}Gi",
                          "nodeGroups": [args.cache_node_group]},
                    opts=self.child_opts(depends_on=after))
        self.max_gpus = pulumi.Output.from_input(
            sum(d.max_replicas for d in deployed) * args.gpus_per_replica)
        self.register_outputs({"max_gpus": self.max_gpus})
