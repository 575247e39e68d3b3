"""Every object the platform layer defines validates against its upstream schema.

Custom resources against the CRDs in ../shared/crds (validate_crs.py --strict: unknown fields
fail); core kinds against the Kubernetes 1.33 schemas (kubernetes-validate, strict); the GPU
operator's chart values against its ClusterPolicy CRD, which the chart renders them into.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from conftest import SHARED, spec_from_yaml

from blueprints.compose.platform import platform_args
from components.platform import ClusterPlatform

CRDS = SHARED / "crds"
VALIDATE_CRS = SHARED / "tools" / "validate_crs.py"
pytestmark = pytest.mark.skipif(not CRDS.is_dir() or not VALIDATE_CRS.is_file(),
                                reason="../shared/crds and validate_crs.py not present")

CORE_KINDS = {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "ConfigMap",
              "Secret", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"}
# No CRD in ../shared for these: checked against the upstream v1beta2 types below.
MULTIKUEUE_KINDS = {"MultiKueueCluster", "MultiKueueConfig"}
SPEC = """
    name: acme
    tags: {owner: ml-platform, cost_centre: CC-1, data_classification: internal}
    environments:
      site:
        kind: onprem
        country: DE
        power_budget_kw: 200
        pue: 1.3
        racks:
          r1: {power_limit_kw: 40, cooling: rear-door}
        hosts:
          - {hostname: gpu01, rack: r1, server_model: dgx-h100, boot_mac: "aa:bb:cc:00:00:01",
             bmc_address: "redfish://10.0.0.1/redfish/v1/Systems/1", bmc_credentials: bmc01}
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
    pools:
      site-h100: {environment: site, min_nodes: 1, max_nodes: 1}
      cloud-spot:
        environment: cloud
        instance_type: p5.48xlarge
        max_nodes: 4
        capacity: spot
        interruption_tolerant: true
      cloud-l4:
        environment: cloud
        instance_type: g6.12xlarge
        min_nodes: 1
        max_nodes: 2
    queueing:
      environment: site
      cohort: acme
      teams:
        research: {namespace: team-research}
        applied: {namespace: team-applied}
"""


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    """Every Kubernetes object both clusters' platforms define (charts aside), as manifests."""
    from aifactory.plan.recorder import record

    spec = spec_from_yaml(SPEC)

    def program() -> None:
        for env in ("site", "cloud"):
            provider = k8s.Provider(f"{env}-k8s", kubeconfig="{}")
            args = platform_args(spec, env, workers={"cloud": "kubeconfig"}) if env == "site" \
                else platform_args(spec, env, api_server="https://cloud.example:443")
            ClusterPlatform(f"{env}-platform", args,
                            pulumi.ResourceOptions(providers=[provider]))

    return [r.inputs for r in record(program) if r.type.startswith("kubernetes:")
            and r.custom and not r.type.startswith("kubernetes:helm.sh")]


def _custom(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] not in CORE_KINDS | MULTIKUEUE_KINDS]


def _validator_module():  # type: ignore[no-untyped-def]
    loaded = importlib.util.spec_from_file_location("validate_crs", VALIDATE_CRS)
    assert loaded and loaded.loader
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


def _validate_crs(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(VALIDATE_CRS), "--strict", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_custom_resources_validate_strictly_against_upstream_crds(objects, tmp_path) -> None:  # type: ignore[no-untyped-def]
    custom = [o for o in _custom(objects) if o["kind"] != "AdmissionCheck"]
    kinds = sorted({(o["apiVersion"], o["kind"]) for o in custom})
    assert kinds == [
        ("kueue.x-k8s.io/v1beta2", "ClusterQueue"), ("kueue.x-k8s.io/v1beta2", "Cohort"),
        ("kueue.x-k8s.io/v1beta2", "LocalQueue"),
        ("kueue.x-k8s.io/v1beta2", "ResourceFlavor"), ("kueue.x-k8s.io/v1beta2", "Topology"),
        ("kueue.x-k8s.io/v1beta2", "WorkloadPriorityClass"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ]
    for i, obj in enumerate(custom):
        (tmp_path / f"{i:03d}-{obj['kind'].lower()}.yaml").write_text(yaml.safe_dump(obj))
    result = _validate_crs(tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith(
        f"{len(custom)} custom resources checked, 0 of other kinds skipped, 0 errors")


def test_the_strict_check_catches_an_unknown_field(objects, tmp_path) -> None:  # type: ignore[no-untyped-def]
    queue = next(o for o in _custom(objects) if o["kind"] == "ClusterQueue"
                 and o["metadata"]["name"] == "acme-research")
    wrong = {**queue, "spec": {**queue["spec"], "cohort": "acme"}}  # the v1beta1 field name
    (tmp_path / "wrong.yaml").write_text(yaml.safe_dump(wrong))
    result = _validate_crs(tmp_path)
    assert result.returncode == 1
    assert "ClusterQueue/acme-research: spec: Additional properties are not allowed ('cohort'" in (
        result.stdout)


def test_cluster_queue_rules_the_schema_states_in_cel(objects) -> None:  # type: ignore[no-untyped-def]
    # jsonschema does not run x-kubernetes-validations: check the ClusterQueue/flavor rules here.
    for obj in _custom(objects):
        spec = obj.get("spec", {})
        if obj["kind"] == "ClusterQueue":
            for group in spec["resourceGroups"]:
                for flavor in group["flavors"]:
                    assert len(flavor["resources"]) == len(group["coveredResources"])
                    if "cohortName" not in spec:
                        assert all("borrowingLimit" not in r for r in flavor["resources"])
        if obj["kind"] == "ResourceFlavor":
            assert len(spec["tolerations"]) <= 8
            for t in spec["tolerations"]:
                assert t["operator"] in ("Equal", "Exists")
                assert "key" in t or t["operator"] == "Exists"
                assert not (t["operator"] == "Exists" and "value" in t)


def test_core_kinds_validate_strictly_against_kubernetes_1_33(objects) -> None:  # type: ignore[no-untyped-def]
    core = [o for o in objects if o["kind"] in CORE_KINDS]
    assert {o["kind"] for o in core} == CORE_KINDS
    for obj in core:
        if obj["kind"] == "Secret":  # masked payloads ('[secret]') validate as empty ones
            obj = {k: ({} if isinstance(v, str) and v == "[secret]" else v)
                   for k, v in obj.items()}
        kubernetes_validate.validate(obj, "1.33", strict=True)


def test_admission_check_validates_against_its_crd(objects) -> None:  # type: ignore[no-untyped-def]
    # validate_crs.py cannot run this CRD: its `kind` pattern starts `^(?i)`, a global flag
    # Python's re accepts only at the very start. `(?i)^...` means the same.
    module = _validator_module()
    crd = module.strictify(module.load_crds()[("kueue.x-k8s.io", "AdmissionCheck")]["v1beta2"])
    schema = yaml.safe_load(yaml.safe_dump(crd).replace("^(?i)", "(?i)^"))
    [check] = [o for o in objects if o["kind"] == "AdmissionCheck"]
    assert [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(check)] == []
    assert check["spec"]["controllerName"] == "kueue.x-k8s.io/multikueue"


def test_multikueue_objects_follow_the_v1beta2_types(objects) -> None:  # type: ignore[no-untyped-def]
    # apis/kueue/v1beta2/multikueue_types.go (Kueue v0.19): MultiKueueCluster.spec.clusterSource
    # holds exactly one of kubeConfig {location (1-256), locationType Secret|Path} and
    # clusterProfileRef; MultiKueueConfig.spec.clusters is a set of 1-20 cluster names.
    clusters = [o for o in objects if o["kind"] == "MultiKueueCluster"]
    [config] = [o for o in objects if o["kind"] == "MultiKueueConfig"]
    assert {o["apiVersion"] for o in [*clusters, config]} == {"kueue.x-k8s.io/v1beta2"}
    for cluster in clusters:
        assert set(cluster) == {"apiVersion", "kind", "metadata", "spec"}
        source = cluster["spec"]["clusterSource"]
        assert set(cluster["spec"]) == {"clusterSource"} and set(source) == {"kubeConfig"}
        kube_config = source["kubeConfig"]
        assert set(kube_config) == {"location", "locationType"}
        assert kube_config["locationType"] == "Secret"
        assert 1 <= len(kube_config["location"]) <= 256
    names = config["spec"]["clusters"]
    assert set(config["spec"]) == {"clusters"} and 1 <= len(names) <= 20
    assert len(set(names)) == len(names)
    assert sorted(names) == sorted(c["metadata"]["name"] for c in clusters)
    secrets = {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}
    assert {c["spec"]["clusterSource"]["kubeConfig"]["location"] for c in clusters} <= secrets


def test_gpu_operator_values_are_cluster_policy_fields() -> None:
    from components.platform.common import NodeTaint
    from components.platform.gpu_operator import GpuOperatorArgs, gpu_operator_values

    module = _validator_module()
    schema = module.strictify(module.load_crds()[("nvidia.com", "ClusterPolicy")]["v1"])
    validator = jsonschema.Draft7Validator(schema)
    chart_only = {"node-feature-discovery"}  # values of the chart's NFD subchart
    from catalog.charts import CHART_IMAGES, GPU_OPERATOR
    from components.platform.common import Substrate
    from components.platform.mirror import image_mirror, mirrored_values

    lock = {f"{i.upstream}:v1": "sha256:" + "0" * 64 for i in CHART_IMAGES["gpu-operator"]}
    mirror = image_mirror("registry.example.eu/mirror", None, lock)
    substrates: tuple[Substrate, ...] = ("onprem", "aws", "gcp")
    for substrate, with_mirror in [(s, m) for s in substrates for m in (0, 1)]:
        values = gpu_operator_values(GpuOperatorArgs(substrate, (NodeTaint("nvidia.com/gpu"),)),
                                     "dcgm-metrics")
        if with_mirror:  # the mirrored image blocks are ClusterPolicy fields too, except the
            # operator's own image, which the chart puts in its Deployment
            values = mirrored_values(GPU_OPERATOR, values, mirror)
            own = {k: values["operator"].pop(k) for k in ("repository", "image", "version")}
            assert own["version"] == "sha256:" + "0" * 64
        policy = {"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy",
                  "metadata": {"name": "cluster-policy"},
                  "spec": {k: v for k, v in values.items() if k not in chart_only}}
        # The chart fills every field we leave to its defaults, so only `required` may be missing.
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(policy)
                  if e.validator != "required"]
        assert errors == [], substrate
