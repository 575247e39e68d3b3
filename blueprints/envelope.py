"""A site's power envelope from the facts its components carry: one computation for the plan
summary and the policies.

Pure functions over the facts' plain dicts (blueprints.facts: SiteFacts, HostFacts), so the plan
(aifactory.plan) and the rules (policies.envelope) share them without importing each other. The
IT load of a site is its hosts' maximum input plus the non-GPU equipment declared per rack
(switches, storage, management nodes); the facility load is that times the PUE. "Fits more" is
how many more servers of each model the site's budget, its feeds and each rack still take.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

COOLING_CAP_SETTING = {"air": "airCoolingLimitKw", "rear-door": "rearDoorLimitKw"}
"""Which factory setting caps a rack's load by its cooling (liquid: the rack's limit only)."""


@dataclass(frozen=True)
class RackLoad:
    """One rack: its hosts' IT load and its other equipment against its limit and cooling."""

    rack: str
    hosts_kw: float
    other_kw: float
    limit_kw: float
    cooling: str
    hosts: tuple[str, ...]
    liquid_hosts: tuple[str, ...]
    """Hosts whose server (per the catalog) must be liquid cooled."""
    equipment: tuple[Mapping[str, Any], ...] = ()
    """The declared non-GPU equipment (kind, name, count, kw each)."""

    @property
    def it_kw(self) -> float:
        return round(self.hosts_kw + self.other_kw, 3)

    def as_dict(self) -> dict[str, Any]:
        return {"rack": self.rack, "itKw": self.it_kw, "hostsKw": self.hosts_kw,
                "otherKw": self.other_kw, "limitKw": self.limit_kw, "cooling": self.cooling,
                "hosts": list(self.hosts)}


@dataclass(frozen=True)
class Fit:
    """How many more servers of one model fit a site, by each limit."""

    model: str
    server_kw: float
    """IT load of one more server."""
    cooling: str
    """air or liquid: the server's own cooling."""
    budget: int
    """Under the facility budget (each server adds server_kw x PUE)."""
    feeds: int | None
    """On either feed alone (None: the site declares no A/B feeds)."""
    racks: Mapping[str, int]
    """In each rack: its limit, its cooling's cap and the server's cooling."""

    @property
    def total(self) -> int:
        """What the site takes: the tightest of budget, feeds and the racks together."""
        limits = [self.budget, sum(self.racks.values())]
        if self.feeds is not None:
            limits.append(self.feeds)
        return max(0, min(limits))

    def as_dict(self) -> dict[str, Any]:
        return {"serverModel": self.model, "serverKw": self.server_kw, "total": self.total,
                "budget": self.budget, "feeds": self.feeds, "racks": dict(self.racks)}


@dataclass(frozen=True)
class SitePower:
    """One own site's power envelope."""

    site: str
    urn: str
    country: str
    hosts: int
    gpus: int
    hosts_kw: float
    other_kw: float
    pue: float
    budget_kw: float
    feeds: dict[str, float] | None
    racks: tuple[RackLoad, ...] = field(default_factory=tuple)
    fits: tuple[Fit, ...] = field(default_factory=tuple)
    roles: Mapping[str, int] = field(default_factory=dict)
    """How many hosts of each role (gpu, storage, registry, management)."""
    storage_tb: float = 0.0
    """Raw capacity of the storage hosts' data drives, TB."""

    @property
    def it_kw(self) -> float:
        return round(self.hosts_kw + self.other_kw, 3)

    @property
    def facility_kw(self) -> float:
        return round(self.it_kw * self.pue, 2)

    @property
    def headroom_kw(self) -> float:
        return round(self.budget_kw - self.facility_kw, 2)

    @property
    def headroom_pct(self) -> float:
        """Headroom as a share of the budget (-100% for a budget of 0 with any load)."""
        if self.budget_kw <= 0:
            return 0.0 if self.facility_kw <= 0 else -100.0
        return round(100.0 * (self.budget_kw - self.facility_kw) / self.budget_kw, 1)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "site": self.site, "country": self.country, "hosts": self.hosts, "gpus": self.gpus,
            "hostRoles": dict(self.roles), "storageTb": self.storage_tb,
            "itKw": self.it_kw, "hostsKw": self.hosts_kw, "otherKw": self.other_kw,
            "pue": self.pue, "facilityKw": self.facility_kw, "budgetKw": self.budget_kw,
            "headroomKw": self.headroom_kw, "headroomPct": self.headroom_pct,
            "feeds": self.feeds, "racks": [r.as_dict() for r in self.racks],
            "fitsMore": [f.as_dict() for f in self.fits],
        }


def _more(room_kw: float, per_server_kw: float) -> int:
    """Whole servers of `per_server_kw` that fit in `room_kw` (a hair of rounding allowed)."""
    if per_server_kw <= 0:
        return 0
    return max(0, math.floor(room_kw / per_server_kw + 1e-9))


def rack_equipment_kw(rack: Mapping[str, Any]) -> float:
    """The non-GPU equipment a rack's facts declare: otherKw plus each item's count x kW."""
    items = rack.get("equipment") or []
    return round(float(rack.get("otherKw") or 0.0)
                 + sum(int(i.get("count", 1)) * float(i["kw"]) for i in items), 3)


def _fits(site: SitePower, hosts: Sequence[Mapping[str, Any]],
          settings: Mapping[str, Any]) -> tuple[Fit, ...]:
    models: dict[str, tuple[float, str]] = {}
    for h in hosts:
        model = str(h.get("serverModel") or "")
        if model and model not in models:
            models[model] = (float(h["itLoadKw"]), str(h.get("serverCooling") or "air"))
    out = []
    for model, (kw, cooling) in sorted(models.items()):
        racks = {}
        for r in site.racks:
            if cooling == "liquid" and r.cooling != "liquid":
                racks[r.rack] = 0
                continue
            cap = r.limit_kw
            setting = COOLING_CAP_SETTING.get(r.cooling)
            if setting is not None and settings.get(setting) is not None:
                cap = min(cap, float(settings[setting]))
            racks[r.rack] = _more(cap - r.it_kw, kw)
        feeds = _more(min(site.feeds.values()) - site.it_kw, kw) if site.feeds else None
        out.append(Fit(model=model, server_kw=kw, cooling=cooling,
                       budget=_more(site.budget_kw - site.facility_kw, kw * site.pue),
                       feeds=feeds, racks=racks))
    return tuple(out)


def site_power(site: Mapping[str, Any], hosts: Iterable[Mapping[str, Any]],
               settings: Mapping[str, Any], urn: str = "") -> SitePower:
    """The envelope of one site from its SiteFacts, its hosts' HostFacts and the factory's
    settings (airCoolingLimitKw, rearDoorLimitKw: the cooling caps for "fits more")."""
    hosts = list(hosts)
    racks = []
    for rack in site.get("racks") or []:
        in_rack = [h for h in hosts if h["rack"] == rack["name"]]
        racks.append(RackLoad(
            rack=rack["name"],
            hosts_kw=round(sum(float(h["itLoadKw"]) for h in in_rack), 3),
            other_kw=rack_equipment_kw(rack),
            limit_kw=float(rack["powerLimitKw"]), cooling=rack["cooling"],
            hosts=tuple(h["hostname"] for h in in_rack),
            liquid_hosts=tuple(h["hostname"] for h in in_rack
                               if h.get("serverCooling") == "liquid"),
            equipment=tuple(rack.get("equipment") or ()),
        ))
    power = SitePower(
        site=site["environment"], urn=urn, country=site.get("country", ""),
        hosts=len(hosts), gpus=sum(int(h.get("gpus", 0)) for h in hosts),
        hosts_kw=round(sum(float(h["itLoadKw"]) for h in hosts), 3),
        other_kw=round(sum(r.other_kw for r in racks), 3), pue=float(site["pue"]),
        budget_kw=float(site["powerBudgetKw"]),
        feeds={k: float(v) for k, v in site["feeds"].items()} if site.get("feeds") else None,
        racks=tuple(racks),
        roles=dict(sorted(Counter(str(h.get("role", "gpu")) for h in hosts).items())),
        storage_tb=round(sum(float(h.get("storageTb", 0.0)) for h in hosts), 3))
    return SitePower(**{**power.__dict__, "fits": _fits(power, hosts, settings)})
