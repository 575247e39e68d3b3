"""Power envelope rules on the readable fixture tests/fixtures/policies/power-site.yaml."""

from __future__ import annotations

from datetime import date

import pytest
from policy_fixtures import inputs, load, resource

from policies import BY_NAME, PlanView, evaluate
from policies.envelope import site_power

TODAY = date(2026, 1, 15)


def messages(plan: dict, rule: str) -> list[str]:
    result = evaluate(plan, [BY_NAME[rule]], today=TODAY)
    return [v.message for v in result.violations]


@pytest.fixture
def site() -> dict:
    return load("power-site")


def test_site_envelope_figures(site: dict) -> None:
    [s] = site_power(PlanView.of_plan(site))
    assert (s.it_kw, s.pue, s.facility_kw, s.budget_kw) == (172.8, 1.25, 216.0, 250.0)
    assert (s.headroom_kw, s.headroom_pct) == (34.0, 13.6)
    assert [(r.rack, r.it_kw, r.limit_kw) for r in s.racks] == [("r1", 40.8, 45.0),
                                                              ("r2", 132.0, 140.0)]


@pytest.mark.parametrize("rule", ["power-site-budget", "power-feed-redundancy",
                                  "power-rack-density", "power-rack-cooling",
                                  "capacity-utilisation-advisory"])
def test_site_within_envelope_passes(site: dict, rule: str) -> None:
    assert messages(site, rule) == []


def test_site_over_budget_fails_with_figures(site: dict) -> None:
    inputs(site, "dc1")["powerBudgetKw"] = 200
    result = evaluate(site, [BY_NAME["power-site-budget"]], today=TODAY)
    [v] = result.violations
    assert v.message == ("site dc1: IT load 172.8 kW x PUE 1.25 = 216 kW facility load exceeds "
                         "the budget of 200 kW by 16 kW (8% over)")
    assert v.status == "failed" and result.exit_code() == 1
    assert dict(v.finding.details) == {"itKw": 172.8, "pue": 1.25, "facilityKw": 216.0,
                                       "budgetKw": 200.0, "overKw": 16.0, "headroomKw": -16.0,
                                       "headroomPct": -8.0, "hosts": 5}
    assert v.finding.spec_path == "environments.dc1.power_budget_kw"


def test_feed_too_small_for_the_whole_load(site: dict) -> None:
    inputs(site, "dc1")["feeds"] = {"aKw": 200, "bKw": 150}
    assert messages(site, "power-feed-redundancy") == [
        "site dc1: IT load 172.8 kW does not fit on feed B (150 kW) if the other feed fails: "
        "22.8 kW short"]


def test_site_without_feeds_is_not_applicable(site: dict) -> None:
    inputs(site, "dc1")["feeds"] = None
    result = evaluate(site, [BY_NAME["power-feed-redundancy"]], today=TODAY)
    assert [o.state for o in result.outcomes] == ["not-applicable"]


def test_rack_over_its_power_limit(site: dict) -> None:
    inputs(site, "dc1")["racks"][0]["powerLimitKw"] = 40
    assert messages(site, "power-rack-density") == [
        "rack r1 on site dc1 draws 40.8 kW (dgx-1, dgx-2, dgx-3, dgx-4) over its 40 kW limit "
        "by 0.8 kW"]


def test_air_cooled_rack_above_the_air_limit_needs_rear_door(site: dict) -> None:
    inputs(site, "dc1")["racks"][0]["cooling"] = "air"
    assert messages(site, "power-rack-cooling") == [
        "rack r1 on site dc1 draws 40.8 kW, above the air-cooling limit of 30 kW, but is "
        "air-cooled: it needs rear-door or liquid cooling"]


def test_rack_above_the_rear_door_limit_needs_liquid(site: dict) -> None:
    inputs(site, "dc1")["racks"][0]["powerLimitKw"] = 80
    dgx = resource(site, "dgx-1")
    for n in (5, 6, 7):
        site["resources"].append({**dgx, "urn": f"urn:dgx-{n}", "name": f"dgx-{n}",
                                  "inputs": dict(dgx["inputs"], hostname=f"dgx-{n}")})
    assert messages(site, "power-rack-cooling") == [
        "rack r1 on site dc1 draws 71.4 kW, above the rear-door limit of 60 kW, but is "
        "rear-door-cooled: it needs liquid cooling"]


def test_liquid_cooled_server_needs_a_liquid_rack(site: dict) -> None:
    inputs(site, "dc1")["racks"][1]["cooling"] = "rear-door"
    assert messages(site, "power-rack-cooling") == [
        "rack r2 on site dc1 is rear-door-cooled but holds liquid-cooled servers (nvl72-1): "
        "they need a liquid-cooled rack"]


def test_cooling_limits_come_from_the_factory_settings(site: dict) -> None:
    inputs(site, "acme-onprem")["rearDoorLimitKw"] = 40
    assert messages(site, "power-rack-cooling") == [
        "rack r1 on site dc1 draws 40.8 kW, above the rear-door limit of 40 kW, but is "
        "rear-door-cooled: it needs liquid cooling"]


def test_owned_gpus_below_break_even_are_an_advisory(site: dict) -> None:
    inputs(site, "acme-onprem")["plannedUtilisation"] = 0.4
    result = evaluate(site, [BY_NAME["capacity-utilisation-advisory"]], today=TODAY)
    [v] = result.violations
    assert v.message == ("site dc1: 104 owned GPUs are planned at 40% sustained utilisation, "
                         "below the break-even of 60% at which owning beats renting")
    assert v.status == "advisory" and result.exit_code() == 0


def test_utilisation_advisory_needs_a_planned_figure(site: dict) -> None:
    inputs(site, "acme-onprem")["plannedUtilisation"] = None
    result = evaluate(site, [BY_NAME["capacity-utilisation-advisory"]], today=TODAY)
    assert [o.state for o in result.outcomes] == ["not-applicable"]
