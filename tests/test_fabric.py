"""Multi-node training fabrics: EFA on AWS, GPUDirect on GCP, InfiniBand/RoCE on a site, Kueue
topologies, and the rule that a multi-node pool of fabric hardware has its fabric configured."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, Recorded
from policy_fixtures import inputs
from policy_fixtures import load as load_fixture

from aifactory.cli import main
from aifactory.plan.document import plan_blueprint
from blueprints.compose import firstboot
from blueprints.spec import load
from catalog import instance
from catalog.fabric import cloud_fabric
from components.aws.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from components.aws.location import AwsLocation
from components.platform.network_operator import (
    NetworkOperatorArgs,
    nic_cluster_policy_spec,
)
from policies import BY_NAME, evaluate

RULE = "capacity-multinode-fabric"


def resources(plan: dict[str, Any], type_suffix: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"].endswith(type_suffix)]


def named(plan: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [r for r in plan["resources"] if r["name"] == name]
    return found


@pytest.fixture(scope="module")
def hybrid() -> dict[str, Any]:
    path = EXAMPLES / "hybrid.yaml"
    return plan_blueprint(load(path), str(path))


@pytest.fixture(scope="module")
def sovereign() -> dict[str, Any]:
    path = EXAMPLES / "sovereign-eu.yaml"
    return plan_blueprint(load(path), str(path))


# ---------------------------------------------------------------------------------------------
# the catalog


def test_fabric_facts_of_the_catalog() -> None:
    p5 = cloud_fabric(instance("p5.48xlarge"))
    assert p5 is not None and (p5.kind, p5.interfaces, p5.training) == ("efa", 32, True)
    g6e = cloud_fabric(instance("g6e.12xlarge"))
    assert g6e is not None and (g6e.kind, g6e.interfaces, g6e.training) == ("efa", 1, False)
    assert cloud_fabric(instance("g6.xlarge")) is None
    a3 = cloud_fabric(instance("a3-highgpu-8g"))
    assert a3 is not None and (a3.kind, a3.interfaces) == ("gpudirect-tcpx", 4)
    mega = cloud_fabric(instance("a3-megagpu-8g"))
    assert mega is not None and (mega.kind, mega.interfaces) == ("gpudirect-tcpxo", 8)
    assert cloud_fabric(instance("g2-standard-8")) is None


# ---------------------------------------------------------------------------------------------
# AWS: the hybrid burst pool (p5.48xlarge, Karpenter)


def test_hybrid_burst_pool_has_its_efa_setup(hybrid: dict[str, Any]) -> None:
    pool = "aws-burst-burst-h100-spot"
    group = named(hybrid, f"{pool}-placement")["inputs"]
    assert (group["strategy"], group["name"]) == ("cluster", "acme-hybrid-aws-burst-"
                                                  "burst-h100-spot")
    sg = named(hybrid, f"{pool}-efa-sg")
    assert sg["inputs"]["vpcId"] == "aws-burst-network-vpc-id"
    for direction in ("ingress", "egress"):
        rule = named(hybrid, f"{pool}-efa-sg-{direction}-self")["inputs"]
        assert rule["ipProtocol"] == "-1"
        assert rule["securityGroupId"] == rule["referencedSecurityGroupId"] == f"{pool}-efa-sg-id"
    node_pool = named(hybrid, f"{pool}-node-pool")["inputs"]["spec"]
    # 4 nodes x the type's 32 EFA interfaces
    assert node_pool["limits"] == {"nodes": 4, "nvidia.com/gpu": 32,
                                   "vpc.amazonaws.com/efa": 128}
    node_class = named(hybrid, f"{pool}-node-class")["inputs"]["spec"]
    assert {"id": f"{pool}-efa-sg-id"} in node_class["securityGroupSelectorTerms"]
    assert node_class["placementGroupSelector"] == {"name": group["name"]}
    # one zone: a cluster placement group lives in one
    zones = [r for r in node_pool["template"]["spec"]["requirements"]
             if r["key"] == "topology.kubernetes.io/zone"]
    assert zones == [{"key": "topology.kubernetes.io/zone", "operator": "In",
                      "values": ["eu-north-1a"]}]
    # the l40s pool has no fabric: none of it
    assert not [r for r in hybrid["resources"] if r["name"].startswith(
        "aws-burst-burst-l40s-spot-efa")]


def test_hybrid_installs_the_efa_device_plugin_from_the_mirror(hybrid: dict[str, Any]) -> None:
    chart = named(hybrid, "aws-burst-efa-device-plugin-chart")["inputs"]
    assert chart["version"] == "v0.5.30"
    assert chart["chart"].endswith("/mirror/charts/aws-efa-k8s-device-plugin")
    values = chart["values"]
    assert values["supportedInstanceLabels"] == {"keys": ["node.kubernetes.io/instance-type"],
                                                 "values": ["p5.48xlarge"]}
    assert values["image"]["tag"].startswith("v0.5.20@sha256:")
    assert {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present",
            "effect": "NoSchedule"} in values["tolerations"]
    ns = named(hybrid, "aws-burst-efa-device-plugin-ns")["inputs"]
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def _fixed_pool(**overrides: Any) -> GpuNodePoolArgs:
    from blueprints.compose.facts import pool_facts
    spec = load(EXAMPLES / "cloud-aws.yaml")
    values: dict[str, Any] = dict(
        facts=pool_facts(spec, "train-h100", spec.pools["train-h100"]),
        location=AwsLocation("aws", "eu-north-1", "123456789012"), pool_name="train",
        name_prefix="acme", cluster_name="acme", kubernetes_version="1.33",
        subnet_ids=["subnet-a", "subnet-b"], kms_key_arn="arn:key",
        instance_type="p5.48xlarge", gpu_model="h100-sxm5", min_nodes=2, desired_nodes=2,
        max_nodes=2, capacity="capacity-block", reservation_id="cr-0123456789abcdef0",
        compact_placement=True, efa_interfaces=32, vpc_id="vpc-1",
        cluster_security_group_id="sg-cluster")
    values.update(overrides)
    return GpuNodePoolArgs(**values)


def test_a_fixed_efa_pool_launches_every_efa_interface(run: Any) -> None:
    recorded: Recorded = run(lambda: GpuNodePool("train", _fixed_pool()))
    template = recorded.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    interfaces = template["networkInterfaces"]
    assert len(interfaces) == 32
    assert [(i["networkCardIndex"], i["deviceIndex"]) for i in interfaces[:3]] == [
        (0, 0), (1, 1), (2, 1)]
    assert {i["interfaceType"] for i in interfaces} == {"efa"}
    assert interfaces[0]["securityGroups"] == ["train-efa-sg-id", "sg-cluster"]
    # the Capacity Block still holds: market type and reservation beside the EFA interfaces
    assert template["instanceMarketOptions"] == {"marketType": "capacity-block"}
    assert template["capacityReservationSpecification"] == {
        "capacityReservationTarget": {"capacityReservationId": "cr-0123456789abcdef0"}}
    assert template["placement"] == {"groupName": "acme-train"}


def test_efa_interfaces_need_the_placement_group_and_vpc(run: Any) -> None:
    from blueprints.errors import ComponentArgsError
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: GpuNodePool("train", _fixed_pool(compact_placement=False)))
    assert str(e.value) == (
        "GpuNodePool train: efa_interfaces (32) needs compact_placement (a cluster placement "
        "group) and vpc_id (its security group): set both, or efa_interfaces to 0")


def test_an_efa_setting_on_a_type_without_efa_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load((EXAMPLES / "cloud-aws.yaml").read_text())
    data["pools"]["infer-l4"]["instance_type"] = "g6.xlarge"
    data["pools"]["infer-l4"]["fabric"] = True
    path = tmp_path / "bp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if text.strip() == "fabric: true" and i > next(
                    j for j, t in enumerate(path.read_text().splitlines(), 1)
                    if t.strip() == "infer-l4:"))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        f"{path}:{line}: pools.infer-l4.fabric: g6.xlarge has no EFA (Elastic Fabric Adapter): "
        "use an EFA type (e.g. p5.48xlarge, p4d.24xlarge, g6e.48xlarge) or remove fabric")


# ---------------------------------------------------------------------------------------------
# GCP: the sovereign A3 pool (a3-highgpu-8g, GPUDirect-TCPX)


def test_sovereign_a3_pool_has_its_four_gpudirect_tcpx_networks(
        sovereign: dict[str, Any]) -> None:
    prefix = "gcp-eu-train-h100-gpu-nics"
    vpcs = [r for r in resources(sovereign, "compute/network:Network")
            if r["name"].startswith(prefix)]
    subnets = [r for r in resources(sovereign, "compute/subnetwork:Subnetwork")
               if r["name"].startswith(prefix)]
    firewalls = [r for r in resources(sovereign, "compute/firewall:Firewall")
                 if r["name"].startswith(prefix)]
    assert len(vpcs) == len(subnets) == len(firewalls) == 4
    assert {r["inputs"]["mtu"] for r in vpcs} == {8244}
    assert sorted(r["inputs"]["ipCidrRange"] for r in subnets) == [
        "172.20.0.0/24", "172.20.1.0/24", "172.20.2.0/24", "172.20.3.0/24"]
    for fw in firewalls:  # only the NIC's own subnet may reach it
        [subnet] = [s for s in subnets if s["name"].rsplit("-", 1)[1]
                    == fw["name"].rsplit("-", 1)[1]]
        assert fw["inputs"]["sourceRanges"] == [subnet["inputs"]["ipCidrRange"]]
    pool = named(sovereign, "gcp-eu-train-h100-pool")["inputs"]
    extra = pool["networkConfig"]["additionalNodeNetworkConfigs"]
    assert extra == [{"network": f"acme-eu-gcp-eu-train-h100-gpunic-{i}",
                      "subnetwork": f"acme-eu-gcp-eu-train-h100-gpunic-{i}"} for i in range(4)]
    assert pool["placementPolicy"] == {"type": "COMPACT"}
    cluster = named(sovereign, "gcp-eu-gke-cluster")["inputs"]
    assert cluster["enableMultiNetworking"] is True
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    params = resources(sovereign, "networking.gke.io/v1:GKENetworkParamSet")
    networks = resources(sovereign, "networking.gke.io/v1:Network")
    assert [p["inputs"]["spec"] for p in params] == [
        {"vpc": f"acme-eu-gcp-eu-train-h100-gpunic-{i}",
         "vpcSubnet": f"acme-eu-gcp-eu-train-h100-gpunic-{i}", "deviceMode": "NetDevice"}
        for i in range(4)]
    assert [n["inputs"]["spec"]["parametersRef"]["name"] for n in networks] == [
        f"train-h100-vpc{i}" for i in range(1, 5)]


def test_sovereign_a3_pool_gets_the_nccl_installer_from_the_mirror(
        sovereign: dict[str, Any]) -> None:
    mirror = "europe-west4-docker.pkg.dev/acme-ml-eu/acme-eu-mirror"
    installer = named(sovereign, "gcp-eu-train-h100-gpudirect-nccl-tcpx-installer")["inputs"]
    pod = installer["spec"]["template"]["spec"]
    [init] = pod["initContainers"]
    assert init["image"].startswith(f"{mirror}/us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpx/"
                                    "nccl-plugin-gpudirecttcpx-dev:v3.1.8@sha256:")
    assert pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "cloud.google.com/gke-accelerator", "operator": "In",
         "values": ["nvidia-h100-80gb"]}]
    injector = named(sovereign, "gcp-eu-train-h100-gpudirect-device-injector")["inputs"]
    images = [c["image"] for c in injector["spec"]["template"]["spec"]["containers"]]
    assert images == [f"{mirror}/gcr.io/gke-release/nri-device-injector:1.0.25-gke.6@sha256:"
                      "7704e2bd74b8edbb76b6913c7904cc2362f1fa887c4d4aba7b19778ea353537c"]
    # every image of every object is the mirror's, by digest
    for r in (installer, injector):
        spec = r["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            assert c["image"].startswith(mirror + "/") and "@sha256:" in c["image"], c


# ---------------------------------------------------------------------------------------------
# the site: InfiniBand, the network operator, the switches' power, first boot, topology


def test_hybrid_site_installs_the_network_operator(hybrid: dict[str, Any]) -> None:
    chart = named(hybrid, "dc1-network-operator-chart")["inputs"]
    assert chart["version"] == "26.4.1"
    assert chart["values"]["nfd"] == {"enabled": False, "deployNodeFeatureRules": True}
    assert chart["values"]["operator"]["tag"].startswith("v26.4.1@sha256:")
    policy = named(hybrid, "dc1-network-operator-nic-cluster-policy")["inputs"]
    assert policy["metadata"]["name"] == "nic-cluster-policy"
    spec = policy["spec"]
    assert spec["ofedDriver"]["image"] == "doca-driver"
    assert spec["ofedDriver"]["version"].startswith("sha256:")
    rdma = json.loads(spec["rdmaSharedDevicePlugin"]["config"])
    assert rdma["configList"][0]["selectors"] == {"vendors": ["15b3"],
                                                  "linkTypes": ["infiniband"]}
    assert set(spec["secondaryNetwork"]) == {"cniPlugins", "multus", "ipoib"}
    networks = resources(hybrid, "mellanox.com/v1alpha1:IPoIBNetwork")
    assert sorted(n["inputs"]["spec"]["networkNamespace"] for n in networks) == [
        "team-applied", "team-research"]
    assert {n["inputs"]["spec"]["master"] for n in networks} == {"ibp24s0"}
    pool = named(hybrid, "dc1-network-operator-ip-pool")["inputs"]
    assert pool["spec"]["subnet"] == "10.40.0.0/16"


def test_roce_takes_a_macvlan_network_and_no_ipoib() -> None:
    args = NetworkOperatorArgs(fabric="roce", interface="ens1f0np0", cidr="10.50.0.0/16",
                               mtu=9000)
    spec = nic_cluster_policy_spec(args)
    assert set(spec["secondaryNetwork"]) == {"cniPlugins", "multus"}
    assert json.loads(spec["rdmaSharedDevicePlugin"]["config"])["configList"][0][
        "selectors"]["linkTypes"] == ["ether"]
    assert spec["ofedDriver"]["repository"] == "nvcr.io/nvidia/mellanox"
    assert spec["ofedDriver"]["version"] == "doca3.4.1-26.04-1.1.0.0-1"


def test_hybrid_fabric_switches_count_in_their_rack(hybrid: dict[str, Any]) -> None:
    [site] = resources(hybrid, "aifactory:baremetal:Site")
    racks = {r["name"]: r for r in site["inputs"]["racks"]}
    assert {"kind": "switch", "name": "fabric ib-leaf: Quantum-2 QM9700 NDR (leaf)",
            "count": 4, "kw": 1.7} in racks["net1"]["equipment"]
    assert site["inputs"]["fabric"] == "infiniband"


def test_the_site_power_envelope_counts_the_fabric(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(EXAMPLES / "hybrid.yaml")]) == 0
    out = capsys.readouterr().out
    assert "IT load 163.2 kW hosts + 20.0 kW other equipment = 183.2 kW" in out
    data = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    data["environments"]["dc1"]["fabric"]["switches"][0]["count"] = 6  # two more leaves
    path = tmp_path / "bp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["plan", str(path)]) == 0
    assert "IT load 163.2 kW hosts + 23.4 kW other equipment = 186.6 kW" in \
        capsys.readouterr().out


def test_first_boot_sets_up_the_adapters_and_the_leaf_label() -> None:
    spec = load(EXAMPLES / "hybrid.yaml")
    text = firstboot.render_user_data(spec, "dc1", "dc1-dgx01")
    assert "aifactory.io/fabric-leaf=ib-leaf" in text
    assert "aifactory.io/fabric=infiniband" in text
    assert "aifactory.io/rack=r1" in text
    assert "mstconfig -y -d \"$dev\" set LINK_TYPE_P1=1" in text
    assert "Name=ibp24s0" in text and "MTUBytes=4092" in text
    assert "[/usr/local/sbin/aifactory-fabric-setup]" in text
    assert "-lt 8 ]" in text  # the eight declared adapters are checked


def test_hybrid_flavors_name_their_topologies(hybrid: dict[str, Any]) -> None:
    topologies = {r["inputs"]["metadata"]["name"]: [lvl["nodeLabel"] for lvl in
                                                    r["inputs"]["spec"]["levels"]]
                  for r in resources(hybrid, "kueue.x-k8s.io/v1beta2:Topology")
                  if r["name"].startswith("dc1-")}
    assert topologies == {
        "site-fabric": ["aifactory.io/fabric-leaf", "aifactory.io/rack",
                        "kubernetes.io/hostname"],
        "eks-network": ["topology.k8s.aws/network-node-layer-1",
                        "topology.k8s.aws/network-node-layer-2",
                        "topology.k8s.aws/network-node-layer-3", "kubernetes.io/hostname"]}
    flavors = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"].get("topologyName")
               for r in resources(hybrid, "kueue.x-k8s.io/v1beta2:ResourceFlavor")
               if r["name"].startswith("dc1-")}
    # the l40s pool's type is not in the instance topology API: no topology
    assert flavors == {"dc1-h100": "site-fabric", "burst-h100-spot": "eks-network",
                       "burst-l40s-spot": None}


def test_gke_topology_on_the_sovereign_a3_pool(sovereign: dict[str, Any]) -> None:
    levels = [r["inputs"]["spec"]["levels"] for r in
              resources(sovereign, "kueue.x-k8s.io/v1beta2:Topology")
              if r["inputs"]["metadata"]["name"] == "gke-network"]
    assert levels and levels[0][:3] == [{"nodeLabel": "cloud.google.com/gce-topology-block"},
                                        {"nodeLabel": "cloud.google.com/gce-topology-subblock"},
                                        {"nodeLabel": "cloud.google.com/gce-topology-host"}]


def test_site_fabric_errors_name_the_field(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    data["environments"]["dc1"]["fabric"]["switches"][0]["rack"] = "net9"
    path = tmp_path / "bp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "net9" in t)
    assert err.splitlines()[0] == (
        f"{path}:{line}: environments.dc1.fabric.switches[0].rack: 'net9' is not a rack of the "
        "site (r1, r2, r3, r4, net1): name one of them")


# ---------------------------------------------------------------------------------------------
# the rule


def _messages(plan: dict[str, Any]) -> list[str]:
    from datetime import date
    return [v.message for v in evaluate(plan, [BY_NAME[RULE]],
                                        today=date(2026, 1, 15)).violations]


def test_rule_passes_when_the_fabric_is_configured(hybrid: dict[str, Any]) -> None:
    assert _messages(hybrid) == []


def test_rule_fails_a_multinode_efa_pool_without_fabric() -> None:
    plan = load_fixture("cloud-capacity")
    f = inputs(plan, "train-h100")
    f.update(fabricCapable="efa", fabric=None, maxNodes=4, instanceType="p5.48xlarge")
    assert _messages(plan) == [
        "pool train-h100 may run 4 nodes and p5.48xlarge has EFA with GPUDirect RDMA, but no "
        "fabric is configured: multi-node jobs would run NCCL over the ordinary network; set "
        "pools.train-h100.fabric: true"]
    f["maxNodes"] = 1  # a single node needs no fabric
    assert _messages(plan) == []


def test_rule_fails_a_site_of_dgx_hosts_without_its_fabric(hybrid: dict[str, Any]) -> None:
    plan = copy.deepcopy(hybrid)
    [pool] = [r for r in plan["resources"] if r["type"] == "aifactory:baremetal:GpuPool"]
    pool["inputs"]["fabric"] = None
    assert _messages(plan) == [
        "pool dc1-h100 may run 16 nodes and its servers have compute-fabric adapters "
        "(InfiniBand or RoCE), but no fabric is configured: multi-node jobs would run NCCL "
        "over the ordinary network; declare the site's fabric under environments.dc1.fabric "
        "(kind, adapters_per_host, interface, cidr, switches)"]


def test_gpudirect_rdma_takes_one_roce_vpc_with_a_subnet_per_nic(run: Any) -> None:
    from components.gcp.gpudirect_network import GpuDirectNetworks, GpuDirectNetworksArgs
    recorded: Recorded = run(lambda: GpuDirectNetworks("a4", GpuDirectNetworksArgs(
        project="acme-ml", region="europe-west4", zone="europe-west4-b",
        kind="gpudirect-rdma", nics=8, name_prefix="acme-a4", cidr="172.20.16.0/20")))
    [vpc] = recorded.of_type("gcp:compute/network:Network")
    assert vpc.inputs["networkProfile"] == ("projects/acme-ml/global/networkProfiles/"
                                           "europe-west4-b-vpc-roce")
    assert vpc.inputs["mtu"] == 8896
    subnets = recorded.of_type("gcp:compute/subnetwork:Subnetwork")
    assert [s.inputs["ipCidrRange"] for s in subnets] == [f"172.20.{16 + i}.0/24"
                                                          for i in range(8)]
    assert recorded.of_type("gcp:compute/firewall:Firewall") == []  # RoCE VPCs take none


def test_gpudirect_tcpxo_takes_eight_vpcs(run: Any) -> None:
    from components.gcp.gpudirect_network import GpuDirectNetworks, GpuDirectNetworksArgs
    recorded: Recorded = run(lambda: GpuDirectNetworks("mega", GpuDirectNetworksArgs(
        project="acme-ml", region="europe-west4", zone="europe-west4-b",
        kind="gpudirect-tcpxo", nics=8, name_prefix="acme-mega", cidr="172.20.0.0/20")))
    assert len(recorded.of_type("gcp:compute/network:Network")) == 8
    assert len(recorded.of_type("gcp:compute/firewall:Firewall")) == 8


def test_a_gpu_nic_range_too_small_is_refused(run: Any) -> None:
    from blueprints.errors import ComponentArgsError
    from components.gcp.gpudirect_network import GpuDirectNetworks, GpuDirectNetworksArgs
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: GpuDirectNetworks("mega", GpuDirectNetworksArgs(
            project="acme-ml", region="europe-west4", zone="europe-west4-b",
            kind="gpudirect-tcpxo", nics=8, name_prefix="acme-mega", cidr="172.20.0.0/23")))
    assert str(e.value) == ("`cidr` (172.20.0.0/23) holds fewer than 8 /24 ranges: give a /21 "
                            "or larger")


def test_roce_site_first_boot_sets_ethernet_link_type() -> None:
    data = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    fabric = data["environments"]["dc1"]["fabric"]
    fabric.update(kind="roce", interface="ens1f0np0", mtu=9000)
    from conftest import spec_from_yaml
    spec = spec_from_yaml(yaml.safe_dump(data, sort_keys=False))
    text = firstboot.render_user_data(spec, "dc1", "dc1-dgx01")
    assert "set LINK_TYPE_P1=2" in text and "MTUBytes=9000" in text
    assert "aifactory.io/fabric=roce" in text


# ---------------------------------------------------------------------------------------------
# GCP: the NCCL installers of TCPXO and RDMA


def _gpudirect(kind: str, nics: int, accelerator: str, mirror: Any = None) -> Any:
    from components.platform.gpudirect import GpuDirect, GpuDirectArgs, GpuNicNetwork
    return GpuDirect("pool-gpudirect", GpuDirectArgs(
        pool="pool", kind=kind, nics=[GpuNicNetwork(f"vpc{i}", f"sub{i}") for i in range(nics)],
        accelerators=[accelerator], mirror=mirror))


def test_tcpxo_gets_its_nccl_installer_and_the_device_injector(run: Any) -> None:
    recorded: Recorded = run(lambda: _gpudirect("gpudirect-tcpxo", 8, "nvidia-h100-mega-80gb"))
    sets = {d.inputs["metadata"]["name"]: d.inputs for d in
            recorded.of_type("kubernetes:apps/v1:DaemonSet")}
    assert sorted(sets) == ["device-injector", "nccl-tcpxo-installer"]
    pod = sets["nccl-tcpxo-installer"]["spec"]["template"]["spec"]
    assert sets["nccl-tcpxo-installer"]["metadata"]["namespace"] == "kube-system"
    assert [c["name"] for c in pod["initContainers"]] == ["pre-installation",
                                                         "nccl-tcpxo-installer"]
    assert pod["initContainers"][0]["image"] == "ubuntu:latest"
    assert pod["initContainers"][0]["command"][:5] == ["nsenter", "-at", "1", "--", "sh"]
    assert "lspci -nn -D | grep '1ae0:0084'" in pod["initContainers"][0]["command"][6]
    assert pod["initContainers"][1]["image"] == (
        "us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpxo/nccl-plugin-gpudirecttcpx-dev:v1.0.3")
    [pause] = pod["containers"]
    assert (pause["name"], pause["image"]) == ("pause", "gke.gcr.io/pause:3.8")
    assert pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["nvidia-h100-mega-80gb"]
    injector = sets["device-injector"]["spec"]["template"]["spec"]["containers"][0]
    assert injector["image"] == "gcr.io/gke-release/nri-device-injector:1.0.25-gke.6"
    assert len(recorded.of_type("kubernetes:networking.gke.io/v1:Network")) == 8


def test_rdma_gets_its_nccl_installer_and_no_injector(run: Any) -> None:
    recorded: Recorded = run(lambda: _gpudirect("gpudirect-rdma", 8, "nvidia-b200"))
    [ds] = recorded.of_type("kubernetes:apps/v1:DaemonSet")
    assert ds.inputs["metadata"]["name"] == "nccl-rdma-installer"
    pod = ds.inputs["spec"]["template"]["spec"]
    martians, installer = pod["initContainers"]
    assert martians["image"] == "alpine:latest"
    assert martians["args"][1].splitlines() == [
        f"sysctl -w net.ipv4.conf.gpu{i}rdma0.log_martians=0" for i in range(8)]
    assert installer["image"] == \
        "us-docker.pkg.dev/gce-ai-infra/gpudirect-gib/nccl-plugin-gib:v1.0.6"
    assert {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]} == {
        "library-dir-host": "/home/kubernetes/bin/nvidia/lib64",
        "gib": "/home/kubernetes/bin/gib"}


def test_tcpxo_and_rdma_images_come_from_the_mirror(run: Any) -> None:
    from catalog.charts import MANIFEST_IMAGES
    from components.platform.mirror import image_mirror
    images = {f"{i.upstream}:{i.default_tag}": "sha256:" + f"{n:x}".rjust(64, "a")
              for kind in ("gpudirect-tcpxo", "gpudirect-rdma")
              for n, i in enumerate(MANIFEST_IMAGES[kind][1])}
    mirror = image_mirror("europe-west4-docker.pkg.dev/acme/mirror", None, images)
    recorded: Recorded = run(lambda: _gpudirect("gpudirect-rdma", 8, "nvidia-b200", mirror))
    [ds] = recorded.of_type("kubernetes:apps/v1:DaemonSet")
    pod = ds.inputs["spec"]["template"]["spec"]
    assert pod["initContainers"][1]["image"] == (
        "europe-west4-docker.pkg.dev/acme/mirror/us-docker.pkg.dev/gce-ai-infra/gpudirect-gib/"
        "nccl-plugin-gib:v1.0.6@sha256:" + "0".rjust(64, "a"))


def test_a_sovereign_tcpxo_pool_needs_its_images_in_the_lock(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load((EXAMPLES / "sovereign-eu.yaml").read_text())
    data["pools"]["train-h100"]["instance_type"] = "a3-megagpu-8g"
    path = tmp_path / "bp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpxo/nccl-plugin-gpudirecttcpx-dev" in err
    assert "manifests gpudirect-tcpxo" in err


def test_gpudirect_daemonsets_close_what_their_work_allows(run: Any) -> None:
    from components.platform.nccl_installers import LOCKED_DOWN
    for kind, nics, accelerator in (("gpudirect-tcpx", 4, "nvidia-h100-80gb"),
                                    ("gpudirect-tcpxo", 8, "nvidia-h100-mega-80gb"),
                                    ("gpudirect-rdma", 8, "nvidia-b200")):
        recorded: Recorded = run(lambda: _gpudirect(kind, nics, accelerator))  # noqa: B023
        for ds in recorded.of_type("kubernetes:apps/v1:DaemonSet"):
            pod = ds.inputs["spec"]["template"]["spec"]
            assert pod["automountServiceAccountToken"] is False
            assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
            containers = [*pod.get("initContainers", []), *pod["containers"]]
            for c in containers:
                assert set(c["resources"]) == {"requests", "limits"}, (kind, c["name"])
                assert set(c["resources"]["requests"]) == {"cpu", "memory"}
            pauses = [c for c in containers if c["name"] == "pause"]
            assert all(c["securityContext"] == LOCKED_DOWN for c in pauses)
            # the host work stays privileged, as Google ships it
            assert all(c["securityContext"] == {"privileged": True}
                       for c in containers if c["name"] != "pause")
