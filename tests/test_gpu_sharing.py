"""GPU sharing on every substrate: MIG profiles from the catalog, the GPU operator's MIG manager
and time-slicing config on EKS and sites, the node labels that select them, and Kueue counting
the resources sharing exposes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, spec_from_yaml

from aifactory.cli import main
from aifactory.plan.document import run_program
from blueprints.compose.firstboot import node_labels
from blueprints.errors import ComponentArgsError
from blueprints.spec import BlueprintError
from catalog import mig
from components.platform import GpuOperator, GpuOperatorArgs, NodeTaint, PoolSharing
from components.platform.gpu_sharing import (
    device_plugin_configs,
    mig_parted_config,
)

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
CHART = "kubernetes:helm.sh/v4:Chart"
GPU_TAINT = (NodeTaint("nvidia.com/gpu", "present"),)


def test_mig_profiles_per_gpu_model_carry_their_source() -> None:
    assert mig.profile("h100-sxm5", "1g.10gb").per_gpu == 7  # type: ignore[union-attr]
    assert mig.profile("a100-sxm4-40gb", "3g.20gb").per_gpu == 2  # type: ignore[union-attr]
    assert mig.profile("b200", "7g.180gb").per_gpu == 1  # type: ignore[union-attr]
    assert mig.profiles("l4") == {} and mig.profiles("l40s") == {}
    import catalog

    for gpu, profiles in mig.MIG_PROFILES.items():
        catalog.gpu(gpu)  # every model is in the catalog
        for p in profiles.values():
            assert p.source == mig.MIG_GUIDE
            slices, memory = p.name.split("g.")
            assert 1 <= int(slices) <= 7 and memory.endswith("gb")


def test_time_slicing_config_per_pool() -> None:
    sharing = [PoolSharing("infer", "time-slicing", per_gpu=4)]
    configs = {k: yaml.safe_load(v) for k, v in device_plugin_configs(sharing).items()}
    assert configs == {
        "default": {"version": "v1", "flags": {"migStrategy": "none"}},
        "infer": {"version": "v1", "flags": {"migStrategy": "none"}, "sharing": {"timeSlicing": {
            "renameByDefault": False, "failRequestsGreaterThanOne": True,
            "resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}}}}
    assert sharing[0].node_labels() == {"nvidia.com/device-plugin.config": "infer"}
    assert (sharing[0].resource, sharing[0].per_gpu) == ("nvidia.com/gpu", 4)


def test_mig_parted_config_cuts_every_gpu_into_the_profile() -> None:
    sharing = [PoolSharing("nb", "mig", mig_profile="1g.10gb", per_gpu=7)]
    assert yaml.safe_load(mig_parted_config(sharing)) == {"version": "v1", "mig-configs": {
        "all-disabled": [{"devices": "all", "mig-enabled": False}],
        "all-1g.10gb": [{"devices": "all", "mig-enabled": True,
                         "mig-devices": {"1g.10gb": 7}}]}}
    assert sharing[0].node_labels() == {"nvidia.com/mig.config": "all-1g.10gb"}
    assert sharing[0].resource == "nvidia.com/mig-1g.10gb"


def test_gpu_operator_applies_sharing_through_its_configmaps(run) -> None:  # type: ignore[no-untyped-def]
    sharing = (PoolSharing("infer", "time-slicing", per_gpu=4),
               PoolSharing("nb", "mig", mig_profile="1g.10gb", per_gpu=7))
    rec = run(lambda: GpuOperator("op", GpuOperatorArgs(substrate="onprem", taints=GPU_TAINT,
                                                        sharing=sharing)))
    maps = {r.inputs["metadata"]["name"]: r for r in rec.of_type(CONFIG_MAP)}
    assert sorted(maps) == ["dcgm-metrics", "device-plugin-config", "mig-parted-config"]
    chart = rec.one(CHART)
    values = chart.inputs["values"]
    assert values["devicePlugin"]["config"] == {"name": "device-plugin-config",
                                                "default": "default"}
    assert values["mig"] == {"strategy": "mixed"}
    assert values["migManager"] == {"enabled": True, "config": {
        "name": "mig-parted-config", "default": "all-disabled"}}
    assert all(m.urn in chart.dependencies for m in maps.values())
    # with MIG in the cluster, every device plugin config runs the mixed strategy
    assert yaml.safe_load(maps["device-plugin-config"].inputs["data"]["default"])[
        "flags"] == {"migStrategy": "mixed"}


def test_gke_shares_gpus_itself(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as err:
        run(lambda: GpuOperator("op", GpuOperatorArgs(
            substrate="gcp", taints=GPU_TAINT,
            sharing=(PoolSharing("p", "time-slicing", per_gpu=2),))))
    assert str(err.value) == (
        "`sharing` ['p'] on GKE: GKE shares GPUs itself (node pool gpu_sharing_config / "
        "gpu_partition_size); leave sharing empty")


@pytest.fixture(scope="module")
def cloud_aws():  # type: ignore[no-untyped-def]
    from blueprints.spec import load

    return run_program(load(EXAMPLES / "cloud-aws.yaml"))


def test_time_slicing_on_an_aws_l4_pool_is_in_the_plan(cloud_aws) -> None:  # type: ignore[no-untyped-def]
    """Done when: gpu_sharing time-slicing on an AWS L4 pool appears in the plan."""
    by_name = {r.name: r for r in cloud_aws}
    config = by_name["aws-prod-platform-gpu-operator-device-plugin-config"]
    assert yaml.safe_load(config.inputs["data"]["infer-l4"])["sharing"]["timeSlicing"][
        "resources"] == [{"name": "nvidia.com/gpu", "replicas": 4}]
    operator = by_name["aws-prod-platform-gpu-operator"]
    assert operator.inputs["sharing"] == {"infer-l4": "time-slicing: 4 x nvidia.com/gpu"}
    label = {"nvidia.com/device-plugin.config": "infer-l4"}
    # on the node group's nodes and on those Karpenter launches
    assert label.items() <= by_name["aws-prod-infer-l4-nodes"].inputs["labels"].items()
    assert label.items() <= by_name["aws-prod-infer-l4-node-pool"].inputs["spec"]["template"][
        "metadata"]["labels"].items()
    pool = by_name["aws-prod-infer-l4"].inputs
    assert (pool["gpuResource"], pool["unitsPerGpu"]) == ("nvidia.com/gpu", 4)
    # Kueue counts replicas: 8 nodes x 4 L4 x 4 = 128 of nvidia.com/gpu
    cohort = by_name["aws-prod-platform-kueue-cohort"].inputs["spec"]
    flavors = {f["name"]: f["resources"][0]["nominalQuota"]
               for g in cohort["resourceGroups"] for f in g["flavors"]}
    assert flavors["infer-l4"] == 128


def _aws_blueprint(sharing: str) -> str:
    return (EXAMPLES / "cloud-aws.yaml").read_text().replace(
        "gpu_sharing: {strategy: time-sharing, max_shared_clients_per_gpu: 4}   # GPU operator",
        sharing)


def test_mig_on_an_l4_exits_2_with_the_fix(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Done when: MIG on an L4 exits 2."""
    path = tmp_path / "aws.yaml"
    path.write_text(_aws_blueprint("gpu_sharing: {strategy: mig, partition_size: 1g.10gb}"))
    assert main(["plan", str(path)]) == 2
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1)
                if "strategy: mig" in t)
    assert capsys.readouterr().err == (
        f"{path}:{line}: pools.infer-l4.gpu_sharing.strategy: l4 has no MIG (GPUs with MIG: "
        "a100-sxm4-40gb, a100-sxm4-80gb, b200, h100-pcie, h100-sxm5, h200-sxm): use strategy: "
        "time-sharing with max_shared_clients_per_gpu, or a pool of a MIG-capable GPU\n"
        "1 error: the blueprint was not loaded\n")


SITE = """
    name: acme
    tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
    environments:
      dc1:
        kind: onprem
        country: DE
        power_budget_kw: 100
        pue: 1.3
        racks: {r1: {power_limit_kw: 40, cooling: liquid}}
        hosts:
          - {hostname: gpu01, rack: r1, server_model: dgx-h100, boot_mac: "aa:bb:cc:00:00:01",
             bmc_address: "redfish://10.0.0.1/redfish/v1/Systems/1", bmc_credentials: bmc}
        provisioning:
          hook: metal3
          image_url: https://images.example.com/ubuntu.qcow2
          image_checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"
        cluster: {kubeconfig: kc, api_endpoint: "https://10.0.0.10:6443", join_token: jt,
                  storage_class: local-path,
          ca_cert_hash: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}
    pools:
      dc1-h100:
        environment: dc1
        min_nodes: 1
        max_nodes: 1
        gpu_sharing: {strategy: mig, partition_size: SIZE}
    queueing:
      environment: dc1
      teams:
        research: {namespace: team-research, quotas: {dc1-h100: {nominal: 2}}}
"""


def test_mig_on_a_site_pool_goes_through_the_mig_manager() -> None:
    spec = spec_from_yaml(SITE.replace("SIZE", "3g.40gb"))
    # the kubelet registers the node with the MIG config label (cloud-init's --node-labels)
    host = spec.environments["dc1"].hosts[0]  # type: ignore[union-attr]
    assert node_labels(spec, "dc1", host)["nvidia.com/mig.config"] == "all-3g.40gb"
    by_name = {r.name: r for r in run_program(spec)}
    config = yaml.safe_load(by_name["dc1-platform-gpu-operator-mig-parted-config"].inputs[
        "data"]["config.yaml"])
    assert config["mig-configs"]["all-3g.40gb"] == [
        {"devices": "all", "mig-enabled": True, "mig-devices": {"3g.40gb": 2}}]
    # the team's 2 GPUs are 4 instances of 3g.40gb; its namespace may hold what it can borrow
    [queue] = [r for r in by_name.values()
               if r.type == "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"]
    assert queue.inputs["spec"]["resourceGroups"] == [{
        "coveredResources": ["nvidia.com/mig-3g.40gb"], "flavors": [{
            "name": "dc1-h100", "resources": [{"name": "nvidia.com/mig-3g.40gb",
                                               "nominalQuota": 4}]}]}]
    quota = by_name["dc1-platform-team-research-gpu-quota"].inputs["spec"]["hard"]
    assert quota == {"requests.nvidia.com/mig-3g.40gb": "16"}  # 8 GPUs x 2, all borrowable


def test_a_profile_the_gpu_lacks_is_refused_with_the_gpus_profiles() -> None:
    with pytest.raises(BlueprintError) as err:
        spec_from_yaml(SITE.replace("SIZE", "1g.5gb"))
    assert str(err.value) == (
        "test.yaml:26: pools.dc1-h100.gpu_sharing.partition_size: '1g.5gb' is not a MIG "
        "profile of h100-sxm5: use one of 1g.10gb, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb")


def test_mig_on_an_elastic_eks_pool_is_refused() -> None:
    text = """
        name: acme
        tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
        environments:
          prod: {kind: aws, account_id: "123456789012", region: eu-west-2,
                 availability_zones: [eu-west-2a, eu-west-2b]}
        pools:
          nb:
            environment: prod
            instance_type: p5.48xlarge
            max_nodes: 2
            gpu_sharing: {strategy: mig, partition_size: 1g.10gb}
    """
    with pytest.raises(BlueprintError) as err:
        spec_from_yaml(text)
    assert str(err.value) == (
        "test.yaml:12: pools.nb.gpu_sharing: MIG on an elastic EKS pool: Karpenter knows an "
        "instance type's nvidia.com/gpu, not the nvidia.com/mig-* resources MIG exposes, so it "
        "would never launch a node for a job asking for them; give the pool a fixed size "
        "(min_nodes = max_nodes = 2), or use time-sharing")
    fixed = spec_from_yaml(text.replace("max_nodes: 2", "min_nodes: 2\n            max_nodes: 2"))
    by_name = {r.name: r for r in run_program(fixed)}
    assert by_name["prod-nb-nodes"].inputs["labels"]["nvidia.com/mig.config"] == "all-1g.10gb"


def test_gke_keeps_its_own_sharing_and_counts_it() -> None:
    from blueprints.spec import load

    by_name = {r.name: r for r in run_program(load(EXAMPLES / "cloud-gcp.yaml"))}
    assert "gcp-prod-platform-gpu-operator-device-plugin-config" not in by_name
    pool = by_name["gcp-prod-infer-l4"].inputs
    assert (pool["gpuResource"], pool["unitsPerGpu"]) == ("nvidia.com/gpu", 4)
    cohort = by_name["gcp-prod-platform-kueue-cohort"].inputs["spec"]
    flavors = {f["name"]: f["resources"][0]["nominalQuota"]
               for g in cohort["resourceGroups"] for f in g["flavors"]}
    assert flavors == {"train-h100": 64, "infer-l4": 64}  # 8 x 2 L4 x 4 clients
