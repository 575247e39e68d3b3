"""Pipelines over the lakehouse: Argo Workflows (argoproj/argo-helm argo-workflows, pinned) and
the example WorkflowTemplate that turns raw into curated into features.

The controller runs in its own namespace and manages workflows in the pipelines' team namespace
only. Every workflow pod carries the team's Kueue queue label (`kueue.x-k8s.io/queue-name`), so
Kueue's pod integration admits it against the team's queue like any other job. Steps run as
the team's `lakehouse` service account: its cloud identity reaches the Iceberg catalog, and the
artifact repository (logs and outputs, under argo/ in a lakehouse zone) through the SDK's own
credentials (IRSA, Workload Identity): no static key exists. The server (UI) stays off: nothing
is exposed. The controller's metrics endpoint, with the workflows' own metrics, is scraped
through the chart's ServiceMonitor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import ARGO_WORKFLOWS
from components.base import FactoryComponent
from components.iceberg import SERVICE_ACCOUNT
from components.naming import child
from components.platform.common import chart, namespace
from components.platform.lakehouse_access import CONFIG_MAP
from components.platform.mirror import ImageMirror

ARGO_API = "argoproj.io/v1alpha1"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
STEPS_CONFIG_MAP = "lakehouse-pipeline-steps"
TEMPLATE_NAME = "lakehouse-raw-to-features"
STEPS_DIR = Path(__file__).resolve().parent / "pipeline_steps"
RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                        "readOnlyRootFilesystem": True, "runAsNonRoot": True}
POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 8737, "runAsGroup": 8737, "fsGroup": 8737,
                "seccompProfile": {"type": "RuntimeDefault"}}
"""8737: the user Argo's executor image runs as; the steps' image runs as the same."""


@dataclass(frozen=True)
class ArtifactRepository:
    """Where workflow artifacts and logs go: a lakehouse zone's bucket, under `prefix`."""

    kind: Literal["s3", "gcs"]
    """s3 (AWS, or a site's S3-compatible store) or gcs."""
    bucket: pulumi.Input[str]
    """Bucket name."""
    region: str | None = None
    """S3: the bucket's region."""
    endpoint: str | None = None
    """S3: the endpoint (s3.<region>.amazonaws.com, or a site's object store)."""
    prefix: str = "argo"
    """Key prefix of every artifact."""


@dataclass(frozen=True)
class PipelineStagesArgs:
    """The example pipeline's tables (namespaces as the catalog names them)."""

    raw: str
    """Namespace read."""
    curated: str
    """Namespace the cleaned rows go to."""
    features: str
    """Namespace the features go to."""
    table: str
    """Table name in each."""
    time_column: str = "event_time"
    """Timestamp column of the raw table."""
    window_hours: int = 24
    """Hours of raw rows each run curates."""


@dataclass(frozen=True)
class PipelinesArgs:
    """Arguments of `Pipelines`."""

    namespace: str
    """The pipelines' team namespace (exists: the platform layer made it)."""
    team: str
    """The team whose queue admits the workflows."""
    image: str
    """Image of the steps, by digest."""
    artifacts: ArtifactRepository
    """Artifact repository."""
    stages: PipelineStagesArgs
    """The example pipeline's tables."""
    schedule: str | None = None
    """Cron schedule of the example pipeline (None: no CronWorkflow)."""
    local_queue: str = "default"
    """The team's LocalQueue."""
    controller_namespace: str = "argo"
    """Namespace of the workflow controller."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects."""
    depends_on: Sequence[pulumi.Resource] = ()
    """The team namespace, its service account and catalog ConfigMap, the monitoring CRDs."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror of the chart and its images."""


def pipelines_values(args: PipelinesArgs) -> dict[str, Any]:
    """Chart values: one managed namespace, the team's service account, SDK credentials for
    the artifact repository, metrics scraped, no server."""
    a = args.artifacts
    # the chart passes artifactRepository through `tpl`: Argo's own {{...}} is quoted for it
    key = '{{ "{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}" }}'
    repo: dict[str, Any]
    if a.kind == "s3":
        repo = {"bucket": a.bucket, "endpoint": a.endpoint, "region": a.region,
                "useSDKCreds": True, "insecure": False, "keyFormat": f"{a.prefix}/{key}",
                "encryptionOptions": {"enableEncryption": True}}
    else:
        repo = {"bucket": a.bucket, "keyFormat": f"{a.prefix}/{key}"}
    return {
        "controller": {
            "workflowNamespaces": [args.namespace],
            "metricsConfig": {"enabled": True},
            "serviceMonitor": {"enabled": True},
            "securityContext": RESTRICTED_CONTAINER,
        },
        "executor": {"securityContext": RESTRICTED_CONTAINER},
        "server": {"enabled": False},
        "workflow": {"serviceAccount": {"create": False, "name": SERVICE_ACCOUNT},
                     "rbac": {"create": True}},
        "useStaticCredentials": False,
        "artifactRepository": {"archiveLogs": True, a.kind: repo},
    }


def container_step(name: str, script: str, args: PipelinesArgs, env: Mapping[str, str],
          **extra: Any) -> dict[str, Any]:
    """A container step running one script of the steps' ConfigMap."""
    return {
        "name": name,
        "container": {
            "image": args.image, "command": ["python", f"/steps/{script}"],
            "env": [{"name": k, "value": v} for k, v in sorted(env.items())],
            "envFrom": [{"configMapRef": {"name": CONFIG_MAP}}],
            "resources": {"requests": {"cpu": "1", "memory": "4Gi"},
                          "limits": {"memory": "4Gi"}},
            "securityContext": RESTRICTED_CONTAINER,
            "volumeMounts": [{"name": "steps", "mountPath": "/steps", "readOnly": True},
                             {"name": "tmp", "mountPath": "/tmp"}],
        },
        **extra,
    }


def workflow_base(args: PipelinesArgs, team_label: str) -> dict[str, Any]:
    """What every workflow of the pipelines shares: the service account, Kueue's queue label on
    every pod, the restricted pod security, the steps' volumes, a TTL."""
    return {
        "serviceAccountName": SERVICE_ACCOUNT,
        "podMetadata": {"labels": {QUEUE_LABEL: args.local_queue, team_label: args.team}},
        "securityContext": POD_SECURITY,
        "volumes": [{"name": "steps", "configMap": {"name": STEPS_CONFIG_MAP}},
                    {"name": "tmp", "emptyDir": {}}],
        "ttlStrategy": {"secondsAfterCompletion": 7 * 24 * 3600},
        "podGC": {"strategy": "OnWorkflowSuccess"},
    }


def template_spec(args: PipelinesArgs, team_label: str) -> dict[str, Any]:
    """The example WorkflowTemplate: curate (raw -> curated), then features (curated ->
    features); its duration and outcome as metrics."""
    s = args.stages
    env = {"TABLE": s.table, "TIME_COLUMN": s.time_column, "RAW_NAMESPACE": s.raw,
           "CURATED_NAMESPACE": s.curated, "FEATURES_NAMESPACE": s.features,
           "WINDOW_HOURS": str(s.window_hours)}
    return {
        **workflow_base(args, team_label),
        "entrypoint": "raw-to-features",
        "metrics": {"prometheus": [{
            "name": "lakehouse_pipeline_duration_seconds",
            "help": "Duration of the lakehouse pipeline's last run",
            "labels": [{"key": "table", "value": s.table}, {"key": "team", "value": args.team},
                       {"key": "status", "value": "{{workflow.status}}"}],
            "gauge": {"value": "{{workflow.duration}}", "realtime": False},
        }]},
        "templates": [
            {"name": "raw-to-features", "dag": {"tasks": [
                {"name": "curate", "template": "curate"},
                {"name": "features", "template": "features", "depends": "curate.Succeeded"},
            ]}},
            container_step("curate", "curate.py", args, env),
            container_step("features", "features.py", args, env),
        ],
    }


def steps_data() -> dict[str, str]:
    """The steps' scripts, by file name."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(STEPS_DIR.glob("*.py"))}


class Pipelines(FactoryComponent):
    """Argo Workflows, the steps' scripts and the example WorkflowTemplate (and its schedule)."""

    def __init__(self, name: str, args: PipelinesArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        from components.platform.common import TEAM_LABEL

        if "@sha256:" not in args.image:
            raise ComponentArgsError(f"`image` ({args.image!r}) is not pinned by digest: give "
                                     "<registry>/<repository>@sha256:<digest>")
        if args.controller_namespace == args.namespace:
            raise ComponentArgsError(f"`controller_namespace` is the team namespace "
                                     f"{args.namespace!r}: give the controller its own")
        if args.artifacts.kind == "s3" and not (args.artifacts.endpoint and args.artifacts.region):
            raise ComponentArgsError("an s3 artifact repository needs `endpoint` and `region`")
        super().__init__("aifactory:platform:Pipelines", name, {
            "namespace": args.namespace, "team": args.team, "queue": args.local_queue,
            "chartVersion": ARGO_WORKFLOWS.version, "template": TEMPLATE_NAME}, opts)
        labels = dict(args.labels)
        ns = namespace(child(name, "ns"), args.controller_namespace, labels, "restricted",
                       self.child_opts(depends_on=list(args.depends_on)))
        self.chart = chart(child(name, "chart"), ARGO_WORKFLOWS, "argo-workflows",
                           args.controller_namespace, pipelines_values(args),
                           self.child_opts(depends_on=[ns, *args.depends_on]), args.mirror)
        steps = k8s.core.v1.ConfigMap(
            child(name, "steps"), metadata={"name": STEPS_CONFIG_MAP, "namespace": args.namespace,
                                            "labels": labels},
            data=steps_data(), opts=self.child_opts(depends_on=list(args.depends_on)))
        after = [self.chart, steps]
        self.template = k8s.apiextensions.CustomResource(
            child(name, "template"), api_version=ARGO_API, kind="WorkflowTemplate",
            metadata={"name": TEMPLATE_NAME, "namespace": args.namespace, "labels": labels},
            spec=template_spec(args, TEAM_LABEL), opts=self.child_opts(depends_on=after))
        if args.schedule is not None:
            k8s.apiextensions.CustomResource(
                child(name, "schedule"), api_version=ARGO_API, kind="CronWorkflow",
                metadata={"name": TEMPLATE_NAME, "namespace": args.namespace, "labels": labels},
                spec={"schedules": [args.schedule], "concurrencyPolicy": "Forbid",
                      "startingDeadlineSeconds": 600,
                      "workflowSpec": {"workflowTemplateRef": {"name": TEMPLATE_NAME},
                                       "podMetadata": workflow_base(args, TEAM_LABEL)[
                                           "podMetadata"]}},
                opts=self.child_opts(depends_on=[self.template]))
        self.register_outputs({})
