"""Training storage: FSx for Lustre linked to a lakehouse zone, Managed Lustre or GCS FUSE on
GKE, a site's existing file system; a volume and claim per team; the load errors; the rules
that cover the new stores."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, Recorded

from aifactory.cli import main
from aifactory.plan.document import plan_blueprint
from blueprints.errors import ComponentArgsError
from blueprints.spec import load
from components.aws.location import AwsLocation
from components.aws.training_storage import LustreStorage, LustreStorageArgs
from components.gcp.training_storage import ManagedLustre, ManagedLustreArgs
from components.platform.fsx_csi_driver import fsx_values
from components.platform.training_volumes import (
    TeamVolume,
    TrainingVolumes,
    TrainingVolumesArgs,
    VolumeSource,
)
from policies import BY_NAME, evaluate

FSX = "aws:fsx/lustreFileSystem:LustreFileSystem"
DRA = "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation"
LUSTRE = "gcp:lustre/instance:Instance"
PV = "kubernetes:core/v1:PersistentVolume"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"


def named(plan: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [r for r in plan["resources"] if r["name"] == name]
    return found


def of_type(plan: dict[str, Any], type_token: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == type_token]


@pytest.fixture(scope="module")
def hybrid() -> dict[str, Any]:
    path = EXAMPLES / "hybrid.yaml"
    return plan_blueprint(load(path), str(path))


@pytest.fixture(scope="module")
def sovereign() -> dict[str, Any]:
    path = EXAMPLES / "sovereign-eu.yaml"
    return plan_blueprint(load(path), str(path))


def _plan_of(tmp_path: Path, data: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "bp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return plan_blueprint(load(path), str(path))


def _messages(plan: dict[str, Any], rule: str) -> list[str]:
    return [v.message for v in evaluate(plan, [BY_NAME[rule]],
                                        today=date(2026, 1, 15)).violations]


# ---------------------------------------------------------------------------------------------
# AWS: FSx for Lustre of the hybrid burst environment


def test_hybrid_fsx_is_persistent_encrypted_and_protected(hybrid: dict[str, Any]) -> None:
    fs = named(hybrid, "aws-burst-training-storage-burst-scratch-fs")
    i = fs["inputs"]
    assert (i["deploymentType"], i["storageType"], i["storageCapacity"],
            i["perUnitStorageThroughput"], i["fileSystemTypeVersion"]) == (
        "PERSISTENT_2", "SSD", 4800, 250, "2.15")
    key = named(hybrid, "aws-burst-key-key")
    assert key["type"] == "aws:kms/key:Key"
    assert i["kmsKeyId"] == "arn:aws:kms:::aws-burst-key-key"  # the environment's key (mock ARN)
    assert i["subnetIds"] == "aws-burst-network-private-eu-north-1a-id"
    assert i["securityGroupIds"] == ["aws-burst-training-storage-burst-scratch-sg-id"]
    assert fs["protect"] is True


def test_hybrid_fsx_security_group_lets_lustre_in_from_the_nodes(hybrid: dict[str, Any]) -> None:
    rules = {r["name"].rsplit("-sg-", 1)[1]: r["inputs"] for r in hybrid["resources"]
             if r["name"].startswith("aws-burst-training-storage-burst-scratch-sg-")}
    assert sorted(rules) == ["in-nodes-1018-1023", "in-nodes-988", "in-self-1018-1023",
                             "in-self-988", "out-self-1018-1023", "out-self-988"]
    nodes = rules["in-nodes-1018-1023"]
    assert (nodes["ipProtocol"], nodes["fromPort"], nodes["toPort"]) == ("tcp", 1018, 1023)
    # the nodes' group is the EKS cluster's security group, an output unknown offline (the
    # component test below shows the reference)
    assert nodes["securityGroupId"] == "aws-burst-training-storage-burst-scratch-sg-id"
    assert rules["in-self-988"]["referencedSecurityGroupId"] == \
        "aws-burst-training-storage-burst-scratch-sg-id"


def test_hybrid_fsx_links_the_checkpoints_bucket(hybrid: dict[str, Any]) -> None:
    dra = named(hybrid, "aws-burst-training-storage-burst-scratch-dra-checkpoints")["inputs"]
    bucket = named(hybrid, "aws-burst-lakehouse-checkpoints-bucket")["inputs"]["bucket"]
    assert dra["dataRepositoryPath"] == f"s3://{bucket}/"
    assert dra["fileSystemPath"] == "/lakehouse/checkpoints"
    assert dra["fileSystemId"] == "aws-burst-training-storage-burst-scratch-fs-id"
    assert dra["batchImportMetaDataOnCreate"] is True
    events = ["NEW", "CHANGED", "DELETED"]
    assert dra["s3"] == {"autoImportPolicy": {"events": events},
                         "autoExportPolicy": {"events": events}}


def test_hybrid_installs_the_fsx_csi_driver_node_component_from_the_mirror(
        hybrid: dict[str, Any]) -> None:
    chart = named(hybrid, "aws-burst-fsx-csi-driver-chart")["inputs"]
    mirror = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/acme-hybrid/mirror"
    assert chart["chart"] == f"oci://{mirror}/charts/aws-fsx-csi-driver"
    assert chart["version"] == "1.17.0"
    values = chart["values"]
    assert values["nodeComponentOnly"] is True
    assert values["image"] == {
        "repository": f"{mirror}/public.ecr.aws/fsx-csi-driver/aws-fsx-csi-driver",
        "tag": "v1.9.0@sha256:1c3e5a7b9d0f2e4a6c8b0d2f4e6a8c0b2d4f6e8a0c2b4d6f8e0a2c4b6d8f0e2a"}
    assert set(values["sidecars"]) == {"livenessProbe", "nodeDriverRegistrar"}


def test_fsx_values_upstream_name_the_charts_own_images() -> None:
    values = fsx_values()
    assert values["image"] == {"repository": "public.ecr.aws/fsx-csi-driver/aws-fsx-csi-driver",
                               "tag": "v1.9.0"}
    assert values["sidecars"]["nodeDriverRegistrar"]["image"]["tag"] == "v2.16.0-eksbuild.3"


def test_every_team_gets_a_bound_fsx_volume_and_claim(hybrid: dict[str, Any]) -> None:
    for team in ("research", "applied"):
        pv = named(hybrid, f"aws-burst-training-volumes-burst-scratch-{team}-pv")["inputs"]
        pvc = named(hybrid, f"aws-burst-training-volumes-burst-scratch-{team}-pvc")["inputs"]
        assert pv["spec"]["csi"]["driver"] == "fsx.csi.aws.com"
        assert pv["spec"]["csi"]["volumeHandle"] == \
            "aws-burst-training-storage-burst-scratch-fs-id"
        assert pv["spec"]["claimRef"] == {"name": "training-data",
                                          "namespace": f"team-{team}"}
        assert pv["spec"]["accessModes"] == ["ReadWriteMany"]
        assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
        assert pvc["metadata"] == {**pvc["metadata"], "name": "training-data",
                                   "namespace": f"team-{team}"}
        assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
        assert pvc["spec"]["storageClassName"] == pv["spec"]["storageClassName"] == ""
        assert pvc["spec"]["resources"] == {"requests": {"storage": "4800Gi"}}


# ---------------------------------------------------------------------------------------------
# a site: the hybrid DC's NFS export


def test_hybrid_site_mounts_its_nfs_export_under_its_class(hybrid: dict[str, Any]) -> None:
    pv = named(hybrid, "dc1-training-volumes-dc1-datasets-applied-pv")["inputs"]["spec"]
    assert pv["nfs"] == {"server": "nfs.dc1.acme.internal", "path": "/training"}
    assert pv["storageClassName"] == "nfs-training"
    assert pv["capacity"] == {"storage": "200Ti"}
    pvc = named(hybrid, "dc1-training-volumes-dc1-datasets-applied-pvc")["inputs"]["spec"]
    assert pvc["storageClassName"] == "nfs-training"
    volumes = named(hybrid, "dc1-training-volumes-dc1-datasets")["inputs"]
    assert volumes["existingClasses"] == ["nfs-training"]


def test_volume_class_rule_knows_the_sites_training_class(hybrid: dict[str, Any]) -> None:
    rule = "capacity-volume-class-exists"
    assert _messages(hybrid, rule) == []
    plan = copy.deepcopy(hybrid)
    named(plan, "dc1-training-volumes-dc1-datasets")["inputs"]["existingClasses"] = []
    assert sorted(_messages(plan, rule)) == [
        f"dc1-training-volumes-dc1-datasets-{team}-pvc claims a volume (spec.storageClassName) "
        "of StorageClass 'nfs-training', which does not exist in cluster dc1 (classes there: "
        "ceph-rbd): the claim would never bind" for team in ("applied", "research")]


# ---------------------------------------------------------------------------------------------
# GCP: Managed Lustre of the sovereign factory, GCS FUSE


def test_sovereign_managed_lustre_in_region_with_its_key(sovereign: dict[str, Any]) -> None:
    lustre = named(sovereign, "gcp-eu-training-storage-eu-scratch-instance")
    i = lustre["inputs"]
    assert (i["location"], i["capacityGib"], i["perUnitStorageThroughput"]) == (
        "europe-west4-a", "18000", "1000")
    assert i["kmsKey"] == "gcp-eu-kms-disks-id"
    assert i["network"] == "gcp-eu-network-vpc-id"
    assert i["gkeSupportEnabled"] is True
    assert lustre["protect"] is True
    grant = named(sovereign, "gcp-eu-kms-disks-gcp-sa-lustre")["inputs"]
    assert grant["member"] == \
        "serviceAccount:service-271828182845@gcp-sa-lustre.iam.gserviceaccount.com"
    assert "gcp-eu-kms-disks-gcp-sa-lustre" in " ".join(lustre["dependencies"])
    access = named(sovereign, "gcp-eu-training-storage-eu-scratch-private-services")["inputs"]
    assert access["service"] == "servicenetworking.googleapis.com"
    [cluster] = of_type(sovereign, "gcp:container/cluster:Cluster")
    assert cluster["inputs"]["addonsConfig"]["lustreCsiDriverConfig"] == {
        "enabled": True, "enableLegacyLustrePort": True}


def test_sovereign_teams_mount_the_lustre_instance(sovereign: dict[str, Any]) -> None:
    pv = named(sovereign, "gcp-eu-training-volumes-eu-scratch-research-pv")["inputs"]["spec"]
    assert pv["csi"]["driver"] == "lustre.csi.storage.gke.io"
    assert pv["csi"]["volumeHandle"] == "acme-ml-eu/europe-west4-a/acme-eu-gcp-eu-eu-scratch"
    assert pv["csi"]["volumeAttributes"]["filesystem"] == "euscratc"


def test_gcs_fuse_mounts_the_zone_bucket(tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES / "sovereign-eu.yaml").read_text())
    data["training_storage"]["eu-scratch"] = {"environment": "gcp-eu", "kind": "gcs-fuse",
                                              "zone": "curated", "teams": ["research"]}
    plan = _plan_of(tmp_path, data)
    assert of_type(plan, LUSTRE) == []
    pv = named(plan, "gcp-eu-training-volumes-eu-scratch-research-pv")["inputs"]["spec"]
    bucket = named(plan, "gcp-eu-lakehouse-curated")["inputs"]["name"]
    assert pv["csi"] == {"driver": "gcsfuse.csi.storage.gke.io", "volumeHandle": bucket}
    assert pv["mountOptions"] == ["implicit-dirs", "file-cache:enable-parallel-downloads:true"]
    assert [r["name"] for r in of_type(plan, PVC) if "training" in r["name"]] == [
        "gcp-eu-training-volumes-eu-scratch-research-pvc"]
    [cluster] = of_type(plan, "gcp:container/cluster:Cluster")
    assert "lustreCsiDriverConfig" not in cluster["inputs"]["addonsConfig"]


# ---------------------------------------------------------------------------------------------
# the rules over the new stores


def test_customer_key_rule_passes_the_new_stores(hybrid: dict[str, Any],
                                                 sovereign: dict[str, Any]) -> None:
    rule = "sovereignty-store-customer-keys"
    assert _messages(hybrid, rule) == []
    assert _messages(sovereign, rule) == []


def test_customer_key_rule_fails_fsx_and_lustre_without_a_key(
        hybrid: dict[str, Any], sovereign: dict[str, Any]) -> None:
    rule = "sovereignty-store-customer-keys"
    plan = copy.deepcopy(hybrid)
    del named(plan, "aws-burst-training-storage-burst-scratch-fs")["inputs"]["kmsKeyId"]
    assert _messages(plan, rule) == [
        "LustreFileSystem aws-burst-training-storage-burst-scratch-fs has no kmsKeyId"]
    plan = copy.deepcopy(sovereign)
    del named(plan, "gcp-eu-training-storage-eu-scratch-instance")["inputs"]["kmsKey"]
    assert _messages(plan, rule) == [
        "Instance gcp-eu-training-storage-eu-scratch-instance has no kmsKey: its data uses a "
        "Google-managed key"]


def test_region_rule_fails_a_file_system_outside_the_jurisdiction(
        sovereign: dict[str, Any]) -> None:
    rule = "sovereignty-resource-region"
    assert _messages(sovereign, rule) == []
    plan = copy.deepcopy(sovereign)
    named(plan, "gcp-eu-training-storage-eu-scratch-instance")["inputs"]["location"] = \
        "us-central1-a"
    [message] = _messages(plan, rule)
    assert message.startswith("Instance gcp-eu-training-storage-eu-scratch-instance is placed "
                              "in us-central1, outside EU")


def test_data_protection_rule_fails_an_unprotected_file_system(
        hybrid: dict[str, Any]) -> None:
    rule = "security-data-protected"
    assert _messages(hybrid, rule) == []
    plan = copy.deepcopy(hybrid)
    named(plan, "aws-burst-training-storage-burst-scratch-fs")["protect"] = False
    [message] = _messages(plan, rule)
    assert "aws-burst-training-storage-burst-scratch-fs" in message


# ---------------------------------------------------------------------------------------------
# load errors (file:line: field: message, exit 2)


def _first_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], example: str,
                 store: dict[str, Any], marker: str) -> tuple[str, str]:
    data = yaml.safe_load((EXAMPLES / example).read_text())
    data["training_storage"] = {"scratch": store}
    path = tmp_path / "bp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    lines = path.read_text().splitlines()
    start = next(i for i, t in enumerate(lines) if t.startswith("training_storage:"))
    line = next(i for i, t in enumerate(lines[start:], start + 1) if marker in t)
    return err.splitlines()[0], f"{path}:{line}"


def test_a_kind_the_substrate_lacks_exits_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    first, where = _first_error(tmp_path, capsys, "sovereign-eu.yaml", {
        "environment": "gcp-eu", "kind": "fsx-lustre", "capacity_gib": 2400,
        "zone": "curated"}, "kind:")
    assert first == (f"{where}: training_storage.scratch.kind: 'fsx-lustre' is not training "
                     "storage gcp-eu (gcp) offers: use managed-lustre or gcs-fuse")


def test_an_unknown_zone_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, where = _first_error(tmp_path, capsys, "hybrid.yaml", {
        "environment": "aws-burst", "kind": "fsx-lustre", "capacity_gib": 2400,
        "zone": "checkpoint"}, "zone:")
    assert first == (f"{where}: training_storage.scratch.zone: 'checkpoint' is not a "
                     "lakehouse zone: declared are ['checkpoints', 'curated', 'raw']")


def test_an_fsx_capacity_fsx_refuses_exits_2(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    first, where = _first_error(tmp_path, capsys, "hybrid.yaml", {
        "environment": "aws-burst", "kind": "fsx-lustre", "capacity_gib": 3000,
        "zone": "checkpoints"}, "capacity_gib:")
    assert first == (f"{where}: training_storage.scratch.capacity_gib: 3000 GiB is not a "
                     "capacity FSx for Lustre PERSISTENT_2 accepts (1200 or a multiple of "
                     "2400): use 2400 or 4800")


def test_a_managed_lustre_capacity_off_its_step_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, where = _first_error(tmp_path, capsys, "sovereign-eu.yaml", {
        "environment": "gcp-eu", "kind": "managed-lustre", "capacity_gib": 20000,
        "throughput_per_tib": 500, "zone": "curated"}, "capacity_gib:")
    assert first == (f"{where}: training_storage.scratch.capacity_gib: 20000 GiB is not a "
                     "multiple of 18000 GiB, the step of Managed Lustre at 500 MB/s/TiB: use "
                     "18000 or 36000")


def test_managed_lustre_where_the_region_lacks_it_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load((EXAMPLES / "sovereign-eu.yaml").read_text())
    from blueprints.spec.training_storage import TrainingStorage, _store_problems
    spec = load(EXAMPLES / "sovereign-eu.yaml")
    env = spec.environments["gcp-eu"]
    moved = spec.model_copy(update={"environments": {
        **spec.environments, "gcp-eu": env.model_copy(update={"region": "europe-north1"})}})
    store = TrainingStorage(**data["training_storage"]["eu-scratch"])
    assert _store_problems(moved, "eu-scratch", store) == [(
        "training_storage.eu-scratch.kind", "Managed Lustre is not offered in europe-north1 "
        "(catalog.storage.MANAGED_LUSTRE_ZONES): use kind: gcs-fuse")]


def test_a_site_nfs_without_its_export_exits_2(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    first, where = _first_error(tmp_path, capsys, "hybrid.yaml", {
        "environment": "dc1", "kind": "nfs", "server": "nfs.dc1.internal",
        "storage_class": "nfs-training"}, "server:")
    assert first == (f"{where}: training_storage.scratch.server: nfs needs server and export "
                     "(or csi_driver and volume_handle): give both, e.g. server: "
                     "nfs.dc1.internal, export: /training")


# ---------------------------------------------------------------------------------------------
# the components on their own


def _fsx_args(**overrides: Any) -> LustreStorageArgs:
    values: dict[str, Any] = dict(
        location=AwsLocation(partition="aws", region="eu-north-1", account_id="123456789012"),
        name_prefix="acme", vpc_id="vpc-1", subnet_id="subnet-1",
        node_security_group_id="sg-nodes", kms_key_arn="arn:aws:kms:eu-north-1:1:key/k",
        capacity_gib=2400, throughput_per_tib=500, bucket_name="acme-ckpt", zone="ckpt")
    values.update(overrides)
    return LustreStorageArgs(**values)


def test_lustre_storage_registers_its_parts(run: Any) -> None:
    recorded: Recorded = run(lambda: LustreStorage("train", _fsx_args()))
    fs = recorded.one(FSX)
    assert fs.inputs["kmsKeyId"] == "arn:aws:kms:eu-north-1:1:key/k"
    assert fs.inputs["perUnitStorageThroughput"] == 500
    dra = recorded.one(DRA)
    assert dra.inputs["dataRepositoryPath"] == "s3://acme-ckpt/"
    assert dra.inputs["fileSystemPath"] == "/lakehouse/ckpt"
    group = recorded.one("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["name"] == "acme-lustre"
    ingress = recorded.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted((r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"])
                  for r in ingress) == [("sg-nodes", 988), ("sg-nodes", 1018),
                                        ("train-sg-id", 988), ("train-sg-id", 1018)]


def test_lustre_storage_refuses_a_capacity_fsx_refuses(run: Any) -> None:
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: LustreStorage("train", _fsx_args(capacity_gib=3600)))
    assert str(e.value) == ("`capacity_gib` (3600) is not 1200 or a multiple of 2400 GiB: FSx "
                            "PERSISTENT_2 refuses it")


def test_managed_lustre_refuses_a_zone_without_it(run: Any) -> None:
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: ManagedLustre("train", ManagedLustreArgs(
            project="p-12345", zone="europe-north1-a", network_id="n", instance_id="train",
            filesystem="train", capacity_gib=9000, throughput_per_tib=1000, kms_key_id="k")))
    assert str(e.value) == ("`zone` (europe-north1-a) does not offer Managed Lustre: use one "
                            "of none")


def test_training_volumes_take_one_source(run: Any) -> None:
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: TrainingVolumes("t", TrainingVolumesArgs(
            store="s", kind="nfs", source=VolumeSource(driver="x", volume_handle="h",
                                                       nfs_server="a", nfs_path="/b"),
            capacity="1Ti", teams=[TeamVolume("a", "team-a")])))
    assert str(e.value) == ("`source` takes a CSI driver and its volume handle, or an NFS "
                            "server and path: give one of them")


def test_training_volumes_of_a_site_csi_driver(run: Any) -> None:
    recorded: Recorded = run(lambda: TrainingVolumes("t", TrainingVolumesArgs(
        store="gpfs", kind="gpfs", source=VolumeSource(
            driver="spectrumscale.csi.ibm.com", volume_handle="0;2;fs1;/gpfs/fs1/training",
            volume_attributes={"volBackendFs": "fs1"}),
        capacity="100Ti", storage_class="ibm-spectrum-scale",
        teams=[TeamVolume("a", "team-a"), TeamVolume("b", "team-b")])))
    pvs = recorded.of_type(PV)
    assert [p.inputs["metadata"]["name"] for p in pvs] == ["gpfs-a", "gpfs-b"]
    assert pvs[0].inputs["spec"]["csi"] == {
        "driver": "spectrumscale.csi.ibm.com", "volumeHandle": "0;2;fs1;/gpfs/fs1/training",
        "volumeAttributes": {"volBackendFs": "fs1"}}
    claims = recorded.of_type(PVC)
    assert [c.inputs["metadata"]["namespace"] for c in claims] == ["team-a", "team-b"]
    assert {c.inputs["spec"]["storageClassName"] for c in claims} == {"ibm-spectrum-scale"}
