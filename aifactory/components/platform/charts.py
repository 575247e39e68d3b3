"""The upstream operator charts the platform layer installs, each pinned to an exact version.

Only upstream operators come as Helm charts (a chart is one opaque resource in the offline
plan); every object of our own is a real Kubernetes resource that policies can read. Bump a
version here in its own pull request, with the CRD schemas in ../shared/crds at the same tag.
"""

from __future__ import annotations

from aifactory.components.platform.common import ChartRef

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
