"""An own site end to end: stack secrets, host facts, and the site figures in the offline plan."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
import yaml
from conftest import EXAMPLES, ROOT, over_budget, spec_from_yaml
from test_baremetal_spec import site_spec

from aifactory.plan.document import plan_blueprint
from aifactory.plan.recorder import record
from blueprints.compose import compose
from blueprints.compose.facts import host_facts
from blueprints.compose.onprem import OFFLINE_SECRET, offline_config, secret_config_keys
from blueprints.spec import Blueprint, load


def site_only(data: dict[str, Any]) -> dict[str, Any]:
    """The hybrid example without its AWS environment and what lives there."""
    data = dict(data)
    data["environments"] = {k: v for k, v in data["environments"].items()
                            if v["kind"] == "onprem"}
    data["pools"] = {k: v for k, v in data["pools"].items()
                     if v["environment"] in data["environments"]}
    for section in ("lakehouse", "registry"):
        data.pop(section, None)
    data["training_storage"] = {k: v for k, v in data.get("training_storage", {}).items()
                                if v["environment"] in data["environments"]}
    # no EKS pool is left to scale and no FSx to mount: Karpenter's, the EFA plugin's and the
    # FSx CSI driver's images leave the mirror's lock
    images = data["sovereignty"]["mirror"]["images"]
    data["sovereignty"] = {**data["sovereignty"], "mirror": {
        **data["sovereignty"]["mirror"],
        "images": {k: v for k, v in images.items()
                   if "/karpenter/" not in k and "aws-efa-k8s-device-plugin" not in k
                   and "fsx-csi-driver" not in k and "/csi-components/" not in k}}}
    return data


def hybrid_data() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text(encoding="utf-8"))


def spec_of(data: dict[str, Any]) -> Blueprint:
    return spec_from_yaml(yaml.safe_dump(data, sort_keys=False))


def test_stack_secrets_a_site_needs() -> None:
    site = load(EXAMPLES / "hybrid.yaml").environments["dc1"]
    assert secret_config_keys(site) == [  # type: ignore[arg-type]
        "aifactory:dc1_bmc_r1", "aifactory:dc1_bmc_r2", "aifactory:dc1_bmc_r3",
        "aifactory:dc1_bmc_r4", "aifactory:dc1_join_token", "aifactory:dc1_kubeconfig"]


def test_a_missing_stack_secret_is_a_clear_error() -> None:
    spec = site_spec()
    with pytest.raises(pulumi.RunError) as e:
        record(lambda: compose(spec), project="test", stack="test", config={}, secret_keys=[])
    assert str(e.value) == (
        "Missing required configuration variable 'aifactory:dc1_kubeconfig'\n"
        "\tplease set a value using the command `pulumi config set --secret "
        "aifactory:dc1_kubeconfig <value>`")


def test_record_restores_the_config_it_was_given() -> None:
    spec = site_spec()
    record(lambda: compose(spec), project="test", stack="test", config=offline_config(spec),
           secret_keys=list(offline_config(spec)))
    assert pulumi.Config("aifactory").get("dc1_kubeconfig") is None


def test_host_facts_of_a_dgx_h100() -> None:
    spec = load(EXAMPLES / "hybrid.yaml")
    site = spec.environments["dc1"]
    facts = host_facts("dc1", site.hosts[0], spec.policy.host_overhead_w)  # type: ignore[union-attr]
    assert facts == {"environment": "dc1", "hostname": "dc1-dgx01", "rack": "r1",
                     "serverModel": "dgx-h100", "gpuModel": "h100-sxm5", "gpus": 8,
                     "itLoadKw": 10.2, "serverCooling": "air", "role": "gpu",
                     "storageTb": 0.0}


def test_site_only_plan_shows_the_power_envelope() -> None:
    spec = spec_of(site_only(hybrid_data()))
    plan = plan_blueprint(spec, "site-only.yaml")
    site = plan["summary"]["sites"]
    dgx_racks = [{"rack": f"r{i}", "itKw": 40.8, "hostsKw": 40.8, "otherKw": 0.0,
                  "limitKw": 50, "cooling": "liquid",
                  "hosts": [f"dc1-dgx{n:02d}" for n in range(4 * i - 3, 4 * i + 1)]}
                 for i in range(1, 5)]
    assert site == [{
        "site": "dc1", "country": "DE", "hosts": 16, "gpus": 128,
        "hostRoles": {"gpu": 16}, "storageTb": 0.0,
        "itKw": 183.2, "hostsKw": 163.2, "otherKw": 20.0, "pue": 1.3, "facilityKw": 238.16,
        "budgetKw": 300, "headroomKw": 61.84, "headroomPct": 20.6,
        "feeds": {"aKw": 250, "bKw": 250},
        "racks": [*dgx_racks, {"rack": "net1", "itKw": 20.0, "hostsKw": 0.0, "otherKw": 20.0,
                               "limitKw": 25, "cooling": "air", "hosts": []}],
        # 61.84 kW of headroom / (10.2 kW x 1.3) = 4; feeds: (250 - 183.2) / 10.2 = 6; every
        # rack is too full for one more 10.2 kW server
        "fitsMore": [{"serverModel": "dgx-h100", "serverKw": 10.2, "total": 0, "budget": 4,
                      "feeds": 6, "racks": {"r1": 0, "r2": 0, "r3": 0, "r4": 0, "net1": 0}}],
    }]
    types = plan["summary"]["byType"]
    assert types["aifactory:baremetal:Host"] == 16
    assert types["kubernetes:metal3.io/v1alpha1:BareMetalHost"] == 16
    assert types["aifactory:baremetal:GpuPool"] == 1
    bmhs = [r for r in plan["resources"]
            if r["type"] == "kubernetes:metal3.io/v1alpha1:BareMetalHost"]
    assert all(r["protect"] for r in bmhs)
    provider = next(r for r in plan["resources"] if r["type"] == "pulumi:providers:kubernetes"
                    and r["name"] == "dc1-kubernetes")
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert OFFLINE_SECRET not in json.dumps(plan)


def test_a_site_over_its_budget_shows_negative_headroom() -> None:
    data = site_only(hybrid_data())
    over_budget(data)
    plan = plan_blueprint(spec_of(data), "over-budget.yaml")
    (summary,) = plan["summary"]["sites"]
    assert (summary["hosts"], summary["itKw"], summary["facilityKw"]) == (26, 272.0, 353.6)
    assert summary["headroomKw"] == -53.6
    from policies.engine import evaluate

    failed = [(v.rule.name, v.message) for v in evaluate(plan).failed
              if v.rule.name == "power-site-budget"]
    assert failed == [("power-site-budget", "site dc1: IT load 272 kW x PUE 1.3 = 353.6 kW "
                       "facility load exceeds the budget of 300 kW by 53.6 kW (17.9% over)")]


def test_hybrid_example_plans_offline() -> None:
    spec = load(EXAMPLES / "hybrid.yaml")
    plan = plan_blueprint(spec, str((EXAMPLES / "hybrid.yaml").relative_to(ROOT)))
    summary = plan["summary"]
    assert summary["sites"][0]["facilityKw"] == 238.16  # 16 DGX H100 + 20 kW in rack net1
    pools = {p["pool"]: p for p in summary["pools"]}
    assert pools["dc1-h100"]["cloud"] == "onprem"
    assert pools["burst-h100-spot"]["cloud"] == "aws"
    assert OFFLINE_SECRET not in json.dumps(plan)
