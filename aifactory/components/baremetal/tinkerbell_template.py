"""Tinkerbell hook, per site: the Template that images a host and points cloud-init at Hegel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import yaml

from aifactory.components.base import FactoryComponent
from aifactory.errors import ComponentArgsError
from aifactory.naming import child

TYPE = "aifactory:baremetal:TinkerbellTemplate"
API_VERSION = "tinkerbell.org/v1alpha1"
ACTIONS = "quay.io/tinkerbell/actions"
ACTION_VERSION = "v1.0.0"
DISK = re.compile(r"^/dev/\S+$")


@dataclass(frozen=True)
class TinkerbellTemplateArgs:
    """Arguments of `TinkerbellTemplate`."""

    template_name: str
    """Name of the Template object (Workflows refer to it)."""
    namespace: pulumi.Input[str]
    """Namespace the Tinkerbell controller watches."""
    image_url: str
    """OS image streamed to the disk (qcow2 cloud images, or raw, optionally .gz/.xz)."""
    install_disk: str
    """Device the image is written to, e.g. /dev/nvme0n1."""
    root_partition: int
    """Partition number of the image's root filesystem."""
    metadata_url: str
    """Hegel metadata service the installed OS reads its cloud-init user data from."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels of the Template object."""


def partition(disk: str, number: int) -> str:
    """Device of a partition: /dev/nvme0n1 + 1 -> /dev/nvme0n1p1, /dev/sda + 1 -> /dev/sda1."""
    return f"{disk}p{number}" if disk[-1].isdigit() else f"{disk}{number}"


def stream_action(image_url: str, disk: str) -> dict[str, object]:
    """The action that writes the image: qemuimg2disk for qcow2, image2disk for raw."""
    name = image_url.rsplit("/", 1)[-1].lower()
    if name.endswith((".qcow2", ".img")):
        return {"name": "stream-image", "image": f"{ACTIONS}/qemuimg2disk:{ACTION_VERSION}",
                "timeout": 1800, "environment": {"IMG_URL": image_url, "DEST_DISK": disk}}
    return {"name": "stream-image", "image": f"{ACTIONS}/image2disk:{ACTION_VERSION}",
            "timeout": 1800,
            "environment": {"IMG_URL": image_url, "DEST_DISK": disk,
                            "COMPRESSED": str(name.endswith((".gz", ".xz", ".zst"))).lower()}}


def _write(name: str, root: str, path: str, contents: str) -> dict[str, object]:
    return {"name": name, "image": f"{ACTIONS}/writefile:{ACTION_VERSION}", "timeout": 90,
            "environment": {"DEST_DISK": root, "FS_TYPE": "ext4", "DEST_PATH": path,
                            "CONTENTS": contents, "UID": "0", "GID": "0", "MODE": "0600",
                            "DIRMODE": "0755"}}


def workflow_template(name: str, args: TinkerbellTemplateArgs) -> str:
    """The Template's data: the workflow definition, as Tinkerbell reads it (YAML)."""
    root = partition(args.install_disk, args.root_partition)
    datasource = yaml.safe_dump({
        "datasource": {"Ec2": {"metadata_urls": [args.metadata_url], "strict_id": False}},
        "manage_etc_hosts": "localhost",
        "warnings": {"dsid_missing_source": "off"},
    }, sort_keys=False)
    actions = [
        stream_action(args.image_url, args.install_disk),
        _write("cloud-init-datasource", root, "/etc/cloud/cloud.cfg.d/10_tinkerbell.cfg",
               datasource),
        _write("cloud-init-ds-identify", root, "/etc/cloud/ds-identify.cfg", "datasource: Ec2\n"),
        {"name": "reboot", "image": f"{ACTIONS}/reboot:{ACTION_VERSION}", "timeout": 90,
         "pid": "host", "volumes": ["/worker:/worker"]},
    ]
    workflow = {
        "version": "0.1", "name": name, "global_timeout": 3600,
        "tasks": [{"name": "os-installation", "worker": "{{.device_1}}",
                   "volumes": ["/dev:/dev", "/dev/console:/dev/console",
                               "/lib/firmware:/lib/firmware:ro"],
                   "actions": actions}],
    }
    return yaml.safe_dump(workflow, sort_keys=False, width=1000)


class TinkerbellTemplate(FactoryComponent):
    """One Template per site: stream the image, point cloud-init at Hegel, reboot."""

    def __init__(self, name: str, args: TinkerbellTemplateArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not DISK.match(args.install_disk):
            raise ComponentArgsError(f"TinkerbellTemplate {name}: `install_disk` "
                                     f"({args.install_disk!r}) must be a device such as "
                                     "/dev/nvme0n1")
        if not args.metadata_url.startswith(("http://", "https://")):
            raise ComponentArgsError(f"TinkerbellTemplate {name}: `metadata_url` "
                                     f"({args.metadata_url!r}) must be Hegel's http(s) URL, "
                                     "e.g. http://10.10.0.5:50061")
        super().__init__(TYPE, name, {"templateName": args.template_name}, opts)
        k8s.apiextensions.CustomResource(
            child(name, "template"), api_version=API_VERSION, kind="Template",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.template_name,
                                                namespace=args.namespace, labels=args.labels),
            spec={"data": workflow_template(args.template_name, args)},
            opts=self.child_opts())
        self.template_name = pulumi.Output.from_input(args.template_name)
        self.register_outputs({"template_name": self.template_name})
