"""Runner 3: our checkov checks on their PASSED/FAILED fixtures, and checkov plus strict schema
validation over manifests rendered from a plan (agreeing with the plan's image rule).

checkov runs from its own virtualenv (.venv-checkov, or AIFACTORY_CHECKOV); without it these
tests are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from policy_fixtures import inputs, load

from aifactory.render import render_manifests
from policies import BY_NAME, PlanView, evaluate
from policies.checkov_runner import (
    CHECKS_DIR,
    CUSTOM_CHECKS,
    checkov_path,
    checkov_results,
    run_manifest_checks,
    validate_schemas,
)
from policies.crd_schemas import CRDS_ENV, crds_dir, go_pattern
from policies.registries import allowed_registries, image_policy_registries

FIXTURES = CHECKS_DIR.parent / "fixtures"
TODAY = date(2026, 1, 15)
needs_checkov = pytest.mark.skipif(
    checkov_path() is None, reason="checkov not installed (.venv-checkov / AIFACTORY_CHECKOV)")


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_every_custom_check_has_a_class_file_and_fixtures() -> None:
    sources = {p.name: p.read_text() for p in CHECKS_DIR.glob("*.py")}
    for check_id in CUSTOM_CHECKS:
        [owner] = [n for n, text in sources.items() if f'id="{check_id}"' in text]
        assert sources[owner].count("class ") == 1, f"{owner}: one check class a file"
        for verdict in ("passed", "failed"):
            assert documents(FIXTURES / check_id / f"{verdict}.yaml"), f"{check_id} {verdict}"


@pytest.fixture(scope="module")
def fixture_results() -> dict[tuple[str, str], set[str]]:
    """checkov over every fixture: (check id, fixture file) -> the verdicts it gave."""
    results = checkov_results(FIXTURES, ["registry.acme.eu",
                                         "123456789012.dkr.ecr.eu-central-1.amazonaws.com"],
                              checks=list(CUSTOM_CHECKS))
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in results:
        path = Path(r["file_abs_path"])
        if path.parent.name == r["check_id"]:
            out[(r["check_id"], path.name)].add(f"{r['resource']}:{r['result']}")
    return out


@needs_checkov
@pytest.mark.parametrize("check_id", sorted(CUSTOM_CHECKS))
def test_check_passes_its_passed_fixture(check_id: str, fixture_results: dict) -> None:
    docs = documents(FIXTURES / check_id / "passed.yaml")
    verdicts = fixture_results[(check_id, "passed.yaml")]
    assert len(verdicts) == len(docs) and all(v.endswith(":PASSED") for v in verdicts)


@needs_checkov
@pytest.mark.parametrize("check_id", sorted(CUSTOM_CHECKS))
def test_check_fails_its_failed_fixture(check_id: str, fixture_results: dict) -> None:
    docs = documents(FIXTURES / check_id / "failed.yaml")
    verdicts = fixture_results[(check_id, "failed.yaml")]
    assert len(verdicts) == len(docs) and all(v.endswith(":FAILED") for v in verdicts)


def rendered(plan: dict[str, Any], tmp_path: Path) -> Path:
    render_manifests(plan, tmp_path)
    return tmp_path


def test_schema_validation_is_strict(tmp_path: Path) -> None:
    plan = load("sovereign-aws")
    inputs(plan, "model-server")["spec"]["template"]["spec"]["containers"][0]["gpus"] = 1
    checks = validate_schemas(rendered(plan, tmp_path))
    assert checks.checked_files == 1
    [f] = checks.findings
    assert (f.tool, f.kind, f.name, f.file) == ("kubernetes-validate", "Deployment",
                                                "model-server",
                                                "manifests/aws-eu/deployment-model-server.yaml")
    assert "gpus" in f.message


CLUSTER_QUEUE = """\
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: research}
spec:
  namespaceSelector: {}
  resourceGroups:
    - coveredResources: [nvidia.com/gpu]
      flavors:
        - name: h100
          resources: [{name: nvidia.com/gpu, nominalQuota: 16}]
"""
needs_crds = pytest.mark.skipif(crds_dir() is None, reason="../shared/crds not present")


@needs_crds
def test_custom_resources_are_validated_against_upstream_crds(tmp_path: Path) -> None:
    (tmp_path / "queue.yaml").write_text(CLUSTER_QUEUE)
    checks = validate_schemas(tmp_path)
    assert (checks.findings, checks.crd_checked, checks.skipped) == ([], 1, [])
    (tmp_path / "queue.yaml").write_text(CLUSTER_QUEUE.replace("nominalQuota", "quota")
                                         + "  preemption: {withinClusterQueue: Sometimes}\n")
    assert sorted((f.tool, f.kind, f.name, f.message) for f in
                  validate_schemas(tmp_path).findings) == [
        ("crd-schema", "ClusterQueue", "research",
         "spec.preemption.withinClusterQueue: 'Sometimes' is not one of ['Never', "
         "'LowerPriority', 'LowerOrNewerEqualPriority']"),
        ("crd-schema", "ClusterQueue", "research",
         "spec.resourceGroups.0.flavors.0.resources.0: 'nominalQuota' is a required property"),
        ("crd-schema", "ClusterQueue", "research",
         "spec.resourceGroups.0.flavors.0.resources.0: Additional properties are not allowed "
         "('quota' was unexpected)")]


@needs_crds
def test_go_patterns_with_inline_flags_are_honoured(tmp_path: Path) -> None:
    assert go_pattern("^(?i)[a-z]([-a-z0-9]*[a-z0-9])?$") == "(?i)^[a-z]([-a-z0-9]*[a-z0-9])?$"
    rule = ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\n"
            "spec:\n  groups:\n    - name: g\n      partial_response_strategy: STRATEGY\n"
            "      rules: [{alert: A, expr: up == 0}]\n")
    (tmp_path / "rule.yaml").write_text(rule.replace("STRATEGY", "WARN"))
    assert validate_schemas(tmp_path).findings == []
    (tmp_path / "rule.yaml").write_text(rule.replace("STRATEGY", "ignore"))
    assert [f.message for f in validate_schemas(tmp_path).findings] == [
        "spec.groups.0.partial_response_strategy: 'ignore' does not match '^(?i)(abort|warn)?$'"]


def test_custom_resources_without_a_schema_are_skipped(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CRDS_ENV, str(tmp_path / "no-crds-here"))
    (tmp_path / "queue.yaml").write_text(CLUSTER_QUEUE)
    checks = validate_schemas(tmp_path)
    assert checks.findings == [] and checks.crd_checked == 0 and checks.crds is None
    assert checks.skipped == ["queue.yaml: ClusterQueue (kueue.x-k8s.io/v1beta2)"]


@needs_checkov
def test_skipped_custom_resources_are_reported(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CRDS_ENV, str(tmp_path / "no-crds-here"))
    (tmp_path / "queue.yaml").write_text(CLUSTER_QUEUE)
    assert run_manifest_checks(tmp_path).notes == [
        "1 custom resources skipped, no schema available (upstream CRDs not found: put them at "
        "../shared/crds or name their folder in AIFACTORY_CRDS): ClusterQueue "
        "(kueue.x-k8s.io/v1beta2)"]


@needs_checkov
def test_rendered_plan_passes_our_checks(tmp_path: Path) -> None:
    plan = load("sovereign-aws")
    checks = run_manifest_checks(rendered(plan, tmp_path),
                                 allowed_registries(PlanView.of_plan(plan)))
    assert [f for f in checks.findings if f.custom] == []
    assert checks.checked_files == 1


@needs_checkov
def test_checkov_and_the_plan_rule_agree_on_images(tmp_path: Path) -> None:
    plan = load("sovereign-aws")
    spec = inputs(plan, "model-server")["spec"]["template"]["spec"]
    spec["containers"][0]["image"] = "docker.io/library/nginx:1.27"
    del spec["tolerations"]
    view = PlanView.of_plan(plan)
    checks = run_manifest_checks(rendered(plan, tmp_path), allowed_registries(view))
    ours = sorted((f.check_id, f.kind, f.name) for f in checks.findings if f.custom)
    assert ours == [("CKV_AIF_2", "Deployment", "model-server"),
                    ("CKV_AIF_3", "Deployment", "model-server")]
    plan_rule = evaluate(plan, [BY_NAME["sovereignty-image-registry-digest"]], today=TODAY)
    assert [v.resource_name for v in plan_rule.violations] == ["model-server"]


def test_secrets_are_validated_with_their_masked_values(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: bmc, namespace: baremetal}\n"
        "stringData: {username: '[secret]', password: '[secret]'}\n")
    assert validate_schemas(tmp_path).findings == []
    # a payload masked whole is a string where Kubernetes wants a map: no longer passed over
    (tmp_path / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: bmc, namespace: baremetal}\n"
        "stringData: '[secret]'\n")
    assert [f.message for f in validate_schemas(tmp_path).findings] == [
        "stringData: '[secret]' is not of type 'object', 'null'"]
    (tmp_path / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: bmc}\nstringData: {a: b}\nextra: 1\n")
    assert [f.message for f in validate_schemas(tmp_path).findings] == [
        "(root): Additional properties are not allowed ('extra' was unexpected)"]


@needs_checkov
def test_image_check_tells_unset_from_empty() -> None:
    """Unset (no jurisdiction): CKV_AIF_3 does not apply; empty: no registry is allowed."""
    def verdicts(registries: list[str] | None) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for r in checkov_results(FIXTURES / "CKV_AIF_3", registries, checks=["CKV_AIF_3"]):
            out[Path(r["file_abs_path"]).name].add(r["result"])
        return dict(out)

    assert verdicts(None) == {}
    assert verdicts([]) == {"passed.yaml": {"FAILED"}, "failed.yaml": {"FAILED"}}


@needs_checkov
def test_checkov_and_the_plan_rule_agree_without_a_jurisdiction(tmp_path: Path) -> None:
    plan = load("sovereign-aws")
    inputs(plan, "acme-eu")["jurisdiction"] = None
    spec = inputs(plan, "model-server")["spec"]["template"]["spec"]
    spec["containers"][0]["image"] = "docker.io/library/nginx:1.27"
    view = PlanView.of_plan(plan)
    assert image_policy_registries(view) is None
    checks = run_manifest_checks(rendered(plan, tmp_path), image_policy_registries(view))
    assert [f for f in checks.findings if f.custom] == []
    plan_rule = evaluate(plan, [BY_NAME["sovereignty-image-registry-digest"]], today=TODAY)
    assert [o.state for o in plan_rule.outcomes] == ["not-applicable"]
