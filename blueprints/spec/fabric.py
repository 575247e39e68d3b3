"""Blueprint spec: a site's high-speed fabric (InfiniBand or RoCE), and which fabric parts a
blueprint installs (the EFA device plugin, the network operator, GPUDirect's NCCL installer)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from blueprints.spec.base import Strict, fail
from catalog.fabric import GPUDIRECT

if TYPE_CHECKING:
    from blueprints.spec.models import Blueprint


class FabricSwitch(Strict):
    """Switches of the compute fabric: their power counts in the rack they stand in."""

    name: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$",
                      description="Switch group name, e.g. ib-leaf (a node label value).")
    model: str = Field(min_length=1, max_length=100,
                       description="Switch model, e.g. 'Quantum-2 QM9700 NDR'.")
    role: Literal["leaf", "spine"] = Field("leaf", description="leaf (hosts attach) or spine.")
    count: int = Field(1, ge=1, le=1000, description="How many of them.")
    kw: float = Field(gt=0, le=50, description="Maximum draw of one switch, kW (nameplate).")
    rack: str = Field(description="Rack the switches stand in (a key of the site's racks).")
    serves: list[str] = Field(
        default_factory=list,
        description="Leaf: the racks whose hosts attach to these switches (their hosts get "
        "this group's name as the aifactory.io/fabric-leaf node label, for topology-aware "
        "scheduling).")


class SiteFabric(Strict):
    """The site's compute fabric: the NVIDIA Network Operator installs the adapters' driver,
    the RDMA device plugin and the secondary network on it."""

    kind: Literal["infiniband", "roce"] = Field(description="InfiniBand, or RoCE on Ethernet.")
    adapters_per_host: int = Field(ge=1, le=16, description="Fabric adapters per GPU host.")
    adapter_model: str = Field("ConnectX-7", min_length=1, max_length=60,
                               description="Adapter model (ConnectX-7, ConnectX-8, ...).")
    interface: str = Field(
        pattern=r"^[a-z][a-z0-9]{1,14}$",
        description="Host interface the secondary network rides on: the IPoIB parent (e.g. "
        "ibp24s0) for InfiniBand, the macvlan master (e.g. ens1f0np0) for RoCE.")
    cidr: str = Field(description="Address range of the secondary (fabric) network.")
    mtu: int = Field(4092, ge=1280, le=9216,
                     description="MTU of the fabric interfaces (IPoIB 4092, RoCE up to 9000).")
    switches: list[FabricSwitch] = Field(min_length=1, description="The fabric's switches.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            net = ipaddress.ip_network(v, strict=True)
        except ValueError as e:
            raise ValueError(f"{v!r} is not a network in CIDR form (e.g. 10.30.0.0/16): "
                             f"{e}") from None
        if net.version != 4 or net.prefixlen > 24:
            raise ValueError(f"{v!r}: give an IPv4 range of /24 or larger")
        return v

    @model_validator(mode="after")
    def _switch_groups(self) -> SiteFabric:
        problems: list[tuple[str, str]] = []
        seen: dict[str, int] = {}
        for i, sw in enumerate(self.switches):
            if seen.setdefault(sw.name, i) != i:
                problems.append((f"switches.{i}.name", f"{sw.name!r} repeats "
                                 f"switches[{seen[sw.name]}]: name each group once"))
            if sw.role == "spine" and sw.serves:
                problems.append((f"switches.{i}.serves", "spine switches serve no racks: "
                                 "remove serves, or make the group a leaf"))
        fail(problems)
        return self

    def leaf_of(self, rack: str) -> str | None:
        """The leaf group a rack's hosts attach to (None: no leaf names the rack)."""
        return next((s.name for s in self.switches if s.role == "leaf" and rack in s.serves),
                    None)


def site_fabric_problems(fabric: SiteFabric, racks: list[str]) -> list[tuple[str, str]]:
    """Switches in racks the site has, each rack served by one leaf group at most."""
    problems: list[tuple[str, str]] = []
    served: dict[str, str] = {}
    for i, sw in enumerate(fabric.switches):
        if sw.rack not in racks:
            problems.append((f"fabric.switches.{i}.rack", f"{sw.rack!r} is not a rack of the "
                             f"site ({', '.join(racks)}): name one of them"))
        for j, rack in enumerate(sw.serves):
            if rack not in racks:
                problems.append((f"fabric.switches.{i}.serves.{j}", f"{rack!r} is not a rack "
                                 f"of the site ({', '.join(racks)})"))
            elif rack in served and served[rack] != sw.name:
                problems.append((f"fabric.switches.{i}.serves.{j}", f"rack {rack!r} is "
                                 f"already served by leaf group {served[rack]!r}: a rack's "
                                 "hosts attach to one leaf group (the topology level)"))
            served.setdefault(rack, sw.name)
    return problems


def fabric_charts(spec: Blueprint) -> list[str]:
    """Charts the fabrics need: the EFA device plugin on EKS, the network operator on sites."""
    charts = []
    if any(p.fabric and getattr(spec.environments.get(p.environment), "kind", None) == "aws"
           for p in spec.pools.values()):
        charts.append("aws-efa-k8s-device-plugin")
    if any(getattr(e, "kind", None) == "onprem" and getattr(e, "fabric", None) is not None
           for e in spec.environments.values()):
        charts.append("network-operator")
    return charts


def fabric_manifests(spec: Blueprint) -> list[str]:
    """Upstream manifests the fabrics need, built as our own objects (GPUDirect's NCCL plugin
    installers, TCPX's and TCPXO's device injector)."""
    kinds = {GPUDIRECT[t][0] for p in spec.pools.values() if p.fabric
             for t in p.types if t in GPUDIRECT}
    return [k for k in ("gpudirect-tcpx", "gpudirect-tcpxo", "gpudirect-rdma") if k in kinds]
