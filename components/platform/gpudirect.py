"""GPUDirect on a GKE cluster: the multi-networking objects of the GPU NICs, and the NCCL plugin
installer (and device injector) of each GPUDirect kind.

- Per GPU NIC, a GKENetworkParamSet (its VPC and subnet; deviceMode NetDevice for TCPX/TCPXO,
  RDMA for GPUDirect RDMA) and a Network of type Device that refers to it (networking.gke.io/v1,
  as "Maximize GPU network bandwidth in Standard mode clusters" gives them; GKE serves these
  CRDs itself, so ../shared/crds has none to validate them against). A training pod attaches
  with the `networking.gke.io/interfaces` annotation naming these networks.
- GPUDirect-TCPX: Google's `nccl-tcpx-installer` DaemonSet (installs the NCCL plugin into
  /home/kubernetes/bin/nvidia/lib64 on each A3 node) and its `device-injector` DaemonSet (NRI:
  hands the GPU devices to the TCPX receive-datapath sidecar), as in
  GoogleCloudPlatform/container-engine-accelerators gpudirect-tcpx/, with their images from the
  sovereign mirror when there is one (catalog.charts.MANIFEST_IMAGES).
- GPUDirect-TCPXO: Google's `nccl-tcpxo-installer` and the same device injector; GPUDirect
  RDMA: Google's `nccl-rdma-installer` (components.platform.nccl_installers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.base import FactoryComponent
from components.naming import child
from components.platform.mirror import ImageMirror
from components.platform.nccl_installers import (
    accelerator_affinity,
    harden,
    manifest_image,
    rdma_installer_spec,
    tcpxo_installer_spec,
)

GKE_NETWORKING_API = "networking.gke.io/v1"
DEVICE_MODES = {"gpudirect-tcpx": "NetDevice", "gpudirect-tcpxo": "NetDevice",
                "gpudirect-rdma": "RDMA"}


@dataclass(frozen=True)
class GpuNicNetwork:
    """One GPU NIC's VPC and subnet (names)."""

    network: pulumi.Input[str]
    """VPC name."""
    subnetwork: pulumi.Input[str]
    """Subnet name."""


@dataclass(frozen=True)
class GpuDirectArgs:
    """Arguments of `GpuDirect`."""

    pool: str
    """The GPUDirect pool (names its networks)."""
    kind: str
    """gpudirect-tcpx, gpudirect-tcpxo or gpudirect-rdma."""
    nics: Sequence[GpuNicNetwork]
    """The GPU NICs' networks, in NIC order."""
    accelerators: Sequence[str]
    """GKE accelerator types of the GPUDirect pools (the DaemonSets run on those nodes)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the DaemonSets' images come from (None: upstream)."""


def network_names(pool: str, kind: str, count: int) -> list[str]:
    """The GKE Network names a pool's pods attach to: Google's examples' vpc1.. (rdma-0..),
    after the pool's name (a cluster may have several GPUDirect pools)."""
    if kind == "gpudirect-rdma":
        return [f"{pool}-rdma-{i}" for i in range(count)]
    return [f"{pool}-vpc{i + 1}" for i in range(count)]


def _image(upstream: str, mirror: ImageMirror | None, kind: str = "gpudirect-tcpx") -> str:
    return manifest_image(kind, upstream, mirror)


def installer_spec(args: GpuDirectArgs) -> dict[str, Any]:
    """Google's nccl-tcpx-installer DaemonSet spec."""
    app = {"k8s-app": "nccl-tcpx-installer"}
    return {
        "selector": {"matchLabels": app}, "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": {"name": "nccl-tcpx-installer", **app}},
            "spec": harden({
                "priorityClassName": "system-node-critical",
                "affinity": accelerator_affinity(args.accelerators),
                "tolerations": [{"operator": "Exists"}],
                "hostNetwork": True, "hostPID": True,
                "volumes": [
                    {"name": "var-lib", "hostPath": {"path": "/var/lib"}},
                    {"name": "tcpx", "hostPath": {"path": "/var/lib/tcpx"}},
                    {"name": "library-dir-host", "hostPath": {"path": "/home/kubernetes/bin"}},
                ],
                "initContainers": [{
                    "name": "nccl-tcpx-installer",
                    "image": _image("us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpx/"
                                    "nccl-plugin-gpudirecttcpx-dev", args.mirror),
                    "resources": {"requests": {"cpu": "150m"}},
                    "securityContext": {"privileged": True},
                    "volumeMounts": [{"name": "var-lib", "mountPath": "/var/lib"},
                                     {"name": "library-dir-host", "mountPath": "/usr/local"}],
                    "command": ["/bin/sh", "-c"],
                    "args": ["set -ex\n/scripts/container_entry.sh install --install-nccl\n"
                             "mkdir -p /usr/local/nvidia/lib64\n"
                             "cp -r /var/lib/tcpx/lib64/. /usr/local/nvidia/lib64\n"
                             "echo \"installation finishes\"\n"],
                }],
                "containers": [{"name": "pause", "image": _image(
                    "gcr.io/google-containers/pause", args.mirror)}],
            }),
        },
    }


ENABLE_NRI = (
    "if ! grep -q nri /etc/containerd/config.toml; then\n"
    "  echo \"[plugins.\\\"io.containerd.nri.v1.nri\\\"]\n"
    "   disable = false\n"
    "   disable_connections = false\n"
    "   plugin_config_path = \\\"/etc/nri/conf.d\\\"\n"
    "   plugin_path = \\\"/home/kubernetes/nri/plugins\\\"\n"
    "   plugin_registration_timeout = \\\"5s\\\"\n"
    "   plugin_request_timeout = \\\"5s\\\"\n"
    "   socket_path = \\\"/var/run/nri/nri.sock\\\"\">> /etc/containerd/config.toml\n"
    "  systemctl restart containerd.service\n"
    "fi\n")


def injector_spec(args: GpuDirectArgs) -> dict[str, Any]:
    """Google's device-injector DaemonSet spec (enables NRI in containerd, then injects)."""
    app = {"k8s-app": "device-injector"}
    return {
        "selector": {"matchLabels": app}, "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": {"name": "device-injector", **app}},
            "spec": harden({
                "priorityClassName": "system-node-critical",
                "affinity": accelerator_affinity(args.accelerators),
                "tolerations": [{"operator": "Exists"}],
                "hostNetwork": True, "hostPID": True,
                "initContainers": [{
                    "name": "enable-nri",
                    "image": _image("gke.gcr.io/gke-distroless/bash", args.mirror, args.kind),
                    "securityContext": {"privileged": True},
                    "volumeMounts": [{"name": "root", "mountPath": "/"}],
                    "command": ["/bin/bash", "-c", ENABLE_NRI],
                }],
                "containers": [{
                    "name": "device-injector",
                    "image": _image("gcr.io/gke-release/nri-device-injector", args.mirror,
                                    args.kind),
                    "resources": {"requests": {"cpu": "150m"}},
                    "securityContext": {"privileged": True},
                    "volumeMounts": [{"name": "dev", "mountPath": "/dev"},
                                     {"name": "nri", "mountPath": "/var/run/nri"}],
                }],
                "volumes": [{"name": "root", "hostPath": {"path": "/"}},
                            {"name": "nri", "hostPath": {"path": "/var/run/nri"}},
                            {"name": "dev", "hostPath": {"path": "/dev"}}],
            }),
        },
    }


def daemonsets(args: GpuDirectArgs) -> list[tuple[str, dict[str, Any]]]:
    """(name, spec) of the DaemonSets a GPUDirect kind needs, as Google documents them."""
    if args.kind == "gpudirect-tcpx":
        return [("nccl-tcpx-installer", installer_spec(args)),
                ("device-injector", injector_spec(args))]
    if args.kind == "gpudirect-tcpxo":
        return [("nccl-tcpxo-installer", tcpxo_installer_spec(args.accelerators, args.mirror)),
                ("device-injector", injector_spec(args))]
    return [("nccl-rdma-installer", rdma_installer_spec(args.accelerators, len(args.nics),
                                                        args.mirror))]


class GpuDirect(FactoryComponent):
    """GKE multi-networking objects of the GPU NICs, and the NCCL installer (and device
    injector) of their kind."""

    def __init__(self, name: str, args: GpuDirectArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if args.kind not in DEVICE_MODES:
            raise ComponentArgsError(f"`kind` ({args.kind!r}) must be one of "
                                     f"{', '.join(DEVICE_MODES)}")
        if not args.nics or not args.accelerators:
            raise ComponentArgsError("`nics` and `accelerators` must not be empty: a GPUDirect "
                                     "pool has GPU NICs and an accelerator type")
        names = network_names(args.pool, args.kind, len(args.nics))
        super().__init__("aifactory:platform:GpuDirect", name, {
            "pool": args.pool, "kind": args.kind, "networks": names,
            "accelerators": sorted(args.accelerators)}, opts)
        labels = dict(args.labels)
        for net_name, nic in zip(names, args.nics, strict=True):
            params = k8s.apiextensions.CustomResource(
                child(name, "params", net_name), api_version=GKE_NETWORKING_API,
                kind="GKENetworkParamSet", metadata={"name": net_name, "labels": labels},
                spec={"vpc": nic.network, "vpcSubnet": nic.subnetwork,
                      "deviceMode": DEVICE_MODES[args.kind]}, opts=self.child_opts())
            k8s.apiextensions.CustomResource(
                child(name, "network", net_name), api_version=GKE_NETWORKING_API,
                kind="Network", metadata={"name": net_name, "labels": labels},
                spec={"type": "Device", "parametersRef": {
                    "group": "networking.gke.io", "kind": "GKENetworkParamSet",
                    "name": net_name}},
                opts=self.child_opts(depends_on=[params]))
        for ds, spec in daemonsets(args):
            k8s.apps.v1.DaemonSet(
                child(name, ds),
                metadata=cast("k8s.meta.v1.ObjectMetaArgsDict", {
                    "name": ds, "namespace": "kube-system",
                    "labels": {**labels, "k8s-app": ds}}),
                spec=cast("k8s.apps.v1.DaemonSetSpecArgsDict", spec),
                opts=self.child_opts())
        self.networks = pulumi.Output.from_input(names)
        self.register_outputs({"networks": self.networks})
