"""The NVIDIA Network Operator on a site with a compute fabric: chart, NicClusterPolicy, network.

- The pinned chart (network-operator 26.4.1), its node-feature-discovery off: the GPU
  operator's NFD labels the nodes for both (two NFDs would fight over the same labels).
- A NicClusterPolicy (mellanox.com/v1alpha1) on the nodes with Mellanox adapters (NFD's
  pci-15b3 label): the DOCA-OFED driver container, upgraded one node at a time with a drain;
  the RDMA shared device plugin exposing the fabric's adapters as `rdma/<resource>` (selected by
  vendor and link type); the secondary network (Multus, the CNI plugins, IPoIB's CNI on
  InfiniBand) and NVIDIA's IPAM.
- The secondary network: an IPoIBNetwork (InfiniBand) or a MacvlanNetwork (RoCE) on the
  fabric interface, in each namespace that runs jobs, with addresses from an nv-ipam IPPool of
  the fabric's range (nv-ipam.nvidia.com has no CRD in ../shared/crds: built as NVIDIA documents
  it). Jobs attach with `k8s.v1.cni.cncf.io/networks: <network>` and request the RDMA resource.

Images come from nvcr.io/nvidia/mellanox at the release's tags (catalog.charts.OPERAND_IMAGES),
or from the mirror by digest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from catalog.charts import NETWORK_OPERATOR, NETWORK_OPERATOR_MELLANOX, OPERAND_IMAGES
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import NodeTaint, chart, namespace
from components.platform.mirror import ImageMirror

MELLANOX_API = "mellanox.com/v1alpha1"
IPAM_API = "nv-ipam.nvidia.com/v1alpha1"
NAMESPACE = "nvidia-network-operator"
NIC_LABEL = "feature.node.kubernetes.io/pci-15b3.present"
"""NFD's label on nodes with a Mellanox (PCI vendor 15b3) device."""
LINK_TYPES = {"infiniband": "infiniband", "roce": "ether"}
"""The RDMA shared device plugin's linkTypes selector of each fabric."""


@dataclass(frozen=True)
class NetworkOperatorArgs:
    """Arguments of `NetworkOperator`."""

    fabric: Literal["infiniband", "roce"]
    """The site's fabric."""
    interface: str
    """Host interface the secondary network rides on (IPoIB parent or macvlan master)."""
    cidr: str
    """Address range of the secondary network."""
    mtu: int = 4092
    """MTU of the secondary network (macvlan; IPoIB takes its parent's)."""
    adapters_per_host: int = 8
    """Fabric adapters per host (what the RDMA resource counts)."""
    hosts: int = 1
    """Hosts on the fabric (the IP pool must give each a block)."""
    network_namespaces: Sequence[str] = ("default",)
    """Namespaces jobs attach to the secondary network from (one network object each)."""
    taints: Sequence[NodeTaint] = ()
    """Taints of the GPU nodes (the operands tolerate them)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the chart and every image come from (None: upstream)."""
    namespace: str = NAMESPACE
    """Namespace of the operator."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources that must exist first (the GPU operator, whose NFD labels the nodes)."""

    @property
    def resource_name(self) -> str:
        """The RDMA shared device plugin's resource (requested as rdma/<name>)."""
        return f"rdma_shared_{'ib' if self.fabric == 'infiniband' else 'roce'}"

    @property
    def network_name(self) -> str:
        """Name of the secondary network objects."""
        return f"fabric-{'ipoib' if self.fabric == 'infiniband' else 'macvlan'}"


BLOCK_SIZE = 64
"""Addresses each node takes from the pool (nv-ipam perNodeBlockSize): pods per node."""


def _validate(args: NetworkOperatorArgs) -> None:
    import ipaddress
    net = ipaddress.ip_network(args.cidr)
    if net.num_addresses < args.hosts * BLOCK_SIZE:
        raise ComponentArgsError(
            f"`cidr` ({args.cidr}) holds {net.num_addresses} addresses, fewer than "
            f"{args.hosts} hosts x {BLOCK_SIZE} per host: give a larger range")
    if not args.network_namespaces:
        raise ComponentArgsError("`network_namespaces` is empty: name the namespaces jobs "
                                 "attach to the fabric from")


def image_spec(image: str, mirror: ImageMirror | None) -> dict[str, str]:
    """A NicClusterPolicy image block: upstream at the release's tag, or the mirror's copy by
    digest (the policy takes a digest as `version`)."""
    upstream = f"{NETWORK_OPERATOR_MELLANOX}/{image}"
    ref = next(i for i in OPERAND_IMAGES[NETWORK_OPERATOR.name] if i.upstream == upstream)
    if mirror is None:
        return {"image": image, "repository": NETWORK_OPERATOR_MELLANOX,
                "version": ref.default_tag}
    locked = mirror.images.get(upstream)
    if locked is None:
        raise ComponentArgsError(
            f"`mirror.images` has no entry for {upstream}: mirror it into "
            f"{mirror.registry}/{upstream} and add '{upstream}:{ref.default_tag}: "
            "sha256:<digest>' to sovereignty.mirror.images")
    return {"image": image, "repository": f"{mirror.registry}/{NETWORK_OPERATOR_MELLANOX}",
            "version": locked.digest}


def operator_values(args: NetworkOperatorArgs) -> dict[str, Any]:
    """Chart values: NFD off (the GPU operator's serves), SR-IOV off, the operator tolerant of
    the GPU taints is not needed (it runs on the control plane or system nodes)."""
    return {"nfd": {"enabled": False, "deployNodeFeatureRules": True},
            "sriovNetworkOperator": {"enabled": False}}


def nic_cluster_policy_spec(args: NetworkOperatorArgs) -> dict[str, Any]:
    """The NicClusterPolicy spec."""
    mirror = args.mirror
    rdma_config = {"configList": [{
        "resourceName": args.resource_name, "rdmaHcaMax": 63,
        "selectors": {"vendors": ["15b3"], "linkTypes": [LINK_TYPES[args.fabric]]}}]}
    secondary: dict[str, Any] = {"cniPlugins": image_spec("plugins", mirror),
                                 "multus": image_spec("multus-cni", mirror)}
    if args.fabric == "infiniband":
        secondary["ipoib"] = image_spec("ipoib-cni", mirror)
    return {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": NIC_LABEL, "operator": "In", "values": ["true"]}]}]}},
        "tolerations": [t.toleration() for t in args.taints],
        "ofedDriver": {
            **image_spec("doca-driver", mirror),
            "upgradePolicy": {"autoUpgrade": True, "maxParallelUpgrades": 1,
                              "drain": {"enable": True, "force": True, "deleteEmptyDir": True,
                                        "timeoutSeconds": 300}},
            "startupProbe": {"initialDelaySeconds": 10, "periodSeconds": 10},
            "livenessProbe": {"initialDelaySeconds": 30, "periodSeconds": 30},
            "readinessProbe": {"initialDelaySeconds": 10, "periodSeconds": 30},
        },
        "rdmaSharedDevicePlugin": {**image_spec("k8s-rdma-shared-dev-plugin", mirror),
                                   "config": json.dumps(rdma_config, sort_keys=True)},
        "secondaryNetwork": secondary,
        "nvIpam": {**image_spec("nvidia-k8s-ipam", mirror), "enableWebhook": False},
    }


def network_spec(args: NetworkOperatorArgs, network_namespace: str) -> dict[str, Any]:
    """The IPoIBNetwork or MacvlanNetwork spec of one namespace."""
    ipam = json.dumps({"type": "nv-ipam", "poolName": args.network_name}, sort_keys=True)
    spec: dict[str, Any] = {"networkNamespace": network_namespace, "master": args.interface,
                            "ipam": ipam}
    if args.fabric == "roce":
        spec.update({"mode": "bridge", "mtu": args.mtu})
    return spec


class NetworkOperator(FactoryComponent):
    """The NVIDIA Network Operator with its NicClusterPolicy and the fabric's network."""

    def __init__(self, name: str, args: NetworkOperatorArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("aifactory:platform:NetworkOperator", name, {
            "fabric": args.fabric, "namespace": args.namespace, "chart": NETWORK_OPERATOR.name,
            "chartVersion": NETWORK_OPERATOR.version, "rdmaResource": f"rdma/{args.resource_name}",
            "network": args.network_name, "adaptersPerHost": args.adapters_per_host}, opts)
        labels = dict(args.labels)
        ns = namespace(child(name, "ns"), args.namespace, labels, "privileged",
                       self.child_opts())
        self.chart = chart(child(name, "chart"), NETWORK_OPERATOR, NETWORK_OPERATOR.name,
                           args.namespace, operator_values(args),
                           self.child_opts(depends_on=[ns, *args.depends_on]), args.mirror)
        after_chart = self.child_opts(depends_on=[self.chart])
        policy = k8s.apiextensions.CustomResource(
            child(name, "nic-cluster-policy"), api_version=MELLANOX_API, kind="NicClusterPolicy",
            # the operator reconciles only the policy of this name
            metadata={"name": "nic-cluster-policy", "labels": labels},
            spec=nic_cluster_policy_spec(args), opts=after_chart)
        after_policy = self.child_opts(depends_on=[self.chart, policy])
        k8s.apiextensions.CustomResource(
            child(name, "ip-pool"), api_version=IPAM_API, kind="IPPool",
            metadata={"name": args.network_name, "namespace": args.namespace, "labels": labels},
            spec={"subnet": args.cidr, "perNodeBlockSize": BLOCK_SIZE,
                  "nodeSelector": {"nodeSelectorTerms": [{"matchExpressions": [
                      {"key": NIC_LABEL, "operator": "In", "values": ["true"]}]}]}},
            opts=after_policy)
        kind = "IPoIBNetwork" if args.fabric == "infiniband" else "MacvlanNetwork"
        for network_namespace in sorted(set(args.network_namespaces)):
            k8s.apiextensions.CustomResource(
                child(name, "network", network_namespace), api_version=MELLANOX_API, kind=kind,
                # cluster-scoped: one object per namespace it writes its attachment into
                metadata={"name": f"{args.network_name}-{network_namespace}"[:63],
                          "labels": labels},
                spec=network_spec(args, network_namespace), opts=after_policy)
        self.rdma_resource = pulumi.Output.from_input(f"rdma/{args.resource_name}")
        self.register_outputs({"rdma_resource": self.rdma_resource})
