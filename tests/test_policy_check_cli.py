"""`aifactory check`: exit codes, formats, --out, --today, --manifests, every example passes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from policy_fixtures import inputs, load, resource

from aifactory.cli import main
from blueprints.errors import InputError
from policies import evaluate
from policies.checkov_runner import checkov_path
from policies.crd_schemas import crds_dir

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.plan.json"))


def write(plan: dict, tmp_path: Path, name: str = "plan.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(plan), encoding="utf-8")
    return str(path)


def test_passing_plan_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", write(load("power-site"), tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "PASSED: 0 mandatory violations, 0 advisories, 0 waived" in out
    assert "dc1 (DE): IT 172.8 kW x PUE 1.25 = 216 kW of 250 kW budget, headroom 34 kW " \
           "(13.6%)" in out


def test_site_over_budget_exits_1_with_the_figures(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    plan = load("power-site")
    inputs(plan, "dc1")["powerBudgetKw"] = 200
    assert main(["check", write(plan, tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAILED   [critical] power-site-budget: site dc1: IT load 172.8 kW x PUE 1.25 = " \
           "216 kW facility load exceeds the budget of 200 kW by 16 kW (8% over)" in out


@pytest.mark.parametrize("fmt", ["json", "sarif", "markdown"])
def test_formats_written_to_out(tmp_path: Path, fmt: str) -> None:
    plan = load("cloud-capacity")
    inputs(plan, "train-h100")["maxNodes"] = 5
    out = tmp_path / "reports" / f"check.{fmt}"
    assert main(["check", write(plan, tmp_path), "--format", fmt, "--out", str(out)]) == 1
    body = out.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(body)["summary"] == {"failed": 1, "advisory": 0, "waived": 0}
    elif fmt == "sarif":
        log = json.loads(body)
        assert log["version"] == "2.1.0"
        assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["capacity-aws-quota"]
    else:
        assert "| aws | 123456789012 | eu-north-1 | onDemand:P | 960 vCPU | 768 vCPU |" in body


def test_expired_waiver_depends_on_today(tmp_path: Path) -> None:
    plan = load("power-site")
    inputs(plan, "dc1")["powerBudgetKw"] = 200
    inputs(plan, "acme-onprem")["waivers"] = [{
        "rule": "power-site-budget", "resource": "dc1", "reason": "second hall opens in Q2",
        "owner": "facilities@acme", "approver": "ciso@acme", "ticket": "RISK-7",
        "approved": "2026-01-05", "expires": "2026-03-31"}]
    path = write(plan, tmp_path)
    assert main(["check", path, "--today", "2026-03-31"]) == 0
    assert main(["check", path, "--today", "2026-04-01"]) == 1


@pytest.mark.parametrize(("argv", "message"), [
    (["check", "missing.json"], "error: missing.json: no such plan file"),
    (["check", "--manifests", "no/such/dir", "PLAN"], "error: no/such/dir: no such folder of "
     "manifests"),
])
def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                           message: str) -> None:
    argv = [write(load("power-site"), tmp_path) if a == "PLAN" else a for a in argv]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == message


def test_not_a_plan_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write({"resources": "nope"}, tmp_path)
    assert main(["check", path]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {path}: not an ai-factory plan (version 1 JSON with 'resources'); write one "
        "with `aifactory plan BLUEPRINT --format json`")


REPLAN = "write the plan again with `aifactory plan BLUEPRINT --format json`"


def no_it_load(plan: dict) -> None:
    del inputs(plan, "dgx-1")["itLoadKw"]


def zero_budget(plan: dict) -> None:
    inputs(plan, "dc1")["powerBudgetKw"] = 0


def waiver_expiring(expires: str | None) -> Callable[[dict], None]:
    def mutate(plan: dict) -> None:
        w = {"rule": "power-site-budget", "resource": "dc1", "reason": "second hall opens",
             "owner": "facilities", "approver": "ciso", "ticket": "RISK-7",
             "approved": "2026-01-05"}
        inputs(plan, "acme-onprem")["waivers"] = [w | ({"expires": expires} if expires else {})]
    return mutate


def no_type(plan: dict) -> None:
    del resource(plan, "dgx-2")["type"]


@pytest.mark.parametrize(("mutate", "message"), [
    (no_it_load, "70: resources[2].inputs.itLoadKw: is missing in aifactory:baremetal:Host "
     f"dgx-1; set environments.dc1.hosts[].server_model in the blueprint and {REPLAN}"),
    (zero_budget, "49: resources[1].inputs.powerBudgetKw: 0 must be above 0 in "
     "aifactory:baremetal:Site dc1; set environments.dc1.power_budget_kw in the blueprint and "
     f"{REPLAN}"),
    (waiver_expiring(None), "9: resources[0].inputs.waivers[0].expires: is missing in "
     "aifactory:factory:Factory acme-onprem; set policy.waivers[].expires (YYYY-MM-DD) in the "
     f"blueprint and {REPLAN}"),
    (waiver_expiring("end of Q2"), '41: resources[0].inputs.waivers[0].expires: "end of Q2" is '
     "not a date such as 2026-06-30 in aifactory:factory:Factory acme-onprem; set "
     f"policy.waivers[].expires (YYYY-MM-DD) in the blueprint and {REPLAN}"),
    (no_type, f"91: resources[3].type: is missing in resource dgx-2; {REPLAN}"),
], ids=["no-it-load", "zero-budget", "waiver-without-expiry", "waiver-bad-expiry", "no-type"])
def test_bad_plan_exits_2_naming_file_line_resource_and_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any, message: str) -> None:
    plan = load("power-site")
    mutate(plan)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path}:{message}\n1 error: the plan was not " \
        "checked\n"


def test_plan_that_is_not_json_exits_2_with_its_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"version": 1,\n "resources": [\n  {"urn": x}\n]}', encoding="utf-8")
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}:3: not JSON (Expecting value): a plan is written by `aifactory plan "
        "BLUEPRINT --format json`\n")


def test_in_memory_plans_with_bad_facts_fail_instead_of_raising() -> None:
    """Plans that bypass load_plan (the pack, tests) fail the rules that cannot read them."""
    plan = load("power-site")
    no_it_load(plan)
    zero_budget(plan)
    result = evaluate(plan, today=date(2026, 1, 15))
    assert not result.passed and result.sites == []
    assert "rule could not run: KeyError: 'itLoadKw'" in [v.message for v in result.failed]
    assert result.notes == ["power and quota figures could not be computed: KeyError: "
                            "'itLoadKw'"]
    waiver_expiring("soon")(plan)
    with pytest.raises(InputError, match=r"^policy.waivers\[0\].expires: 'soon' is not a date "
                       "such as 2026-06-30; set the waiver's last valid day$"):
        evaluate(plan)


@pytest.mark.skipif(checkov_path() is None, reason="checkov not installed")
def test_manifests_rendered_from_the_plan(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    plan = load("sovereign-aws")
    path = write(plan, tmp_path)
    assert main(["check", path, "--manifests", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    states = {r["name"]: r["state"] for r in doc["rules"]}
    assert states["manifest-ckv-aif-1"] == states["manifest-schema-strict"] == "passed"
    container = inputs(plan, "model-server")["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"requests": {"nvidia.com/gpu": 1}}
    assert main(["check", write(plan, tmp_path), "--manifests", "--format", "json"]) == 1
    failed = [v for v in json.loads(capsys.readouterr().out)["violations"]
              if v["status"] == "failed"]
    assert [(v["rule"], v["resource"]) for v in failed] == [("manifest-ckv-aif-1",
                                                             "model-server")]


@pytest.mark.skipif(checkov_path() is None or crds_dir() is None,
                    reason="checkov or ../shared/crds not present")
def test_manifests_custom_resources_checked_against_crds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "flavor.yaml").write_text(
        "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata: {name: h100}\n"
        "spec: {nodeLabels: {nvidia.com/gpu.product: H100}, gpus: 8}\n", encoding="utf-8")
    path = write(load("power-site"), tmp_path)
    assert main(["check", path, "--manifests", str(manifests), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(v["rule"], v["subject"], v["message"]) for v in doc["violations"]] == [(
        "manifest-crd-schema-strict", "ResourceFlavor/h100",
        "flavor.yaml: ResourceFlavor h100: spec: Additional properties are not allowed ('gpus' "
        "was unexpected)")]
    assert doc["notes"] == [
        f"1 custom resources validated against their upstream CRDs ({crds_dir()})"]


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda p: p.name.split(".")[0])
def test_every_example_blueprint_passes(golden: Path) -> None:
    result = evaluate(json.loads(golden.read_text(encoding="utf-8")), today=date.today())
    assert [v.message for v in result.failed] == []


def test_check_plans_a_blueprint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ROOT / "blueprints" / "examples" / "cloud-aws.yaml")]) == 0
    assert "aifactory check acme-aws (" in capsys.readouterr().out
