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
from blueprints import envelope, facts
from blueprints.paths import shown_path
from blueprints.spec.models import Blueprint
from catalog import cloud as cloud_catalog

PLAN_VERSION = 1


@dataclass(frozen=True)
class PoolSummary:
    """GPUs, power and cost of one pool at its minimum, desired and maximum size."""

    pool: str
    environment: str
    cloud: str
    gpu_model: str
    capacity: str
    gpus_min: int
    gpus_desired: int
    gpus_max: int
    power_kw_desired: float | None
    """Cloud: the GPUs' board power; on-prem: the hosts' IT load (None: power unpublished)."""
    power_basis: str
    """'gpu-board' (cloud) or 'site-it' (owned hosts)."""
    usd_per_hour: dict[str, float] | None
    """min, desired, max: nodes x the price of the pool's capacity (None: no price)."""
    usd_per_month_desired: float | None
    price_basis: str
    min_nodes: int
    max_nodes: int
    autoscaling: str
    """What scales the pool (Karpenter, GKE's autoscaler, nothing), from its facts."""


# Cluster management fees: the one per-cluster price the factory adds beside its nodes.
CONTROL_PLANE_USD_PER_HOUR = {"aws": 0.10, "gcp": 0.10}
CONTROL_PLANE_SOURCE = ("Amazon EKS pricing: $0.10 per cluster-hour (standard support); GKE "
                        "pricing: $0.10 per cluster-hour management fee (the free tier credits "
                        "one zonal or Autopilot cluster per billing account)")
NOT_COSTED = ("NAT gateways and Cloud NAT", "block storage of the nodes (EBS, PD/Hyperdisk)",
              "object storage of the lakehouse (S3, GCS)", "network egress and load balancers",
              "KMS keys and requests", "logs and metrics ingestion", "registry storage",
              "databases (RDS, Cloud SQL)",
              "owned sites (capital and energy)")


def run_program(spec: Blueprint, stack: str = "offline") -> list[Registration]:
    """Run the real program for `spec` under recording mocks."""
    from blueprints.compose import compose  # deferred: loads the Pulumi SDKs

    # masked stand-ins for the stack secrets the blueprint names
    from blueprints.compose.lifecycle import offline_config as lifecycle_config

    config: dict[str, str] | None = lifecycle_config(spec) or None
    if any(env.kind == "onprem" for env in spec.environments.values()):
        from blueprints.compose.onprem import offline_config

        config = {**(config or {}), **offline_config(spec)}
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


def pool_summaries(resources: list[dict[str, Any]]) -> list[PoolSummary]:
    """Per pool: GPUs at minimum, desired and maximum size, power (cloud: the GPUs' board
    power; owned: the hosts' IT load) and $/h at each size for its purchase option."""
    host_kw: dict[tuple[str, str], float] = {}
    for r in resources:
        if r["type"] == facts.HOST:
            h = r["inputs"]
            host_kw[(h["environment"], h["hostname"])] = float(h["itLoadKw"])
    out = []
    for r in resources:
        if r["type"] not in facts.POOL_TYPES:
            continue
        f = r["inputs"]
        nodes = {"min": int(f.get("minNodes", 0)), "desired": int(f["desiredNodes"]),
                 "max": int(f["maxNodes"])}
        if f["cloud"] == "onprem":
            loads = [host_kw[(f["environment"], h)] for h in f.get("hosts") or []
                     if (f["environment"], h) in host_kw]
            per_node = sum(loads) / len(loads) if loads else None
            basis = "site-it"
        else:
            board = f.get("gpuBoardPowerW")
            per_node = None if board is None else float(board) / 1000.0
            basis = "gpu-board"
        price = f.get("usdPerHour")
        usd = None if f["cloud"] == "onprem" or price is None else {
            k: round(float(price) * n, 2) for k, n in nodes.items()}
        out.append(PoolSummary(
            pool=f["pool"], environment=f["environment"], cloud=f["cloud"],
            gpu_model=f["gpuModel"], capacity=f.get("capacity", "on-demand"),
            gpus_min=f["gpusPerNode"] * nodes["min"],
            gpus_desired=f["gpusPerNode"] * nodes["desired"],
            gpus_max=f["gpusPerNode"] * nodes["max"],
            power_kw_desired=None if per_node is None else round(per_node * nodes["desired"], 3),
            power_basis=basis, usd_per_hour=usd,
            usd_per_month_desired=None if usd is None
            else round(usd["desired"] * catalog.HOURS_PER_MONTH, 2),
            price_basis=str(f.get("priceBasis") or ("owned" if f["cloud"] == "onprem"
                                                    else "on-demand list price")),
            min_nodes=nodes["min"], max_nodes=nodes["max"],
            autoscaling=str(f.get("autoscaling") or "not recorded"),
        ))
    return sorted(out, key=lambda p: p.pool)


def sites_summary(resources: list[dict[str, Any]],
                  settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Per own site: IT load (hosts and declared equipment), facility load (IT x PUE), budget,
    headroom, racks and how many more servers of each model fit."""
    hosts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in resources:
        if r["type"] == facts.HOST:
            hosts[r["inputs"]["environment"]].append(r["inputs"])
    usable = {r["inputs"].get("environment"): r["inputs"].get("usableTb")
              for r in resources if r["type"] == facts.SITE_OBJECT_STORE}
    out = []
    for r in resources:
        if r["type"] != facts.SITE:
            continue
        site = envelope.site_power(r["inputs"], hosts[r["inputs"]["environment"]],
                                   settings).as_dict()
        if usable.get(site["site"]) is not None:  # the tenant's capacity after erasure coding
            site["objectStorageUsableTb"] = usable[site["site"]]
        out.append(site)
    return sorted(out, key=lambda s: s["site"])


def cost_summary(pools: list[PoolSummary], resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Cloud cost at minimum, desired and maximum size, with the cluster fees and what is not
    costed; prices are the snapshot's."""
    cloud = [p for p in pools if p.cloud != "onprem"]
    priced = [p for p in cloud if p.usd_per_hour is not None]
    clusters = Counter(r["type"].split(":")[1] for r in resources
                       if r["type"] in (facts.AWS_ENVIRONMENT, facts.GCP_ENVIRONMENT))
    fees = round(sum(CONTROL_PLANE_USD_PER_HOUR[c] * n for c, n in clusters.items()), 2)
    per_hour = {k: round(sum(p.usd_per_hour[k] for p in priced if p.usd_per_hour) + fees, 2)
                for k in ("min", "desired", "max")}
    return {
        "usdPerHour": per_hour,
        "usdPerMonthDesired": round(per_hour["desired"] * catalog.HOURS_PER_MONTH, 2),
        "nodesUsdPerHourDesired": round(sum(p.usd_per_hour["desired"] for p in priced
                                            if p.usd_per_hour), 2),
        "controlPlaneUsdPerHour": fees,
        "clusters": dict(sorted(clusters.items())),
        "unpricedPools": sorted(p.pool for p in cloud if p.usd_per_hour is None),
        "priceSnapshot": dict(cloud_catalog.load().source)["snapshotDate"],
        "hoursPerMonth": catalog.HOURS_PER_MONTH,
        "controlPlaneSource": CONTROL_PLANE_SOURCE,
        "notCosted": list(NOT_COSTED),
    }


def summarise(resources: list[dict[str, Any]], settings: dict[str, Any]) -> dict[str, Any]:
    """The plan's summary: resources by building block, GPUs, power and cost."""
    index = _by_urn(resources)
    blocks = Counter(building_block(r, index) for r in resources)
    pools = pool_summaries(resources)
    gpus: Counter[str] = Counter()
    for p in pools:
        gpus[p.gpu_model] += p.gpus_desired
    sites = sites_summary(resources, settings)
    board = [p.power_kw_desired for p in pools if p.power_basis == "gpu-board"]
    board_kw = round(sum(k for k in board if k is not None), 2)
    site_kw = round(sum(s["itKw"] for s in sites), 2)
    cost = cost_summary(pools, resources)
    return {
        "resourceCount": len(resources),
        "customResourceCount": sum(1 for r in resources if r["custom"]),
        "protectedCount": sum(1 for r in resources if r["protect"]),
        "byBuildingBlock": dict(sorted(blocks.items())),
        "byType": dict(sorted(Counter(r["type"] for r in resources).items())),
        "gpusByModel": dict(sorted(gpus.items())),
        "pools": [p.__dict__ for p in pools],
        "siteItKw": site_kw,
        "cloudGpuBoardKwDesired": board_kw,
        "itKwDesired": round(site_kw + board_kw, 2),
        "cloudUsdPerHourDesired": cost["usdPerHour"]["desired"] if any(
            p.cloud != "onprem" for p in pools) else None,
        "cost": cost,
        "sites": sites,
        "servedModels": served_models(resources, index),
        "catalogNamespaces": catalog_namespaces(resources, index),
    }


CATALOGS = ("aifactory:aws:IcebergCatalog", "aifactory:gcp:IcebergCatalog")


def catalog_namespaces(resources: list[dict[str, Any]],
                       index: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each Iceberg namespace of the lakehouse's catalog: its zone and the teams that write
    and read it (from the catalog components' inputs)."""
    out = []
    for r in resources:
        if r["type"] not in CATALOGS:
            continue
        i = r["inputs"]
        grants: dict[str, dict[str, str]] = i.get("grants") or {}
        for ns, zone in sorted((i.get("zones") or {}).items()):
            out.append({"environment": building_block(r, index).split("/", 1)[0],
                        "namespace": ns, "zone": zone,
                        "writers": sorted(t for t, g in grants.items() if g.get(ns) == "write"),
                        "readers": sorted(t for t, g in grants.items() if g.get(ns) == "read")})
    return out


def served_models(resources: list[dict[str, Any]],
                  index: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each served model: its cluster, pool, revisions with their traffic share, the GPUs its
    replicas may take at their maximum (from the ServedModel components' inputs), and how its
    inputs are watched for drift (the DriftWatch's served models)."""
    watched = {m for r in resources if r["type"] == "aifactory:platform:DriftWatch"
               for m in r["inputs"].get("servedModels") or ()}
    out = []
    for r in resources:
        if r["type"] != "aifactory:platform:ServedModel":
            continue
        i = r["inputs"]
        block = building_block(r, index).split("/", 1)[0]
        inputs = ("logged requests, vLLM histograms" if i.get("requestLog")
                  else "vLLM histograms" if i.get("model") in watched else "-")
        out.append({"model": i.get("model"), "environment": block, "pool": i.get("pool"),
                    "revisions": i.get("revisions") or {},
                    "gpusPerReplica": i.get("gpusPerReplica"), "maxGpus": i.get("maxGpus"),
                    "inputsWatched": inputs})
    return sorted(out, key=lambda m: (m["environment"], str(m["model"])))


def make_plan(spec: Blueprint, registrations: list[Registration], blueprint: str,
              stack: str) -> dict[str, Any]:
    """The plan document for a set of registrations."""
    resources = [r.to_json() for r in registrations]
    return {
        "version": PLAN_VERSION,
        "blueprint": blueprint,
        "stack": stack,
        "factory": spec.name,
        "summary": summarise(resources, {
            "airCoolingLimitKw": spec.policy.air_cooling_limit_kw,
            "rearDoorLimitKw": spec.policy.rear_door_limit_kw}),
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
