"""The upstream operator charts the platform layer installs, each pinned to an exact version,
and the upstream images each chart's values name (what a sovereign mirror must hold).

Only upstream operators come as Helm charts (a chart is one opaque resource in the offline
plan); every object of our own is a real Kubernetes resource that policies can read. Bump a
version here in its own pull request, with the CRD schemas in ../shared/crds at the same tag.

Pure data, no Pulumi import (hence here, not under components/, whose package imports the
SDKs): the blueprint loader reads `CHART_IMAGES` to check a mirror's image lock at load time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ImageStyle = Literal["nvidia", "prometheus", "digest", "repository-digest", "tagged",
                     "repository-image-tag", "jetstack", "registry-tagged", "image-tag",
                     "reference"]
"""How a chart spells an image in its values:

- nvidia: `{repository, image, version}`; a `version` of `sha256:...` is used as a digest
  (the GPU operator's imagePath and the chart's fullimage helper).
- prometheus: kube-prometheus-stack's `{registry, repository, tag, sha}`, `sha` the bare hex.
- digest: `{registry, repository, tag, digest}` (prometheus-node-exporter).
- repository-digest: `{repository, tag, digest}`, the repository a full path (karpenter).
- repository-image-tag: `{repository, image, tag}` (the network operator): the tag is written
  as `<tag>@sha256:<hex>`.
- tagged: `{repository, tag}` only (kueue, node-feature-discovery): the tag is written as
  `<tag>@sha256:<hex>`, which pulls by digest.
- jetstack: cert-manager's `{repository, name, tag, digest}`, the repository by default built
  from the chart's `imageRegistry`/`imageNamespace` and the image's `name`.
- registry-tagged: `{registry, repository, tag}` (KEDA): the tag written `<tag>@sha256:<hex>`.
- image-tag: `{<image key>: full repository, <tag key>: tag}` (KServe: `image`/`tag`), the tag
  written `<tag>@sha256:<hex>`; `keys` names the two keys.
- reference: one string value `repo:tag` (KServe's rbacProxyImage): written
  `repo:tag@sha256:<hex>`; `keys[0]` is its key in the block at `values_path`.
"""


@dataclass(frozen=True)
class ChartRef:
    """An upstream Helm chart at a pinned version."""

    chart: str
    """Chart name in `repository`, or a full oci:// reference (then `repository` is None)."""
    version: str
    """Exact chart version (never a range): upgrades are reviewed pull requests."""
    repository: str | None
    """https:// chart repository URL, None for an oci:// chart reference."""
    source: str
    """Where the version was taken from."""
    data_name: str | None = None
    """The name its chart data is filed under in ../shared/charts when that is not the chart's
    own (MinIO's `operator` and `tenant` are minio-operator-7.1.1 and minio-tenant-7.1.1)."""
    installed: bool = True
    """False for a chart that only pins the images of objects we build ourselves (MinIO's
    tenant chart): nothing installs it, so a mirror does not copy it."""

    @property
    def name(self) -> str:
        """The chart's own name (the last path element of an oci:// reference)."""
        return self.chart.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ChartImage:
    """One image a chart's values name."""

    values_path: tuple[str, ...]
    """Keys from the values root to the image block."""
    upstream: str
    """Upstream repository, without tag (the image lock is keyed by it plus a tag)."""
    style: ImageStyle
    """How the chart spells the image (see ImageStyle)."""
    default_tag: str
    """The tag the pinned chart pulls when the values leave it alone: its values.yaml, or the
    chart's appVersion where the values leave the tag empty (checked against ../shared/charts
    by tests/test_charts.py)."""
    keys: tuple[str, str] = ("image", "tag")
    """image-tag: the keys of the repository and the tag; reference: (the key, unused)."""


GPU_OPERATOR = ChartRef(
    chart="gpu-operator",
    version="v26.7.0",
    repository="https://helm.ngc.nvidia.com/nvidia",
    source="NVIDIA/gpu-operator tag v26.7.0 (2026-08-20); its ClusterPolicy CRD is the one our "
    "chart values are checked against",
)

KUBE_PROMETHEUS_STACK = ChartRef(
    chart="kube-prometheus-stack",
    version="78.2.1",
    repository="https://prometheus-community.github.io/helm-charts",
    source="prometheus-community/helm-charts release kube-prometheus-stack-78.2.1; the "
    "ServiceMonitor and PrometheusRule fields we use are in its bundled monitoring.coreos.com/v1 "
    "CRDs and in prometheus-operator v0.93.0 (../shared/crds)",
)

KUEUE = ChartRef(
    chart="oci://registry.k8s.io/kueue/charts/kueue",
    version="0.19.2",
    repository=None,
    source="kubernetes-sigs/kueue tag v0.19.2 (2026-08-20): the chart is published to "
    "registry.k8s.io with the release; v1beta2 is the storage version of its CRDs",
)

KARPENTER_CRD = ChartRef(
    chart="oci://public.ecr.aws/karpenter/karpenter-crd",
    version="1.14.1",
    repository=None,
    source="aws/karpenter-provider-aws v1.14.1 (charts/karpenter-crd): the NodePool, NodeClaim "
    "and EC2NodeClass CRDs, installed (and upgraded) apart from the controller as Karpenter's "
    "upgrade guide recommends; ../shared/crds/karpenter.* at the same tag",
)

KARPENTER = ChartRef(
    chart="oci://public.ecr.aws/karpenter/karpenter",
    version="1.14.1",
    repository=None,
    source="aws/karpenter-provider-aws v1.14.1 (charts/karpenter), published to "
    "public.ecr.aws with the release",
)

JOBSET = ChartRef(
    chart="oci://registry.k8s.io/jobset/charts/jobset",
    version="0.12.0",
    repository=None,
    source="kubernetes-sigs/jobset v0.12.0 (charts/jobset; installation guide: helm install "
    "jobset oci://registry.k8s.io/jobset/charts/jobset --version 0.12.0)",
)

LEADERWORKERSET = ChartRef(
    chart="oci://registry.k8s.io/lws/charts/lws",
    version="0.10.0",
    repository=None,
    source="kubernetes-sigs/lws v0.10.0 (charts/lws; installation guide: CHART_VERSION=0.10.0 "
    "helm install lws oci://registry.k8s.io/lws/charts/lws)",
)

KUBERAY_OPERATOR = ChartRef(
    chart="kuberay-operator",
    version="1.7.0",
    repository="https://ray-project.github.io/kuberay-helm/",
    source="ray-project/kuberay v1.7.0 (helm-chart/kuberay-operator)",
)

EFA_DEVICE_PLUGIN = ChartRef(
    chart="aws-efa-k8s-device-plugin",
    version="v0.5.30",
    repository="https://aws.github.io/eks-charts",
    source="aws/eks-charts stable/aws-efa-k8s-device-plugin v0.5.30 (appVersion v0.5.20), as the "
    "EKS EFA guide installs it (helm install aws-efa-k8s-device-plugin eks/aws-efa-k8s-device-"
    "plugin)",
)

NETWORK_OPERATOR = ChartRef(
    chart="network-operator",
    version="26.4.1",
    repository="https://helm.ngc.nvidia.com/nvidia",
    source="Mellanox/network-operator v26.4.1 (deployment/network-operator); its mellanox.com "
    "CRDs (NicClusterPolicy, IPoIBNetwork, MacvlanNetwork, HostDeviceNetwork) in ../shared/crds",
)

FSX_CSI_DRIVER = ChartRef(
    chart="aws-fsx-csi-driver",
    version="1.17.0",
    repository="https://kubernetes-sigs.github.io/aws-fsx-csi-driver",
    source="kubernetes-sigs/aws-fsx-csi-driver helm-chart-aws-fsx-csi-driver-1.17.0 "
    "(appVersion 1.9.0; charts/aws-fsx-csi-driver), as its install guide adds the repo "
    "https://kubernetes-sigs.github.io/aws-fsx-csi-driver",
)

CERT_MANAGER = ChartRef(
    chart="cert-manager",
    version="v1.21.1",
    repository="https://charts.jetstack.io",
    source="cert-manager/cert-manager v1.21.1 (deploy/charts/cert-manager): issues the "
    "certificates of KServe's admission webhooks",
)

KSERVE_CRD = ChartRef(
    chart="oci://ghcr.io/kserve/charts/kserve-crd",
    version="v0.20.0",
    repository=None,
    source="kserve/kserve v0.20.0 (charts/kserve-crd), published to ghcr.io with the release; "
    "../shared/crds/serving.kserve.io at the same tag",
)

KSERVE = ChartRef(
    chart="oci://ghcr.io/kserve/charts/kserve-resources",
    version="v0.20.0",
    repository=None,
    source="kserve/kserve v0.20.0 (charts/kserve-resources): the controller, RawDeployment mode",
)

ENVOY_GATEWAY = ChartRef(
    chart="oci://docker.io/envoyproxy/gateway-helm",
    version="v1.9.0",
    repository=None,
    source="envoyproxy/gateway v1.9.0 (charts/gateway-helm, published to docker.io with the "
    "release): the Gateway API implementation on EKS and on sites",
)

KEDA = ChartRef(
    chart="keda",
    version="2.20.2",
    repository="https://kedacore.github.io/charts",
    source="kedacore/charts keda-2.20.2: scales KServe predictors (autoscaler class keda)",
)

MLFLOW = ChartRef(
    chart="mlflow",
    version="1.11.5",
    repository="https://community-charts.github.io/helm-charts",
    source="community-charts/helm-charts mlflow-1.11.5 (MLflow 3.15.1)",
)

JUPYTERHUB = ChartRef(
    chart="jupyterhub",
    version="4.4.0",
    repository="https://hub.jupyter.org/helm-chart/",
    source="jupyterhub/zero-to-jupyterhub-k8s 4.4.0 (JupyterHub 5.5.0)",
)

ARGO_WORKFLOWS = ChartRef(
    chart="argo-workflows",
    version="1.0.18",
    repository="https://argoproj.github.io/argo-helm",
    source="argoproj/argo-helm argo-workflows-1.0.18 (Argo Workflows v4.0.6); the "
    "WorkflowTemplate and CronWorkflow CRDs in ../shared/crds/argoproj.io",
)

POLARIS = ChartRef(
    chart="polaris",
    version="1.7.0",
    repository="https://downloads.apache.org/polaris/helm-chart",
    source="apache/polaris apache-polaris-1.7.0 (helm/polaris; Polaris 1.7.0): the Iceberg REST "
    "catalog on a site, its metastore on CloudNativePG (relational-jdbc), its grants enforced by "
    "its own RBAC",
)
POLARIS_ADMIN_TOOL = "docker.io/apache/polaris-admin-tool"
"""The admin tool (the chart's maintenance image) our bootstrap Job runs: it creates the realm
and its root principal in the metastore."""
CATALOG_SETUP_IMAGE = "docker.io/library/python"
CATALOG_SETUP_TAG = "3.13.9-slim-trixie"
"""Python (standard library only) of the Job that creates the site catalog's warehouse,
namespaces, principals and grants through Polaris' management API."""

VLLM_RUNTIME = "vllm-runtime"
"""Not a chart: the key in CHART_IMAGES of the vLLM image our ServingRuntime runs."""
VLLM_IMAGE = "docker.io/vllm/vllm-openai"
VLLM_TAG = "v0.11.0"
"""vLLM release the ServingRuntime runs (vllm-project/vllm v0.11.0, OpenAI-compatible server)."""

MINIO_OPERATOR = ChartRef(
    chart="operator",
    version="7.1.1",
    repository="https://operator.min.io",
    source="minio/operator tag v7.1.1 (helm/operator); its Tenant CRD (minio.min.io/v2) is "
    "../shared/crds/minio.min.io at the same tag",
    data_name="minio-operator",
)

MINIO_TENANT = ChartRef(
    chart="tenant",
    version="7.1.1",
    repository="https://operator.min.io",
    source="minio/operator tag v7.1.1 (helm/tenant). Not installed: the site lakehouse builds "
    "its Tenant as a real minio.min.io/v2 object (policies read it, the CRD validates it; the "
    "chart would carry the root credentials and the KES configuration in its values). It pins "
    "the images that Tenant runs: MinIO at this chart's tag, KES at the operator's "
    "DefaultKESImage (pkg/apis/minio.min.io/v2/constants.go, also the chart's commented "
    "example), mc at the release its docs name (docs/tenant_crd.adoc :mc-image:)",
    data_name="minio-tenant",
    installed=False,
)

HARBOR = ChartRef(
    chart="harbor",
    version="1.19.1",
    repository="https://helm.goharbor.io",
    source="goharbor/harbor-helm v1.19.1 (Harbor v2.15.1)",
)

CLOUDNATIVE_PG = ChartRef(
    chart="cloudnative-pg",
    version="0.29.0",
    repository="https://cloudnative-pg.github.io/charts",
    source="cloudnative-pg/charts cloudnative-pg-v0.29.0 (CloudNativePG 1.30.0); its Cluster CRD "
    "(postgresql.cnpg.io/v1) is ../shared/crds/postgresql.cnpg.io",
)
CLOUDNATIVE_PG_RELEASE = "1.30.0"
"""The operator release chart 0.29.0 installs (its appVersion; the chart's image.tag is '')."""
CNPG_POSTGRES = "ghcr.io/cloudnative-pg/postgresql"
CNPG_POSTGRES_TAG = "17.8-system-trixie"
"""PostgreSQL 17 of CloudNativePG's operand images, the `system` variant: the one that carries
barman-cloud, which the Cluster's in-tree barmanObjectStore backups run."""
CNPG_POSTGRES_IMAGE = f"{CNPG_POSTGRES}:{CNPG_POSTGRES_TAG}"

TRIVY_DATABASES = {"vulnerability_db": "ghcr.io/aquasecurity/trivy-db:2",
                   "java_vulnerability_db": "ghcr.io/aquasecurity/trivy-java-db:1"}
"""The OCI artifacts Harbor's Trivy reads (at the schema versions Trivy pulls), by the
registry.site field naming their copy inside the site."""

# Value keys from each chart's values.yaml, with the tag each pulls by default. In v26.7.0 the
# GPU operator's validator runs the operator's own image (nvcr.io/nvidia/gpu-operator) and the
# chart no longer reads operator.initContainer; gfd runs the device plugin image. Tags that the
# values leave empty default to the chart's appVersion: the operator and validator to the
# release (v26.7.0), node-feature-discovery to its subchart's (v0.19.0), the prometheus
# operator and its config reloader to kube-prometheus-stack's (v0.86.0), kube-state-metrics and
# node-exporter to "v" + theirs (v2.17.0, v1.9.1). Kueue's published chart pins its release
# image (the values.yaml at the tag names the staging build, rewritten at release); so do
# JobSet's and LeaderWorkerSet's, and Karpenter's release stamps its chart and controller
# image (values.yaml at the v1.14.1 tag still says 1.13.0, see ../shared/charts/SOURCES.md).
CHART_IMAGES: dict[str, tuple[ChartImage, ...]] = {
    GPU_OPERATOR.name: (
        ChartImage(("operator",), "nvcr.io/nvidia/gpu-operator", "nvidia", "v26.7.0"),
        ChartImage(("validator",), "nvcr.io/nvidia/gpu-operator", "nvidia", "v26.7.0"),
        ChartImage(("driver",), "nvcr.io/nvidia/driver", "nvidia", "595.91.07"),
        ChartImage(("toolkit",), "nvcr.io/nvidia/k8s/container-toolkit", "nvidia", "v1.20.0"),
        ChartImage(("devicePlugin",), "nvcr.io/nvidia/k8s-device-plugin", "nvidia", "v0.20.0"),
        ChartImage(("dcgmExporter",), "nvcr.io/nvidia/k8s/dcgm-exporter", "nvidia",
                   "4.6.0-4.8.3-distroless"),
        ChartImage(("gfd",), "nvcr.io/nvidia/k8s-device-plugin", "nvidia", "v0.20.0"),
        ChartImage(("migManager",), "nvcr.io/nvidia/cloud-native/k8s-mig-manager", "nvidia",
                   "v0.15.0"),
        ChartImage(("node-feature-discovery", "image"),
                   "registry.k8s.io/nfd/node-feature-discovery", "tagged", "v0.19.0"),
    ),
    KUEUE.name: (
        ChartImage(("controllerManager", "manager", "image"), "registry.k8s.io/kueue/kueue",
                   "tagged", "v0.19.2"),
    ),
    KARPENTER_CRD.name: (),  # CRDs only: the chart runs no image
    KARPENTER.name: (
        ChartImage(("controller", "image"), "public.ecr.aws/karpenter/controller",
                   "repository-digest", "1.14.1"),
    ),
    JOBSET.name: (ChartImage(("image",), "registry.k8s.io/jobset/jobset", "tagged",
                             "v0.12.0"),),
    LEADERWORKERSET.name: (ChartImage(("image", "manager"), "registry.k8s.io/lws/lws",
                                      "tagged", "v0.10.0"),),
    KUBERAY_OPERATOR.name: (ChartImage(("image",), "quay.io/kuberay/operator", "tagged",
                                       "v1.7.0"),),
    # The operator's sidecar (it runs in every tenant pod) defaults to the operator binary's
    # DefaultSidecarImage (pkg/resources/statefulsets/minio-sidecar.go at v7.1.1: v7.0.1);
    # the chart's operator.sidecarImage overrides it.
    MINIO_OPERATOR.name: (
        ChartImage(("operator", "image"), "quay.io/minio/operator", "tagged", "v7.1.1"),
        ChartImage(("operator", "sidecarImage"), "quay.io/minio/operator-sidecar", "tagged",
                   "v7.0.1"),
    ),
    HARBOR.name: tuple(
        ChartImage(path, f"docker.io/goharbor/{image}", "tagged", "v2.15.1")
        for path, image in (
            (("core", "image"), "harbor-core"), (("portal", "image"), "harbor-portal"),
            (("jobservice", "image"), "harbor-jobservice"),
            (("registry", "registry", "image"), "registry-photon"),
            (("registry", "controller", "image"), "harbor-registryctl"),
            (("trivy", "image"), "trivy-adapter-photon"),
            (("database", "internal", "image"), "harbor-db"),
            (("redis", "internal", "image"), "redis-photon"),
            (("exporter", "image"), "harbor-exporter"), (("nginx", "image"), "nginx-photon"))),
    MINIO_TENANT.name: (
        ChartImage(("tenant", "image"), "quay.io/minio/minio", "tagged",
                   "RELEASE.2025-04-08T15-41-24Z"),
        ChartImage(("tenant", "kes", "image"), "quay.io/minio/kes", "tagged",
                   "2025-03-12T09-35-18Z"),
        ChartImage(("mc", "image"), "quay.io/minio/mc", "tagged",
                   "RELEASE.2024-10-02T08-27-28Z"),
    ),
    # MLflow's server and its migration init container run the chart's appVersion (3.15.1);
    # its other init containers busybox at the values' tag
    MLFLOW.name: tuple(
        ChartImage(path, upstream, "image-tag", tag, keys=("repository", "tag"))
        for path, upstream, tag in (
            (("image",), "docker.io/burakince/mlflow", "3.15.1"),
            (("initImages", "mlflowDbMigration"), "docker.io/burakince/mlflow", "3.15.1"),
            (("initImages", "dbchecker"), "docker.io/busybox", "1.38.0"),
            (("initImages", "iniFileInitializer"), "docker.io/busybox", "1.38.0"))),
    CLOUDNATIVE_PG.name: (ChartImage(("image",), "ghcr.io/cloudnative-pg/cloudnative-pg",
                                     "tagged", CLOUDNATIVE_PG_RELEASE),),
    EFA_DEVICE_PLUGIN.name: (ChartImage(
        ("image",), "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-efa-k8s-device-plugin",
        "tagged", "v0.5.20"),),
    # the node component alone (nodeComponentOnly): the factory's file systems are bound
    # statically, so the controller and its provisioner and resizer sidecars never run
    FSX_CSI_DRIVER.name: (
        ChartImage(("image",), "public.ecr.aws/fsx-csi-driver/aws-fsx-csi-driver", "tagged",
                   "v1.9.0"),
        ChartImage(("sidecars", "livenessProbe", "image"),
                   "public.ecr.aws/csi-components/livenessprobe", "tagged",
                   "v2.18.0-eksbuild.3"),
        ChartImage(("sidecars", "nodeDriverRegistrar", "image"),
                   "public.ecr.aws/csi-components/csi-node-driver-registrar", "tagged",
                   "v2.16.0-eksbuild.3"),
    ),
    # the operator alone: its node-feature-discovery is off (the GPU operator's serves both)
    NETWORK_OPERATOR.name: (ChartImage(
        ("operator",), "nvcr.io/nvidia/cloud-native/network-operator", "repository-image-tag",
        "v26.4.1"),),
    KUBE_PROMETHEUS_STACK.name: (
        ChartImage(("prometheusOperator", "image"),
                   "quay.io/prometheus-operator/prometheus-operator", "prometheus", "v0.86.0"),
        ChartImage(("prometheusOperator", "prometheusConfigReloader", "image"),
                   "quay.io/prometheus-operator/prometheus-config-reloader", "prometheus",
                   "v0.86.0"),
        ChartImage(("prometheusOperator", "admissionWebhooks", "patch", "image"),
                   "registry.k8s.io/ingress-nginx/kube-webhook-certgen", "prometheus", "v1.6.3"),
        ChartImage(("prometheus", "prometheusSpec", "image"), "quay.io/prometheus/prometheus",
                   "prometheus", "v3.6.0"),
        ChartImage(("alertmanager", "alertmanagerSpec", "image"),
                   "quay.io/prometheus/alertmanager", "prometheus", "v0.28.1"),
        ChartImage(("kube-state-metrics", "image"),
                   "registry.k8s.io/kube-state-metrics/kube-state-metrics", "prometheus",
                   "v2.17.0"),
        ChartImage(("prometheus-node-exporter", "image"), "quay.io/prometheus/node-exporter",
                   "digest", "v1.9.1"),
    ),
    # Serving (cert-manager v1.21.1, KEDA 2.20.2 and KServe v0.20.0 pull their appVersion;
    # KServe's rbac proxy is pinned in its values). JupyterHub is not listed: a mirrored
    # factory refuses it at load, and a chart missing here is judged as one that runs images
    # (sovereignty-chart-image-source), never as CRDs only.
    CERT_MANAGER.name: tuple(
        ChartImage(path, f"quay.io/jetstack/cert-manager-{name}", "jetstack", "v1.21.1")
        for path, name in ((("image",), "controller"), (("webhook", "image"), "webhook"),
                           (("cainjector", "image"), "cainjector"),
                           (("acmesolver", "image"), "acmesolver"),
                           (("startupapicheck", "image"), "startupapicheck"))),
    KEDA.name: tuple(
        ChartImage(("image", key), f"ghcr.io/kedacore/{name}", "registry-tagged", "2.20.2")
        for key, name in (("keda", "keda"), ("metricsApiServer", "keda-metrics-apiserver"),
                          ("webhooks", "keda-admission-webhooks"))),
    KSERVE_CRD.name: (),  # CRDs only
    KSERVE.name: (
        *(ChartImage(("kserve", *path), f"docker.io/kserve/{name}", "image-tag", "v0.20.0")
          for path, name in ((("controller",), "kserve-controller"),
                             (("storage",), "storage-initializer"), (("agent",), "agent"),
                             (("router",), "router"),
                             (("localmodel", "controller"), "kserve-localmodel-controller"),
                             (("localmodel", "agent"), "kserve-localmodelnode-agent"))),
        ChartImage(("kserve", "localmodel"), "docker.io/kserve/storage-initializer",
                   "image-tag", "v0.20.0", keys=("defaultJobImage", "defaultJobTag")),
        ChartImage(("kserve", "servingruntime", "art"), "docker.io/kserve/art-explainer",
                   "image-tag", "v0.20.0", keys=("image", "defaultVersion")),
        ChartImage(("kserve", "controller"), "quay.io/brancz/kube-rbac-proxy", "reference",
                   "v0.18.0", keys=("rbacProxyImage", "")),
    ),
    # Pipelines: the controller and the executor its pods run (the server/UI stays off); both
    # default to the chart's appVersion v4.0.6 (images.tag empty).
    ARGO_WORKFLOWS.name: tuple(
        ChartImage((key, "image"), f"quay.io/argoproj/{name}", "registry-tagged", "v4.0.6")
        for key, name in (("controller", "workflow-controller"), ("executor", "argoexec"))),
    # the server at the chart's appVersion; its maintenance CronJobs stay off
    POLARIS.name: (ChartImage(("image",), "docker.io/apache/polaris", "tagged", "1.7.0"),),
    VLLM_RUNTIME: (ChartImage((), VLLM_IMAGE, "reference", VLLM_TAG, keys=("image", "")),),
    # Envoy Gateway v1.9.0 (charts/gateway-helm/values.tmpl.yaml): the control plane (its
    # certgen job too) runs global.images.envoyGateway.image, filled with the release's
    # docker.io/envoyproxy/gateway:v1.9.0; the proxies it deploys run
    # global.images.envoyProxy.image, by default the controller's DefaultEnvoyProxyImage
    # (api/v1alpha1/shared_types.go: Envoy distroless-v1.39.0 in the v1.9.0 line); the rate
    # limit service, should a policy turn it on, global.images.ratelimit.image (17b1956c).
    ENVOY_GATEWAY.name: tuple(
        ChartImage(("global", "images", key), f"docker.io/envoyproxy/{image}", "reference", tag,
                   keys=("image", ""))
        for key, image, tag in (("envoyGateway", "gateway", "v1.9.0"),
                                ("envoyProxy", "envoy", "distroless-v1.39.0"),
                                ("ratelimit", "ratelimit", "17b1956c"))),
}
CHARTS: dict[str, ChartRef] = {c.name: c for c in (
    GPU_OPERATOR, KUEUE, KUBE_PROMETHEUS_STACK, KARPENTER_CRD, KARPENTER, JOBSET, LEADERWORKERSET,
    KUBERAY_OPERATOR, CERT_MANAGER, KSERVE_CRD, KSERVE, ENVOY_GATEWAY, KEDA, MLFLOW,
    JUPYTERHUB, EFA_DEVICE_PLUGIN, NETWORK_OPERATOR, FSX_CSI_DRIVER, MINIO_OPERATOR, MINIO_TENANT,
    HARBOR, CLOUDNATIVE_PG, ARGO_WORKFLOWS, POLARIS)}

NETWORK_OPERATOR_MELLANOX = "nvcr.io/nvidia/mellanox"
"""Where the network operator's operands (named in our NicClusterPolicy) come from."""
OPERAND_IMAGES: dict[str, tuple[ChartImage, ...]] = {
    # NVIDIA Network Operator v26.4.1 docs, "NicClusterPolicy Custom Resource Example": every
    # operand under nvcr.io/nvidia/mellanox at network-operator-v26.4.1, the DOCA driver at
    # doca3.4.1-26.04-1.1.0.0-1. Named in the NicClusterPolicy we create, not in chart values.
    NETWORK_OPERATOR.name: tuple(
        ChartImage((), f"{NETWORK_OPERATOR_MELLANOX}/{image}", "tagged", tag)
        for image, tag in (("doca-driver", "doca3.4.1-26.04-1.1.0.0-1"),
                           ("k8s-rdma-shared-dev-plugin", "network-operator-v26.4.1"),
                           ("multus-cni", "network-operator-v26.4.1"),
                           ("plugins", "network-operator-v26.4.1"),
                           ("ipoib-cni", "network-operator-v26.4.1"),
                           ("nvidia-k8s-ipam", "network-operator-v26.4.1"))),
    # the PostgreSQL our Clusters name in spec.imageName
    CLOUDNATIVE_PG.name: (ChartImage((), CNPG_POSTGRES, "tagged", CNPG_POSTGRES_TAG),),
    # the Jobs of ours beside Polaris' chart: the admin tool's bootstrap (at the chart's
    # maintenance.image tag) and the setup of warehouse, namespaces and grants
    POLARIS.name: (ChartImage((), POLARIS_ADMIN_TOOL, "tagged", "1.7.0"),
                   ChartImage((), CATALOG_SETUP_IMAGE, "tagged", CATALOG_SETUP_TAG)),
}
"""Images an operator chart's operator runs because an object of ours names them (not the
chart's values): a sovereign mirror holds them too, at these tags."""

MANIFEST_IMAGES: dict[str, tuple[str, tuple[ChartImage, ...]]] = {
    # GoogleCloudPlatform/container-engine-accelerators gpudirect-tcpx/nccl-tcpx-installer.yaml
    # (commit 0d68f9d) and gpudirect-tcpx/nri-device-injector.yaml (commit 951ee9a; its digest
    # is the injector's 1.0.25-gke.6), as "Maximize GPU network bandwidth in Standard mode
    # clusters" applies them for a3-highgpu-8g.
    "gpudirect-tcpx": ("container-engine-accelerators gpudirect-tcpx (0d68f9d, 951ee9a)", (
        ChartImage((), "us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpx/"
                   "nccl-plugin-gpudirecttcpx-dev", "tagged", "v3.1.8"),
        ChartImage((), "gcr.io/google-containers/pause", "tagged", "2.0"),
        ChartImage((), "gcr.io/gke-release/nri-device-injector", "tagged", "1.0.25-gke.6"),
        ChartImage((), "gke.gcr.io/gke-distroless/bash", "tagged", "latest"),
    )),
    # gpudirect-tcpxo/nccl-tcpxo-installer.yaml (commit e14ee8a; its pre-installation step
    # runs the untagged `ubuntu`) for a3-megagpu-8g, with the NRI device injector TCPX uses
    # (nri_device_injector/nri-device-injector.yaml, commit d4919d3, lists both accelerators).
    "gpudirect-tcpxo": ("container-engine-accelerators gpudirect-tcpxo (e14ee8a), "
                        "nri_device_injector (d4919d3)", (
        ChartImage((), "us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpxo/"
                   "nccl-plugin-gpudirecttcpx-dev", "tagged", "v1.0.3"),
        ChartImage((), "ubuntu", "tagged", "latest"),
        ChartImage((), "gke.gcr.io/pause", "tagged", "3.8"),
        ChartImage((), "gcr.io/gke-release/nri-device-injector", "tagged", "1.0.25-gke.6"),
        ChartImage((), "gke.gcr.io/gke-distroless/bash", "tagged", "latest"),
    )),
    # gpudirect-rdma/nccl-rdma-installer.yaml (commit 2c776f7; its martian-logging step runs
    # alpine:latest) for a3-ultragpu-8g and a4-highgpu-8g.
    "gpudirect-rdma": ("container-engine-accelerators gpudirect-rdma (2c776f7)", (
        ChartImage((), "us-docker.pkg.dev/gce-ai-infra/gpudirect-gib/nccl-plugin-gib",
                   "tagged", "v1.0.6"),
        ChartImage((), "alpine", "tagged", "latest"),
        ChartImage((), "gke.gcr.io/pause", "tagged", "3.8"),
    )),
}
"""Images of upstream manifests we build as objects of our own (no chart): what pulls them,
and the images at their documented tags."""


def images_of(name: str) -> tuple[ChartImage, ...]:
    """Every image a chart (its values and its operands) or a manifest set pulls."""
    if name in MANIFEST_IMAGES:
        return MANIFEST_IMAGES[name][1]
    return CHART_IMAGES.get(name, ()) + OPERAND_IMAGES.get(name, ())


def version_of(name: str) -> str:
    """The pinned version of a chart, or what a manifest set was taken from."""
    if name in MANIFEST_IMAGES:
        return MANIFEST_IMAGES[name][0]
    if name == VLLM_RUNTIME:
        return VLLM_TAG
    return CHARTS[name].version


def default_tags(chart_names: list[str]) -> dict[str, tuple[str, str]]:
    """Upstream repository -> (the tag the charts pull by default, the chart that pulls it)."""
    return {i.upstream: (i.default_tag, name) for name in chart_names
            for i in images_of(name)}


def upstream_images(chart_names: list[str]) -> list[str]:
    """The distinct upstream repositories the named charts pull, sorted."""
    return sorted({i.upstream for name in chart_names for i in images_of(name)})
