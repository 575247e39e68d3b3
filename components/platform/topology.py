"""Topology-aware scheduling: a Kueue Topology per substrate, from the node labels each sets.

Kueue's topology-aware scheduling places a multi-node job's pods as close as the fabric allows
(same network block, same leaf switch, ...) when the job asks for it
(`kueue.x-k8s.io/podset-preferred-topology` or `-required-topology`). A ResourceFlavor names its
Topology (`topologyName`); the levels are node labels, the broadest first, the host last:

- EKS: `topology.k8s.aws/network-node-layer-1` .. `-3`, which EKS puts on nodes of the types
  the EC2 instance topology API describes (EKS "Topology-aware scheduling"; Kueue's AWS example).
- GKE: `cloud.google.com/gce-topology-block`, `-subblock`, `-host` (GKE "Topology-aware
  scheduling for A3/A4" and Kueue's GKE example).
- A site: our own `aifactory.io/fabric-leaf` (the leaf switch group of the rack, when the site
  declares its fabric) and `aifactory.io/rack`, written by first boot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.naming import child
from components.platform.multikueue import KUEUE_API

HOSTNAME = "kubernetes.io/hostname"
TOPOLOGY_LEVELS: dict[str, tuple[str, ...]] = {
    "eks-network": ("topology.k8s.aws/network-node-layer-1",
                    "topology.k8s.aws/network-node-layer-2",
                    "topology.k8s.aws/network-node-layer-3", HOSTNAME),
    "gke-network": ("cloud.google.com/gce-topology-block",
                    "cloud.google.com/gce-topology-subblock",
                    "cloud.google.com/gce-topology-host", HOSTNAME),
    "site-fabric": ("aifactory.io/fabric-leaf", "aifactory.io/rack", HOSTNAME),
    "site-racks": ("aifactory.io/rack", HOSTNAME),
}
"""Topologies by name: their levels, broadest first."""


def topology_objects(name: str, topologies: Sequence[str], labels: Mapping[str, str],
                     opts: pulumi.ResourceOptions) -> list[k8s.apiextensions.CustomResource]:
    """A Kueue Topology for each topology the flavors name (cluster-scoped, one each)."""
    return [
        k8s.apiextensions.CustomResource(
            child(name, "topology", topology), api_version=KUEUE_API, kind="Topology",
            metadata={"name": topology, "labels": dict(labels)},
            spec={"levels": [{"nodeLabel": label} for label in TOPOLOGY_LEVELS[topology]]},
            opts=opts)
        for topology in sorted(set(topologies))
    ]
