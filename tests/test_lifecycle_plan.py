"""The lifecycle in whole plans: what cloud-aws and pilot show, the serving rule passing and
failing with its arithmetic, and the rules that cover the new parts (keys, exposure, backups)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT
from policy_fixtures import add, load

from aifactory.plan.document import plan_blueprint
from blueprints.compose.lifecycle import offline_config
from blueprints.compose.secrets import OFFLINE_SECRET
from blueprints.spec import load as load_blueprint
from policies import BY_NAME, evaluate

TODAY = date(2026, 1, 15)
RULE = "capacity-serving-fits-pool"


@pytest.fixture(scope="module")
def cloud_aws() -> dict:
    return plan_blueprint(load_blueprint(EXAMPLES / "cloud-aws.yaml"),
                         "blueprints/examples/cloud-aws.yaml")


def messages(plan: dict, rule: str) -> list[str]:
    return [v.message for v in evaluate(plan, [BY_NAME[rule]], today=TODAY).violations]


def types(plan: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in plan["resources"]:
        out[r["type"]] = out.get(r["type"], 0) + 1
    return out


def test_cloud_aws_plan_shows_each_part(cloud_aws: dict) -> None:
    t = types(cloud_aws)
    for token, count in {
        "aifactory:platform:Serving": 1, "aifactory:platform:ServedModel": 1,
        "kubernetes:serving.kserve.io/v1beta1:InferenceService": 2,
        "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime": 1,
        "kubernetes:serving.kserve.io/v1alpha1:LocalModelCache": 2,
        "kubernetes:serving.kserve.io/v1alpha1:LocalModelNodeGroup": 1,
        "kubernetes:gateway.networking.k8s.io/v1:Gateway": 1,
        "kubernetes:gateway.networking.k8s.io/v1:GatewayClass": 1,
        "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": 1,
        "aifactory:platform:Mlflow": 1, "aifactory:aws:PostgresDatabase": 1,
        "aws:rds/instance:Instance": 1, "aifactory:platform:Notebooks": 1,
        "aifactory:platform:AlertRouting": 1,
        "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig": 1,
    }.items():
        assert t.get(token) == count, token
    charts = sorted(r["inputs"]["chart"].rsplit("/", 1)[-1] for r in cloud_aws["resources"]
                    if r["type"] == "kubernetes:helm.sh/v4:Chart")
    for name in ("cert-manager", "keda", "kserve-crd", "kserve-resources", "gateway-helm",
                 "mlflow", "jupyterhub"):
        assert name in charts
    db = next(r for r in cloud_aws["resources"] if r["type"] == "aws:rds/instance:Instance")
    assert db["protect"] is True
    roles = {r["inputs"]["name"]: r["inputs"]["description"] for r in cloud_aws["resources"]
             if r["type"] == "aws:iam/role:Role" and "model" in r["inputs"]["name"]}
    assert list(roles.values()) == [
        "model-serving: the lakehouse's models zone (read), request logs (put)"]


def test_no_secret_in_plain_text(cloud_aws: dict) -> None:
    spec = load_blueprint(EXAMPLES / "cloud-aws.yaml")
    assert sorted(offline_config(spec)) == [
        "aifactory:alerts-applied-slack-webhook", "aifactory:alerts-pagerduty-routing-key",
        "aifactory:grafana-admin-password", "aifactory:jupyterhub-oidc-client-secret",
        "aifactory:mlflow-db-password", "aifactory:mlflow-oidc-client-secret"]
    assert OFFLINE_SECRET not in json.dumps(cloud_aws)


def test_serving_rule_passes_on_cloud_aws(cloud_aws: dict) -> None:
    result = evaluate(cloud_aws, [BY_NAME[RULE]], today=TODAY)
    assert [o.state for o in result.outcomes] == ["passed"]


def test_models_that_need_more_gpus_than_their_pool_exit_1(tmp_path: Path) -> None:
    text = (EXAMPLES / "cloud-aws.yaml").read_text(encoding="utf-8")
    over = tmp_path / "over.yaml"
    over.write_text(text.replace("max_replicas: 6", "max_replicas: 40"), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "aifactory.cli", "check", str(over)],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 1
    assert (
        "FAILED   [high] capacity-serving-fits-pool: pool infer-l4 in cluster aws-prod has 32 "
        "GPUs (128 nvidia.com/gpu, 4 a GPU), but the served models at their max replicas x "
        "GPUs per replica need 176 (assistant-v2 40 x 4 + assistant-v3 4 x 4): 48 over; lower "
        "max_replicas or gpus_per_replica under serving.models, or grow the pool"
    ) in run.stdout


def test_pilot_plan_costs_per_hour_and_month() -> None:
    plan = plan_blueprint(load_blueprint(EXAMPLES / "pilot.yaml"), "blueprints/examples/pilot.yaml")
    cost = plan["summary"]["cost"]
    assert cost["usdPerHour"] == {"min": 0.1, "desired": 1.11, "max": 2.11}
    assert cost["usdPerMonthDesired"] == 810.3
    assert "databases (RDS, Cloud SQL)" in cost["notCosted"]
    assert evaluate(plan, list(BY_NAME.values()), today=TODAY).violations == []


# -- the rules on fixture plans ---------------------------------------------------------------


def isvc(name: str, pool: str, replicas: int, gpus: int) -> dict:
    return {"type": "kubernetes:serving.kserve.io/v1beta1:InferenceService", "name": name,
            "parent": "aws-eu", "provider": "eks",
            "inputs": {"metadata": {"name": name, "namespace": "serving"},
                       "spec": {"predictor": {
                           "maxReplicas": replicas, "nodeSelector": {"aifactory.io/pool": pool},
                           "model": {"resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}}}}}


def test_serving_rule_on_a_fixture() -> None:
    plan = load("sovereign-aws")
    name, fits = "infer", 8
    add(plan, {"type": "aifactory:aws:GpuNodePool", "name": "aws-eu-infer", "parent": "aws-eu",
               "inputs": {"pool": name, "cloud": "aws", "environment": "aws-eu",
                          "maxNodes": 2, "gpusPerNode": 4, "unitsPerGpu": 1}})
    add(plan, isvc("chat-v1", name, fits, 1))
    assert messages(plan, RULE) == []
    add(plan, isvc("chat-v2", name, 1, 2))
    assert messages(plan, RULE) == [
        f"pool {name} in cluster aws-eu has {fits} GPUs, but the served models at their max "
        f"replicas x GPUs per replica need {fits + 2} (chat-v1 {fits} x 1 + chat-v2 1 x 2): "
        "2 over; lower max_replicas or gpus_per_replica under serving.models, or grow the pool"]


def test_serving_rule_does_not_apply_without_served_models() -> None:
    result = evaluate(load("sovereign-aws"), [BY_NAME[RULE]], today=TODAY)
    assert [o.state for o in result.outcomes] == ["not-applicable"]


def rds(**kw: object) -> dict:
    return {"type": "aws:rds/instance:Instance", "name": "mlflow-db", "parent": "aws-eu",
            "provider": "aws-eu-provider", "protect": True,
            "inputs": {"engine": "postgres", "storageEncrypted": True, "kmsKeyId": "arn:k",
                       "publiclyAccessible": False, "performanceInsightsEnabled": True,
                       "performanceInsightsKmsKeyId": "arn:k",
                       **kw}}


def test_databases_keyed_private_and_backed_up_inside() -> None:
    plan = load("sovereign-aws")
    add(plan, rds())
    for rule in ("sovereignty-store-customer-keys", "sovereignty-network-no-public-exposure",
                 "sovereignty-replication-destination"):
        assert messages(plan, rule) == [], rule
    bad = load("sovereign-aws")
    add(bad, rds(kmsKeyId=None, publiclyAccessible=True))
    assert messages(bad, "sovereignty-store-customer-keys") == [
        "Instance mlflow-db has no kmsKeyId: its storage and backups use the account's "
        "default key"]
    assert messages(bad, "sovereignty-network-no-public-exposure") == [
        "Instance mlflow-db has a public endpoint (publiclyAccessible)"]


def test_cloud_sql_backups_outside_the_jurisdiction() -> None:
    plan = load("sovereign-gcp")
    add(plan, {"type": "gcp:sql/databaseInstance:DatabaseInstance", "name": "mlflow-sql",
               "parent": "gcp-eu", "provider": "gcp-eu-provider",
               "inputs": {"region": "europe-west4", "settings": {
                   "ipConfiguration": {"ipv4Enabled": True},
                   "backupConfiguration": {"location": "us"}}}})
    assert messages(plan, "sovereignty-replication-destination") == [
        "Cloud SQL instance mlflow-sql keeps its backups in us, outside EU (allowed: eu, eur4, "
        "europe, europe-central2, europe-north1, europe-north2, europe-southwest1, "
        "europe-west1, europe-west10, europe-west12, europe-west3, europe-west4, europe-west8, "
        "europe-west9)"]
    assert messages(plan, "sovereignty-network-no-public-exposure") == [
        "DatabaseInstance mlflow-sql has a public IP (settings.ipConfiguration.ipv4Enabled is "
        "not false)"]
    assert messages(plan, "sovereignty-store-customer-keys") == [
        "DatabaseInstance mlflow-sql has no encryptionKeyName"]


def gateway(cls: str, **spec: object) -> dict:
    return {"type": "kubernetes:gateway.networking.k8s.io/v1:Gateway", "name": "serving",
            "parent": "aws-eu", "provider": "eks",
            "inputs": {"metadata": {"name": "serving"},
                       "spec": {"gatewayClassName": cls, "listeners": [], **spec}}}


def test_gateways_are_internal() -> None:
    plan = load("sovereign-aws")
    add(plan, gateway("envoy-gateway", infrastructure={"annotations": {
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true"}}))
    assert messages(plan, "sovereignty-network-no-public-exposure") == []
    plan = load("sovereign-aws")
    add(plan, gateway("envoy-gateway"))
    assert messages(plan, "sovereignty-network-no-public-exposure") == [
        "Gateway serving gets a LoadBalancer Service without an internal load-balancer "
        "annotation (spec.infrastructure.annotations)"]
    plan = load("sovereign-gcp")
    add(plan, {**gateway("gke-l7-global-external-managed"), "parent": "gcp-eu",
               "provider": "gke"})
    assert messages(plan, "sovereignty-network-no-public-exposure") == [
        "Gateway serving uses GatewayClass gke-l7-global-external-managed, an external GKE "
        "load balancer (use gke-l7-rilb)"]


# -- serving in a mirrored (sovereign) factory ----------------------------------------------

SERVING_IMAGES = [
    "docker.io/kserve/agent:v0.20.0", "docker.io/kserve/art-explainer:v0.20.0",
    "docker.io/kserve/kserve-controller:v0.20.0",
    "docker.io/kserve/kserve-localmodel-controller:v0.20.0",
    "docker.io/kserve/kserve-localmodelnode-agent:v0.20.0", "docker.io/kserve/router:v0.20.0",
    "docker.io/kserve/storage-initializer:v0.20.0", "docker.io/vllm/vllm-openai:v0.11.0",
    "ghcr.io/kedacore/keda:2.20.2", "ghcr.io/kedacore/keda-admission-webhooks:2.20.2",
    "ghcr.io/kedacore/keda-metrics-apiserver:2.20.2", "quay.io/brancz/kube-rbac-proxy:v0.18.0",
    "quay.io/jetstack/cert-manager-acmesolver:v1.21.1",
    "quay.io/jetstack/cert-manager-cainjector:v1.21.1",
    "quay.io/jetstack/cert-manager-controller:v1.21.1",
    "quay.io/jetstack/cert-manager-startupapicheck:v1.21.1",
    "quay.io/jetstack/cert-manager-webhook:v1.21.1"]


def sovereign_without(refs: list[str]) -> str:
    """sovereign-eu (which serves a model from its mirror), its lock without `refs`."""
    lines = (EXAMPLES / "sovereign-eu.yaml").read_text(encoding="utf-8").splitlines(True)
    kept = [line for line in lines if line.strip().split(": sha256:")[0] not in refs]
    assert len(lines) - len(kept) == len(refs), "every ref is in the example's lock"
    return "".join(kept)


def test_a_mirrored_factory_serves_from_its_mirror(tmp_path: Path) -> None:
    from policies.images import images_in

    path = EXAMPLES / "sovereign-eu.yaml"
    plan = plan_blueprint(load_blueprint(path), str(path))
    assert evaluate(plan, list(BY_NAME.values()), today=TODAY).violations == []
    mirror = "europe-west4-docker.pkg.dev/acme-ml-eu/acme-eu-mirror/"
    serving = [r for r in plan["resources"]
               if "-serving" in r["name"] and r["type"].startswith("kubernetes:")]
    refs = [i for r in serving for i in images_in(r["inputs"])]
    assert len(refs) >= 10
    assert all(i.ref.startswith(mirror) and i.pinned for i in refs), refs
    charts = [r["inputs"]["chart"] for r in serving if r["type"] == "kubernetes:helm.sh/v4:Chart"]
    assert sorted(c.rsplit("/", 1)[-1] for c in charts) == [
        "cert-manager", "keda", "kserve-crd", "kserve-resources"]
    assert all(c.startswith(f"oci://{mirror}charts/") for c in charts)


def test_a_mirrored_factory_without_the_serving_images_in_its_lock(tmp_path: Path) -> None:
    path = tmp_path / "bp.yaml"
    text = sovereign_without([i for i in SERVING_IMAGES if "vllm" in i])
    path.write_text(text, encoding="utf-8")
    from blueprints.spec import BlueprintError

    with pytest.raises(BlueprintError) as e:
        load_blueprint(path)
    assert [p.message for p in e.value.problems] == [
        "no entry for docker.io/vllm/vllm-openai (chart vllm-runtime pulls "
        "docker.io/vllm/vllm-openai:v0.11.0): mirror it to europe-west4-docker.pkg.dev/acme-ml-eu/"
        "acme-eu-mirror/docker.io/vllm/vllm-openai and add 'docker.io/vllm/vllm-openai:v0.11.0: "
        "sha256:<digest>' (`aifactory mirror lock` prints the lock)"]


VALIDATE_CRS = ROOT.parent / "shared" / "tools" / "validate_crs.py"
CHECK_VALUES = ROOT.parent / "shared" / "tools" / "check_chart_values.py"
STEMS = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


@pytest.mark.skipif(not VALIDATE_CRS.exists() or not CHECK_VALUES.exists(),
                    reason="../shared/tools not present")
@pytest.mark.parametrize("stem", STEMS)
def test_every_example_renders_strict_valid_declared_and_without_secrets(
        tmp_path: Path, stem: str) -> None:
    from aifactory.render import render_manifests

    plan = plan_blueprint(load_blueprint(EXAMPLES / f"{stem}.yaml"), f"{stem}.yaml")
    render_manifests(plan, tmp_path)
    crs = subprocess.run([sys.executable, str(VALIDATE_CRS), "--strict", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert crs.returncode == 0, crs.stdout
    assert crs.stdout.strip().splitlines()[-1].endswith(" 0 errors")
    # the shared tool finds chart data by the chart's own name; a chart filed under another
    # (MinIO's `operator` is minio-operator-7.1.1: catalog.charts data_name) is named so here
    from catalog.charts import CHARTS

    for release in tmp_path.rglob("helm/*.yaml"):
        text = release.read_text(encoding="utf-8")
        for ref in CHARTS.values():
            if ref.data_name:
                text = text.replace(f"/{ref.name}\n  version: {ref.version}\n",
                                    f"/{ref.data_name}\n  version: {ref.version}\n")
        release.write_text(text, encoding="utf-8")
    values = subprocess.run([sys.executable, str(CHECK_VALUES), str(tmp_path)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert values.returncode == 0, values.stdout
    assert ", 0 undeclared values, 0 charts without data" in values.stdout
    rendered = "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.yaml"))
    assert OFFLINE_SECRET not in rendered and OFFLINE_SECRET not in json.dumps(plan)
