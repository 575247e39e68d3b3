"""Pull-request previews: several blueprints in one process (one checkov run), the comment
with its deltas against the base, the topology diagram, whole values in the resource diff, and
SARIF paths from the repository root with the blueprint's real lines."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, ROOT

from aifactory.cli import main
from aifactory.preview import diff_plans, figure_deltas, render_diff, topology, value_change

GOLDEN = ROOT / "tests" / "golden"


def with_two_more_dgx(tmp_path: Path) -> Path:
    """The hybrid example with two DGX H100 servers more, both in rack r4."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    hosts = data["environments"]["dc1"]["hosts"]
    for i in (17, 18):
        host = copy.deepcopy(hosts[-1])
        host.update(hostname=f"dc1-dgx{i}", boot_ip=f"10.20.0.{10 + i}",
                    boot_mac=f"3c:fd:fe:b4:10:{i:02x}",
                    bmc_address=f"redfish+https://10.20.8.{10 + i}/redfish/v1/Systems/DGX")
        hosts.append(host)
    path = tmp_path / "head" / "hybrid.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_the_comment_of_two_more_dgx_servers_shows_power_and_the_new_violation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, out = tmp_path / "base", tmp_path / "out"
    assert main(["pr", str(EXAMPLES / "hybrid.yaml"), "--out", str(base), "--no-manifests"]) == 0
    assert main(["pr", str(with_two_more_dgx(tmp_path)), "--out", str(out), "--base", str(base),
                 "--no-manifests"]) == 1
    comment = (out / "comment.md").read_text()
    assert "| hybrid | ❌ failed | 1 / 0 | +12 ~1 -0 |" in comment
    assert ("| `power-rack-density` | high | dc1/r4 | rack r4 on site dc1 draws 61.2 kW "
            "(dc1-dgx13, dc1-dgx14, dc1-dgx15, dc1-dgx16, dc1-dgx17, dc1-dgx18) over its 50 kW "
            "limit by 11.2 kW | `dc1/r4` |") in comment
    # the site's IT load counts rack net1's 20 kW of network, storage and management too
    assert "| sites dc1 itKw | 183.2 | 203.6 | +20.4 |" in comment
    assert "| sites dc1 hostsKw | 163.2 | 183.6 | +20.4 |" in comment
    assert "| sites dc1 facilityKw | 238.16 | 264.68 | +26.52 |" in comment
    assert "| sites dc1 headroomKw | 61.84 | 35.32 | -26.52 |" in comment
    assert "| sites dc1 racks r4 itKw | 40.8 | 61.2 | +20.4 |" in comment
    assert 'rack_dc1_r4["rack r4: 6 hosts, 61.2 / 50 kW, liquid"]' in comment
    err = capsys.readouterr().err
    assert "hybrid: FAILED (1 mandatory violation, 0 advisories, 0 waived)" in err
    assert "aifactory pr: 1 blueprint in " in err


def test_quota_and_cost_figures_are_read_from_the_check_and_the_summary() -> None:
    base_check = {"quotas": [{"cloud": "aws", "scope": "1", "region": "eu-north-1",
                              "metric": "spot:P", "used": 384, "quota": 768}]}
    head_check = {"quotas": [{"cloud": "aws", "scope": "1", "region": "eu-north-1",
                              "metric": "spot:P", "used": 768, "quota": 768}]}
    [quota] = figure_deltas(base_check, head_check)
    assert (quota.section, quota.what, quota.change) == ("quota", "quotas aws 1 eu-north-1 "
                                                         "spot:P used", "+384")
    # a figure another change adds to the summary shows up without a change here
    [cost] = figure_deltas({"cloudUsdPerHourMax": 110.0}, {"cloudUsdPerHourMax": 165.5})
    assert (cost.section, cost.what, cost.change) == ("cost", "cloudUsdPerHourMax", "+55.5")


def test_long_values_are_shown_whole_as_a_diff_never_cut() -> None:
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::acme-raw/*"}]}
    wider = copy.deepcopy(policy)
    wider["Statement"][0]["Action"].append("s3:DeleteObject")
    base = {"summary": {"itKwDesired": 12.0}, "resources": [
        {"urn": "u1", "type": "aws:iam/rolePolicy:RolePolicy", "name": "p", "protect": False,
         "inputs": {"policy": json.dumps(policy), "name": "short"}}]}
    head = copy.deepcopy(base)
    head["summary"]["itKwDesired"] = 14.0
    head["resources"][0]["inputs"]["policy"] = json.dumps(wider)
    head["resources"][0]["inputs"]["name"] = "renamed"
    md = render_diff(diff_plans(base, head), markdown=True)
    assert "..." not in md
    summary, rest = md.split("```diff", 1)
    assert "- `itKwDesired`: 12.0 -> 14.0" in summary  # a list that renders, not a diff block
    assert '    name: "short" -> "renamed"' in rest
    assert "    policy: changed, " in rest
    assert '+        "s3:DeleteObject"' in rest
    assert '-        "s3:PutObject"' in rest and '+        "s3:PutObject",' in rest
    assert value_change("a", "b") == ('"a" -> "b"', [])


def test_the_topology_shows_every_building_block() -> None:
    plan = json.loads((GOLDEN / "hybrid.plan.json").read_text())
    chart = topology(plan)
    assert chart.startswith("flowchart LR\n")
    for node in ('subgraph env_aws_burst["aws-burst: AWS eu-north-1"]',
                 'subgraph env_dc1["dc1: own site, DE, 300 kW budget"]',
                 'cluster_aws_burst_eks["EKS cluster aws-burst-eks"]',
                 'cluster_dc1_platform["cluster dc1 (own)"]',
                 'pool_burst_h100_spot["pool burst-h100-spot: 0-4 x p5.48xlarge, 8 x h100-sxm5 '
                 'each, spot"]',
                 'pool_dc1_h100["pool dc1-h100: 16-16 x own hosts, 8 x h100-sxm5 each"]',
                 'lake_aws_burst_lakehouse["lakehouse: checkpoints, curated, raw"]',
                 'registry_aws_burst_registry["registry aws-burst-registry"]',
                 'queue_dc1_platform_kueue["Kueue acme-hybrid-applied, acme-hybrid-research '
                 '(cohort acme-hybrid)"]',
                 'rack_dc1_r1["rack r1: 4 hosts, 40.8 / 50 kW, liquid"]',
                 "queue_dc1_platform_kueue -. MultiKueue .-> "
                 "queue_aws_burst_platform_kueue_worker",
                 "cluster_dc1_platform --> pool_dc1_h100"):
        assert node in chart, node
    ids = [line.split("[", 1)[0].strip() for line in chart.splitlines() if '["' in line
           and "subgraph" not in line]
    assert len(ids) == len(set(ids))
    assert chart.count("subgraph") == chart.count("\n  end")


def test_several_blueprints_plan_in_one_process_as_the_golden_plans(tmp_path: Path) -> None:
    names = ["cloud-aws", "hybrid"]
    assert main(["plan", *(str(EXAMPLES / f"{n}.yaml") for n in names), "--format", "json",
                 "--out", str(tmp_path)]) == 0
    for n in names:
        assert (tmp_path / f"{n}.plan.json").read_text() == \
            (GOLDEN / f"{n}.plan.json").read_text()


def test_several_blueprints_check_with_one_checkov_run_as_they_do_one_by_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import policies.checkov_runner as runner

    started: list[str] = []
    start = runner.start_checkov
    monkeypatch.setattr(runner, "start_checkov",
                        lambda d, *a, **k: started.append(str(d)) or start(d, *a, **k))
    names = ["cloud-aws", "sovereign-eu"]  # no jurisdiction, and one (CKV_AIF_3 applies)
    assert main(["check", *(str(EXAMPLES / f"{n}.yaml") for n in names), "--manifests",
                 "--format", "json", "--out", str(tmp_path / "together")]) == 0
    assert len(started) == 1
    for n in names:
        assert main(["check", str(EXAMPLES / f"{n}.yaml"), "--manifests", "--format", "json",
                     "--out", str(tmp_path / f"{n}.json")]) == 0
        alone = json.loads((tmp_path / f"{n}.json").read_text())
        together = json.loads((tmp_path / "together" / f"{n}.check.json").read_text())
        assert together["rules"] == alone["rules"]
        assert together["violations"] == alone["violations"]
    assert len(started) == 3
    states = {r["name"]: r["state"] for r in together["rules"]}
    assert states["manifest-ckv-aif-3"] == "passed"


def test_sarif_paths_are_from_the_repository_root_with_real_lines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / "factories" / "eu").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    data["environments"]["dc1"]["power_budget_kw"] = 200
    text = yaml.safe_dump(data, sort_keys=False)
    bp = repo / "factories" / "eu" / "hybrid.yaml"
    bp.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1)
                if s.strip() == "power_budget_kw: 200")
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    plan = repo / "out" / "p.json"  # as CI writes it: in the checkout, checked from anywhere
    assert main(["plan", str(bp), "--format", "json", "--out", str(plan)]) == 0
    for source in (str(bp), str(plan)):
        assert main(["check", source, "--format", "sarif", "--out", "c.sarif"]) == 1
        log = json.loads(Path("c.sarif").read_text())
        [budget] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "power-site-budget"]
        where = budget["locations"][0]["physicalLocation"]
        assert where["artifactLocation"] == {"uri": "factories/eu/hybrid.yaml",
                                             "uriBaseId": "%SRCROOT%"}, source
        assert where["region"] == {"startLine": line}, source
