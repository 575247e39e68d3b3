"""Kueue across the factory's pools: own GPUs first, cloud GPUs borrowed when the site is full."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from conftest import spec_from_yaml

from blueprints.compose.platform import platform_args, pool_capacity
from blueprints.errors import ComponentArgsError
from components.platform import (
    GpuPoolCapacity,
    JobQueue,
    JobQueueArgs,
    NodeTaint,
    QueueTeam,
)
from components.platform.gpu_sharing import PoolSharing
from components.platform.team_queues import TeamQuota

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
                  join_token: joinToken, storage_class: local-path,
          ca_cert_hash: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}
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


WORKER_KUBECONFIG = "apiVersion: v1\nkind: Config\nusers: [{name: multikueue, user: {token: t0}}]"


def _queue(spec):  # type: ignore[no-untyped-def]
    def program() -> None:
        args = platform_args(spec, "site", workers={"aws": WORKER_KUBECONFIG}).queue
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


def _quotas(queue) -> list[tuple[str, str, int, int | None, int | None]]:  # type: ignore[no-untyped-def]
    """(resource, flavor, nominal, borrowing limit, lending limit) in every resource group."""
    out = []
    for group in queue.inputs["spec"]["resourceGroups"]:
        [covered] = group["coveredResources"]
        for flavor in group["flavors"]:
            [r] = flavor["resources"]
            assert r["name"] == covered
            out.append((covered, flavor["name"], r["nominalQuota"], r.get("borrowingLimit"),
                        r.get("lendingLimit")))
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


def test_each_team_queue_holds_only_the_managers_own_pools(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    research = rec.one(f"{KUEUE}:ClusterQueue", "site-kueue-team-queue-research")
    assert research.inputs["metadata"]["name"] == "acme-research"
    spec = research.inputs["spec"]
    assert spec["cohortName"] == "acme"
    # The cloud pools are in another cluster: admitting them here would put their pods on the
    # site's nodes, where no node carries their pool label. They go through MultiKueue.
    # No team has a quota here: every GPU is the cohort's, and the teams only borrow.
    assert _flavor_quotas(research) == [("site-h100", 0, None), ("site-l40s", 0, None)]
    assert "admissionChecksStrategy" not in spec
    assert spec["flavorFungibility"] == {"whenCanBorrow": "MayStopSearch",
                                         "whenCanPreempt": "TryNextFlavor"}
    assert spec["preemption"] == {"withinClusterQueue": "LowerPriority",
                                  "reclaimWithinCohort": "Any"}
    assert spec["fairSharing"] == {"weight": "1"}
    assert spec["namespaceSelector"] == {"matchLabels": {"aifactory.io/team": "research"}}
    cohort = rec.one(f"{KUEUE}:Cohort")
    assert cohort.inputs["metadata"]["name"] == "acme"
    assert _flavor_quotas(cohort) == [("site-h100", 16, None), ("site-l40s", 4, None)]
    assert cohort.urn in research.dependencies
    assert sorted(r.inputs["metadata"]["name"] for r in rec.of_type(
        f"{KUEUE}:ClusterQueue")) == ["acme-applied", "acme-remote", "acme-research"]


def test_team_quotas_become_nominal_borrowing_and_lending_limits(run) -> None:  # type: ignore[no-untyped-def]
    teams = (QueueTeam("research", "team-research", weight=2, quotas=(
                 TeamQuota("site", nominal=10, borrowing_limit=4),)),
             QueueTeam("applied", "team-applied", quotas=(
                 TeamQuota("site", nominal=4, lending_limit=2),
                 TeamQuota("spot", nominal=8))))
    args = JobQueueArgs(pools=(_pool("site", "onprem"), _pool("spot", capacity="spot")),
                        teams=teams, cohort="c")
    rec = run(lambda: JobQueue("q", args))
    research = rec.one(f"{KUEUE}:ClusterQueue", "q-team-queue-research")
    assert research.inputs["spec"]["fairSharing"] == {"weight": "2"}
    assert _quotas(research) == [("nvidia.com/gpu", "site", 10, 4, None),
                                 ("nvidia.com/gpu", "spot", 0, None, None)]
    applied = rec.one(f"{KUEUE}:ClusterQueue", "q-team-queue-applied")
    assert _quotas(applied) == [("nvidia.com/gpu", "site", 4, None, 2),
                                ("nvidia.com/gpu", "spot", 8, None, None)]
    # what no team holds stays with the cohort, for every team to borrow
    assert _quotas(rec.one(f"{KUEUE}:Cohort")) == [("nvidia.com/gpu", "site", 2, None, None),
                                                   ("nvidia.com/gpu", "spot", 8, None, None)]
    component = rec.one("aifactory:platform:JobQueue")
    assert component.inputs["teamQuotas"] == {"applied": {"site": 4, "spot": 8},
                                              "research": {"site": 10}}


def test_shared_pools_are_counted_in_the_units_they_expose(run) -> None:  # type: ignore[no-untyped-def]
    mig = PoolSharing("mig", "mig", mig_profile="1g.10gb", per_gpu=7)
    pools = (_pool("whole", "onprem"),
             _pool("mig", "onprem", gpu_resource="nvidia.com/mig-1g.10gb", units_per_gpu=7,
                   sharing=mig))
    teams = (QueueTeam("research", "team-research", quotas=(TeamQuota("mig", nominal=2),)),)
    rec = run(lambda: JobQueue("q", JobQueueArgs(pools=pools, teams=teams, cohort="c")))
    queue = rec.one(f"{KUEUE}:ClusterQueue")
    # one resource group per resource (Kueue covers a resource in one group only); the
    # team's 2 GPUs of the MIG pool are 14 instances of 1g.10gb
    assert _quotas(queue) == [("nvidia.com/mig-1g.10gb", "mig", 14, None, None),
                              ("nvidia.com/gpu", "whole", 0, None, None)]
    assert _quotas(rec.one(f"{KUEUE}:Cohort")) == [
        ("nvidia.com/mig-1g.10gb", "mig", 98, None, None),
        ("nvidia.com/gpu", "whole", 16, None, None)]


def test_remote_pools_queue_behind_the_multikueue_admission_check(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    remote = rec.one(f"{KUEUE}:ClusterQueue", "site-kueue-remote-queue")
    assert remote.inputs["metadata"]["name"] == "acme-remote"
    assert _flavor_quotas(remote) == [("burst-od", 16, None), ("burst-spot", 32, None)]
    # For every flavor: Kueue deactivates a queue with a MultiKueue check given per flavor.
    assert remote.inputs["spec"]["admissionChecksStrategy"] == {
        "admissionChecks": [{"name": "acme-multikueue"}]}
    check = rec.one(f"{KUEUE}:AdmissionCheck")
    assert check.inputs["metadata"]["name"] == "acme-multikueue"
    assert check.inputs["spec"] == {
        "controllerName": "kueue.x-k8s.io/multikueue",
        "parameters": {"apiGroup": "kueue.x-k8s.io", "kind": "MultiKueueConfig",
                       "name": "acme-remote"}}
    config = rec.one(f"{KUEUE}:MultiKueueConfig")
    assert (config.inputs["metadata"]["name"], config.inputs["spec"]) == (
        "acme-remote", {"clusters": ["aws"]})
    cluster = rec.one(f"{KUEUE}:MultiKueueCluster")
    assert cluster.inputs["metadata"]["name"] == "aws"
    assert cluster.inputs["spec"] == {"clusterSource": {"kubeConfig": {
        "locationType": "Secret", "location": "multikueue-aws"}}}
    assert check.urn in remote.dependencies and config.urn in check.dependencies
    assert cluster.urn in config.dependencies


def test_worker_kubeconfig_is_a_secret_in_kueues_namespace(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    secret = rec.one("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "multikueue-aws"
    assert secret.inputs["metadata"]["namespace"] == "kueue-system"
    # a Pulumi secret: masked in the plan (and so in rendered files), never plain text
    assert secret.inputs["stringData"] == {"kubeconfig": "[secret]"}
    assert WORKER_KUBECONFIG not in str(secret.inputs)
    cluster = rec.one(f"{KUEUE}:MultiKueueCluster")
    assert secret.urn in cluster.dependencies


def test_a_flavor_per_pool_selects_its_nodes_and_tolerates_its_taint(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    flavors = {r.inputs["metadata"]["name"]: r.inputs["spec"]
               for r in rec.of_type(f"{KUEUE}:ResourceFlavor")}
    assert sorted(flavors) == ["burst-od", "burst-spot", "site-h100", "site-l40s"]
    queue = platform_args(hybrid, "site", workers={"aws": WORKER_KUBECONFIG}).queue
    topologies = {p.pool: p.topology for p in queue.pools}
    assert any(topologies.values())  # multi-node pools name their Kueue Topology
    for pool, spec in flavors.items():
        assert spec == {"nodeLabels": {"aifactory.io/pool": pool}, "tolerations": [GPU_TAINT],
                        **({"topologyName": topologies[pool]} if topologies[pool] else {})}
    assert sorted(r.inputs["metadata"]["name"] for r in rec.of_type(f"{KUEUE}:Topology")) \
        == sorted({t for t in topologies.values() if t})


def test_local_queues_per_team_and_priority_classes(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    remote = rec.one(f"{KUEUE}:ClusterQueue", "site-kueue-remote-queue")
    queues = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r
              for r in rec.of_type(f"{KUEUE}:LocalQueue")}
    assert sorted(queues) == [("team-applied", "default"), ("team-applied", "remote"),
                              ("team-research", "default"), ("team-research", "remote")]
    for (namespace, name), queue in queues.items():
        team = namespace.removeprefix("team-")
        target = rec.one(f"{KUEUE}:ClusterQueue", f"site-kueue-team-queue-{team}") \
            if name == "default" else remote
        assert queue.inputs["spec"] == {"clusterQueue": target.inputs["metadata"]["name"]}
        assert target.urn in queue.dependencies
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
    # batch Jobs and pods only: the blueprint installs no workload operator
    assert config["integrations"]["frameworks"] == ["batch/job", "pod"]
    assert config["fairSharing"] == {
        "preemptionStrategies": ["LessThanOrEqualToFinalShare", "LessThanInitialShare"]}
    for cr in rec.all:
        if cr.type.startswith(KUEUE):
            assert chart.urn in cr.dependencies, cr.name
    namespace = rec.one("kubernetes:core/v1:Namespace")
    assert namespace.inputs["metadata"]["name"] == "kueue-system"
    assert namespace.urn in chart.dependencies


def test_every_child_is_parented_to_the_queue(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    rec = run(_queue(hybrid))
    component = rec.one("aifactory:platform:JobQueue")
    assert (component.inputs["remoteQueue"], component.inputs["workers"]) == (
        "acme-remote", ["aws"])
    children = [r for r in rec.all if r.custom and not r.type.startswith("pulumi:providers")]
    assert children and all(r.parent == component.urn for r in children)


def test_a_pool_in_a_cluster_without_a_worker_is_refused(run, hybrid) -> None:  # type: ignore[no-untyped-def]
    args = platform_args(hybrid, "site").queue
    assert args is not None
    with pytest.raises(ComponentArgsError) as err:
        run(lambda: JobQueue("q", args))
    assert str(err.value) == (
        "`pools` run in ['aws'], which are neither 'site' nor a MultiKueue worker: give each "
        "of those clusters a `workers` entry, or no job could run there")


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
    teams = rec.one(f"{KUEUE}:ClusterQueue", "q-team-queue-research")
    # prepaid capacity blocks first, then spot; all of it the cohort's to lend
    assert _flavor_quotas(teams) == [("block", 0, None), ("spot", 0, None)]
    assert _flavor_quotas(rec.one(f"{KUEUE}:Cohort")) == [("block", 16, None),
                                                          ("spot", 16, None)]


def test_site_only_factory_has_no_remote_queue(run) -> None:  # type: ignore[no-untyped-def]
    args = JobQueueArgs(pools=(_pool("site", "onprem"),), teams=TEAMS, cohort="c")
    rec = run(lambda: JobQueue("q", args))
    [queue] = rec.of_type(f"{KUEUE}:ClusterQueue")
    assert queue.inputs["metadata"]["name"] == "c-research"
    assert _flavor_quotas(rec.one(f"{KUEUE}:Cohort")) == [("site", 16, None)]


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
    (JobQueueArgs(pools=(_pool("a"),), teams=(QueueTeam("remote", "ns"),), cohort="c"),
     "a team's queue would be named 'c-remote', the MultiKueue queue's name: rename the team "
     "'remote'"),
    (JobQueueArgs(pools=(_pool("a"),), teams=(QueueTeam("x", "ns", quotas=(
        TeamQuota("b", nominal=1),)),), cohort="c"),
     "`teams`: team 'x' has a quota on 'b', which is not one of the pools ['a']"),
])
def test_bad_arguments_are_refused_before_any_resource(run, args, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as err:
        run(lambda: JobQueue("q", args))
    assert str(err.value) == message


def test_worker_cluster_mirrors_the_remote_queue_and_grants_the_manager_access(run) -> None:  # type: ignore[no-untyped-def]
    from components.platform.kueue_worker import KueueWorker, KueueWorkerArgs

    pools = (_pool("burst-spot", capacity="spot"), _pool("burst-od"))
    args = KueueWorkerArgs(environment="aws", pools=pools, teams=TEAMS, cohort="c",
                           api_server="https://eks.example:443")
    rec = run(lambda: KueueWorker("w", args))
    # the team's own queue, with its quotas on this cluster's pools (none: it borrows)
    [queue] = rec.of_type(f"{KUEUE}:ClusterQueue")
    assert queue.inputs["metadata"]["name"] == "c-research"
    assert "admissionChecksStrategy" not in queue.inputs["spec"]  # checked on the manager
    assert _flavor_quotas(queue) == [("burst-od", 0, None), ("burst-spot", 0, None)]
    assert _flavor_quotas(rec.one(f"{KUEUE}:Cohort")) == [("burst-od", 16, None),
                                                          ("burst-spot", 16, None)]
    [local] = rec.of_type(f"{KUEUE}:LocalQueue")
    assert (local.inputs["metadata"], local.inputs["spec"]) == (
        {"name": "remote", "namespace": "team-research", "labels": {}},
        {"clusterQueue": "c-research"})
    assert {r.inputs["metadata"]["name"] for r in rec.of_type(f"{KUEUE}:ResourceFlavor")} == {
        "burst-od", "burst-spot"}
    assert len(rec.of_type(f"{KUEUE}:WorkloadPriorityClass")) == 2
    role = rec.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    rules = {(r["apiGroups"][0], r["resources"][0]): r["verbs"] for r in role.inputs["rules"]}
    assert rules[("kueue.x-k8s.io", "workloads/status")] == ["get", "patch", "update"]
    assert rules[("batch", "jobs")] == ["create", "delete", "get", "list", "watch"]
    assert not any("*" in v for v in rules.values())
    binding = rec.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert binding.inputs["subjects"] == [{"kind": "ServiceAccount", "name": "multikueue",
                                           "namespace": "kueue-system"}]
    token = rec.one("kubernetes:core/v1:Secret")
    assert token.inputs["type"] == "kubernetes.io/service-account-token"
    assert token.inputs["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "multikueue"}


def test_worker_kubeconfig_uses_the_service_account_token() -> None:
    import base64
    import json

    from components.platform.kueue_worker import worker_kubeconfig

    config = json.loads(worker_kubeconfig("aws", "https://eks.example:443", {
        "token": base64.b64encode(b"t0k3n").decode(), "ca.crt": "Q0EK"}))
    assert config["clusters"] == [{"name": "aws", "cluster": {
        "server": "https://eks.example:443", "certificate-authority-data": "Q0EK"}}]
    assert config["users"] == [{"name": "multikueue", "user": {"token": "t0k3n"}}]
    assert config["current-context"] == "aws"
