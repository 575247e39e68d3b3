"""Workload operators on demand and the Kueue integrations they bring; team quotas (per pool or
GPU model, weights, priorities), each team's ResourceQuota, and the rule that the teams' nominal
quotas fit the pool; pools of several instance types counted at their worst case."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, spec_from_yaml

from aifactory.cli import main
from aifactory.plan.document import run_program
from blueprints.compose.platform import platform_args, pool_capacity, team_quotas
from blueprints.spec import BlueprintError
from catalog.workloads import kueue_frameworks
from components.platform.team_queues import TeamQuota
from policies import BY_NAME, PlanView, evaluate
from policies.envelope import aws_quota_use

CHART = "kubernetes:helm.sh/v4:Chart"
KUEUE = "kubernetes:kueue.x-k8s.io/v1beta2"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    return data


def load_data(data: dict[str, Any]) -> Any:
    return spec_from_yaml(yaml.safe_dump(data, sort_keys=False))


# -- workload operators ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def cloud_aws() -> dict[str, Any]:
    from blueprints.spec import load

    return {r.name: r for r in run_program(load(EXAMPLES / "cloud-aws.yaml"))}


def test_each_workload_operator_is_a_pinned_chart(cloud_aws) -> None:  # type: ignore[no-untyped-def]
    jobset = cloud_aws["aws-prod-platform-workload-jobset-chart"].inputs
    assert (jobset["chart"], jobset["version"], jobset["namespace"]) == (
        "oci://registry.k8s.io/jobset/charts/jobset", "0.12.0", "jobset-system")
    assert jobset["values"]["image"] == {"repository": "registry.k8s.io/jobset/jobset",
                                         "tag": "v0.12.0", "pullPolicy": "IfNotPresent"}
    ray = cloud_aws["aws-prod-platform-workload-ray-chart"].inputs
    assert (ray["chart"], ray["version"], ray["repositoryOpts"]["repo"]) == (
        "kuberay-operator", "1.7.0", "https://ray-project.github.io/kuberay-helm/")
    assert "aws-prod-platform-workload-leaderworkerset-chart" not in cloud_aws


def test_kueue_integrates_exactly_the_installed_frameworks(cloud_aws) -> None:  # type: ignore[no-untyped-def]
    values = cloud_aws["aws-prod-platform-kueue-chart"].inputs["values"]
    config = yaml.safe_load(values["managerConfig"]["controllerManagerConfigYaml"])
    assert config["integrations"]["frameworks"] == [
        "batch/job", "pod", "jobset.x-k8s.io/jobset", "ray.io/rayjob", "ray.io/raycluster"]
    # Kueue starts after the operators, so their CRDs exist when its integrations start
    chart = cloud_aws["aws-prod-platform-kueue-chart"]
    assert cloud_aws["aws-prod-platform-workload-jobset-chart"].urn in chart.dependencies
    assert kueue_frameworks(["leaderworkerset"]) == [
        "batch/job", "pod", "leaderworkerset.x-k8s.io/leaderworkerset"]


def test_an_integration_without_its_operator_is_a_load_error() -> None:
    data = example("cloud-aws")
    data["queueing"]["integrations"] = ["jobset", "leaderworkerset"]
    with pytest.raises(BlueprintError) as err:
        load_data(data)
    assert str(err.value).endswith(
        "queueing.integrations[1]: 'leaderworkerset' needs its operator (LeaderWorkerSet) on "
        "the clusters: add leaderworkerset to platform.workloads, or remove it here")


def test_kueue_may_leave_an_installed_operator_alone() -> None:
    data = example("cloud-aws")
    data["queueing"]["integrations"] = ["jobset"]
    args = platform_args(load_data(data), "aws-prod").queue
    assert args is not None and args.integrations == ("jobset",)


def test_the_worker_grants_the_manager_only_the_installed_job_kinds() -> None:
    from components.platform.kueue_worker import remote_role_rules

    groups = {(r["api_groups"][0], r["resources"][0]) for r in remote_role_rules(("ray",))}
    assert ("ray.io", "rayjobs") in groups and ("jobset.x-k8s.io", "jobsets") not in groups
    assert ("kubeflow.org", "pytorchjobs") not in {
        (r["api_groups"][0], r["resources"][0]) for r in remote_role_rules()}


# -- team quotas ------------------------------------------------------------------------------

def test_hybrid_gives_its_teams_different_quotas_and_weights() -> None:
    from blueprints.spec import load

    by_name = {r.name: r for r in run_program(load(EXAMPLES / "hybrid.yaml"))}
    research = by_name["dc1-platform-kueue-team-queue-research"].inputs["spec"]
    applied = by_name["dc1-platform-kueue-team-queue-applied"].inputs["spec"]
    assert research["resourceGroups"][0]["flavors"] == [{"name": "dc1-h100", "resources": [
        {"name": "nvidia.com/gpu", "nominalQuota": 80, "borrowingLimit": 48}]}]
    assert applied["resourceGroups"][0]["flavors"] == [{"name": "dc1-h100", "resources": [
        {"name": "nvidia.com/gpu", "nominalQuota": 48, "lendingLimit": 16}]}]
    assert (research["fairSharing"], applied["fairSharing"]) == ({"weight": "2"},
                                                                 {"weight": "1"})
    # the ResourceQuota is what the team's queue can admit: nominal plus its borrowing limit
    assert by_name["dc1-platform-team-research-gpu-quota"].inputs["spec"]["hard"] == {
        "requests.nvidia.com/gpu": "128"}
    # research may not claim production priority: an admission policy refuses it
    policy = by_name["dc1-platform-team-research-priority-policy"].inputs["spec"]
    [validation] = policy["validations"]
    assert validation["expression"].endswith("['kueue.x-k8s.io/priority-class'] in "
                                             "['research']")
    assert policy["matchConstraints"]["namespaceSelector"] == {
        "matchLabels": {"aifactory.io/team": "research"}}
    assert {(r["apiGroups"][0], r["resources"][0])
            for r in policy["matchConstraints"]["resourceRules"]} == {
        ("batch", "jobs"), ("", "pods")}
    binding = by_name["dc1-platform-team-research-priority-binding"].inputs["spec"]
    assert binding == {"policyName": "aifactory-priority-research",
                       "validationActions": ["Deny"]}
    assert "dc1-platform-team-applied-priority-policy" not in by_name


def test_a_gpu_models_quota_is_split_over_its_pools_in_flavor_order() -> None:
    data = example("hybrid")
    data["queueing"]["teams"]["research"]["quotas"] = {
        "h100-sxm5": {"nominal": 140, "lending_limit": 130}}
    spec = load_data(data)
    capacities = [pool_capacity(spec, n, p) for n, p in spec.pools.items()]
    quotas = team_quotas(spec, spec.queueing.teams["research"], capacities)  # type: ignore[union-attr]
    # own hardware first: 128 on the site, the rest on the spot pool
    assert quotas == (TeamQuota("burst-h100-spot", 12, None, 2),
                      TeamQuota("dc1-h100", 128, None, 128))


@pytest.mark.parametrize(("quotas", "message"), [
    ({"dc1-h10": {"nominal": 8}},
     "queueing.teams.research.quotas.dc1-h10: 'dc1-h10' is neither a pool nor the GPU model of "
     "a pool: did you mean 'dc1-h100'? pools are ['burst-h100-spot', 'burst-l40s-spot', "
     "'dc1-h100'], GPU models ['h100-sxm5', 'l40s']"),
    ({"dc1-h100": {"nominal": 8}, "h100-sxm5": {"nominal": 8}},
     "queueing.teams.research.quotas.dc1-h100: pool 'dc1-h100' is also covered by the team's "
     "quota on GPU model 'h100-sxm5': give one of them"),
    ({"dc1-h100": {"nominal": 8, "lending_limit": 9}},
     "queueing.teams.research.quotas.dc1-h100.lending_limit: lending_limit (9) is above "
     "nominal (8): a team can lend only GPUs it holds; lower it"),
])
def test_bad_quotas_are_load_errors(quotas: dict[str, Any], message: str) -> None:
    data = example("hybrid")
    data["queueing"]["teams"]["research"]["quotas"] = quotas
    with pytest.raises(BlueprintError) as err:
        load_data(data)
    assert str(err.value).split(": ", 1)[1] == message


def test_a_priority_that_is_no_class_is_a_load_error() -> None:
    data = example("hybrid")
    data["queueing"]["teams"]["research"]["priority"] = "urgent"
    with pytest.raises(BlueprintError) as err:
        load_data(data)
    assert str(err.value).split(": ", 1)[1] == (
        "queueing.teams.research.priority: 'urgent' is not a priority class: declared are "
        "['production', 'research'] (queueing.priorities)")


# -- capacity-team-quota-fits -------------------------------------------------------------------

def _plan(data: dict[str, Any]) -> dict[str, Any]:
    from aifactory.plan.document import make_plan

    spec = load_data(data)
    return make_plan(spec, run_program(spec), "copy.yaml", "offline")


def _quota_messages(plan: dict[str, Any]) -> list[str]:
    return [v.message for v in evaluate(plan, [BY_NAME["capacity-team-quota-fits"]]).violations]


def test_quotas_that_fit_the_pool_pass() -> None:
    assert _quota_messages(_plan(example("hybrid"))) == []


def test_quotas_over_the_pools_gpus_fail_with_the_arithmetic() -> None:
    data = example("hybrid")
    data["queueing"]["teams"]["research"]["quotas"]["dc1-h100"]["nominal"] = 96
    assert _quota_messages(_plan(data)) == [
        "pool dc1-h100 in cluster dc1 has 128 GPUs, but the teams' nominal quotas on it add up "
        "to 144 (applied 48 + research 96): 16 over; lower them to at most 128 together"]


def test_quotas_of_a_shared_pool_are_reported_in_gpus_and_units() -> None:
    data = example("cloud-aws")
    data["queueing"]["teams"]["research"]["quotas"] = {"infer-l4": {"nominal": 20}}
    data["queueing"]["teams"]["applied"]["quotas"] = {"infer-l4": {"nominal": 16}}
    assert _quota_messages(_plan(data)) == [
        "pool infer-l4 in cluster aws-prod has 32 GPUs, but the teams' nominal quotas on it add "
        "up to 36 (applied 16 + research 20; in nvidia.com/gpu: 144 of 128, 4 a GPU): 4 over; "
        "lower them to at most 32 together"]


def test_a_hybrid_copy_with_quotas_over_the_pool_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Done when: a copy of hybrid with team quotas over the pool's GPUs exits 1, naming the
    rule and the arithmetic."""
    data = example("hybrid")
    data["queueing"]["teams"]["applied"]["quotas"]["dc1-h100"]["nominal"] = 64
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert ("FAILED   [high] capacity-team-quota-fits: pool dc1-h100 in cluster dc1 has 128 "
            "GPUs, but the teams' nominal quotas on it add up to 144 (applied 64 + research "
            "80): 16 over; lower them to at most 128 together") in out


# -- several instance types ---------------------------------------------------------------------

def _with_types(types: list[str], **pool: Any) -> dict[str, Any]:
    data = example("cloud-aws")
    batch = data["pools"]["batch-l4-spot"]
    del batch["instance_type"]
    batch.update(instance_types=types, **pool)
    return data


def test_a_pool_of_several_types_is_counted_at_its_largest() -> None:
    spec = load_data(_with_types(["g6.xlarge", "g6.12xlarge"], max_nodes=4))
    plan = _plan(_with_types(["g6.xlarge", "g6.12xlarge"], max_nodes=4))
    [pool] = [r for r in plan["resources"] if r["type"] == "aifactory:aws:GpuNodePool"
              and r["inputs"]["pool"] == "batch-l4-spot"]
    assert pool["inputs"]["instanceTypes"] == ["g6.xlarge", "g6.12xlarge"]
    assert (pool["inputs"]["gpusPerNode"], pool["inputs"]["vcpusPerNode"]) == (4, 48)
    used = {q.metric: q.used for q in aws_quota_use(PlanView.of_plan(plan))}
    assert used["spot:G"] == 4 * 48  # the worst case: every node the largest type
    [node_pool] = [r for r in plan["resources"] if r["name"] == "aws-prod-batch-l4-spot-node-pool"]
    assert node_pool["inputs"]["spec"]["limits"] == {"nvidia.com/gpu": 16, "nodes": 4}
    assert spec.pools["batch-l4-spot"].types == ["g6.xlarge", "g6.12xlarge"]


def test_types_with_different_gpus_are_refused() -> None:
    with pytest.raises(BlueprintError) as err:
        load_data(_with_types(["g6.xlarge", "g6e.xlarge"]))
    assert str(err.value).split(": ", 1)[1] == (
        "pools.batch-l4-spot.instance_types[1]: g6e.xlarge has l40s (quota class G), but "
        "g6.xlarge has l4 (G): a pool's types share one GPU model and quota class; make another "
        "pool for it")


def test_several_types_are_an_aws_feature() -> None:
    data = example("cloud-gcp")
    pool = data["pools"]["infer-l4"]
    del pool["instance_type"]
    pool["instance_types"] = ["g2-standard-24", "g2-standard-48"]
    with pytest.raises(BlueprintError) as err:
        load_data(data)
    assert str(err.value).split(": ", 1)[1] == (
        "pools.infer-l4.instance_types: a gcp node pool has one machine type: use "
        "instance_type (several types per pool are an AWS/Karpenter feature)")


def test_an_unoffered_type_among_several_is_named_by_its_index() -> None:
    data = _with_types(["g6.xlarge", "g6.12xlarge"], max_nodes=4)
    plan = _plan(data)
    for r in plan["resources"]:
        if r["type"] == "aifactory:aws:Environment":
            r["inputs"]["region"] = "sa-east-1"
    for r in plan["resources"]:
        if r["type"] == "aifactory:aws:GpuNodePool":
            r["inputs"]["region"] = "sa-east-1"
    found = [(v.finding.spec_path, v.finding.details["instanceType"]) for v in evaluate(
        copy.deepcopy(plan), [BY_NAME["capacity-instance-availability"]]).violations
        if v.finding.subject == "batch-l4-spot"]
    assert found == [("pools.batch-l4-spot.instance_types[0]", "g6.xlarge"),
                     ("pools.batch-l4-spot.instance_types[1]", "g6.12xlarge")]


def test_a_sovereign_factory_mirrors_the_workload_operators_by_digest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example("hybrid")
    data["platform"] = {"workloads": ["jobset", "leaderworkerset", "ray"]}
    with pytest.raises(BlueprintError) as err:
        load_data(data)
    missing = [p.message.split(" (chart")[0] for p in err.value.problems]  # type: ignore[attr-defined]
    assert missing == ["no entry for quay.io/kuberay/operator",
                       "no entry for registry.k8s.io/jobset/jobset",
                       "no entry for registry.k8s.io/lws/lws"]
    data["sovereignty"]["mirror"]["images"].update({
        "registry.k8s.io/jobset/jobset:v0.12.0": "sha256:" + "1" * 64,
        "registry.k8s.io/lws/lws:v0.10.0": "sha256:" + "2" * 64,
        "quay.io/kuberay/operator:v1.7.0": "sha256:" + "3" * 64})
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    # every operator chart and its image from the mirror, by digest (LeaderWorkerSet spells
    # its image per component: image.manager)
    assert main(["check", str(path)]) == 0, capsys.readouterr().out
    plan = _plan(data)
    [lws] = [r for r in plan["resources"]
             if r["name"] == "dc1-platform-workload-leaderworkerset-chart"]
    mirror = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/acme-hybrid/mirror"
    assert lws["inputs"]["chart"] == f"oci://{mirror}/charts/lws"
    assert lws["inputs"]["values"]["image"]["manager"] == {
        "repository": f"{mirror}/registry.k8s.io/lws/lws", "tag": "v0.10.0@sha256:" + "2" * 64,
        "pullPolicy": "IfNotPresent"}
