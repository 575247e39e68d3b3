"""capacity-aws-quota: AWS pools at maximum size fit the vCPU quotas of their class."""

from __future__ import annotations

from collections.abc import Iterator

from catalog.cloud import AWS_QUOTA_CLASSES
from policies.envelope import aws_quota_use
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView

# the quota names per class and purchase option, from the catalog (AWS Service Quotas)
QUOTA_NAMES = {f"{option}:{cls}": names[i] for cls, (_, _, *names) in AWS_QUOTA_CLASSES.items()
               for i, option in enumerate(("onDemand", "spot"))}
SPEC_KEYS = {"onDemand:P": "on_demand_p_vcpus", "spot:P": "spot_p_vcpus",
             "onDemand:G": "on_demand_g_vt_vcpus", "spot:G": "spot_g_vt_vcpus",
             "onDemand:Inf": "on_demand_inf_vcpus", "spot:Inf": "spot_inf_vcpus",
             "onDemand:Trn": "on_demand_trn_vcpus", "spot:Trn": "spot_trn_vcpus"}


def check(view: PlanView) -> Iterator[Finding]:
    for q in aws_quota_use(view):
        if not q.over:
            continue
        assert q.quota is not None
        name = QUOTA_NAMES.get(q.metric, q.metric)
        yield Finding(
            urn=q.urn, subject=q.environment,
            message=(f"account {q.scope} in {q.region}: pools {', '.join(q.pools)} may use "
                     f"{q.used} vCPUs of '{name}' at their maximum size, but the quota is "
                     f"{q.quota} vCPUs ({q.used - q.quota} over)"),
            details=q.as_dict(),
            also_waived_by=q.pools,
            spec_path=f"environments.{q.environment}.quotas.{SPEC_KEYS.get(q.metric, q.metric)}",
        )


def evidence(view: PlanView) -> Iterator[Evidence]:
    for q in aws_quota_use(view):
        yield Evidence(urn=q.urn, subject=q.environment, inputs={
            "account": q.scope, "region": q.region, "quota": QUOTA_NAMES.get(q.metric, q.metric),
            "usedAtMax": q.used, "declared": q.quota, "pools": list(q.pools)})


RULE = Rule(
    name="capacity-aws-quota",
    domain="capacity",
    severity="high",
    description="The vCPUs AWS GPU pools may scale to (max nodes x vCPUs per instance), per "
    "instance-family class and purchase option (on-demand and spot counted separately), fit "
    "the quota the account holds in that region.",
    remediation="Lower max_nodes of the pools named, or request a Service Quotas increase "
    "and record the granted figure under environments.<env>.quotas.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: bool(view.aws_environments),
    evidence=evidence,
)
