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
    # one cause: the new environment's region; the lakehouse bucket is among what it affects
    causes = [line.strip() for line in out.splitlines() if line.strip().startswith("CAUSE")]
    assert causes == ["CAUSE    [critical] environments.gcp-us.region = us-central1: outside EU "
                      "(22 violations of 3 rules)"], out
    [region] = [line.strip() for line in out.splitlines()
                if line.strip().startswith("- sovereignty-resource-region:")]
    assert "gcp-us-lakehouse-raw" in region.split(", "), region
    # the Iceberg catalog moves with its warehouse bucket, and is refused with it
    assert "gcp-us-iceberg-catalog-catalog" in region.split(", "), region
    assert not [line for line in out.splitlines() if line.strip().startswith("FAILED")], out


def test_sovereign_copy_with_one_region_moved_out_gives_one_grouped_cause(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example("sovereign-eu")
    data["environments"]["aws-eu"].update(
        region="us-east-1", availability_zones=["us-east-1a", "us-east-1b", "us-east-1c"])
    code, out = check(data, tmp_path, capsys)
    assert code == 1
    assert out.splitlines()[0].endswith("FAILED: 9 mandatory violations, 0 advisories, 0 waived")
    lines = [line.strip() for line in out.splitlines()]
    start = lines.index("Violations")
    assert lines[start + 1:start + 6] == [
        "CAUSE    [critical] environments.aws-eu.region = us-east-1: outside EU (9 violations "
        "of 3 rules)",
        "fix: move environment aws-eu to a region in EU (eu-central-1, eu-north-1, eu-south-1, "
        "eu-south-2, eu-west-1, eu-west-3, eusc-de-east-1); everything it holds moves with it",
        "- sovereignty-resource-region: aws-eu, aws-eu-aws",
        "- sovereignty-telemetry-destination: aws-eu-eks-control-plane-logs, "
        "aws-eu-network-flow-logs, aws-eu-network-flow-log",
        # burst-l40s has no launch template: Karpenter launches it (its node class names
        # the key, and the key itself is the resource in the moved region)
        "- sovereignty-key-region: aws-eu-eks-control-plane-logs, "
        "aws-eu-eks-system-launch-template, aws-eu-eks-cluster, aws-eu-network-flow-logs",
    ], out
    assert lines[start + 6] == "", out  # nothing else fails


def test_sovereign_copy_with_the_gcp_region_moved_out_gives_one_grouped_cause(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the registry and the mirror it holds move with the region: their images are the same cause
    data = example("sovereign-eu")
    data["environments"]["gcp-eu"].update(
        region="us-central1", zones=["us-central1-a", "us-central1-b", "us-central1-c"])
    code, out = check(data, tmp_path, capsys)
    assert code == 1
    causes = [line.strip() for line in out.splitlines() if line.strip().startswith("CAUSE")]
    assert causes == ["CAUSE    [critical] environments.gcp-eu.region = us-central1: outside EU "
                      "(116 violations of 5 rules)"], out  # no unrequested PyPI repository; the
    # Managed Lustre instance moves too (its zone and its key's region: two more),
    # and the catalog, the pipelines' and the drift watch's images in the moved registry
    assert not [line for line in out.splitlines() if line.strip().startswith("FAILED")], out


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
    assert ("FAILED   [critical] power-site-budget: site dc1: IT load 272 kW x PUE 1.3 = "
            "353.6 kW facility load exceeds the budget of 300 kW by 53.6 kW (17.9% over)"
            ) in out
