"""The CrossGuard pack, exercised in-process through pulumi_policy's analyzer servicer.

The servicer is what `pulumi preview --policy-pack policies/pack` talks to over gRPC; the
requests here are built from a plan the way the engine builds them: every registration is
analysed with its inputs (Analyze), then the stack with each resource's outputs (AnalyzeStack),
where a component's outputs are only what it passed to register_outputs. Properties travel as a
protobuf Struct with the provider's inputs alongside, so the same code path deserialises,
proxies unknown values and calls the policies' validate functions.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from policy_fixtures import inputs, load
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies import RULES, evaluate
from policies.crossguard import FACTS_POLICY, PACK_NAME, plain, policies

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 1, 15)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(values)
    return s


def provider_of(r: dict[str, Any], index: dict[str, dict[str, Any]]) -> dict[str, Any]:
    p = index.get(r["provider"] or "")
    if p is None:
        return {}
    return {"provider": analyzer_pb2.AnalyzerProviderResource(
        type=p["type"], properties=struct(p["inputs"]), urn=p["urn"], name=p["name"])}


def outputs(r: dict[str, Any]) -> dict[str, Any]:
    """What the engine holds as a resource's outputs at the end of a preview: a custom
    resource's inputs (and values it cannot know yet); a component's registered outputs."""
    return r["inputs"] if r["custom"] else {"registeredOutputsOnly": True}


def analyze_request(r: dict[str, Any], index: dict[str, Any]) -> analyzer_pb2.AnalyzeRequest:
    """What the engine sends to Analyze when `r` is registered."""
    return analyzer_pb2.AnalyzeRequest(
        type=r["type"], properties=struct(r["inputs"]), urn=r["urn"], name=r["name"],
        options=analyzer_pb2.AnalyzerResourceOptions(protect=r["protect"]),
        **provider_of(r, index))


def stack_request(plan: dict[str, Any]) -> analyzer_pb2.AnalyzeStackRequest:
    """What the engine sends to AnalyzeStack for the resources of a plan."""
    index = {r["urn"]: r for r in plan["resources"]}
    return analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(
            type=r["type"], properties=struct(outputs(r)), urn=r["urn"], name=r["name"],
            options=analyzer_pb2.AnalyzerResourceOptions(protect=r["protect"]),
            parent=r["parent"] or "", dependencies=r["dependencies"], **provider_of(r, index))
        for r in plan["resources"]])


def servicer(**kw: Any) -> _PolicyAnalyzerServicer:
    """The analyzer servicer PolicyPack(...) would serve, without starting the gRPC server."""
    return _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", policies(today=lambda: TODAY, **kw),
                                   EnforcementLevel.MANDATORY)


LEVELS = {analyzer_pb2.MANDATORY: "failed", analyzer_pb2.ADVISORY: "advisory"}


def preview(analyzer: Any, plan: dict[str, Any], *, context: Any = None
            ) -> tuple[list[Any], Any]:
    """Analyze every registration, then the stack, as `pulumi preview` does."""
    index = {r["urn"]: r for r in plan["resources"]}
    args = () if context is False else (context,)
    diagnostics = []
    for r in plan["resources"]:
        diagnostics += analyzer.Analyze(analyze_request(r, index), *args).diagnostics
    stack = analyzer.AnalyzeStack(stack_request(plan), *args)
    return diagnostics + list(stack.diagnostics), stack


def findings(diagnostics: list[Any]) -> set[tuple[str, str, str, str]]:
    return {(d.policyName, d.urn, LEVELS[d.enforcementLevel], d.message.split("\n", 1)[1])
            for d in diagnostics}


def pack_findings(plan: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return findings(preview(servicer(), plan)[0])


def check_findings(plan: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(v.rule.name, v.urn, v.status, v.message)
            for v in evaluate(plan, today=TODAY).violations if v.status != "waived"}


def troubled() -> dict[str, Any]:
    """Power, capacity, sovereignty and security violations in one plan, one waived."""
    plan = load("sovereign-aws")
    site = load("power-site")
    cloud = load("cloud-capacity")
    plan["resources"] += [r for r in site["resources"] + cloud["resources"]
                          if r["type"] != "aifactory:factory:Factory"]
    inputs(plan, "dc1").update(powerBudgetKw=200, feeds={"aKw": 200, "bKw": 150})
    inputs(plan, "train-h100")["maxNodes"] = 5
    inputs(plan, "gcp-west4")["gpuQuotas"]["NVIDIA_H100_GPUS"] = 24
    inputs(plan, "gpu-lt")["metadataOptions"] = {"httpTokens": "optional"}
    inputs(plan, "aws-eu-replica")["region"] = "eu-west-2"
    inputs(plan, "acme-eu").update(plannedUtilisation=0.3, waivers=[
        {"rule": "power-feed-redundancy", "resource": "dc1", "reason": "feed B upgrade booked",
         "owner": "facilities", "expires": "2026-06-30"},
        {"rule": "security-instance-imdsv2", "resource": "gpu-lt", "reason": "legacy agent",
         "owner": "platform", "expires": "2026-01-01"}])
    return plan


def test_pack_and_check_agree_on_the_same_plan() -> None:
    plan = troubled()
    found = pack_findings(plan)
    assert found == check_findings(plan)
    # the cloud pools' node groups lack keys and tags: the sovereign factory flags them too
    assert {rule for rule, *_ in found} == {
        "power-site-budget", "capacity-aws-quota", "capacity-gcp-quota",
        "capacity-utilisation-advisory", "security-instance-imdsv2",
        "sovereignty-resource-region", "sovereignty-replication-destination",
        "sovereignty-key-region", "sovereignty-store-customer-keys",
        "sovereignty-tags-residency-classification"}
    # the valid waiver hides its violation in both runners; the expired one fails in both
    assert not any(rule == "power-feed-redundancy" for rule, *_ in found)
    [imds] = [f for f in found if f[0] == "security-instance-imdsv2"]
    assert imds[2] == "failed" and "expired on 2026-01-01" in imds[3]


GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.plan.json"))
TAGGED_IMAGE = {"registry": "docker.io", "repository": "prom/prometheus", "tag": "v3.4.0"}


def golden(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def sovereign_chart_by_tag() -> dict[str, Any]:
    """The sovereign example with one chart image by tag from docker.io."""
    plan = golden(ROOT / "tests" / "golden" / "sovereign-eu.plan.json")
    [chart] = [r for r in plan["resources"] if r["name"] == "gcp-eu-platform-monitoring-chart"]
    assert chart["custom"] is False  # a helm v4 Chart is a component, as under the engine
    chart["inputs"]["values"]["prometheus"]["prometheusSpec"]["image"] = dict(TAGGED_IMAGE)
    return plan


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name.split(".")[0])
def test_pack_and_check_agree_on_every_example(path: Path) -> None:
    plan = golden(path)
    assert pack_findings(plan) == check_findings(plan)


def test_pack_and_check_agree_on_a_chart_image_by_tag() -> None:
    plan = sovereign_chart_by_tag()
    found = pack_findings(plan)
    assert found == check_findings(plan)
    [chart_image] = [f for f in found if f[0] == "sovereignty-image-registry-digest"
                     and "gcp-eu-platform-monitoring-chart" in f[3]]
    assert chart_image[2] == "failed"
    assert chart_image[3].startswith(
        "Chart gcp-eu-platform-monitoring-chart: image docker.io/prom/prometheus:v3.4.0 at "
        "prometheus.prometheusSpec.image is not pinned by digest (@sha256:...) and comes from "
        "docker.io, not an allowed registry (europe-west4-docker.pkg.dev/acme-ml-eu/")


def test_pack_and_check_agree_on_passing_plans() -> None:
    for name in ("sovereign-aws", "sovereign-gcp", "power-site", "cloud-capacity"):
        plan = load(name)
        assert pack_findings(plan) == check_findings(plan) == set()


def test_rules_that_do_not_apply_are_reported_not_applicable() -> None:
    _, response = preview(servicer(), load("cloud-capacity"))
    skipped = {n.policy_name for n in response.not_applicable}
    assert "power-site-budget" in skipped and "sovereignty-resource-region" in skipped
    assert "capacity-aws-quota" not in skipped


def test_stack_policies_read_component_facts_from_resource_analysis() -> None:
    plan = load("power-site")
    inputs(plan, "dc1")["powerBudgetKw"] = 200
    # without the registrations analysed first, the stack shows no site facts: fail closed
    alone = servicer().AnalyzeStack(stack_request(plan), None)
    assert [d.message.split("\n", 1)[1] for d in alone.diagnostics
            if d.policyName == "power-site-budget"] == ["rule could not run: KeyError: "
                                                        "'environment'"]
    assert [f[0] for f in pack_findings(plan)] == ["power-site-budget"]


def test_values_unknown_during_preview() -> None:
    plan = load("sovereign-aws")
    rule = inputs(plan, "raw-replication")["rules"][0]
    rule["destination"]["bucket"] = UNKNOWN_STRING_VALUE
    inputs(plan, "training")["encryptionConfigurations"][0]["kmsKey"] = UNKNOWN_STRING_VALUE
    inputs(plan, "aws-eu-replica")["region"] = "us-east-1"
    found = pack_findings(plan)
    assert ("sovereignty-replication-destination",
            next(r for r in plan["resources"] if r["name"] == "raw-replication")["urn"],
            "failed",
            "replication raw-replication rule 0 copies to bucket raw-replica in us-east-1, "
            "outside EU (allowed: eu-central-1, eu-north-1, eu-south-1, eu-south-2, eu-west-1, "
            "eu-west-3, eusc-de-east-1)") in found
    assert not any(f[0] == "sovereignty-store-customer-keys" for f in found)


def test_plain_turns_unknowns_into_a_marker() -> None:
    from pulumi_policy.proxy import unknown_checking_proxy

    props = unknown_checking_proxy({"a": {"b": UNKNOWN_STRING_VALUE,
                                          "c": [1, UNKNOWN_STRING_VALUE]}})
    assert plain(props) == {"a": {"b": "[unknown]", "c": [1, "[unknown]"]}}


def test_per_resource_policies_run_through_analyze() -> None:
    plan = load("sovereign-aws")
    inputs(plan, "gpu-lt")["metadataOptions"] = {"httpTokens": "optional"}
    index = {r["urn"]: r for r in plan["resources"]}
    s = servicer(per_resource=True)
    messages = []
    for r in plan["resources"]:
        response = s.Analyze(analyze_request(r, index), None)
        messages += [(d.policyName, d.message.split("\n", 1)[1]) for d in response.diagnostics]
    assert messages == [("security-instance-imdsv2", "LaunchTemplate gpu-lt allows IMDSv1 "
                         "(metadataOptions.httpTokens is optional, not required)")]


def test_analyzer_info_lists_every_rule() -> None:
    info = servicer().GetAnalyzerInfo(None, None)
    assert info.name == PACK_NAME
    listed = {p.name: p for p in info.policies}
    assert set(listed) == {r.name for r in RULES} | {FACTS_POLICY}
    budget = listed["power-site-budget"]
    assert budget.enforcementLevel == analyzer_pb2.MANDATORY
    assert budget.severity == analyzer_pb2.POLICY_SEVERITY_CRITICAL
    assert budget.remediation_steps.startswith("Remove or move hosts")
    assert listed["capacity-utilisation-advisory"].enforcementLevel == analyzer_pb2.ADVISORY


def test_pack_main_only_assembles_rules() -> None:
    pack = ROOT / "policies" / "pack"
    config = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
    assert config["runtime"]["name"] == "python"
    tree = ast.parse((pack / "__main__.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "id", None) == "PolicyPack"]
    assert len(calls) == 1
    assert not [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]


@pytest.mark.parametrize("rule", [r for r in RULES if r.scope == "resource"],
                         ids=lambda r: r.name)
def test_resource_scoped_rules_become_resource_policies(rule: Any) -> None:
    [_, policy] = policies([rule], per_resource=True)
    assert type(policy).__name__ == "ResourceValidationPolicy"
    [_, stack_policy] = policies([rule])
    assert type(stack_policy).__name__ == "StackValidationPolicy"


def test_pack_served_over_grpc_agrees_with_check() -> None:
    """policies/pack/__main__.py started as the engine starts it, asked over gRPC."""
    pack = subprocess.Popen([sys.executable, str(ROOT / "policies" / "pack" / "__main__.py")],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(pack.stdout.readline())  # type: ignore[union-attr]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty())
            plan = troubled()
            diagnostics, _ = preview(stub, plan, context=False)
    finally:
        pack.terminate()
        pack.wait(10)
    assert {p.name for p in info.policies} == {r.name for r in RULES} | {FACTS_POLICY}
    served = findings(diagnostics)
    expected = {(v.rule.name, v.urn, v.status, v.message)
                for v in evaluate(plan).violations if v.status != "waived"}
    assert served == expected and served
