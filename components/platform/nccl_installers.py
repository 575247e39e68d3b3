"""Google's NCCL plugin installers for GPUDirect-TCPXO and GPUDirect RDMA on GKE, as
DaemonSet specs (GpuDirect builds them as objects of ours, components.platform.gpudirect).

- TCPXO (a3-megagpu-8g, `nvidia-h100-mega-80gb`): `nccl-tcpxo-installer`, as in
  GoogleCloudPlatform/container-engine-accelerators gpudirect-tcpxo/nccl-tcpxo-installer.yaml
  (commit e14ee8a): a pre-installation step on the host (accept TCP, load import-helper, bind
  the aperture devices of the NICs' PCI functions 1ae0:0084 under /dev/aperture_devices),
  then the plugin copied into /home/kubernetes/bin/nvidia/lib64; its device injector is the
  NRI device injector TCPX uses too (nri_device_injector/nri-device-injector.yaml lists both
  accelerators).
- RDMA (a3-ultragpu-8g `nvidia-h200-141gb`, a4-highgpu-8g `nvidia-b200`):
  `nccl-rdma-installer`, as in gpudirect-rdma/nccl-rdma-installer.yaml (commit 2c776f7):
  martian logging off on each RDMA NIC (gpu<N>rdma0), then the gIB NCCL plugin copied into
  /home/kubernetes/bin/nvidia/lib64 and /home/kubernetes/bin/gib. No device injector: RDMA
  NICs reach pods through the Network objects.

Both need the host (privileged, hostNetwork, hostPID): Google's manifests run so, and the
plugin cannot be installed otherwise; they run on the GPUDirect nodes only, in kube-system.
Images come from the sovereign mirror when there is one (catalog.charts.MANIFEST_IMAGES).

What Google's manifests leave open and the work allows is closed here (`harden`, for TCPX's
DaemonSets too): no service account token (none of them calls the API: they copy files or talk
to containerd's NRI socket), requests and limits on every container, the RuntimeDefault seccomp
profile for the pod (it confines the pause container; privileged containers run unconfined
whatever the pod says), and the pause container locked down (non-root, read-only, no
capabilities, no privilege escalation). The privileged, host-namespace containers stay as
Google ships them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.charts import MANIFEST_IMAGES
from components.platform.mirror import ImageMirror, mirrored_image

ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
TCPXO_PLUGIN = "us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpxo/nccl-plugin-gpudirecttcpx-dev"
RDMA_PLUGIN = "us-docker.pkg.dev/gce-ai-infra/gpudirect-gib/nccl-plugin-gib"
GKE_PAUSE = "gke.gcr.io/pause"


def manifest_image(kind: str, upstream: str, mirror: ImageMirror | None) -> str:
    """An image of a GPUDirect manifest set at its documented tag, or from the mirror."""
    tag = next(i.default_tag for i in MANIFEST_IMAGES[kind][1] if i.upstream == upstream)
    return mirrored_image(upstream, mirror, tag)


def accelerator_affinity(accelerators: Sequence[str]) -> dict[str, Any]:
    """Node affinity to the GKE accelerator types given."""
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": ACCELERATOR_LABEL, "operator": "In", "values": sorted(accelerators)}]}]}}}


TCPXO_PRE_INSTALL = (
    "/sbin/iptables -I INPUT -p tcp -m tcp -j ACCEPT && modprobe import-helper\n"
    "sudo mkdir -p /dev/aperture_devices\n"
    "while IFS= read -r line; do\n"
    "  BDF=$( echo \"$line\" | awk '{print $1}' );\n"
    "  target_aperture_path=\"/dev/aperture_devices/$BDF\"\n"
    "  host_aperture_device=$(readlink -f \"/sys/bus/pci/devices/$BDF\");\n"
    "  sudo mkdir -p $target_aperture_path;\n"
    "  sudo umount -R $target_aperture_path;\n"
    "  sudo mount --bind $host_aperture_device $target_aperture_path;\n"
    "done < <(lspci -nn -D | grep '1ae0:0084')\n"
    "if [ -d /dev/aperture_devices ]; then\n"
    "    chmod -R a+r /dev/aperture_devices/\n"
    "    chmod a+rw /dev/aperture_devices/*/resource*\n"
    "fi\n")


LOCKED_DOWN = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
               "runAsNonRoot": True, "runAsUser": 65535, "capabilities": {"drop": ["ALL"]}}
"""The pause container's security context: it only keeps the pod alive."""
PAUSE_RESOURCES = {"requests": {"cpu": "10m", "memory": "16Mi"},
                   "limits": {"cpu": "10m", "memory": "16Mi"}}
WORKER_RESOURCES = {"requests": {"cpu": "150m", "memory": "128Mi"},
                    "limits": {"cpu": "1", "memory": "1Gi"}}
"""Installers and the injector: Google's 150m CPU request, memory enough to copy the NCCL
plugin's libraries."""


def harden(pod: dict[str, Any]) -> dict[str, Any]:
    """A DaemonSet pod spec of Google's with what its work allows closed (see the module)."""
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        if container["name"] == "pause":
            container.setdefault("securityContext", LOCKED_DOWN)
            container.setdefault("resources", PAUSE_RESOURCES)
        else:
            requests = {**WORKER_RESOURCES["requests"],
                        **container.get("resources", {}).get("requests", {})}
            container["resources"] = {"requests": requests,
                                      "limits": WORKER_RESOURCES["limits"]}
    pod["automountServiceAccountToken"] = False
    pod["securityContext"] = {"seccompProfile": {"type": "RuntimeDefault"}}
    return pod


def _daemonset(app: str, accelerators: Sequence[str], volumes: list[dict[str, Any]],
               init: list[dict[str, Any]], pause: str) -> dict[str, Any]:
    labels = {"k8s-app": app}
    return {
        "selector": {"matchLabels": labels}, "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": {"name": app, **labels}},
            "spec": harden({
                "priorityClassName": "system-node-critical",
                "affinity": accelerator_affinity(accelerators),
                "tolerations": [{"operator": "Exists"}],
                "hostNetwork": True, "hostPID": True,
                "volumes": volumes,
                "initContainers": init,
                "containers": [{"name": "pause", "image": pause}],
            }),
        },
    }


def tcpxo_installer_spec(accelerators: Sequence[str],
                         mirror: ImageMirror | None) -> dict[str, Any]:
    """Google's nccl-tcpxo-installer DaemonSet spec."""
    kind = "gpudirect-tcpxo"
    return _daemonset("nccl-tcpxo-installer", accelerators, [
        {"name": "var-lib", "hostPath": {"path": "/var/lib"}},
        {"name": "tcpxo", "hostPath": {"path": "/var/lib/tcpxo"}},
        {"name": "library-dir-host", "hostPath": {"path": "/home/kubernetes/bin"}},
    ], [
        {"name": "pre-installation", "image": manifest_image(kind, "ubuntu", mirror),
         "securityContext": {"privileged": True},
         "command": ["nsenter", "-at", "1", "--", "sh", "-c", TCPXO_PRE_INSTALL]},
        {"name": "nccl-tcpxo-installer", "image": manifest_image(kind, TCPXO_PLUGIN, mirror),
         "resources": {"requests": {"cpu": "150m"}},
         "securityContext": {"privileged": True},
         "volumeMounts": [{"name": "var-lib", "mountPath": "/var/lib"},
                          {"name": "library-dir-host", "mountPath": "/usr/local"}],
         "command": ["/bin/sh", "-c"],
         "args": ["set -ex\nchmod 755 /scripts/container_entry.sh\n"
                  "/scripts/container_entry.sh install --install-nccl\n"
                  "mkdir -p /usr/local/nvidia/lib64\n"
                  "cp -r /var/lib/tcpxo/lib64/. /usr/local/nvidia/lib64\n"
                  "echo \"installation finishes\"\n"]},
    ], manifest_image(kind, GKE_PAUSE, mirror))


def rdma_installer_spec(accelerators: Sequence[str], nics: int,
                        mirror: ImageMirror | None) -> dict[str, Any]:
    """Google's nccl-rdma-installer DaemonSet spec (martian logging off on each RDMA NIC)."""
    kind = "gpudirect-rdma"
    martians = "".join(f"sysctl -w net.ipv4.conf.gpu{i}rdma0.log_martians=0\n"
                       for i in range(nics))
    return _daemonset("nccl-rdma-installer", accelerators, [
        {"name": "library-dir-host", "hostPath": {"path": "/home/kubernetes/bin/nvidia/lib64",
                                                  "type": "DirectoryOrCreate"}},
        {"name": "gib", "hostPath": {"path": "/home/kubernetes/bin/gib"}},
    ], [
        {"name": "disable-log-martian", "image": manifest_image(kind, "alpine", mirror),
         "command": ["/bin/sh"], "securityContext": {"privileged": True},
         "args": ["-c", martians]},
        {"name": "nccl-rdma-installer", "image": manifest_image(kind, RDMA_PLUGIN, mirror),
         "resources": {"requests": {"cpu": "150m"}},
         "securityContext": {"privileged": True},
         "volumeMounts": [
             {"name": "library-dir-host",
              "mountPath": "/usr/local/home/kubernetes/bin/nvidia/lib64"},
             {"name": "gib", "mountPath": "/usr/local/home/kubernetes/bin/gib"}],
         "command": ["/bin/sh", "-c"],
         "args": ["set -ex\n/scripts/container_entry.sh install --install-nccl\n"
                  "cp -r /var/lib/gib/lib64/. /usr/local/home/kubernetes/bin/nvidia/lib64\n"
                  "cp -r /var/lib/gib/. /usr/local/home/kubernetes/bin/gib\n"
                  "echo \"installation finishes\"\n"]},
    ], manifest_image(kind, GKE_PAUSE, mirror))
