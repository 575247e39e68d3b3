"""capacity-multinode-fabric: a multi-node pool of fabric hardware has its fabric configured.

A pool of p5/p6 (EFA with GPUDirect RDMA), a3/a4 (GPUDirect) or of servers with compute-fabric
adapters (DGX/HGX) that may run more than one node is bought for multi-node training. Without
its fabric configured, NCCL falls back to the node's ordinary network (TCP over the primary
ENI or gVNIC, or the site's management Ethernet): an all-reduce across nodes runs at a fraction
of the speed paid for. Read from each pool's facts: the fabric its type or servers have
(`fabricCapable`) and the one the blueprint configures (`fabric`).
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Evidence, Finding, Rule
from policies.view import PlanView

WHAT = {
    "efa": "EFA with GPUDirect RDMA",
    "gpudirect-tcpx": "GPUDirect-TCPX (4 extra NICs)",
    "gpudirect-tcpxo": "GPUDirect-TCPXO (8 extra NICs)",
    "gpudirect-rdma": "GPUDirect RDMA (8 RoCE NICs)",
    "adapters": "compute-fabric adapters (InfiniBand or RoCE)",
}


def check(view: PlanView) -> Iterator[Finding]:
    for p in view.pools:
        f = p["inputs"]
        capable = f.get("fabricCapable")
        if not capable or f.get("fabric") or int(f.get("maxNodes") or 0) < 2:
            continue
        pool = f["pool"]
        if f.get("cloud") == "onprem":
            fix = (f"declare the site's fabric under environments.{f['environment']}.fabric "
                   "(kind, adapters_per_host, interface, cidr, switches)")
            spec_path = f"environments.{f['environment']}"
            what = "its servers have"
        else:
            fix = f"set pools.{pool}.fabric: true"
            spec_path = f"pools.{pool}"
            what = f"{f.get('instanceType')} has"
        yield view.finding(
            p, f"pool {pool} may run {f['maxNodes']} nodes and {what} "
            f"{WHAT.get(capable, capable)}, but no fabric is configured: multi-node jobs "
            f"would run NCCL over the ordinary network; {fix}", subject=pool,
            spec_path=spec_path, fabricCapable=capable, maxNodes=f["maxNodes"])


def evidence(view: PlanView) -> Iterator[Evidence]:
    for p in view.pools:
        f = p["inputs"]
        if f.get("fabricCapable"):
            yield view.evidence(p, "fabricCapable", "fabric", "maxNodes", subject=f["pool"])


RULE = Rule(
    name="capacity-multinode-fabric",
    domain="capacity",
    severity="high",
    description="A pool whose instance type or servers have a high-speed training fabric "
    "(EFA with GPUDirect RDMA, GPUDirect-TCPX/TCPXO/RDMA, InfiniBand/RoCE adapters) and that "
    "may run more than one node has that fabric configured.",
    remediation="Set `fabric: true` on the cloud pool (EFA interfaces, placement group and "
    "security group on AWS; GPUDirect networks and multi-networking on GCP), or declare the "
    "site's `fabric` (InfiniBand or RoCE, adapters, switches); or set max_nodes to 1.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: any(p["inputs"].get("fabricCapable") for p in view.pools),
    evidence=evidence,
)
