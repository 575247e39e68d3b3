"""Training storage, built after the platform layer: spec -> the file system of each
environment that declares one, and a PersistentVolume and claim per team on it.

AWS: FSx for Lustre in the cluster's first private subnet, linked to the lakehouse zone's
bucket, and the FSx CSI driver's node component. GCP: Managed Lustre in the zone of the
GPU pools (GKE's Lustre CSI add-on mounts it), or the zone's bucket through GKE's Cloud
Storage FUSE CSI driver (the training service account of each team namespace already reads
and writes the lakehouse buckets, components.gcp.workload_access). A site: its existing
NFS/Lustre/GPFS file system under the StorageClass it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from blueprints.compose.blame import blame
from blueprints.compose.platform import mirror_of
from blueprints.compose.tagging import aws_tags, gcp_labels, k8s_labels
from blueprints.errors import BlueprintFieldError
from blueprints.spec.models import AwsEnvironment, Blueprint, GcpEnvironment
from blueprints.spec.training_storage import TrainingStorage, default_throughput, storage_teams
from catalog.storage import MANAGED_LUSTRE_ZONES
from components import naming
from components.platform.common import ENVIRONMENT_LABEL
from components.platform.training_volumes import (
    TeamVolume,
    TrainingVolumes,
    TrainingVolumesArgs,
    VolumeSource,
)

if TYPE_CHECKING:
    from blueprints.compose import Built, EnvironmentBuild
    from components.platform.cluster_platform import ClusterPlatform

FSX_DRIVER = "fsx.csi.aws.com"
LUSTRE_DRIVER = "lustre.csi.storage.gke.io"
GCS_FUSE_DRIVER = "gcsfuse.csi.storage.gke.io"
GCS_FUSE_OPTIONS = ("implicit-dirs", "file-cache:enable-parallel-downloads:true")
"""Directories without placeholder objects show; large files are read in parallel."""


def lustre_zone(spec: Blueprint, env_name: str, env: GcpEnvironment) -> str:
    """The zone of a Managed Lustre instance: the first of the GPU pools' zones (then the
    environment's) that offers it; the spec has checked the region offers some."""
    offered = MANAGED_LUSTRE_ZONES.get(env.region, ())
    pool_zones = [z for p in spec.pools.values() if p.environment == env_name
                  for z in (p.zones or [])]
    for zone in [*pool_zones, *env.zones, *offered]:
        if zone in offered:
            return zone
    raise BlueprintFieldError(f"environments.{env_name}.region",
                              f"{env.region} offers no zone with Managed Lustre")


def lustre_filesystem(store: str) -> str:
    """A Lustre file system name (8 letters or digits) from the store's name."""
    return ("".join(c for c in store if c.isalnum()) or "train")[:8]


def _fsx(spec: Blueprint, name: str, store: TrainingStorage, build: Any,
         k8s_opts: pulumi.ResourceOptions) -> tuple[VolumeSource, list[pulumi.Resource]]:
    from components.aws import AwsLocation
    from components.aws.training_storage import LustreStorage, LustreStorageArgs
    from components.platform.fsx_csi_driver import FsxCsiDriver, FsxCsiDriverArgs

    assert store.zone is not None and store.capacity_gib is not None
    assert build.lakehouse is not None  # the spec has checked the lakehouse is here
    env = spec.environments[store.environment]
    assert isinstance(env, AwsEnvironment)
    loc = AwsLocation(partition=env.partition, region=env.region, account_id=env.account_id)
    zone = store.zone
    fs = LustreStorage(naming.child(store.environment, "training-storage", name),
                       LustreStorageArgs(
        location=loc, name_prefix=naming.cluster_name(spec.name, store.environment),
        vpc_id=build.network.vpc_id,
        subnet_id=build.network.private_subnet_ids.apply(lambda ids: ids[0]),
        node_security_group_id=build.cluster.cluster_security_group_id,
        kms_key_arn=build.key.arn, capacity_gib=store.capacity_gib,
        throughput_per_tib=store.throughput_per_tib or default_throughput(store.kind),
        bucket_name=build.lakehouse.bucket_names.apply(lambda names: names[zone]),
        zone=zone, file_system_path=store.path,
        tags=aws_tags(spec, Environment=store.environment)),
        opts=pulumi.ResourceOptions(parent=build.component))
    driver = FsxCsiDriver(naming.child(store.environment, "fsx-csi-driver"), FsxCsiDriverArgs(
        labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: store.environment}),
        mirror=mirror_of(spec)), opts=k8s_opts)
    source = VolumeSource(driver=FSX_DRIVER, volume_handle=fs.file_system_id,
                          volume_attributes={"dnsname": fs.dns_name,
                                             "mountname": fs.mount_name},
                          mount_options=("flock",))
    return source, [driver.chart, fs.association]


def _gcp(spec: Blueprint, name: str, store: TrainingStorage,
         build: Any) -> tuple[VolumeSource, list[pulumi.Resource]]:
    env = spec.environments[store.environment]
    assert isinstance(env, GcpEnvironment) and store.zone is not None
    if store.kind == "gcs-fuse":
        assert build.lakehouse is not None
        return VolumeSource(driver=GCS_FUSE_DRIVER,
                            volume_handle=build.lakehouse.bucket_names[store.zone],
                            mount_options=GCS_FUSE_OPTIONS), []
    from blueprints.compose.gcp import DISK_KEY
    from components.gcp.training_storage import ManagedLustre, ManagedLustreArgs

    assert store.capacity_gib is not None
    lustre = ManagedLustre(naming.child(store.environment, "training-storage", name),
                           ManagedLustreArgs(
        project=env.project, zone=lustre_zone(spec, store.environment, env),
        network_id=build.network.network_id,
        instance_id=naming.fit(naming.child(spec.name, store.environment, name), 63),
        filesystem=lustre_filesystem(name), capacity_gib=store.capacity_gib,
        throughput_per_tib=store.throughput_per_tib or default_throughput(store.kind),
        kms_key_id=build.keys.key_id(DISK_KEY), key_grants=build.keys.grants_for(DISK_KEY),
        labels={**gcp_labels(spec, environment=store.environment),
                "lakehouse-zone": naming.label_value(store.zone)}),
        opts=pulumi.ResourceOptions(parent=build.component))
    return VolumeSource(driver=LUSTRE_DRIVER, volume_handle=lustre.volume_handle,
                        volume_attributes={"ip": lustre.ip, "filesystem": lustre.filesystem}
                        ), [lustre.instance]


def _site(store: TrainingStorage) -> VolumeSource:
    if store.csi_driver is not None:
        return VolumeSource(driver=store.csi_driver, volume_handle=store.volume_handle,
                            volume_attributes=dict(store.volume_attributes))
    return VolumeSource(nfs_server=store.server, nfs_path=store.export,
                        mount_options=("nfsvers=4.1", "hard"))


def _capacity(store: TrainingStorage) -> str:
    return f"{store.capacity_gib}Gi" if store.capacity_gib is not None else store.capacity_label


def build_training_storage(spec: Blueprint, built: Built,
                           platforms: dict[str, ClusterPlatform]) -> dict[str, TrainingVolumes]:
    """Each training store's file system and its volumes in the teams' namespaces."""
    out: dict[str, TrainingVolumes] = {}
    for name, store in spec.training_storage.items():
        where = f"training_storage.{name}"
        build: EnvironmentBuild | None = built.environments.get(store.environment)
        platform = platforms.get(store.environment)
        if build is None or platform is None or build.kubernetes is None:
            raise BlueprintFieldError(f"{where}.environment", f"{store.environment!r} has no "
                                      "Kubernetes cluster to mount the file system in")
        assert spec.queueing is not None  # the spec has checked the teams
        teams = storage_teams(spec, store)
        namespaces = [t.namespace_resource for t in platform.team_namespaces
                      if t.team in teams]
        k8s_opts = pulumi.ResourceOptions(parent=build.component, providers=[build.kubernetes])
        with blame(where, store):
            after: list[pulumi.Resource] = []
            if store.kind == "fsx-lustre":
                source, after = _fsx(spec, name, store, build, k8s_opts)
            elif build.kind == "gcp":
                source, after = _gcp(spec, name, store, build)
            else:
                source = _site(store)
            out[name] = TrainingVolumes(
                naming.child(store.environment, "training-volumes", name), TrainingVolumesArgs(
                    store=name, kind=store.kind, source=source, capacity=_capacity(store),
                    teams=[TeamVolume(t, spec.queueing.teams[t].namespace) for t in teams],
                    storage_class=store.storage_class or "",
                    labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: store.environment}),
                    depends_on=(*namespaces, *after)), opts=k8s_opts)
    return out
