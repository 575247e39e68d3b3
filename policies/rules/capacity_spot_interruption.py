"""capacity-spot-interruption: spot or preemptible capacity only for interruption-tolerant pools."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Evidence, Finding, Rule
from policies.view import PlanView, Resource, dig, truthy


def _spot_settings(r: Resource) -> str | None:
    """How a node-group-like resource buys spot capacity, if it does."""
    i = r["inputs"]
    t = r["type"]
    if t == "aws:eks/nodeGroup:NodeGroup" and str(i.get("capacityType", "")).upper() == "SPOT":
        return "capacityType SPOT"
    if t == "aws:ec2/launchTemplate:LaunchTemplate" and \
            str(dig(i, "instanceMarketOptions", "marketType", default="")).lower() == "spot":
        return "instanceMarketOptions.marketType spot"
    if t == "gcp:container/nodePool:NodePool":
        for key in ("spot", "preemptible"):
            if truthy(dig(i, "nodeConfig", key, default=False)):
                return f"nodeConfig.{key}"
    return None


def check(view: PlanView) -> Iterator[Finding]:
    for p in view.pools:
        f = p["inputs"]
        if f.get("interruptionTolerant"):
            continue
        spec_path = f"pools.{f['pool']}.capacity"
        if f.get("capacity") == "spot":
            yield view.finding(p, f"pool {f['pool']} buys spot capacity but does not declare "
                               "interruption_tolerant", subject=f["pool"], spec_path=spec_path)
            continue
        for r in view.descendants(p):
            how = _spot_settings(r)
            if how:
                yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']} of pool "
                                   f"{f['pool']} uses spot capacity ({how}) but the pool does "
                                   "not declare interruption_tolerant", spec_path=spec_path)


def evidence(view: PlanView) -> Iterator[Evidence]:
    for p in view.pools:
        yield view.evidence(p, "capacity", "interruptionTolerant", subject=p["inputs"]["pool"])


RULE = Rule(
    name="capacity-spot-interruption",
    domain="capacity",
    severity="medium",
    description="Spot or preemptible capacity, which the cloud can reclaim at any moment, is "
    "used only by pools whose workloads declare they tolerate interruption.",
    remediation="Set interruption_tolerant: true on the pool if its jobs checkpoint and retry, "
    "or buy on-demand (or reserved) capacity instead.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: bool(view.pools),
    evidence=evidence,
)
