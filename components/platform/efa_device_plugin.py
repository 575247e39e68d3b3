"""The EFA Kubernetes device plugin on an EKS cluster whose pools have a fabric: its pinned chart.

It advertises each node's EFA interfaces as `vpc.amazonaws.com/efa`, which training pods
request (and Karpenter launches EFA interfaces for). It runs on the EFA pools' nodes only: the
chart's own node affinity on the instance type, narrowed to the pools' types, tolerating the
pools' taints (the GPU taint among them). It needs host access to the EFA devices, so its
namespace is privileged (Pod Security).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from blueprints.errors import ComponentArgsError
from catalog.charts import CHART_IMAGES, EFA_DEVICE_PLUGIN
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import NodeTaint, chart, namespace
from components.platform.mirror import ImageMirror

NAMESPACE = "aws-efa"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"


@dataclass(frozen=True)
class EfaDevicePluginArgs:
    """Arguments of `EfaDevicePlugin`."""

    instance_types: Sequence[str]
    """EFA instance types of the cluster's fabric pools (the plugin runs on those only)."""
    taints: Sequence[NodeTaint] = ()
    """Taints of those pools' nodes (the plugin tolerates them)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the chart and its image come from (None: upstream)."""
    namespace: str = NAMESPACE
    """Namespace the plugin runs in."""


def efa_values(args: EfaDevicePluginArgs) -> dict[str, Any]:
    """Chart values: the pools' types, tolerations of their taints, the release's image."""
    image = CHART_IMAGES[EFA_DEVICE_PLUGIN.name][0]
    return {
        "image": {"repository": image.upstream, "tag": image.default_tag},
        "supportedInstanceLabels": {"keys": [INSTANCE_TYPE_LABEL],
                                    "values": sorted(set(args.instance_types))},
        "tolerations": [t.toleration() for t in args.taints],
    }


class EfaDevicePlugin(FactoryComponent):
    """The EFA device plugin: its namespace and pinned chart."""

    def __init__(self, name: str, args: EfaDevicePluginArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.instance_types:
            raise ComponentArgsError("`instance_types` is empty: the EFA device plugin runs on "
                                     "the EFA pools' instance types; give them")
        super().__init__("aifactory:platform:EfaDevicePlugin", name, {
            "namespace": args.namespace, "chart": EFA_DEVICE_PLUGIN.name,
            "chartVersion": EFA_DEVICE_PLUGIN.version,
            "instanceTypes": sorted(set(args.instance_types))}, opts)
        ns = namespace(child(name, "ns"), args.namespace, args.labels, "privileged",
                       self.child_opts())
        self.chart = chart(child(name, "chart"), EFA_DEVICE_PLUGIN, EFA_DEVICE_PLUGIN.name,
                           args.namespace, efa_values(args),
                           self.child_opts(depends_on=[ns]), args.mirror)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.register_outputs({"namespace": self.namespace})
