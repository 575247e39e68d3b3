"""GpuNodePool: accelerators and drivers, sharing, spot, reservations, placement, bounds, taints."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from blueprints.errors import ComponentArgsError
from blueprints.facts import PoolFacts
from components.gcp import GpuNodePool, GpuNodePoolArgs, NodeTaint
from components.gcp.accelerators import accelerator_type, boot_disk_type
from components.gcp.gpu_node_pool import initial_per_zone

POOL = "gcp:container/nodePool:NodePool"
ZONES = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
DISK_KEY = "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/disks"
NODE_SA = "acme-nodes@acme-ml-prod.iam.gserviceaccount.com"
GPU_TAINT = NodeTaint("nvidia.com/gpu", "present", "NoSchedule")


def facts(gpu: str = "h100-sxm5", gpus: int = 8, capacity: str = "on-demand") -> PoolFacts:
    return PoolFacts(pool="train", environment="gcp-prod", cloud="gcp", region="europe-west4",
                     instanceType="a3-highgpu-8g", gpuModel=gpu, gpusPerNode=gpus,
                     vcpusPerNode=208, quotaClass=f"gpu:{gpu}", quotaKey="NVIDIA_H100_GPUS",
                     zones=ZONES, hosts=[], minNodes=0, desiredNodes=2, maxNodes=8,
                     capacity=capacity, interruptionTolerant=capacity == "spot", gpuShare=1.0,
                     gpuBoardPowerW=5600.0, onDemandUsdPerHour=111.82, spotUsdPerHour=25.56,
                     usdPerHour=111.82, priceBasis="on-demand list price (snapshot)",
                     instanceTypes=["a3-highgpu-8g"], gpuResource="nvidia.com/gpu",
                     unitsPerGpu=1, autoscaling="GKE cluster autoscaler", fabric="gpudirect-tcpx",
                     fabricCapable="gpudirect-tcpx")


def args(**overrides: Any) -> GpuNodePoolArgs:
    values: dict[str, Any] = dict(
        facts=facts(), cluster_id="cluster-id", region="europe-west4", node_locations=ZONES,
        pool_name="train", machine_type="a3-highgpu-8g", accelerator_type="nvidia-h100-80gb",
        accelerator_count=8, min_nodes=0, max_nodes=8, initial_nodes=2,
        service_account=NODE_SA, boot_disk_key_id=DISK_KEY, disk_size_gb=1000,
        taints=[GPU_TAINT], node_labels={"workload": "training"},
        labels={"factory": "acme-gcp", "pool": "train"})
    values.update(overrides)
    return GpuNodePoolArgs(**values)


def pool_of(run, **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return run(lambda: GpuNodePool("train", args(**overrides))).one(POOL, "train-pool").inputs


def test_component_carries_the_pool_facts(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: GpuNodePool("train", args()))
    component = rec.one("aifactory:gcp:GpuNodePool", "train")
    assert component.inputs == dict(facts())
    assert rec.one(POOL).parent == component.urn


def test_machine_accelerators_and_driver(run) -> None:  # type: ignore[no-untyped-def]
    pool = pool_of(run)
    node = pool["nodeConfig"]
    assert node["machineType"] == "a3-highgpu-8g"
    assert node["guestAccelerators"] == [{
        "type": "nvidia-h100-80gb", "count": 8,
        "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}]
    assert pool["cluster"] == "cluster-id"
    assert pool["location"] == "europe-west4"
    assert pool["nodeLocations"] == ZONES


def test_nodes_are_shielded_cmek_encrypted_and_use_workload_identity(run) -> None:  # type: ignore[no-untyped-def]
    node = pool_of(run)["nodeConfig"]
    assert node["shieldedInstanceConfig"] == {"enableSecureBoot": True,
                                              "enableIntegrityMonitoring": True}
    assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert node["bootDiskKmsKey"] == DISK_KEY
    assert node["serviceAccount"] == NODE_SA
    assert node["diskSizeGb"] == 1000
    assert node["diskType"] == "pd-balanced"
    assert node["resourceLabels"] == {"factory": "acme-gcp", "pool": "train"}


def test_autoscaling_bounds_are_pool_totals(run) -> None:  # type: ignore[no-untyped-def]
    pool = pool_of(run, min_nodes=1, initial_nodes=2, max_nodes=8)
    assert pool["autoscaling"] == {"totalMinNodeCount": 1, "totalMaxNodeCount": 8,
                                   "locationPolicy": "BALANCED"}
    assert pool["initialNodeCount"] == 1  # 2 nodes over 3 zones: 1 a zone (3 <= max 8)
    assert pool["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 0, "maxUnavailable": 1}
    assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}


def test_initial_nodes_per_zone_never_exceed_the_maximum() -> None:
    assert initial_per_zone(2, 3, 8) == 1
    assert initial_per_zone(4, 3, 8) == 2
    assert initial_per_zone(4, 3, 4) == 1  # rounding up would make 6 > 4
    assert initial_per_zone(0, 3, 4) == 0


def test_gpu_taint_and_node_labels(run) -> None:  # type: ignore[no-untyped-def]
    node = pool_of(run, taints=[GPU_TAINT, NodeTaint("dedicated", "training", "NoExecute")])[
        "nodeConfig"]
    assert node["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"},
        {"key": "dedicated", "value": "training", "effect": "NO_EXECUTE"}]
    assert node["labels"] == {"workload": "training"}


def test_spot_nodes_take_capacity_in_any_zone(run) -> None:  # type: ignore[no-untyped-def]
    pool = pool_of(run, spot=True, facts=facts(capacity="spot"))
    assert pool["nodeConfig"]["spot"] is True
    assert pool["autoscaling"]["locationPolicy"] == "ANY"
    assert "reservationAffinity" not in pool["nodeConfig"]
    assert pool_of(run)["nodeConfig"]["spot"] is False


def test_specific_reservation_affinity(run) -> None:  # type: ignore[no-untyped-def]
    node = pool_of(run, reservation="acme-h100")["nodeConfig"]
    assert node["reservationAffinity"] == {
        "consumeReservationType": "SPECIFIC_RESERVATION",
        "key": "compute.googleapis.com/reservation-name", "values": ["acme-h100"]}


def test_compact_placement_in_one_zone(run) -> None:  # type: ignore[no-untyped-def]
    pool = pool_of(run, compact_placement=True, node_locations=ZONES[:1])
    assert pool["placementPolicy"] == {"type": "COMPACT"}
    assert pool["nodeLocations"] == ["europe-west4-a"]
    assert pool["initialNodeCount"] == 2
    assert "placementPolicy" not in pool_of(run)


def test_mig_partitions(run) -> None:  # type: ignore[no-untyped-def]
    node = pool_of(run, facts=facts("a100-sxm4-40gb", 1), machine_type="a2-highgpu-1g",
                   accelerator_type="nvidia-tesla-a100", accelerator_count=1,
                   mig_partition_size="1g.5gb")["nodeConfig"]
    assert node["guestAccelerators"] == [{
        "type": "nvidia-tesla-a100", "count": 1, "gpuPartitionSize": "1g.5gb",
        "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}]


@pytest.mark.parametrize(("gpu", "size"), [
    ("h100-sxm5", "4g.40gb"), ("a100-sxm4-80gb", "4g.40gb"), ("a100-sxm4-40gb", "4g.20gb"),
    ("a100-sxm4-40gb", "1g.10gb"), ("h200-sxm", "4g.71gb"), ("b200", "1g.23gb")])
def test_every_nvidia_mig_profile_is_accepted(run, gpu, size) -> None:  # type: ignore[no-untyped-def]
    node = pool_of(run, facts=facts(gpu, 8), mig_partition_size=size)["nodeConfig"]
    assert node["guestAccelerators"][0]["gpuPartitionSize"] == size


def test_media_extension_profiles_are_refused(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: GpuNodePool("train", args(mig_partition_size="1g.10gb+me")))
    assert str(e.value) == (
        "GpuNodePool train: mig_partition_size ('1g.10gb+me') is not a MIG partition of "
        "h100-sxm5: sizes are 1g.10gb, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb")


def test_time_sharing(run) -> None:  # type: ignore[no-untyped-def]
    node = pool_of(run, facts=facts("l4", 2), machine_type="g2-standard-24",
                   accelerator_type="nvidia-l4", accelerator_count=2,
                   time_sharing_clients=4)["nodeConfig"]
    assert node["guestAccelerators"][0]["gpuSharingConfig"] == {
        "gpuSharingStrategy": "TIME_SHARING", "maxSharedClientsPerGpu": 4}


def test_accelerator_and_disk_types_by_machine_series() -> None:
    assert accelerator_type("a3-highgpu-8g") == "nvidia-h100-80gb"
    assert accelerator_type("a3-megagpu-8g") == "nvidia-h100-mega-80gb"
    assert accelerator_type("a2-ultragpu-8g") == "nvidia-a100-80gb"
    assert accelerator_type("g2-standard-24") == "nvidia-l4"
    assert boot_disk_type("a3-megagpu-8g") == "hyperdisk-balanced"
    assert boot_disk_type("g2-standard-8") == "pd-balanced"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"compact_placement": True}, "GpuNodePool train: compact_placement needs exactly one zone, "
     "got ['europe-west4-a', 'europe-west4-b', 'europe-west4-c']: pass a single zone"),
    ({"spot": True, "reservation": "r1"}, "GpuNodePool train: spot nodes cannot consume "
     "reservation 'r1': drop spot or the reservation"),
    ({"mig_partition_size": "1g.5gb", "facts": facts("l4", 1)}, "GpuNodePool train: "
     "mig_partition_size ('1g.5gb') is not a MIG partition of l4: sizes are none: the GPU has "
     "no MIG"),
    ({"min_nodes": 3, "initial_nodes": 3, "max_nodes": 2}, "GpuNodePool train: max_nodes (2) is "
     "below min_nodes (3): raise max_nodes or lower min_nodes; GpuNodePool train: initial_nodes "
     "(3) must lie between min_nodes (3) and max_nodes (2)"),
    ({"node_locations": ["europe-west1-b"]}, "GpuNodePool train: node_locations "
     "['europe-west1-b'] are not zones of europe-west4: use names such as europe-west4-a"),
    ({"driver_version": "R535"}, "GpuNodePool train: driver_version ('R535') must be one of "
     "DEFAULT, LATEST, INSTALLATION_DISABLED"),
])
def test_bad_args_are_refused(run, overrides, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: GpuNodePool("train", args(**overrides)))
    assert str(e.value) == message


def test_args_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        args().spot = True  # type: ignore[misc]
