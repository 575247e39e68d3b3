"""Waiver governance, end to end through `aifactory check`: every waiver is reviewed (owner,
approver, ticket, approval day, expiry within the policy's maximum), names exactly what it
covers, and one that covers nothing is a load error (exit 2, `file:line: field: message`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, over_budget

from aifactory.cli import main

REVIEW = {"reason": "the second hall opens in March", "owner": "facilities@acme",
          "approver": "ciso@acme", "ticket": "RISK-204", "approved": "2026-01-10",
          "expires": "2026-03-31"}


def hybrid_over_budget(**waiver: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    over_budget(data)
    data["environments"]["dc1"]["feeds"] = {"a_kw": 400, "b_kw": 400}  # only the budget fails
    if waiver:
        entry = {"rule": "power-site-budget", "resource": "dc1", **REVIEW, **waiver}
        data["policy"]["waivers"] = [{k: v for k, v in entry.items() if v is not None}]
    return data


def run_check(data: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str],
              *args: str) -> tuple[int, str, str, list[str]]:
    path = tmp_path / "copy.yaml"
    text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    code = main(["check", str(path), "--today", "2026-02-01", *args])
    out, err = capsys.readouterr()
    return code, out, err, text.splitlines()


def line_of(lines: list[str], text: str) -> int:
    """The 1-based line of the first line containing `text` after `policy:`."""
    start = lines.index("policy:")
    return next(i for i, line in enumerate(lines, 1) if i > start and text in line)


def test_a_reviewed_waiver_covers_its_finding(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, _ = run_check(hybrid_over_budget(), tmp_path, capsys)
    assert code == 1, err
    assert "           waive: {rule: power-site-budget, resource: dc1}\n" in out
    code, out, err, _ = run_check(hybrid_over_budget(resource="dc1"), tmp_path, capsys)
    assert code == 0, err
    assert "  WAIVED   [critical] power-site-budget: site dc1: IT load 272 kW" in out


def test_a_critical_waiver_without_an_approver_exits_2(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, lines = run_check(hybrid_over_budget(approver=None), tmp_path, capsys)
    path = tmp_path / "copy.yaml"
    assert code == 2 and out == ""
    assert err == (
        f"{path}:{line_of(lines, '- rule: power-site-budget')}: policy.waivers[0].approver: "
        "power-site-budget is a critical rule: its waiver needs an approver other than the "
        "owner (facilities@acme); add approver: <who approved it>\n"
        "1 error: the blueprint was not loaded\n")


def test_a_critical_waiver_approved_by_its_owner_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err, lines = run_check(hybrid_over_budget(approver="Facilities@acme"), tmp_path,
                                    capsys)
    assert code == 2
    assert err == (
        f"{tmp_path / 'copy.yaml'}:{line_of(lines, 'approver: Facilities@acme')}: "
        "policy.waivers[0].approver: power-site-budget is a critical rule: the approver "
        "(Facilities@acme) is the owner; a second person approves waivers of critical and high "
        "rules\n1 error: the blueprint was not loaded\n")


def test_a_waiver_longer_than_the_maximum_exits_2(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err, lines = run_check(hybrid_over_budget(expires="2099-12-31"), tmp_path, capsys)
    assert code == 2
    assert err == (
        f"{tmp_path / 'copy.yaml'}:{line_of(lines, '2099-12-31')}: "
        "policy.waivers[0].expires: the waiver runs 27018 days, from its approval on 2026-01-10 "
        "to 2099-12-31, longer than policy.waiver_max_days (90): set expires on or before "
        "2026-04-10 and renew it by a new review\n1 error: the blueprint was not loaded\n")


def test_the_maximum_is_a_policy_setting(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    data = hybrid_over_budget(expires="2026-06-30")
    code, _, err, _ = run_check(data, tmp_path, capsys)
    assert code == 2 and "longer than policy.waiver_max_days (90)" in err
    data["policy"]["waiver_max_days"] = 180
    code, _, err, _ = run_check(data, tmp_path, capsys)
    assert code == 0, err


def test_a_waiver_that_matches_nothing_exits_2_with_did_you_mean(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, lines = run_check(hybrid_over_budget(resource="dc-1"), tmp_path, capsys)
    assert code == 2 and out == ""
    assert err == (
        f"{tmp_path / 'copy.yaml'}:{line_of(lines, 'resource: dc-1')}: "
        "policy.waivers[0].resource: 'dc-1' is not a subject of power-site-budget: did you "
        "mean 'dc1'? it fails on dc1; name the subject as `aifactory check` prints it after "
        "'waive:', or remove the waiver\n1 error: the blueprint was not loaded\n")


def test_a_waiver_of_a_passing_subject_exits_2(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    data["policy"]["waivers"] = [{"rule": "power-rack-density", "resource": "dc1/r2", **REVIEW}]
    code, _, err, lines = run_check(data, tmp_path, capsys)
    assert code == 2
    assert err == (
        f"{tmp_path / 'copy.yaml'}:{line_of(lines, 'resource: dc1/r2')}: "
        "policy.waivers[0].resource: power-rack-density passes on 'dc1/r2', so the waiver "
        "covers nothing: remove it\n1 error: the blueprint was not loaded\n")


def test_a_waiver_of_a_rule_that_does_not_apply_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "cloud-aws.yaml").read_text())
    data["policy"] = {"waivers": [{"rule": "power-site-budget", "resource": "dc1", **REVIEW}]}
    code, _, err, lines = run_check(data, tmp_path, capsys)
    assert code == 2
    assert err == (
        f"{tmp_path / 'copy.yaml'}:{line_of(lines, '- rule: power-site-budget')}: "
        "policy.waivers[0].rule: power-site-budget does not apply to this factory, so the "
        "waiver covers nothing: remove it\n1 error: the blueprint was not loaded\n")


def test_a_pool_named_in_a_quota_finding_waives_it(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "cloud-aws.yaml").read_text())
    data["pools"]["train-h100"]["max_nodes"] = 5  # 960 vCPUs of a 768 quota
    code, out, _, _ = run_check(data, tmp_path, capsys)
    assert code == 1
    assert ("           waive: {rule: capacity-aws-quota, resource: aws-prod} (or resource: "
            "train-h100)\n") in out
    data["policy"] = {"waivers": [{"rule": "capacity-aws-quota", "resource": "train-h100",
                                   **REVIEW, "owner": "ml-platform"}]}
    code, out, err, _ = run_check(data, tmp_path, capsys)
    assert code == 0, err
    assert "  WAIVED   [high] capacity-aws-quota: account 123456789012" in out


def test_waivers_of_manifest_rules_are_judged_only_with_manifests(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "cloud-aws.yaml").read_text())
    data["policy"] = {"waivers": [{"rule": "manifest-ckv-aif-1", "resource": "Job/nothing",
                                   **REVIEW}]}
    code, _, err, _ = run_check(data, tmp_path, capsys)
    assert code == 0, err
