"""capacity-gcp-quota: GCP pools at maximum size fit the GPU quotas per model and region."""

from __future__ import annotations

from collections.abc import Iterator

from policies.envelope import gcp_quota_use
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView


def check(view: PlanView) -> Iterator[Finding]:
    for q in gcp_quota_use(view):
        if not q.over:
            continue
        assert q.quota is not None
        where = "across all regions" if q.region == "global" else f"in {q.region}"
        yield Finding(
            urn=q.urn, subject=q.environment,
            message=(f"project {q.scope} {where}: pools {', '.join(q.pools)} may use {q.used} "
                     f"GPUs of quota {q.metric} at their maximum size, but the quota is "
                     f"{q.quota} ({q.used - q.quota} over)"),
            details=q.as_dict(),
            also_waived_by=q.pools,
            spec_path=f"environments.{q.environment}.gpu_quotas",
        )


def evidence(view: PlanView) -> Iterator[Evidence]:
    for q in gcp_quota_use(view):
        yield Evidence(urn=q.urn, subject=q.environment, inputs={
            "project": q.scope, "region": q.region, "metric": q.metric, "usedAtMax": q.used,
            "declared": q.quota, "pools": list(q.pools)})


RULE = Rule(
    name="capacity-gcp-quota",
    domain="capacity",
    severity="high",
    description="The GPUs GCP pools may scale to fit the project's quota per GPU model and "
    "region (PREEMPTIBLE_ metrics for spot pools) and, where declared, GPUS_ALL_REGIONS "
    "summed over every region of the project.",
    remediation="Lower max_nodes of the pools named, or request a quota increase and record "
    "the granted figure under environments.<env>.gpu_quotas (e.g. NVIDIA_H100_GPUS).",
    enforcement="mandatory",
    check=check,
    applies=lambda view: bool(view.gcp_environments),
    evidence=evidence,
)
