"""The platform layer of one cluster: operators, team namespaces, GPU telemetry, parenting."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pulumi
import pulumi_kubernetes as k8s
import pytest
from conftest import spec_from_yaml

from blueprints.compose import Built, EnvironmentBuild
from blueprints.compose.platform import build_platform, platform_args
from blueprints.errors import ComponentArgsError
from components.base import FactoryComponent
from components.platform import ClusterPlatform, ClusterPlatformArgs

CHART = "kubernetes:helm.sh/v4:Chart"
MONITORING = "kubernetes:monitoring.coreos.com/v1"

SPEC = """
    name: acme
    tags: {owner: ml-platform, cost_centre: CC-1, data_classification: confidential}
    sovereignty: {jurisdiction: EU}
    environments:
      site:
        kind: onprem
        country: DE
        power_budget_kw: 200
        pue: 1.3
        racks:
          r1: {power_limit_kw: 40, cooling: rear-door}
        hosts:
          - {hostname: gpu01, rack: r1, server_model: hgx-h100-8gpu, boot_mac: "aa:bb:cc:00:00:01",
             bmc_address: "redfish://10.0.0.1/redfish/v1/Systems/1", bmc_credentials: bmc01}
          - {hostname: gpu02, rack: r1, server_model: hgx-h100-8gpu, boot_mac: "aa:bb:cc:00:00:02",
             bmc_address: "redfish://10.0.0.2/redfish/v1/Systems/1", bmc_credentials: bmc02}
        provisioning:
          hook: metal3
          image_url: https://images.example.com/ubuntu.qcow2
          image_checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"
        cluster: {kubeconfig: siteKubeconfig, api_endpoint: "https://10.0.0.10:6443",
                  join_token: joinToken, storage_class: local-path,
          ca_cert_hash: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}
      cloud:
        kind: aws
        account_id: "123456789012"
        region: eu-west-2
        availability_zones: [eu-west-2a, eu-west-2b]
      gke:
        kind: gcp
        project: acme-ml-prod
        project_number: "123456789012"
        region: europe-west4
        zones: [europe-west4-a]
    pools:
      site-h100: {environment: site, min_nodes: 2, max_nodes: 2}
      cloud-h100:
        environment: cloud
        instance_type: p5.48xlarge
        min_nodes: 1
        max_nodes: 3
        taints:
          - {key: nvidia.com/gpu, value: present, effect: NoSchedule}
          - {key: aifactory.io/burst, effect: NoSchedule}
    queueing:
      environment: site
      teams:
        research: {namespace: team-research}
"""


@pytest.fixture(scope="module")
def spec():  # type: ignore[no-untyped-def]
    return spec_from_yaml(SPEC)


CLOUD_API = "https://cloud.eks.example:443"


def _args(spec, env: str) -> ClusterPlatformArgs:  # type: ignore[no-untyped-def]
    """Platform args as build_platform gives them: the site is the MultiKueue manager of the
    cloud cluster, a worker."""
    if env == "site":
        return platform_args(spec, env, workers={"cloud": "kubeconfig-of-cloud"})
    return platform_args(spec, env, api_server=CLOUD_API if env == "cloud" else None)


def _platform(spec, env: str):  # type: ignore[no-untyped-def]
    def program() -> None:
        provider = k8s.Provider("k", kubeconfig="{}")
        ClusterPlatform(f"{env}-platform", _args(spec, env),
                        pulumi.ResourceOptions(providers=[provider]))
    return program


def _chart(rec, component: str):  # type: ignore[no-untyped-def]
    [chart] = [r for r in rec.of_type(CHART) if r.name == f"{component}-chart"]
    return chart


def test_every_resource_descends_from_the_cluster_platform(run, spec) -> None:  # type: ignore[no-untyped-def]
    rec = run(_platform(spec, "site"))
    root = rec.one("aifactory:platform:ClusterPlatform")
    assert root.inputs["clusterGpus"] == 16 and root.inputs["queueing"] is True
    by_urn = {r.urn: r for r in rec.all}
    for r in rec.all:
        if r is root or r.type.startswith("pulumi:providers:"):
            continue
        chain = r
        while chain.parent is not None and chain.parent != root.urn:
            chain = by_urn[chain.parent]
        assert chain.parent == root.urn, f"{r.type} {r.name} is not under the platform"
        if r.custom:
            assert r.provider and r.provider.endswith("pulumi:providers:kubernetes::k")
    assert {r.type for r in rec.children_of(root)} == {
        "aifactory:platform:ClusterStorage", "aifactory:platform:Monitoring",
        "aifactory:platform:GpuOperator",
        "aifactory:platform:GpuTelemetry", "aifactory:platform:TeamNamespace",
        "aifactory:platform:JobQueue"}


def test_team_namespace_has_labels_quota_defaults_and_closed_ingress(run, spec) -> None:  # type: ignore[no-untyped-def]
    rec = run(_platform(spec, "site"))
    ns = rec.one("kubernetes:core/v1:Namespace", "site-platform-team-research-ns")
    assert ns.inputs["metadata"] == {"name": "team-research", "labels": {
        "app.kubernetes.io/managed-by": "ai-factory", "aifactory.io/factory": "acme",
        "aifactory.io/owner": "ml-platform", "aifactory.io/data-classification": "confidential",
        "aifactory.io/data-residency": "eu", "aifactory.io/environment": "site",
        "aifactory.io/team": "research", "pod-security.kubernetes.io/enforce": "baseline"}}
    quota = rec.one("kubernetes:core/v1:ResourceQuota")
    assert quota.inputs["metadata"]["namespace"] == "team-research"
    # Bounded by the GPUs of the cluster's pools: 2 hosts x 8 H100.
    assert quota.inputs["spec"] == {"hard": {"requests.nvidia.com/gpu": "16"}}
    limits = rec.one("kubernetes:core/v1:LimitRange")
    assert limits.inputs["spec"]["limits"] == [{
        "type": "Container", "defaultRequest": {"cpu": "500m", "memory": "1Gi"},
        "default": {"memory": "8Gi"}}]
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"]
                for r in rec.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert policies["allow-same-namespace"] == {
        "podSelector": {}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}]}]}
    assert policies["allow-monitoring"]["ingress"] == [{"from": [{"namespaceSelector": {
        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]}]
    for r in (quota, limits, *rec.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")):
        assert ns.urn in r.dependencies


@pytest.mark.parametrize("env", ["site", "cloud", "gke"])
def test_gpu_operator_leaves_driver_and_toolkit_to_the_node_image(run, spec, env) -> None:  # type: ignore[no-untyped-def]
    # site: cloud-init installs driver and toolkit; cloud: the EKS AL2023 NVIDIA AMI has both
    rec = run(_platform(spec, env))
    operators = [r for r in rec.of_type(CHART) if r.inputs["chart"] == "gpu-operator"]
    if env == "gke":  # the GKE environment has no GPU pool: no operator, no GPU alerts
        assert operators == [] and not rec.of_type(f"{MONITORING}:PrometheusRule")
        return
    [chart] = operators
    values = chart.inputs["values"]
    assert values["driver"] == {"enabled": False}
    assert values["toolkit"] == {"enabled": False}
    component = rec.one("aifactory:platform:GpuOperator")
    assert component.inputs["driverFrom"] == {
        "site": "our cloud-init (driver and container toolkit)",
        "cloud": "the EKS AL2023 NVIDIA AMI (driver and container toolkit)"}[env]
    exporter = values["dcgmExporter"]
    assert exporter["enabled"] is True and exporter["config"] == {"name": "dcgm-metrics"}
    assert {"name": "DCGM_EXPORTER_COLLECTORS",
            "value": "/etc/dcgm-exporter/dcgm-metrics.csv"} in exporter["env"]
    config_map = rec.one("kubernetes:core/v1:ConfigMap")
    assert config_map.urn in chart.dependencies
    csv = config_map.inputs["data"]["dcgm-metrics.csv"]
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL, counter" in csv
    assert "DCGM_FI_DEV_XID_ERRORS, gauge" in csv
    tolerations = values["daemonsets"]["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations
    if env == "cloud":
        assert {"key": "aifactory.io/burst", "operator": "Exists",
                "effect": "NoSchedule"} in tolerations
    ns = rec.one("kubernetes:core/v1:Namespace", f"{env}-platform-gpu-operator-ns")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_gke_operator_uses_the_driver_gke_installs() -> None:
    from components.platform.common import NodeTaint
    from components.platform.gpu_operator import GpuOperatorArgs, gpu_operator_values

    values = gpu_operator_values(GpuOperatorArgs("gcp", (NodeTaint("nvidia.com/gpu"),)), "m")
    assert values["driver"] == {"enabled": False}
    assert values["hostPaths"] == {"driverInstallDir": "/home/kubernetes/bin/nvidia"}
    assert values["toolkit"] == {"enabled": True, "installDir": "/home/kubernetes/bin/nvidia"}


def test_every_chart_is_pinned_with_its_repository(run, spec) -> None:  # type: ignore[no-untyped-def]
    rec = run(_platform(spec, "site"))
    charts = {r.inputs["chart"]: r.inputs for r in rec.of_type(CHART)}
    assert set(charts) == {"gpu-operator", "kube-prometheus-stack",
                           "oci://registry.k8s.io/kueue/charts/kueue"}
    for name, inputs in charts.items():
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", inputs["version"]), name
        if not name.startswith("oci://"):
            assert inputs["repositoryOpts"]["repo"].startswith("https://"), name
    assert charts["gpu-operator"]["repositoryOpts"]["repo"] == "https://helm.ngc.nvidia.com/nvidia"
    prometheus = charts["kube-prometheus-stack"]["values"]["prometheus"]["prometheusSpec"]
    assert prometheus["retention"] == "15d" and prometheus["retentionSize"] == "90GB"
    assert prometheus["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"] == {
        "requests": {"storage": "100Gi"}}
    assert prometheus["ruleSelectorNilUsesHelmValues"] is False
    assert prometheus["serviceMonitorSelectorNilUsesHelmValues"] is False


def test_gpu_alerts_expect_the_pools_gpus(run, spec) -> None:  # type: ignore[no-untyped-def]
    rec = run(_platform(spec, "cloud"))
    rule = rec.one(f"{MONITORING}:PrometheusRule")
    groups = {g["name"]: g["rules"] for g in rule.inputs["spec"]["groups"]}
    health = {r["alert"]: r for r in groups["aifactory-gpu-health"]}
    assert health["GpuXidError"]["expr"] == "DCGM_FI_DEV_XID_ERRORS > 0"
    assert "DCGM_FI_DEV_XID_ERRORS == 79" in health["GpuFatalXidError"]["expr"]
    assert health["GpuTemperatureHigh"]["expr"] == "DCGM_FI_DEV_GPU_TEMP > 85"
    assert health["GpuEccDoubleBitErrors"]["expr"] == (
        "increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m]) > 0")
    assert health["GpuEccDoubleBitErrors"]["labels"]["severity"] == "critical"
    capacity = {(r["alert"], r["labels"]["pool"]): r for r in groups["aifactory-gpu-capacity"]}
    # Cloud pool: at least min_nodes (1) x 8 GPUs must be visible; every node shows 8.
    assert capacity[("GpuPoolGpusMissing", "cloud-h100")]["expr"] == (
        '(count(DCGM_FI_DEV_GPU_TEMP{pool="cloud-h100"}) or vector(0)) < 8')
    assert capacity[("GpuNodeGpusMissing", "cloud-h100")]["expr"] == (
        'count by (node) (DCGM_FI_DEV_GPU_TEMP{pool="cloud-h100"}) < 8')
    site = run(_platform(spec, "site")).one(f"{MONITORING}:PrometheusRule")
    [site_pool] = [r for g in site.inputs["spec"]["groups"] for r in g["rules"]
                   if r["alert"] == "GpuPoolGpusMissing"]
    assert site_pool["expr"].endswith("< 16") and site_pool["labels"]["severity"] == "critical"


def test_dcgm_service_monitor_labels_series_with_node_and_pool(run, spec) -> None:  # type: ignore[no-untyped-def]
    rec = run(_platform(spec, "cloud"))
    monitor = rec.one(f"{MONITORING}:ServiceMonitor")
    assert monitor.inputs["metadata"]["namespace"] == "monitoring"
    monitor_spec = monitor.inputs["spec"]
    assert monitor_spec["selector"] == {"matchLabels": {"app": "nvidia-dcgm-exporter"}}
    assert monitor_spec["namespaceSelector"] == {"matchNames": ["gpu-operator"]}
    assert monitor_spec["attachMetadata"] == {"node": True}
    [endpoint] = monitor_spec["endpoints"]
    assert endpoint["port"] == "gpu-metrics"
    targets = {r["targetLabel"]: r["sourceLabels"] for r in endpoint["relabelings"]}
    assert targets == {"node": ["__meta_kubernetes_pod_node_name"],
                       "pool": ["__meta_kubernetes_node_label_aifactory_io_pool"]}
    charts = [r.urn for r in rec.of_type(CHART) if "kueue" not in r.name]
    assert set(charts) <= set(monitor.dependencies)


def test_the_cloud_cluster_runs_kueue_as_a_multikueue_worker(run, spec) -> None:  # type: ignore[no-untyped-def]
    rec = run(_platform(spec, "cloud"))
    assert not rec.of_type("aifactory:platform:JobQueue")
    worker = rec.one("aifactory:platform:KueueWorker")
    assert (worker.inputs["environment"], worker.inputs["flavorOrder"]) == (
        "cloud", ["cloud-h100"])
    team_ns = rec.one("kubernetes:core/v1:Namespace", "cloud-platform-team-research-ns")
    [queue] = rec.of_type("kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue")
    assert team_ns.urn in queue.dependencies
    gke = run(_platform(spec, "gke"))  # no GPU pool: no Kueue at all
    assert not [r for r in gke.all if "kueue" in r.type.lower()]


def test_build_platform_parents_to_the_environment_and_uses_its_provider(run, spec) -> None:  # type: ignore[no-untyped-def]
    def program() -> None:
        built = Built(factory=FactoryComponent("aifactory:factory:Factory", "acme"))  # type: ignore[arg-type]
        for name, kind in (("site", "onprem"), ("cloud", "aws"), ("gke", "gcp")):
            env = FactoryComponent(f"aifactory:test:{kind}", name)
            provider = None if name == "gke" else k8s.Provider(f"{name}-k8s", kubeconfig="{}")
            built.environments[name] = EnvironmentBuild(name, kind, env, provider)
        # EKS reports its endpoint as a URL (the AWS builder's EksCluster.endpoint)
        built.environments["cloud"].cluster = SimpleNamespace(endpoint=CLOUD_API)  # type: ignore[attr-defined]
        build_platform(spec, built)

    rec = run(program)
    platforms = {r.name: r for r in rec.of_type("aifactory:platform:ClusterPlatform")}
    assert sorted(platforms) == ["cloud-platform", "site-platform"]  # gke has no cluster here
    for env in ("site", "cloud"):
        assert platforms[f"{env}-platform"].parent == rec.named(env).urn
    namespaces = {r.name: r.provider for r in rec.of_type("kubernetes:core/v1:Namespace")}
    assert namespaces["site-platform-kueue-ns"].endswith("::site-k8s")
    assert namespaces["cloud-platform-monitoring-ns"].endswith("::cloud-k8s")
    assert namespaces["cloud-platform-kueue-worker-ns"].endswith("::cloud-k8s")
    # the worker is built first: the manager's MultiKueue takes its kubeconfig, kept secret
    order = [r.name for r in rec.of_type("aifactory:platform:ClusterPlatform")]
    assert order == ["cloud-platform", "site-platform"]
    secret = rec.one("kubernetes:core/v1:Secret", "site-platform-kueue-kubeconfig-cloud")
    assert secret.inputs["stringData"] == {"kubeconfig": "[secret]"}


def test_pools_of_another_cluster_are_refused(run, spec) -> None:  # type: ignore[no-untyped-def]
    site = _args(spec, "site")
    cloud = _args(spec, "cloud")
    args = ClusterPlatformArgs(environment="site", substrate="onprem",
                               pools=site.pools + cloud.pools)
    with pytest.raises(ComponentArgsError) as err:
        run(lambda: ClusterPlatform("p", args))
    assert str(err.value) == ("`pools` ['cloud-h100'] run in other environments than 'site': "
                              "give only this cluster's pools")
