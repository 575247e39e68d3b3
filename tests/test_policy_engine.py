"""The engine: waivers (valid, expired, unused), rule conventions, defaults, broken rules."""

from __future__ import annotations

import pkgutil
from datetime import date

import pytest
from policy_fixtures import inputs, load

import policies.rules as rules_pkg
from blueprints.spec.models import PolicySettings
from policies import BY_NAME, RULES, Finding, Rule, evaluate
from policies.kinds import tag_field
from policies.view import DEFAULT_SETTINGS

TODAY = date(2026, 1, 15)


def over_budget(*waivers: dict) -> dict:
    plan = load("power-site")
    inputs(plan, "dc1")["powerBudgetKw"] = 200
    inputs(plan, "acme-onprem")["waivers"] = list(waivers)
    return plan


def waiver(**kw: str) -> dict:
    return {"rule": "power-site-budget", "resource": "dc1", "reason": "second hall opens in Q2",
            "owner": "facilities@acme", "expires": "2026-03-31", **kw}


def test_waived_violation_is_reported_and_passes() -> None:
    result = evaluate(over_budget(waiver()), [BY_NAME["power-site-budget"]], today=TODAY)
    [v] = result.violations
    assert v.status == "waived" and result.passed and result.exit_code() == 0
    assert v.message.endswith("(waived by facilities@acme until 2026-03-31: second hall opens "
                              "in Q2)")
    assert [o.state for o in result.outcomes] == ["waived"]


def test_waiver_is_valid_through_its_expiry_day() -> None:
    result = evaluate(over_budget(waiver(expires="2026-01-15")), today=TODAY)
    assert [v.status for v in result.violations] == ["waived"]


def test_expired_waiver_fails_again_and_says_so() -> None:
    result = evaluate(over_budget(waiver(expires="2026-01-14")), [BY_NAME["power-site-budget"]],
                      today=TODAY)
    [v] = result.violations
    assert v.status == "failed" and result.exit_code() == 1
    assert v.message == ("site dc1: IT load 172.8 kW x PUE 1.25 = 216 kW facility load exceeds "
                         "the budget of 200 kW by 16 kW (8% over) (waiver by facilities@acme "
                         "expired on 2026-01-14: second hall opens in Q2)")


@pytest.mark.parametrize("resource", ["*", "dc1", "urn:pulumi:test::ai-factory::"
                                      "aifactory:factory:Factory$aifactory:baremetal:Site::dc1"])
def test_waiver_names_the_resource_by_name_urn_or_wildcard(resource: str) -> None:
    result = evaluate(over_budget(waiver(resource=resource)), today=TODAY)
    assert [v.status for v in result.violations] == ["waived"]


def test_waiver_of_another_resource_or_rule_does_not_apply() -> None:
    result = evaluate(over_budget(waiver(resource="dc2"), waiver(rule="power-rack-cooling")),
                      today=TODAY)
    assert [v.status for v in result.violations] == ["failed"]
    assert [(w.rule, w.resource) for w in result.unused_waivers] == [
        ("power-site-budget", "dc2"), ("power-rack-cooling", "dc1")]


def test_rack_findings_are_waived_by_site_and_rack() -> None:
    plan = over_budget(waiver(rule="power-rack-cooling", resource="dc1/r1"))
    inputs(plan, "dc1")["racks"][0]["cooling"] = "air"
    result = evaluate(plan, [BY_NAME["power-rack-cooling"]], today=TODAY)
    assert [(v.subject, v.status) for v in result.violations] == [("dc1/r1", "waived")]


def test_a_broken_rule_fails_the_check_instead_of_passing() -> None:
    def boom(view: object) -> list[Finding]:
        raise KeyError("gpus")

    rule = Rule(name="test-broken-rule", domain="power", severity="low", description="d",
                remediation="r", enforcement="mandatory", check=boom)
    result = evaluate(load("power-site"), [rule], today=TODAY)
    assert [v.message for v in result.failed] == ["rule could not run: KeyError: 'gpus'"]


def test_defaults_agree_with_the_spec() -> None:
    spec = PolicySettings()
    assert DEFAULT_SETTINGS["breakEvenUtilisation"] == spec.break_even_utilisation
    assert DEFAULT_SETTINGS["plannedUtilisation"] == spec.planned_utilisation
    assert DEFAULT_SETTINGS["airCoolingLimitKw"] == spec.air_cooling_limit_kw
    assert DEFAULT_SETTINGS["rearDoorLimitKw"] == spec.rear_door_limit_kw
    assert DEFAULT_SETTINGS["hostOverheadW"] == spec.host_overhead_w


def test_rules_follow_the_conventions() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names)) == 30
    modules = sorted(m.name for m in pkgutil.iter_modules(rules_pkg.__path__))
    assert modules == sorted(n.replace("-", "_") for n in names), "one rule a file, named after it"
    for r in RULES:
        assert r.description.endswith(".") and r.remediation and r.check is not None
        assert r.name.startswith(r.domain + "-") and len(r.name.split("-")) >= 3, r.name
    assert {r.name for r in RULES if r.enforcement == "advisory"} == {
        "capacity-utilisation-advisory"}


@pytest.mark.parametrize("name", ["Site_Power", "site-power", "power-site-"])
def test_rule_names_must_be_domain_subject_rule(name: str) -> None:
    with pytest.raises(ValueError, match="is not kebab-case <domain>-<subject>-<rule>"):
        Rule(name=name, domain="power", severity="low", description="d.",
             remediation="r", enforcement="mandatory", check=None)


def test_taggable_types_are_read_from_the_provider_sdks() -> None:
    assert tag_field("aws:s3/bucket:Bucket") == "tags"
    assert tag_field("aws:ec2/launchTemplate:LaunchTemplate") == "tags"
    assert tag_field("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") is None
    assert tag_field("aws:iam/rolePolicyAttachment:RolePolicyAttachment") is None
    assert tag_field("gcp:storage/bucket:Bucket") == "labels"
    assert tag_field("gcp:container/cluster:Cluster") == "resourceLabels"
    assert tag_field("gcp:container/nodePool:NodePool") == "nodeConfig.resourceLabels"
    assert tag_field("gcp:compute/firewall:Firewall") is None
    assert tag_field("kubernetes:apps/v1:Deployment") is None
