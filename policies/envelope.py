"""The power and capacity envelope, measured from the facts in a plan.

Rules judge these figures and reports print them, so both come from one place: per own site
the IT load of its hosts and declared equipment, the facility load (IT x PUE), budget, headroom
and how many more servers fit (computed by blueprints.envelope, which the plan summary shares),
per rack the load against its limit; per cloud account/project and region the quota each class
or GPU metric needs at the pools' maximum size against what the blueprint declares.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import catalog
from blueprints import envelope
from blueprints.envelope import Fit, RackLoad, SitePower
from policies.view import PlanView, Resource

__all__ = ["Fit", "QuotaUse", "RackLoad", "SitePower", "aws_quota_use", "gcp_quota_use",
           "quota_use", "site_power"]


def site_power(view: PlanView) -> list[SitePower]:
    """The power envelope of every own site in the plan (blueprints.envelope computes it)."""
    hosts_by_site: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for h in view.hosts:
        hosts_by_site[h["inputs"]["environment"]].append(h["inputs"])
    out = [envelope.site_power(s["inputs"], hosts_by_site.get(s["inputs"]["environment"], []),
                               view.settings, urn=s["urn"]) for s in view.sites]
    return sorted(out, key=lambda p: p.site)


@dataclass(frozen=True)
class QuotaUse:
    """What the pools may use of one quota, in the cloud's own unit."""

    cloud: str
    scope: str
    """AWS account id or GCP project."""
    region: str
    """Region, or 'global' for a project-wide quota."""
    metric: str
    """AWS: 'onDemand:P' etc.; GCP: the quota metric, e.g. NVIDIA_H100_GPUS."""
    unit: str
    used: int
    """At the pools' maximum size."""
    quota: int | None
    """Declared quota (None: not declared, so not checked)."""
    pools: tuple[str, ...]
    urn: str
    """The environment component the quota belongs to."""
    environment: str

    @property
    def over(self) -> bool:
        return self.quota is not None and self.used > self.quota

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"cloud": self.cloud, "scope": self.scope, "region": self.region,
                "metric": self.metric, "unit": self.unit, "used": self.used,
                "quota": self.quota, "pools": list(self.pools),
                "environment": self.environment}


def _pools_by_environment(view: PlanView) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in view.pools:
        out[p["inputs"]["environment"]].append(p["inputs"])
    return out


def aws_quota_class_key(pool: dict[str, Any]) -> str | None:
    """'onDemand:P' / 'spot:G' for an AWS pool (capacity blocks are counted as on-demand)."""
    cls = pool.get("quotaClass")
    if not cls:
        return None
    return f"{'spot' if pool.get('capacity') == 'spot' else 'onDemand'}:{cls}"


def aws_quota_use(view: PlanView) -> list[QuotaUse]:
    """vCPUs per quota class the AWS pools may use at their maximum size, per account/region.

    Environments in the same account and region share one quota; when they declare different
    figures the smallest is taken.
    """
    pools = _pools_by_environment(view)
    used: dict[tuple[str, str, str], int] = defaultdict(int)
    names: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    quota: dict[tuple[str, str, str], int] = {}
    env_of: dict[tuple[str, str, str], Resource] = {}
    for env in view.aws_environments:
        f = env["inputs"]
        account, region = str(f.get("accountId", "")), f["region"]
        declared = {k: int(v) for k, v in (f.get("quotas") or {}).items()}
        keys = set(declared)
        for p in pools.get(f["environment"], []):
            key = aws_quota_class_key(p)
            if key is None:
                continue
            keys.add(key)
            used[(account, region, key)] += int(p["maxNodes"]) * int(p["vcpusPerNode"])
            names[(account, region, key)].append(p["pool"])
        for key in keys:
            k = (account, region, key)
            q = declared.get(key, 0)
            quota[k] = min(quota.get(k, q), q)
            env_of.setdefault(k, env)
    return sorted(
        (QuotaUse(cloud="aws", scope=k[0], region=k[1], metric=k[2], unit="vCPU",
                  used=used.get(k, 0), quota=quota[k], pools=tuple(names.get(k, ())),
                  urn=env_of[k]["urn"], environment=env_of[k]["inputs"]["environment"])
         for k in quota if used.get(k, 0) > 0 or quota[k] > 0),
        key=lambda q: (q.scope, q.region, q.metric))


GLOBAL_GPU_METRIC = "GPUS_ALL_REGIONS"


def gcp_gpu_metric(pool: dict[str, Any]) -> str:
    """The regional quota metric a GCP pool counts against (PREEMPTIBLE_ for spot): the one
    its facts carry, else the catalog's for its machine type."""
    key = pool.get("quotaKey")
    if isinstance(key, str) and key:
        return key
    try:
        keys = catalog.instance(pool.get("instanceType") or "").quota_keys
    except catalog.UnknownCatalogEntryError:
        base = f"NVIDIA_{str(pool['gpuModel']).upper().replace('-', '_')}_GPUS"
        keys = (base, f"PREEMPTIBLE_{base}")
    return keys[1] if pool.get("capacity") == "spot" else keys[0]


def gcp_quota_use(view: PlanView) -> list[QuotaUse]:
    """GPUs per quota metric the GCP pools may use at their maximum size.

    Regional metrics are counted per project and region (an undeclared metric has quota 0);
    GPUS_ALL_REGIONS sums every region of a project and is checked only where declared.
    """
    pools = _pools_by_environment(view)
    used: dict[tuple[str, str, str], int] = defaultdict(int)
    names: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    quota: dict[tuple[str, str, str], int | None] = {}
    env_of: dict[tuple[str, str, str], Resource] = {}
    for env in view.gcp_environments:
        f = env["inputs"]
        project, region = str(f.get("project", "")), f["region"]
        declared = {k: int(v) for k, v in (f.get("gpuQuotas") or {}).items()}
        gk = (project, "global", GLOBAL_GPU_METRIC)
        if GLOBAL_GPU_METRIC in declared:
            q = declared[GLOBAL_GPU_METRIC]
            prev = quota.get(gk)
            quota[gk] = q if prev is None else min(prev, q)
        else:
            quota.setdefault(gk, None)
        env_of.setdefault(gk, env)
        for metric, q in declared.items():
            if metric == GLOBAL_GPU_METRIC:
                continue
            k = (project, region, metric)
            prev = quota.get(k)
            quota[k] = q if prev is None else min(prev, q)
            env_of.setdefault(k, env)
        for p in pools.get(f["environment"], []):
            gpus = int(p["maxNodes"]) * int(p["gpusPerNode"])
            k = (project, region, gcp_gpu_metric(p))
            used[k] += gpus
            names[k].append(p["pool"])
            quota.setdefault(k, declared.get(k[2], 0))
            env_of.setdefault(k, env)
            used[gk] += gpus
            names[gk].append(p["pool"])
    return sorted(
        (QuotaUse(cloud="gcp", scope=k[0], region=k[1], metric=k[2], unit="GPU",
                  used=used.get(k, 0), quota=quota[k], pools=tuple(names.get(k, ())),
                  urn=env_of[k]["urn"], environment=env_of[k]["inputs"]["environment"])
         for k in quota if used.get(k, 0) > 0 or quota[k]),
        key=lambda q: (q.scope, q.region == "global", q.region, q.metric))


def quota_use(view: PlanView) -> list[QuotaUse]:
    """Quota use of every cloud."""
    return aws_quota_use(view) + gcp_quota_use(view)
