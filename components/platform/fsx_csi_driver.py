"""The FSx for Lustre CSI driver on an EKS cluster with training storage: its pinned chart.

The factory binds its file systems statically (a PersistentVolume naming the file system,
see components.platform.training_volumes), so only the driver's node DaemonSet runs
(`nodeComponentOnly`): it mounts the Lustre client on the node a pod lands on and needs no
AWS API rights (no IRSA role). It tolerates every taint, so GPU nodes mount too; it needs
host mounts, so its namespace is privileged (Pod Security).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from catalog.charts import CHART_IMAGES, FSX_CSI_DRIVER
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import chart, namespace
from components.platform.mirror import ImageMirror

NAMESPACE = "aws-fsx-csi"
DRIVER = "fsx.csi.aws.com"
"""The CSI driver name the volumes name."""


@dataclass(frozen=True)
class FsxCsiDriverArgs:
    """Arguments of `FsxCsiDriver`."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the chart and its images come from (None: upstream)."""
    namespace: str = NAMESPACE
    """Namespace the driver runs in."""


def fsx_values() -> dict[str, Any]:
    """Chart values: the node component alone, on every node, at the chart's images."""
    values: dict[str, Any] = {"nodeComponentOnly": True, "node": {"tolerateAllTaints": True}}
    for image in CHART_IMAGES[FSX_CSI_DRIVER.name]:
        node = values
        for key in image.values_path:
            node = node.setdefault(key, {})
        node.update({"repository": image.upstream, "tag": image.default_tag})
    return values


class FsxCsiDriver(FactoryComponent):
    """The FSx for Lustre CSI driver: its namespace and pinned chart."""

    def __init__(self, name: str, args: FsxCsiDriverArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aifactory:platform:FsxCsiDriver", name, {
            "namespace": args.namespace, "chart": FSX_CSI_DRIVER.name,
            "chartVersion": FSX_CSI_DRIVER.version, "driver": DRIVER}, opts)
        ns = namespace(child(name, "ns"), args.namespace, args.labels, "privileged",
                       self.child_opts())
        self.chart = chart(child(name, "chart"), FSX_CSI_DRIVER, FSX_CSI_DRIVER.name,
                           args.namespace, fsx_values(), self.child_opts(depends_on=[ns]),
                           args.mirror)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.register_outputs({"namespace": self.namespace})
