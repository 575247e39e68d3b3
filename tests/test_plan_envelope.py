"""Power, cost and capacity in the plan: GPU board power of cloud pools, snapshot prices (spot at
spot), a site's non-GPU equipment in its IT load, and how many more servers fit."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, spec_from_yaml

import catalog
from aifactory.plan import format as plan_format
from aifactory.plan.document import plan_blueprint
from blueprints import envelope

L4_VM = """\
name: acme
tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
environments:
  prod:
    kind: aws
    account_id: "123456789012"
    region: eu-west-2
    availability_zones: [eu-west-2a, eu-west-2b]
    quotas: {on_demand_g_vt_vcpus: 64, spot_g_vt_vcpus: 64}
pools:
  infer:
    environment: prod
    instance_type: g6.xlarge
    min_nodes: 1
    desired_nodes: 2
    max_nodes: 4
  batch:
    environment: prod
    instance_type: g6.xlarge
    min_nodes: 0
    desired_nodes: 1
    max_nodes: 8
    capacity: spot
    interruption_tolerant: true
"""


@pytest.fixture(scope="module")
def l4_plan() -> dict[str, Any]:
    return plan_blueprint(spec_from_yaml(L4_VM), "l4.yaml")


def pool(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in plan["summary"]["pools"] if p["pool"] == name)


def test_a_one_l4_vm_counts_the_l4s_72_watts(l4_plan) -> None:  # type: ignore[no-untyped-def]
    facts = next(r["inputs"] for r in l4_plan["resources"]
                 if r["type"] == "aifactory:aws:GpuNodePool" and r["name"] == "prod-infer")
    assert facts["gpuBoardPowerW"] == 72
    infer = pool(l4_plan, "infer")
    assert (infer["power_kw_desired"], infer["power_basis"]) == (0.144, "gpu-board")  # 2 x 72 W
    assert l4_plan["summary"]["cloudGpuBoardKwDesired"] == 0.22  # 3 nodes at desired size
    assert l4_plan["summary"]["siteItKw"] == 0


def test_spot_pools_are_priced_at_the_snapshots_spot_price(l4_plan) -> None:  # type: ignore[no-untyped-def]
    offer = catalog.instance("g6.xlarge").offer("eu-west-2")
    assert offer is not None and offer.spot_usd_per_hour is not None
    batch = pool(l4_plan, "batch")
    assert batch["usd_per_hour"] == {"min": 0.0, "desired": round(offer.spot_usd_per_hour, 2),
                                     "max": round(offer.spot_usd_per_hour * 8, 2)}
    assert batch["price_basis"] == "spot price (snapshot: the median of the region's zones)"
    infer = pool(l4_plan, "infer")
    on_demand = offer.on_demand_usd_per_hour
    assert on_demand is not None
    assert infer["usd_per_hour"]["desired"] == round(on_demand * 2, 2)
    assert infer["usd_per_month_desired"] == round(round(on_demand * 2, 2) * 730, 2)
    assert infer["price_basis"] == "on-demand list price (snapshot)"
    assert offer.spot_usd_per_hour < on_demand


def test_cost_at_min_desired_and_max_with_cluster_fees_and_what_is_left_out(l4_plan) -> None:  # type: ignore[no-untyped-def]
    cost = l4_plan["summary"]["cost"]
    infer, batch = pool(l4_plan, "infer"), pool(l4_plan, "batch")
    for size in ("min", "desired", "max"):
        assert cost["usdPerHour"][size] == round(
            infer["usd_per_hour"][size] + batch["usd_per_hour"][size] + 0.10, 2)
    assert cost["controlPlaneUsdPerHour"] == 0.1 and cost["clusters"] == {"aws": 1}
    assert cost["usdPerMonthDesired"] == round(cost["usdPerHour"]["desired"] * 730, 2)
    assert cost["priceSnapshot"] == "2026-12-01"
    assert "NAT gateways and Cloud NAT" in cost["notCosted"]
    text = plan_format.render(l4_plan)
    assert "Cloud cost (prices from the instance snapshot of 2026-12-01):" in text
    assert f"{cost['usdPerHour']['max']:,.2f}/h at maximum size" in text
    assert "Not included: NAT gateways and Cloud NAT, block storage of the nodes" in text


def test_a_capacity_block_is_not_priced_and_says_so() -> None:
    text = L4_VM.replace("instance_type: g6.xlarge\n    min_nodes: 1",
                         "instance_type: p5.48xlarge\n    min_nodes: 1").replace(
        "    max_nodes: 4\n", "    max_nodes: 4\n    capacity: capacity-block\n"
        "    reservation: cr-0123456789abcdef0\n")
    plan = plan_blueprint(spec_from_yaml(text), "cb.yaml")
    assert pool(plan, "infer")["usd_per_hour"] is None
    assert plan["summary"]["cost"]["unpricedPools"] == ["infer"]
    assert "Not priced: infer (no price in the snapshot, or a Capacity Block)." in \
        plan_format.render(plan)


# ---------------------------------------------------------------------------------------------
# A site: declared equipment and how many more servers fit


def hybrid_site(switch_kw: float) -> dict[str, Any]:
    """The hybrid example's site alone, its rack net1 holding `switch_kw` of switches only."""
    data = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    data["environments"] = {"dc1": data["environments"]["dc1"]}
    data["pools"] = {"dc1-h100": data["pools"]["dc1-h100"]}
    for section in ("lakehouse", "registry", "training_storage"):
        data.pop(section)
    # no EKS pool left: no Karpenter, EFA or FSx CSI image; no fabric: no network operator
    images = data["sovereignty"]["mirror"]["images"]
    data["sovereignty"]["mirror"]["images"] = {
        k: v for k, v in images.items() if "/karpenter/" not in k and not any(
            part in k for part in ("aws-efa-k8s-device-plugin", "/mellanox/",
                                   "network-operator", "fsx-csi-driver", "/csi-components/"))}
    del data["environments"]["dc1"]["fabric"]
    data["environments"]["dc1"]["racks"]["net1"] = {
        "power_limit_kw": 25, "cooling": "air",
        "equipment": [{"kind": "switch", "name": "spine", "count": 4, "kw": switch_kw / 4}]}
    return data


def test_declared_switches_count_in_the_sites_it_load_and_fits_more_is_in_the_plan() -> None:
    plan = plan_blueprint(spec_from_yaml(yaml.safe_dump(hybrid_site(20.0))), "site.yaml")
    [site] = plan["summary"]["sites"]
    assert (site["hostsKw"], site["otherKw"], site["itKw"]) == (163.2, 20.0, 183.2)
    assert site["facilityKw"] == 238.16  # 183.2 kW x PUE 1.3
    net1 = next(r for r in site["racks"] if r["rack"] == "net1")
    assert (net1["hostsKw"], net1["otherKw"], net1["itKw"]) == (0.0, 20.0, 20.0)
    assert site["fitsMore"] == [{
        "serverModel": "dgx-h100", "serverKw": 10.2, "total": 0, "budget": 4, "feeds": 6,
        "racks": {"r1": 0, "r2": 0, "r3": 0, "r4": 0, "net1": 0}}]
    text = plan_format.render(plan)
    assert ("IT load 163.2 kW hosts + 20.0 kW other equipment = 183.2 kW x PUE 1.3 = facility "
            "load 238.2 kW of 300.0 kW budget; headroom 61.8 kW (20.6%).") in text
    assert ("Fits 0 more dgx-h100 (10.2 kW each): budget 4, feeds 6, racks net1 0, r1 0, r2 0, "
            "r3 0, r4 0.") in text


def test_the_power_rules_see_the_declared_equipment() -> None:
    from policies.engine import evaluate

    data = hybrid_site(20.0)
    data["environments"]["dc1"]["feeds"] = {"a_kw": 180, "b_kw": 250}
    plan = plan_blueprint(spec_from_yaml(yaml.safe_dump(data)), "site.yaml")
    failed = [v.message for v in evaluate(plan).failed if v.rule.name == "power-feed-redundancy"]
    assert failed == ["site dc1: IT load 183.2 kW does not fit on feed A (180 kW) if the other "
                      "feed fails: 3.2 kW short"]


def site_facts(racks: list[dict[str, Any]], feeds: dict[str, float] | None = None,
               budget: float = 100.0) -> dict[str, Any]:
    return {"environment": "dc1", "country": "DE", "powerBudgetKw": budget, "pue": 1.25,
            "feeds": feeds, "racks": racks}


def host(name: str, rack: str, kw: float = 10.2, model: str = "dgx-h100",
         cooling: str = "air") -> dict[str, Any]:
    return {"environment": "dc1", "hostname": name, "rack": rack, "serverModel": model,
            "itLoadKw": kw, "gpus": 8, "serverCooling": cooling}


SETTINGS = {"airCoolingLimitKw": 30.0, "rearDoorLimitKw": 60.0}


def test_fits_more_takes_the_tightest_of_budget_feeds_and_racks() -> None:
    racks = [{"name": "a", "powerLimitKw": 50, "cooling": "liquid", "otherKw": 2.0},
             {"name": "b", "powerLimitKw": 50, "cooling": "air",
              "equipment": [{"kind": "storage", "name": "nas", "count": 2, "kw": 1.5}]}]
    s = envelope.site_power(site_facts(racks, feeds={"aKw": 60, "bKw": 70}),
                            [host("h1", "a"), host("h2", "b")], SETTINGS)
    assert (s.hosts_kw, s.other_kw, s.it_kw) == (20.4, 5.0, 25.4)
    [fit] = s.fits
    # budget: (100 - 25.4 x 1.25) / (10.2 x 1.25) = 5.35 -> 5; feeds: (60 - 25.4) / 10.2 -> 3
    # rack a (liquid): (50 - 12.2) / 10.2 -> 3; rack b (air, capped at 30 kW): (30 - 13.2) -> 1
    assert (fit.budget, fit.feeds, dict(fit.racks), fit.total) == (5, 3, {"a": 3, "b": 1}, 3)


def test_a_liquid_cooled_server_fits_only_liquid_racks() -> None:
    racks = [{"name": "air", "powerLimitKw": 200, "cooling": "air"},
             {"name": "wet", "powerLimitKw": 200, "cooling": "liquid"}]
    s = envelope.site_power(site_facts(racks, budget=1000),
                            [host("n1", "wet", 132.0, "gb200-nvl72", "liquid")], SETTINGS)
    [fit] = s.fits
    assert dict(fit.racks) == {"air": 0, "wet": 0}  # 68 kW left in rack wet: no 132 kW rack
    assert fit.budget == 5 and fit.feeds is None and fit.total == 0


def test_an_equipment_entry_needs_its_power(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from test_baremetal_spec import site_yaml

    from blueprints.spec import BlueprintError

    text = site_yaml().replace("      r1: {power_limit_kw: 45, cooling: liquid}",
                               "      r1: {power_limit_kw: 45, cooling: liquid, equipment: "
                               "[{kind: switch, name: leaf}]}")
    with pytest.raises(BlueprintError) as e:
        spec_from_yaml(text, "bp.yaml")
    assert [str(p) for p in e.value.problems] == [
        "bp.yaml:11: environments.dc1.racks.r1.equipment[0].kw: required key 'kw' is missing: "
        "add it"]


def test_a_plan_with_broken_equipment_is_refused_at_its_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from conftest import ROOT

    from aifactory.plan.document import load_plan
    from aifactory.plan.shape import PlanError

    plan = json.loads((ROOT / "tests/golden/hybrid.plan.json").read_text())
    site = next(i for i, r in enumerate(plan["resources"])
                if r["type"] == "aifactory:baremetal:Site")
    plan["resources"][site]["inputs"]["racks"][4]["equipment"][0]["kw"] = -1
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    with pytest.raises(PlanError) as e:
        load_plan(path)
    assert f"resources[{site}].inputs.racks[4].equipment[0].kw: -1 must be above 0 in " \
        "aifactory:baremetal:Site dc1" in str(e.value)
