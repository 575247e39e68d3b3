"""The issues' "done when" cases, end to end through `aifactory check` on copies of the examples.

A reviewer reads these as the product's promises: a sovereign factory whose data leaves the
jurisdiction, and an own site with more servers than its power budget, are refused before
anything is deployed, with the resource, the rule and the figures.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import over_budget

from aifactory.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "blueprints" / "examples"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    return data


def check(data: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[
        int, str]:
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code = main(["check", str(path)])
    captured = capsys.readouterr()
    assert code != 2, captured.err  # the copy itself must load
    return code, captured.out


def test_sovereign_copy_with_the_lakehouse_outside_the_eu_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example("sovereign-eu")
    us = copy.deepcopy(data["environments"]["gcp-eu"])
    us.update(region="us-central1", zones=["us-central1-a"], gpu_quotas={},
              subnet_cidr="10.50.0.0/20", pods_cidr="10.52.0.0/14",
              services_cidr="10.56.0.0/20", master_cidr="172.16.2.0/28")
    data["environments"]["gcp-us"] = us
    data["lakehouse"]["environment"] = "gcp-us"
    code, out = check(data, tmp_path, capsys)
    assert code == 1
    failed = [line.strip() for line in out.splitlines() if line.strip().startswith("FAILED")]
    bucket = [line for line in failed if "sovereignty-resource-region" in line
              and "gcp-us-lakehouse-raw" in line]
    assert bucket, out
    assert "us-central1" in bucket[0].lower() or "US-CENTRAL1" in bucket[0], bucket[0]


def test_sovereign_copy_with_a_pool_where_its_type_is_not_offered_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example("sovereign-eu")
    aws = data["environments"]["aws-eu"]
    aws.update(region="eu-west-1", availability_zones=["eu-west-1a", "eu-west-1b"])
    code, out = check(data, tmp_path, capsys)
    assert code == 1
    assert ("FAILED   [high] capacity-instance-availability: pool burst-l40s: g6e.12xlarge is "
            "not offered in eu-west-1") in out


def test_hybrid_copy_with_four_servers_more_than_the_budget_allows_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example("hybrid")
    fits, count = over_budget(data)
    code, out = check(data, tmp_path, capsys)
    assert (fits, count) == (22, 26)
    assert code == 1
    assert ("FAILED   [critical] power-site-budget: site dc1: IT load 265.2 kW x PUE 1.3 = "
            "344.76 kW facility load exceeds the budget of 300 kW by 44.76 kW (14.9% over)"
            ) in out
