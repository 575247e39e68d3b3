"""A workload operator (JobSet, LeaderWorkerSet, KubeRay) on one cluster: its pinned chart.

The blueprint's platform.workloads picks them; Kueue integrates exactly the installed ones
(catalog.workloads). Each runs in a namespace of ours (Pod Security baseline: the controllers
need no host access) on the untainted system nodes, with its image pinned: the charts' own
values at their release tags name a moving `main` tag (JobSet, LeaderWorkerSet), which the
release process rewrites only in the published package, so the image is set here explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from blueprints.errors import ComponentArgsError
from catalog.workloads import WORKLOAD_OPERATORS, WorkloadOperator
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import chart, namespace
from components.platform.mirror import ImageMirror


@dataclass(frozen=True)
class WorkloadOperatorArgs:
    """Arguments of `WorkloadOperatorRelease`."""

    operator: str
    """Operator name: jobset, leaderworkerset or ray (catalog.workloads)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    namespace: str | None = None
    """Namespace the operator runs in (default: the upstream guide's, e.g. jobset-system)."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the chart and its images come from (None: upstream)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources that must exist first."""


def operator_values(op: WorkloadOperator) -> dict[str, Any]:
    """Chart values: the release's image by tag (a mirror rewrites it to a digest)."""
    version = op.chart.version
    if op.name == "jobset":
        return {"image": {"repository": "registry.k8s.io/jobset/jobset", "tag": f"v{version}",
                          "pullPolicy": "IfNotPresent"}}
    if op.name == "leaderworkerset":
        return {"image": {"manager": {"repository": "registry.k8s.io/lws/lws",
                                      "tag": f"v{version}", "pullPolicy": "IfNotPresent"}}}
    if op.name == "ray":
        return {"image": {"repository": "quay.io/kuberay/operator", "tag": f"v{version}",
                          "pullPolicy": "IfNotPresent"}}
    raise ComponentArgsError(f"`operator` {op.name!r} has no values builder")


class WorkloadOperatorRelease(FactoryComponent):
    """One workload operator: its namespace and pinned chart."""

    def __init__(self, name: str, args: WorkloadOperatorArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        op = WORKLOAD_OPERATORS.get(args.operator)
        if op is None:
            raise ComponentArgsError(f"`operator` ({args.operator!r}) is not a workload "
                                     f"operator: use one of {', '.join(WORKLOAD_OPERATORS)}")
        ns_name = args.namespace or op.namespace
        super().__init__("aifactory:platform:WorkloadOperator", name, {
            "operator": op.name, "namespace": ns_name, "chart": op.chart.name,
            "chartVersion": op.chart.version, "kueueFrameworks": list(op.frameworks)}, opts)
        ns = namespace(child(name, "ns"), ns_name, args.labels, "baseline", self.child_opts())
        self.chart = chart(child(name, "chart"), op.chart, op.chart.name, ns_name,
                           operator_values(op),
                           self.child_opts(depends_on=[ns, *args.depends_on]), args.mirror)
        self.namespace = pulumi.Output.from_input(ns_name)
        self.register_outputs({"namespace": self.namespace})
