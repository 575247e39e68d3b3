"""Team quotas in Kueue: a ClusterQueue per team in the cohort, fair sharing of what is idle.

Each team's ClusterQueue (`<cohort>-<team>`) admits only the team's namespace and holds the
team's quotas: per pool (flavor) a nominal quota, a borrowing limit and a lending limit. What no
team holds nominally stays with the Cohort object (`<cohort>`: Kueue v1beta2 Cohort quotas, "a
shared pool for the ClusterQueues within it"), which every team may borrow from; a team
without a quota only borrows. With fair sharing on (the Kueue configuration's `fairSharing`),
borrowing teams share idle GPUs in proportion to their weights, and a team gets its nominal
quota back by preempting borrowers (`reclaimWithinCohort: Any`).

Quotas are given in GPUs and counted by Kueue in the unit each pool exposes (`gpu_resource`,
`units_per_gpu`: a MIG slice or a time-shared replica counts as one). Pools with different
resources get resource groups of their own (Kueue allows a resource in one group only).

The flavor order (own hardware first, then prepaid, on-demand, spot) and flavor fungibility
(`whenCanBorrow: MayStopSearch`, `whenCanPreempt: TryNextFlavor`) keep jobs on the factory's
own GPUs while they last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from blueprints.errors import ComponentArgsError
from components.naming import child
from components.platform.common import TEAM_LABEL, GpuPoolCapacity


@dataclass(frozen=True)
class TeamQuota:
    """A team's GPUs on one pool."""

    pool: str
    """Pool (flavor) name."""
    nominal: int
    """GPUs guaranteed to the team."""
    borrowing_limit: int | None = None
    """Most GPUs it may borrow beyond nominal (None: unlimited)."""
    lending_limit: int | None = None
    """Most of its idle nominal GPUs it lends (None: all)."""


@dataclass(frozen=True)
class QueueTeam:
    """A team that submits jobs."""

    team: str
    """Team name."""
    namespace: str
    """The team's namespace (it gets a LocalQueue)."""
    quotas: tuple[TeamQuota, ...] = ()
    """The team's quotas, by pool (pools without one: borrowing only)."""
    weight: float = 1.0
    """Fair-sharing weight of the team's ClusterQueue."""
    priority: str | None = None
    """Highest WorkloadPriorityClass its jobs may use (None: any)."""

    def quota(self, pool: str) -> TeamQuota | None:
        """The team's quota on a pool, if it has one."""
        return next((q for q in self.quotas if q.pool == pool), None)


def team_queue_name(cohort: str, team: str) -> str:
    """Name of a team's ClusterQueue."""
    return child(cohort, team)


def _weight(weight: float) -> str:
    """A fair-sharing weight as the Quantity string Kueue takes ('2', '0.5')."""
    return f"{weight:g}"


def _groups(pools: Sequence[GpuPoolCapacity],
            quota_of: Callable[[GpuPoolCapacity], dict[str, Any]]) -> list[dict[str, Any]]:
    """Resource groups in flavor order, one per distinct resource; `quota_of(pool)` gives a
    flavor's resource entry (name, quotas)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for p in pools:
        groups.setdefault(p.gpu_resource, []).append(
            {"name": p.pool, "resources": [quota_of(p)]})
    return [{"coveredResources": [resource], "flavors": flavors}
            for resource, flavors in groups.items()]


def team_queue_spec(cohort: str, team: QueueTeam,
                    pools: Sequence[GpuPoolCapacity]) -> dict[str, Any]:
    """A team's ClusterQueue: its quotas on `pools` (in flavor order), only its namespace."""

    def entry(p: GpuPoolCapacity) -> dict[str, Any]:
        q = team.quota(p.pool)
        resource: dict[str, Any] = {"name": p.gpu_resource,
                                    "nominalQuota": q.nominal * p.units_per_gpu if q else 0}
        if q is not None and q.borrowing_limit is not None:
            resource["borrowingLimit"] = q.borrowing_limit * p.units_per_gpu
        if q is not None and q.lending_limit is not None:
            resource["lendingLimit"] = q.lending_limit * p.units_per_gpu
        return resource

    return {
        "cohortName": cohort,
        "namespaceSelector": {"matchLabels": {TEAM_LABEL: team.team}},
        "queueingStrategy": "BestEffortFIFO",
        "flavorFungibility": {"whenCanBorrow": "MayStopSearch",
                              "whenCanPreempt": "TryNextFlavor"},
        "preemption": {"withinClusterQueue": "LowerPriority", "reclaimWithinCohort": "Any"},
        "fairSharing": {"weight": _weight(team.weight)},
        "resourceGroups": _groups(pools, entry),
    }


def nominal_units(teams: Sequence[QueueTeam], pool: GpuPoolCapacity) -> int:
    """Units of a pool the teams hold as nominal quota."""
    return sum((q.nominal if (q := t.quota(pool.pool)) else 0) for t in teams) \
        * pool.units_per_gpu


def cohort_spec(teams: Sequence[QueueTeam], pools: Sequence[GpuPoolCapacity]) -> dict[str, Any]:
    """The Cohort's own quota: each pool's units that no team holds nominally (never below 0;
    the policy rule capacity-team-quota-fits reports quotas above a pool's GPUs)."""

    def entry(p: GpuPoolCapacity) -> dict[str, Any]:
        return {"name": p.gpu_resource,
                "nominalQuota": max(0, p.quota_units - nominal_units(teams, p))}

    return {"resourceGroups": _groups(pools, entry)}


def team_limits(team: QueueTeam, pools: Sequence[GpuPoolCapacity]) -> dict[str, int]:
    """Per resource, the most the team's ClusterQueue can admit on `pools`: nominal plus what
    it may borrow, within each pool's units (its namespace's ResourceQuota)."""
    out: dict[str, int] = {}
    for p in pools:
        q = team.quota(p.pool)
        nominal = q.nominal * p.units_per_gpu if q else 0
        borrow = (q.borrowing_limit * p.units_per_gpu
                  if q is not None and q.borrowing_limit is not None else p.quota_units)
        out[p.gpu_resource] = out.get(p.gpu_resource, 0) + min(p.quota_units, nominal + borrow)
    return out


def validate_teams(teams: Sequence[QueueTeam], pool_names: set[str] | None,
                   priorities: Sequence[str]) -> None:
    """Raise ComponentArgsError for quotas no ClusterQueue can be built from; with
    `pool_names` (every pool of the factory), each quota must name one of them."""
    for t in teams:
        if not 0 < t.weight <= 1000:
            raise ComponentArgsError(f"`teams`: team {t.team!r} has weight {t.weight}: give a "
                                     "weight above 0 and at most 1000")
        if t.priority is not None and t.priority not in priorities:
            raise ComponentArgsError(f"`teams`: team {t.team!r} names priority "
                                     f"{t.priority!r}, which is none of {sorted(priorities)}")
        seen: set[str] = set()
        for q in t.quotas:
            if q.pool in seen:
                raise ComponentArgsError(f"`teams`: team {t.team!r} has two quotas on pool "
                                         f"{q.pool!r}: give one")
            seen.add(q.pool)
            if pool_names is not None and q.pool not in pool_names:
                raise ComponentArgsError(f"`teams`: team {t.team!r} has a quota on "
                                         f"{q.pool!r}, which is not one of the pools "
                                         f"{sorted(pool_names)}")
            if q.nominal < 0 or (q.borrowing_limit or 0) < 0 or (q.lending_limit or 0) < 0:
                raise ComponentArgsError(f"`teams`: team {t.team!r} has a negative quota on "
                                         f"{q.pool!r}: give 0 or more")
            if q.lending_limit is not None and q.lending_limit > q.nominal:
                raise ComponentArgsError(f"`teams`: team {t.team!r} lends {q.lending_limit} "
                                         f"GPUs of {q.pool!r} but holds {q.nominal}: lower "
                                         "lending_limit")
