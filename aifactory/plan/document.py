"""The plan: every resource the program registers, plus a summary of GPUs, power and cost.

`plan_blueprint` is the main job: load a blueprint, run `compose(spec)` under recording mocks,
and return the plan document (JSON-ready, byte-stable for the same blueprint).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import catalog
from aifactory.plan.recorder import Registration, few_full_collections, record
from blueprints import facts
from blueprints.paths import shown_path
from blueprints.spec.models import Blueprint

PLAN_VERSION = 1


@dataclass(frozen=True)
class PoolSummary:
    """GPUs, power and cost of one pool at its desired and maximum size."""

    pool: str
    environment: str
    cloud: str
    gpu_model: str
    gpus_desired: int
    gpus_max: int
    it_kw_desired: float
    usd_per_hour_desired: float | None
    min_nodes: int
    max_nodes: int
    autoscaling: str


def run_program(spec: Blueprint, stack: str = "offline") -> list[Registration]:
    """Run the real program for `spec` under recording mocks."""
    from blueprints.compose import compose  # deferred: loads the Pulumi SDKs

    config: dict[str, str] | None = None
    if any(env.kind == "onprem" for env in spec.environments.values()):
        from blueprints.compose.onprem import offline_config  # masked stand-ins for stack secrets

        config = offline_config(spec)
    return record(lambda: compose(spec), project="ai-factory", stack=stack, config=config,
                  secret_keys=list(config or {}))


def _by_urn(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in resources}


def building_block(resource: dict[str, Any], index: dict[str, dict[str, Any]]) -> str:
    """The building block a resource belongs to: its ancestor two levels below the factory."""
    chain = [resource]
    while chain[-1]["parent"] is not None and chain[-1]["parent"] in index:
        chain.append(index[chain[-1]["parent"]])
    # chain ends at the factory; [-2] is an environment, [-3] a block inside it
    if len(chain) >= 3:
        block_type = chain[-3]["type"]
        label = "providers" if block_type.startswith("pulumi:providers:") \
            else block_type.rsplit(":", 1)[-1]
        return f"{chain[-2]['name']}/{label}"
    if len(chain) == 2:
        return f"{chain[-2]['name']}/(environment)"
    return "(factory)"


def pool_summaries(resources: list[dict[str, Any]], host_overhead_w: int) -> list[PoolSummary]:
    """Per pool: GPUs at desired and max size, IT kW and on-demand $/h at desired size."""
    out = []
    hosts_by_site: dict[str, float] = defaultdict(float)
    for r in resources:
        if r["type"] == facts.HOST:
            hosts_by_site[r["inputs"]["environment"]] += r["inputs"]["itLoadKw"]
    for r in resources:
        if r["type"] not in facts.POOL_TYPES:
            continue
        f = r["inputs"]
        gpu = catalog.gpu(f["gpuModel"])
        per_node_kw = (gpu.board_power_w * f["gpusPerNode"] + host_overhead_w) / 1000.0
        if f["cloud"] == "onprem":
            it_kw = hosts_by_site.get(f["environment"], per_node_kw * f["desiredNodes"])
        else:
            it_kw = per_node_kw * f["desiredNodes"]
        price = f.get("onDemandUsdPerHour")
        out.append(PoolSummary(
            pool=f["pool"], environment=f["environment"], cloud=f["cloud"],
            gpu_model=f["gpuModel"], gpus_desired=f["gpusPerNode"] * f["desiredNodes"],
            gpus_max=f["gpusPerNode"] * f["maxNodes"], it_kw_desired=round(it_kw, 2),
            usd_per_hour_desired=None if price is None and f["cloud"] != "onprem"
            else round((price or 0.0) * f["desiredNodes"], 2),
            min_nodes=f["minNodes"], max_nodes=f["maxNodes"],
            autoscaling=str(f.get("autoscaling") or "not recorded"),
        ))
    return sorted(out, key=lambda p: p.pool)


def sites_summary(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per own site: IT load, facility load (IT x PUE), budget and headroom."""
    hosts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in resources:
        if r["type"] == facts.HOST:
            hosts[r["inputs"]["environment"]].append(r["inputs"])
    out = []
    for r in resources:
        if r["type"] != facts.SITE:
            continue
        site = r["inputs"]
        it_kw = sum(h["itLoadKw"] for h in hosts[site["environment"]])
        facility_kw = it_kw * site["pue"]
        racks = []
        for rack in site["racks"]:
            load = sum(h["itLoadKw"] for h in hosts[site["environment"]]
                       if h["rack"] == rack["name"])
            racks.append({"rack": rack["name"], "itKw": round(load, 2),
                          "limitKw": rack["powerLimitKw"], "cooling": rack["cooling"]})
        out.append({
            "site": site["environment"], "country": site["country"],
            "hosts": len(hosts[site["environment"]]),
            "gpus": sum(h["gpus"] for h in hosts[site["environment"]]),
            "itKw": round(it_kw, 2), "pue": site["pue"], "facilityKw": round(facility_kw, 2),
            "budgetKw": site["powerBudgetKw"],
            "headroomKw": round(site["powerBudgetKw"] - facility_kw, 2),
            "headroomPct": round(100.0 * (site["powerBudgetKw"] - facility_kw)
                                 / site["powerBudgetKw"], 1),
            "racks": racks,
        })
    return sorted(out, key=lambda s: s["site"])


def summarise(resources: list[dict[str, Any]], host_overhead_w: int) -> dict[str, Any]:
    """The plan's summary: resources by building block, GPUs, power and cost."""
    index = _by_urn(resources)
    blocks = Counter(building_block(r, index) for r in resources)
    pools = pool_summaries(resources, host_overhead_w)
    gpus: Counter[str] = Counter()
    for p in pools:
        gpus[p.gpu_model] += p.gpus_desired
    cost = [p.usd_per_hour_desired for p in pools if p.cloud != "onprem"]
    return {
        "resourceCount": len(resources),
        "customResourceCount": sum(1 for r in resources if r["custom"]),
        "protectedCount": sum(1 for r in resources if r["protect"]),
        "byBuildingBlock": dict(sorted(blocks.items())),
        "byType": dict(sorted(Counter(r["type"] for r in resources).items())),
        "gpusByModel": dict(sorted(gpus.items())),
        "pools": [p.__dict__ for p in pools],
        "itKwDesired": round(sum(p.it_kw_desired for p in pools), 2),
        "cloudUsdPerHourDesired": None if any(c is None for c in cost)
        else round(sum(c for c in cost if c is not None), 2),
        "sites": sites_summary(resources),
    }


def make_plan(spec: Blueprint, registrations: list[Registration], blueprint: str,
              stack: str) -> dict[str, Any]:
    """The plan document for a set of registrations."""
    resources = [r.to_json() for r in registrations]
    return {
        "version": PLAN_VERSION,
        "blueprint": blueprint,
        "stack": stack,
        "factory": spec.name,
        "summary": summarise(resources, spec.policy.host_overhead_w),
        "resources": resources,
    }


def plan_blueprint(spec: Blueprint, blueprint: str, stack: str = "offline") -> dict[str, Any]:
    """Plan a loaded blueprint offline.

    The plan names the blueprint by its path from the root of its git repository, else from
    the current folder, else by its file name (blueprints.paths): the same bytes however the
    path was typed and wherever the command ran.
    """
    shown = shown_path(blueprint)
    with few_full_collections():  # the plan document is built while the program's heap lives
        return make_plan(spec, run_program(spec, stack), shown, stack)


def dumps(plan: dict[str, Any]) -> str:
    """Canonical JSON of a plan: the same plan gives the same bytes."""
    return json.dumps(plan, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def load_plan(path: str | Path) -> dict[str, Any]:
    """Read a plan JSON file written by `aifactory plan --format json`.

    Raises FileNotFoundError for a missing file and blueprints.errors.InputError (a ValueError
    too) naming the file, the line, the resource and the field for anything the policies
    could not read.
    """
    from aifactory.plan.shape import PlanError, check_plan

    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError as e:
        line = getattr(e, "lineno", 1)
        raise PlanError(f"{path}:{line}: not JSON ({getattr(e, 'msg', e)}): a plan is written "
                        "by `aifactory plan BLUEPRINT --format json`") from None
    if not isinstance(data, dict) or data.get("version") != PLAN_VERSION \
            or not isinstance(data.get("resources"), list):
        raise PlanError(f"{path}: not an ai-factory plan (version {PLAN_VERSION} JSON with "
                        "'resources'); write one with `aifactory plan BLUEPRINT --format json`")
    check_plan(data, str(path), text)
    return data
