"""Kueue across the factory's pools: own GPUs first, cloud GPUs borrowed when the site is full."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from conftest import spec_from_yaml

from aifactory.build.platform import platform_args, pool_capacity
from aifactory.components.platform import (
    GpuPoolCapacity,
    JobQueue,
    JobQueueArgs,
    NodeTaint,
    QueueTeam,
)
from aifactory.errors import ComponentArgsError

KUEUE = "kubernetes:kueue.x-k8s.io/v1beta2"
GPU_TAINT = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present",
             "effect": "NoSchedule"}

HYBRID = """
    name: acme-hybrid
    tags: {owner: ml-platform, cost_centre: CC-1, data_classification: internal}
    environments:
      site:
        kind: onprem
        country: DE
        power_budget_kw: 400
        pue: 1.3
        racks:
          r1: {power_limit_kw: 60, cooling: liquid}
        hosts:
          - {hostname: gpu01, rack: r1, server_model: dgx-h100, boot_mac: "aa:bb:cc:00:00:01",
             bmc_address: "redfish://10.0.0.1/redfish/v1/Systems/1", bmc_credentials: bmc01}
          - {hostname: gpu02, rack: r1, server_model: dgx-h100, boot_mac: "aa:bb:cc:00:00:02",
             bmc_address: "redfish://10.0.0.2/redfish/v1/Systems/1", bmc_credentials: bmc02}
          - {hostname: gpu03, rack: r1, server_model: l40s-4gpu, boot_mac: "aa:bb:cc:00:00:03",
             bmc_address: "redfish://10.0.0.3/redfish/v1/Systems/1", bmc_credentials: bmc03}
        provisioning:
          hook: metal3
          image_url: https://images.example.com/ubuntu.qcow2
          image_checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"
        cluster: {kubeconfig: siteKubeconfig, api_endpoint: "https://10.0.0.10:6443",
                  join_token: joinToken}
      aws:
        kind: aws
        account_id: "123456789012"
        region: eu-west-2
        availability_zones: [eu-west-2a, eu-west-2b]
    pools:
      site-h100:
        environment: site
        hosts: [gpu01, gpu02]
        min_nodes: 2
        max_nodes: 2
      site-l40s:
        environment: site
        hosts: [gpu03]
        max_nodes: 1
      burst-spot:
        environment: aws
        instance_type: p5.48xlarge
        max_nodes: 4
        capacity: spot
        interruption_tolerant: true
      burst-od:
        environment: aws
        instance_type: p5.48xlarge
        max_nodes: 2
    queueing:
      environment: site
      cohort: acme
      teams:
        research: {namespace: team-research}
        applied: {namespace: team-applied}
"""


@pytest.fixture(scope="module")
def hybrid():  # type: ignore[no-untyped-def]
    return spec_from_yaml(HYBRID)


def _queue(spec):  # type: ignore[no-untyped-def]
    def program() -> None:
        args = platform_args(spec, "site").queue
        assert args is not None
        provider = k8s.Provider("k", kubeconfig="{}")
        JobQueue("site-kueue", args, pulumi.ResourceOptions(providers=[provider]))
    return program


def _flavor_quotas(cluster_queue) -> list[tuple[str, int, int | None]]:  # type: ignore[no-untyped-def]
    [group] = cluster_queue.inputs["spec"]["resourceGroups"]
    assert group["coveredResources"] == ["nvidia.com/gpu"]
    out = []
    for flavor in group["flavors"]:
        [resource] = flavor["resources"]
        assert resource["name"] == "nvidia.com/gpu"
        out.append((flavor["name"], resource["nominalQuota"], resource.get("borrowingLimit")))
    return out


def test_pool_capacity_comes_from_the_blueprint(hybrid) -> None:  # type: ignore[no-untyped-def]
    site = pool_capacity(hybrid, "site-h100", hybrid.pools["site-h100"])
    assert (site.owned, site.owned_gpus, site.quota_gpus, site.expected_gpus) == (
        True, 16, 16, 16)
    assert site.taints == (NodeTaint("nvidia.com/gpu", "present", "NoSchedule"),)
    l40s = pool_capacity(hybrid, "site-l40s", hybrid.pools["site-l40s"])
    assert (l40s.gpu_model, l40s.owned_gpus) == ("l40s", 4)
    spot = pool_capacity(hybrid, "burst-spot", hybrid.pools["burst-spot"])
    assert (spot.owned, spot.quota_gpus, spot.expected_gpus, spot.capacity) == (
        False, 32, 0, "spot")


def test_teams_queue_uses_own_gpus_first_then_borrows_cloud(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    teams = rec.one(f"{KUEUE}:ClusterQueue", "site-kueue-teams-queue")
    assert teams.inputs["metadata"]["name"] == "acme-teams"
    spec = teams.inputs["spec"]
    assert spec["cohortName"] == "acme"
    # On-prem flavors first with the site's GPUs as quota; cloud flavors only by borrowing,
    # on-demand before spot.
    assert _flavor_quotas(teams) == [
        ("site-h100", 16, None), ("site-l40s", 4, None),
        ("burst-od", 0, 16), ("burst-spot", 0, 32),
    ]
    assert spec["flavorFungibility"] == {"whenCanBorrow": "MayStopSearch",
                                         "whenCanPreempt": "TryNextFlavor"}
    assert spec["preemption"]["withinClusterQueue"] == "LowerPriority"
    assert spec["namespaceSelector"] == {
        "matchExpressions": [{"key": "aifactory.io/team", "operator": "Exists"}]}


def test_cloud_quota_sits_in_a_lending_only_queue_of_the_same_cohort(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    burst = rec.one(f"{KUEUE}:ClusterQueue", "site-kueue-cloud-burst-queue")
    assert burst.inputs["metadata"]["name"] == "acme-cloud-burst"
    assert burst.inputs["spec"]["cohortName"] == "acme"
    # A null namespaceSelector admits from no namespace: the quota is only lent.
    assert "namespaceSelector" not in burst.inputs["spec"]
    assert _flavor_quotas(burst) == [("burst-od", 16, None), ("burst-spot", 32, None)]
    component = rec.one("aifactory:platform:JobQueue")
    assert component.inputs["flavorOrder"] == ["site-h100", "site-l40s", "burst-od",
                                               "burst-spot"]
    assert (component.inputs["ownedGpus"], component.inputs["cloudGpus"]) == (20, 48)


def test_a_flavor_per_pool_selects_its_nodes_and_tolerates_its_taint(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    flavors = {r.inputs["metadata"]["name"]: r.inputs["spec"]
               for r in rec.of_type(f"{KUEUE}:ResourceFlavor")}
    assert sorted(flavors) == ["burst-od", "burst-spot", "site-h100", "site-l40s"]
    for pool, spec in flavors.items():
        assert spec == {"nodeLabels": {"aifactory.io/pool": pool}, "tolerations": [GPU_TAINT]}


def test_local_queue_per_team_and_priority_classes(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    teams = rec.one(f"{KUEUE}:ClusterQueue", "site-kueue-teams-queue")
    queues = {r.inputs["metadata"]["namespace"]: r for r in rec.of_type(f"{KUEUE}:LocalQueue")}
    assert sorted(queues) == ["team-applied", "team-research"]
    for queue in queues.values():
        assert queue.inputs["metadata"]["name"] == "default"
        assert queue.inputs["spec"] == {"clusterQueue": "acme-teams"}
        assert teams.urn in queue.dependencies
    priorities = {r.inputs["metadata"]["name"]: r.inputs["value"]
                  for r in rec.of_type(f"{KUEUE}:WorkloadPriorityClass")}
    assert priorities == {"production": 1000, "research": 100}


def test_kueue_chart_is_pinned_and_counts_only_gpus(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    chart = rec.one("kubernetes:helm.sh/v4:Chart")
    assert (chart.inputs["chart"], chart.inputs["version"], chart.inputs["namespace"]) == (
        "oci://registry.k8s.io/kueue/charts/kueue", "0.19.2", "kueue-system")
    config = yaml.safe_load(chart.inputs["values"]["managerConfig"]["controllerManagerConfigYaml"])
    assert config["apiVersion"] == "config.kueue.x-k8s.io/v1beta2"
    assert {"cpu", "memory"} <= set(config["resources"]["excludeResourcePrefixes"])
    assert "batch/job" in config["integrations"]["frameworks"]
    for cr in rec.all:
        if cr.type.startswith(KUEUE):
            assert chart.urn in cr.dependencies, cr.name
    namespace = rec.one("kubernetes:core/v1:Namespace")
    assert namespace.inputs["metadata"]["name"] == "kueue-system"
    assert namespace.urn in chart.dependencies


def test_every_child_is_parented_to_the_queue(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    component = rec.one("aifactory:platform:JobQueue")
    children = [r for r in rec.all if r.custom and not r.type.startswith("pulumi:providers")]
    assert children and all(r.parent == component.urn for r in children)


def _pool(name: str, substrate: str = "aws", **kw) -> GpuPoolCapacity:  # type: ignore[no-untyped-def]
    base = dict(pool=name, environment=substrate, substrate=substrate, capacity="on-demand",
                gpu_model="h100-sxm5", gpus_per_node=8, min_nodes=0, max_nodes=2,
                owned_gpus=16 if substrate == "onprem" else None,
                taints=(NodeTaint("nvidia.com/gpu", "present"),))
    base.update(kw)
    return GpuPoolCapacity(**base)  # type: ignore[arg-type]


TEAMS = (QueueTeam("research", "team-research"),)


def test_cloud_only_factory_borrows_everything(run) -> None:  # type: ignore[no-untyped-def]
    args = JobQueueArgs(pools=(_pool("spot", capacity="spot"), _pool("block",
                        capacity="capacity-block")), teams=TEAMS, cohort="c")
    rec = run(lambda: JobQueue("q", args))
    teams = rec.one(f"{KUEUE}:ClusterQueue", "q-teams-queue")
    assert _flavor_quotas(teams) == [("block", 0, 16), ("spot", 0, 16)]


def test_site_only_factory_has_no_burst_queue(run) -> None:  # type: ignore[no-untyped-def]
    args = JobQueueArgs(pools=(_pool("site", "onprem"),), teams=TEAMS, cohort="c")
    rec = run(lambda: JobQueue("q", args))
    [queue] = rec.of_type(f"{KUEUE}:ClusterQueue")
    assert _flavor_quotas(queue) == [("site", 16, None)]


@pytest.mark.parametrize(("args", "message"), [
    (JobQueueArgs(pools=(), teams=TEAMS, cohort="c"),
     "`pools` is empty: Kueue needs at least one GPU pool to give quota for; leave JobQueue "
     "out of a factory without GPU pools"),
    (JobQueueArgs(pools=(_pool("a"),), teams=(QueueTeam("x", "ns"), QueueTeam("y", "ns")),
                  cohort="c"),
     "`teams` share namespaces ['ns']: give each team its own"),
    (JobQueueArgs(pools=(_pool("a", taints=tuple(NodeTaint(f"k{i}") for i in range(9))),),
                  teams=TEAMS, cohort="c"),
     "`pools`: pool 'a' has 9 taints: a ResourceFlavor takes at most 8 tolerations"),
    (JobQueueArgs(pools=(_pool("a", "onprem", owned_gpus=None),), teams=TEAMS, cohort="c"),
     "`pools`: on-prem pool 'a' has no owned_gpus: give the GPUs its hosts carry"),
])
def test_bad_arguments_are_refused_before_any_resource(run, args, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as err:
        run(lambda: JobQueue("q", args))
    assert str(err.value) == message
