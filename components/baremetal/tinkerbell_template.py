"""Tinkerbell hook, per site: the Template that images a host, points cloud-init at Hegel and
writes the kubeadm join token to the installed disk.

The token never appears in the Template or the Hardware: each host's Hardware references a
Kubernetes Secret (`spec.references`), and the Template reads it at render time, when the tink
controller turns the Workflow into actions. Tinkerbell denies reference lookups by default: the
site allows them for its Secrets (`--tink-controller-reference-allow-list-rules`, e.g.
`{"source":{"namespace":["baremetal"]},"reference":{"resource":["secrets"]}}`) and grants the
Tinkerbell service account `get`/`list`/`watch` on Secrets of that namespace. Without access the
Workflow fails to render (the template reads a missing key) instead of imaging a host that could
never join. The rendered action, with the token, is kept in the Workflow's status: give read
access to Workflows as sparingly as to Secrets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import yaml

from blueprints.errors import ComponentArgsError
from components.baremetal.boot import JOIN_TOKEN_PATH
from components.base import FactoryComponent
from components.naming import child

TYPE = "aifactory:baremetal:TinkerbellTemplate"
API_VERSION = "tinkerbell.org/v1alpha1"
ACTIONS = "quay.io/tinkerbell/actions"
ACTION_VERSION = "v1.0.0"
DISK = re.compile(r"^/dev/\S+$")
JOIN_TOKEN_REFERENCE = "join_token"
"""Name of the Hardware reference to the host's join-token Secret (read by the Template)."""
JOIN_TOKEN_KEY = "token"
"""Key of the join token in that Secret."""


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
    join_token_path: str = JOIN_TOKEN_PATH
    """Where the installed OS reads the join token (written mode 0600 by the workflow)."""
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


def _write(name: str, root: str, path: str, contents: str,
           dirmode: str = "0755") -> dict[str, object]:
    return {"name": name, "image": f"{ACTIONS}/writefile:{ACTION_VERSION}", "timeout": 90,
            "environment": {"DEST_DISK": root, "FS_TYPE": "ext4", "DEST_PATH": path,
                            "CONTENTS": contents, "UID": "0", "GID": "0", "MODE": "0600",
                            "DIRMODE": dirmode}}


def join_token_expression() -> str:
    """Go template the tink controller renders into the join token: the referenced Secret's
    data is base64, as Kubernetes stores it."""
    return f"{{{{ .references.{JOIN_TOKEN_REFERENCE}.data.{JOIN_TOKEN_KEY} | b64dec }}}}"


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
        _write("join-token", root, args.join_token_path, join_token_expression(), dirmode="0700"),
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
    """One Template per site: stream the image, point cloud-init at Hegel, write the join
    token from the host's referenced Secret, reboot."""

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
        if not args.join_token_path.startswith("/"):
            raise ComponentArgsError(f"TinkerbellTemplate {name}: `join_token_path` "
                                     f"({args.join_token_path!r}) must be an absolute path such "
                                     f"as {JOIN_TOKEN_PATH}")
        super().__init__(TYPE, name, {"templateName": args.template_name}, opts)
        k8s.apiextensions.CustomResource(
            child(name, "template"), api_version=API_VERSION, kind="Template",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.template_name,
                                                namespace=args.namespace, labels=args.labels),
            spec={"data": workflow_template(args.template_name, args)},
            opts=self.child_opts())
        self.template_name = pulumi.Output.from_input(args.template_name)
        self.register_outputs({"template_name": self.template_name})
