"""Model serving on one cluster: KServe in RawDeployment mode (no Knative) with a vLLM
ServingRuntime, everything it needs to work, and the served models.

- cert-manager issues the certificates of KServe's admission webhooks;
- KEDA scales each predictor on vLLM's running requests (KServe's `keda` autoscaler class);
- a Gateway API implementation programs the internal Gateway the models' routes attach to:
  GKE's own controller (class gke-l7-rilb, an internal Application Load Balancer) on GKE; Envoy
  Gateway on EKS (its Service an internal load balancer) and on a site (at the addresses the
  site's load balancer announces). No Gateway without a controller that programs it;
- the namespace's service account reads the weights from the lakehouse's models zone through
  the workload's identity (IRSA on EKS, Workload Identity on GKE); on a site it names a Secret
  with the credentials of a read-only user of the site's MinIO tenant and KServe's S3
  annotations (endpoint, HTTPS, verified TLS against the cluster CA that signed the tenant's
  certificate), as KServe documents for S3-compatible stores;
- large weights are cached on the pool's nodes (a LocalModelNodeGroup per pool).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import (
    CERT_MANAGER,
    ENVOY_GATEWAY,
    KEDA,
    KSERVE,
    KSERVE_CRD,
    VLLM_IMAGE,
    VLLM_TAG,
)
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import POOL_LABEL, Substrate, chart, namespace
from components.platform.mirror import ImageMirror, mirrored_image
from components.platform.served_model import (
    CACHE_FROM_GB,
    GATEWAY_API,
    KSERVE_ALPHA_API,
    VLLM_PORT,
    ServedModel,
    ServedModelArgs,
)

RUNTIME = "vllm"
GATEWAY = "serving"
ENVOY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"
GKE_INTERNAL_CLASS = "gke-l7-rilb"
"""GKE's internal regional Application Load Balancer GatewayClass (GKE installs it)."""
SERVICE_ACCOUNT = "model-reader"
STORAGE_SECRET = "model-reader-s3"
"""The Secret (credentials and KServe's S3 annotations) the reader names on a site."""
CACHE_PATH = "/mnt/models"
CA_MOUNT = "/etc/ssl/custom-certs"
"""Where KServe mounts the CA ConfigMap into the storage initializer (the chart's default
kserve.storage.caBundleVolumeMountPath)."""
S3_ANNOTATION = "serving.kserve.io"


@dataclass(frozen=True)
class SiteModelStore:
    """The site's MinIO tenant the storage initializer downloads weights from."""

    endpoint: str
    """The tenant's S3 endpoint inside the cluster (https://host[:port])."""
    credentials: pulumi.Input[str]
    """Secret 'access_key:secret_key' of the tenant user allowed to read the models bucket."""
    ca_config_map: str = "kube-root-ca.crt"
    """ConfigMap in the serving namespace with the CA that signed the tenant's certificate
    (the operator's certificates are signed by the cluster CA, which Kubernetes publishes in
    every namespace as kube-root-ca.crt)."""
    ca_key: str = "ca.crt"
    """Its key holding the CA."""
    region: str = "us-east-1"
    """The region the tenant answers to (MinIO's default)."""


@dataclass(frozen=True)
class ServingArgs:
    """Arguments of `Serving`."""

    substrate: Substrate
    """aws, gcp or onprem: decides the Gateway implementation."""
    namespace: str
    """Namespace of the models."""
    models: tuple[ServedModelArgs, ...]
    """The models (their namespace, runtime, gateway and service account are set here)."""
    monitoring_namespace: str = "monitoring"
    """Namespace of the Prometheus stack (KEDA queries it)."""
    identity: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations binding the reader service account to the cloud identity (IRSA role,
    GCP service account); on a site none (the storage secret instead)."""
    gateway_addresses: tuple[str, ...] = ()
    """Site only: the load-balancer addresses of the Gateway."""
    cache_gb: Mapping[str, int] = field(default_factory=dict)
    """Per pool with cached weights: the cache size on each node, GB."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on every object."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist first (the monitoring stack: its CRDs)."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the charts and images (vLLM's and Envoy's too) come from (None:
    upstream)."""
    site_store: SiteModelStore | None = None
    """Site only: the tenant the weights are read from (in a cloud: `identity`)."""


def kserve_values(cache: bool) -> dict[str, Any]:
    """RawDeployment, webhook certificates from cert-manager, our own routes, the model cache."""
    return {"kserve": {
        "certManager": {"enabled": True},
        "controller": {"deploymentMode": "RawDeployment",
                       "gateway": {"disableIngressCreation": True,
                                   "ingressGateway": {"enableGatewayApi": True,
                                                      "createGateway": False}}},
        "localmodel": {"enabled": cache},
    }}


def vllm_runtime_spec(mirror: ImageMirror | None = None) -> dict[str, Any]:
    """A ServingRuntime of vLLM's OpenAI-compatible server on the weights KServe downloads."""
    return {
        "supportedModelFormats": [{"name": "vllm", "autoSelect": True}],
        "containers": [{
            "name": "kserve-container",
            "image": mirrored_image(VLLM_IMAGE, mirror, VLLM_TAG),
            "command": ["python3", "-m", "vllm.entrypoints.openai.api_server"],
            "args": ["--model", "/mnt/models", "--port", str(VLLM_PORT)],
            "ports": [{"containerPort": VLLM_PORT, "protocol": "TCP"}],
            "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                                "capabilities": {"drop": ["ALL"]}},
        }],
    }


def gateway_spec(args: ServingArgs, class_name: str) -> dict[str, Any]:
    """An internal HTTP listener for the namespace's routes."""
    spec: dict[str, Any] = {
        "gatewayClassName": class_name,
        "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                       "allowedRoutes": {"namespaces": {"from": "Same"}}}],
    }
    if args.substrate == "aws":
        # The Service Envoy Gateway creates becomes an internal load balancer, never public.
        spec["infrastructure"] = {"annotations": {
            "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}}
    if args.substrate == "onprem":
        spec["addresses"] = [{"type": "IPAddress", "value": a} for a in args.gateway_addresses]
    return spec


def s3_annotations(store: SiteModelStore) -> dict[str, str]:
    """KServe's S3 annotations of the storage Secret: the tenant over HTTPS, its certificate
    verified against the CA ConfigMap KServe mounts into the storage initializer."""
    host = store.endpoint.removeprefix("https://")
    return {f"{S3_ANNOTATION}/{k}": v for k, v in (
        ("s3-endpoint", host), ("s3-usehttps", "1"), ("s3-verifyssl", "1"),
        ("s3-region", store.region), ("s3-useanoncredential", "false"),
        ("s3-cabundle-configmap", store.ca_config_map),
        ("s3-cabundle", f"{CA_MOUNT}/{store.ca_key}"))}


def s3_credentials(credentials: pulumi.Input[str]) -> dict[str, pulumi.Output[str]]:
    """The Secret's AWS_* keys from 'access_key:secret_key', each a Pulumi secret."""
    creds = pulumi.Output.secret(credentials)
    return {"AWS_ACCESS_KEY_ID": pulumi.Output.secret(creds.apply(lambda c: c.partition(":")[0])),
            "AWS_SECRET_ACCESS_KEY": pulumi.Output.secret(
                creds.apply(lambda c: c.partition(":")[2]))}


def cache_node_group_spec(pool: str, size_gb: int) -> dict[str, Any]:
    """A host-path volume on each node of the pool, holding cached weights."""
    storage = f"{size_gb}Gi"
    return {
        "storageLimit": storage,
        "persistentVolumeSpec": {
            "accessModes": ["ReadWriteOnce"], "capacity": {"storage": storage},
            "volumeMode": "Filesystem", "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "local-model-cache",
            "hostPath": {"path": f"{CACHE_PATH}/{pool}", "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": POOL_LABEL, "operator": "In", "values": [pool]}]}]}},
        },
        "persistentVolumeClaimSpec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "local-model-cache",
            "resources": {"requests": {"storage": storage}},
        },
    }


class Serving(FactoryComponent):
    """cert-manager, KServe, KEDA, a Gateway implementation, the vLLM runtime and the models."""

    def __init__(self, name: str, args: ServingArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.models:
            raise ComponentArgsError("`models` is empty: leave Serving out of a cluster that "
                                     "serves nothing")
        if args.substrate == "onprem" and args.site_store is None:
            raise ComponentArgsError("`site_store` is None: a site has no workload identity; "
                                     "give the tenant (endpoint, credentials) the weights are "
                                     "read from")
        if args.substrate != "onprem" and args.site_store is not None:
            raise ComponentArgsError(f"`site_store` on {args.substrate}: a cloud reads the "
                                     "weights through `identity`; leave site_store out")
        if args.site_store is not None and not args.site_store.endpoint.startswith("https://"):
            raise ComponentArgsError(f"`site_store.endpoint` ({args.site_store.endpoint!r}) is "
                                     "not https://: the credentials never cross plain HTTP")
        if args.substrate == "onprem" and not args.gateway_addresses:
            raise ComponentArgsError("`gateway_addresses` is empty: a site's Gateway needs the "
                                     "addresses its load balancer announces")
        seen: set[str] = set()
        for m in args.models:
            if m.model in seen:
                raise ComponentArgsError(f"`models` names {m.model!r} twice")
            seen.add(m.model)
        unknown = sorted({m.cache_node_group for m in args.models if m.cache_node_group}
                         - {f"cache-{p}" for p in args.cache_gb})
        if unknown:
            raise ComponentArgsError(f"models cache on {unknown}, which `cache_gb` does not "
                                     "size: give the pool's cache size")
        super().__init__("aifactory:platform:Serving", name, {
            "substrate": args.substrate, "namespace": args.namespace,
            "models": [m.model for m in args.models],
            "gateway": GKE_INTERNAL_CLASS if args.substrate == "gcp" else "envoy-gateway",
            "chartVersion": KSERVE.version}, opts)
        labels = dict(args.labels)
        deps = list(args.depends_on)

        cm_ns = namespace(child(name, "cert-manager-ns"), "cert-manager", labels, "restricted",
                          self.child_opts(depends_on=deps))
        cert_manager = chart(child(name, "cert-manager"), CERT_MANAGER, "cert-manager",
                             "cert-manager", {"crds": {"enabled": True}},
                             self.child_opts(depends_on=[cm_ns]), args.mirror)
        keda_ns = namespace(child(name, "keda-ns"), "keda", labels, "restricted",
                            self.child_opts(depends_on=deps))
        keda = chart(child(name, "keda"), KEDA, "keda", "keda", {},
                     self.child_opts(depends_on=[keda_ns]), args.mirror)
        kserve_ns = namespace(child(name, "kserve-ns"), "kserve", labels, "restricted",
                              self.child_opts(depends_on=deps))
        crds = chart(child(name, "kserve-crd"), KSERVE_CRD, "kserve-crd", "kserve", {},
                     self.child_opts(depends_on=[kserve_ns]), args.mirror)
        kserve = chart(child(name, "kserve"), KSERVE, "kserve", "kserve",
                       kserve_values(bool(args.cache_gb)),
                       self.child_opts(depends_on=[crds, cert_manager, keda]), args.mirror,
                       skip_crds=True)

        after: list[pulumi.Resource] = [kserve]
        if args.substrate == "gcp":
            class_name = GKE_INTERNAL_CLASS
        else:
            gw_ns = namespace(child(name, "envoy-gateway-ns"), "envoy-gateway-system", labels,
                              "baseline", self.child_opts(depends_on=deps))
            envoy = chart(child(name, "envoy-gateway"), ENVOY_GATEWAY, "envoy-gateway",
                          "envoy-gateway-system", {}, self.child_opts(depends_on=[gw_ns]),
                          args.mirror)
            class_name = "envoy-gateway"
            gateway_class = k8s.apiextensions.CustomResource(
                child(name, "gateway-class"), api_version=GATEWAY_API, kind="GatewayClass",
                metadata={"name": class_name, "labels": labels},
                spec={"controllerName": ENVOY_CONTROLLER},
                opts=self.child_opts(depends_on=[envoy]))
            after.append(gateway_class)

        models_ns = namespace(child(name, "ns"), args.namespace, labels, "baseline",
                              self.child_opts(depends_on=deps))
        reader_deps: list[pulumi.Resource] = [models_ns]
        secrets: list[k8s.core.v1.ObjectReferenceArgs] | None = None
        if args.site_store is not None:
            store = k8s.core.v1.Secret(
                child(name, "reader-s3"),
                metadata={"name": STORAGE_SECRET, "namespace": args.namespace,
                          "labels": labels, "annotations": s3_annotations(args.site_store)},
                type="Opaque", string_data=s3_credentials(args.site_store.credentials),
                opts=self.child_opts(depends_on=[models_ns]))
            reader_deps.append(store)
            secrets = [k8s.core.v1.ObjectReferenceArgs(name=STORAGE_SECRET)]
        reader = k8s.core.v1.ServiceAccount(
            child(name, "reader"),
            metadata={"name": SERVICE_ACCOUNT, "namespace": args.namespace, "labels": labels,
                      "annotations": dict(args.identity)},
            secrets=secrets,
            opts=self.child_opts(depends_on=reader_deps))
        runtime = k8s.apiextensions.CustomResource(
            child(name, "vllm-runtime"), api_version=KSERVE_ALPHA_API, kind="ServingRuntime",
            metadata={"name": RUNTIME, "namespace": args.namespace, "labels": labels},
            spec=vllm_runtime_spec(args.mirror),
            opts=self.child_opts(depends_on=[*after, models_ns]))
        gateway = k8s.apiextensions.CustomResource(
            child(name, "gateway"), api_version=GATEWAY_API, kind="Gateway",
            metadata={"name": GATEWAY, "namespace": args.namespace, "labels": labels},
            spec=gateway_spec(args, class_name), opts=self.child_opts(depends_on=[*after,
                                                                                  models_ns]))
        for pool, size in sorted(args.cache_gb.items()):
            k8s.apiextensions.CustomResource(
                child(name, "cache", pool), api_version=KSERVE_ALPHA_API,
                kind="LocalModelNodeGroup", metadata={"name": f"cache-{pool}", "labels": labels},
                spec=cache_node_group_spec(pool, size), opts=self.child_opts(depends_on=after))
        prometheus = (f"http://kube-prometheus-stack-prometheus.{args.monitoring_namespace}"
                      ".svc:9090")
        self.models = [
            ServedModel(child(name, m.model), replace(
                m, namespace=args.namespace, runtime=RUNTIME, gateway=GATEWAY,
                service_account=SERVICE_ACCOUNT, prometheus_url=prometheus,
                labels={**labels, **m.labels},
                depends_on=(*m.depends_on, runtime, gateway, reader)),
                pulumi.ResourceOptions(parent=self))
            for m in args.models
        ]
        self.register_outputs({})


def needs_cache(weights_gb: int) -> bool:
    """Whether weights of this size are cached on the pool's nodes."""
    return weights_gb >= CACHE_FROM_GB
