"""Human-readable forms of a plan: a terminal table and Markdown for PR comments and reviews."""

from __future__ import annotations

from typing import Any


def _storage(site: dict[str, Any]) -> str:
    """', 1474.56 TB raw storage on 4 storage hosts (1105.92 TB usable in its object
    storage); 3 management, 2 registry hosts' (empty for a site without storage hosts)."""
    roles = site.get("hostRoles") or {}
    if not site.get("storageTb"):
        return ""
    others = ", ".join(f"{n} {role}" for role, n in roles.items()
                       if role not in ("gpu", "storage"))
    usable = site.get("objectStorageUsableTb")
    return (f", {site['storageTb']:g} TB raw storage on {roles.get('storage', 0)} storage hosts"
            + (f" ({usable:g} TB usable in its object storage)" if usable is not None else "")
            + (f"; {others} hosts" if others else ""))


def _table(headers: list[str], rows: list[list[Any]], markdown: bool,
           left: frozenset[int] = frozenset({0})) -> list[str]:
    """A table; columns in `left` are left-aligned (text), the others right-aligned."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    if markdown:
        out = ["| " + " | ".join(cells[0]) + " |",
               "|" + "|".join("---" for _ in headers) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in cells[1:]]
        return out
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        return "  " + "  ".join(c.ljust(w) if i in left else c.rjust(w)
                                for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    return [line(cells[0])] + [line(r) for r in cells[1:]]


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _kw(value: float | None, basis: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" + (" (GPU boards)" if basis == "gpu-board" else "")


def render(plan: dict[str, Any], markdown: bool = False) -> str:
    """The plan summary as text (markdown=False) or Markdown."""
    s = plan["summary"]
    h = (lambda t: f"### {t}") if markdown else (lambda t: f"{t}:")
    components = s["resourceCount"] - s["customResourceCount"]
    out = [
        ("## " if markdown else "")
        + f"Plan of {plan['blueprint']} (factory {plan['factory']}, stack {plan['stack']})",
        "",
        f"{s['resourceCount']} resources: {s['customResourceCount']} cloud/cluster resources, "
        f"{components} components; {s['protectedCount']} protected from deletion.",
        "",
        h("Resources by building block"),
        *_table(["building block", "resources"],
                [[k, v] for k, v in s["byBuildingBlock"].items()], markdown),
        "",
    ]
    if s["pools"]:
        out += [
            h("GPU pools (power at desired size: cloud pools the GPUs' board power, owned pools "
              "their hosts' IT load)"),
            *_table(
                ["pool", "environment", "capacity", "GPU", "GPUs min/desired/max", "kW",
                 "$/h desired", "$/month desired"],
                [[p["pool"], p["environment"], p["capacity"], p["gpu_model"],
                  f"{p['gpus_min']}/{p['gpus_desired']}/{p['gpus_max']}",
                  _kw(p["power_kw_desired"], p["power_basis"]),
                  "owned" if p["cloud"] == "onprem" else _money(
                      (p["usd_per_hour"] or {}).get("desired")),
                  "owned" if p["cloud"] == "onprem" else _money(p["usd_per_month_desired"])]
                 for p in s["pools"]],
                markdown,
            ),
            "",
            h("How pools scale"),
            *_table(["pool", "min nodes", "max nodes", "scaled by"],
                    [[p["pool"], p["min_nodes"], p["max_nodes"], p["autoscaling"]]
                     for p in s["pools"]], markdown, left=frozenset({0, 3})),
            "",
            h("GPUs by model"),
            *_table(["GPU", "GPUs (desired)"], [[k, v] for k, v in s["gpusByModel"].items()],
                    markdown),
            "",
            f"Power at desired size: owned sites' IT load {s['siteItKw']:.1f} kW; cloud GPUs' "
            f"board power {s['cloudGpuBoardKwDesired']:.1f} kW (the GPUs alone: the cloud's "
            "servers, cooling and PUE are the provider's).",
            "",
        ]
    if s.get("servedModels"):
        out += [
            h("Served models (KServe; revisions with their share of traffic)"),
            *_table(["model", "environment", "pool", "revisions", "GPUs/replica", "max GPUs",
                     "inputs watched"],
                    [[m["model"], m["environment"], m["pool"],
                      ", ".join(f"{r} {w}%" for r, w in m["revisions"].items()),
                      m["gpusPerReplica"], m["maxGpus"], m.get("inputsWatched", "-")]
                     for m in s["servedModels"]],
                    markdown, left=frozenset({0, 1, 2, 3, 6})),
            "",
        ]
    if s.get("catalogNamespaces"):
        out += [
            h("Lakehouse tables (Iceberg catalog namespaces; grants per team and zone)"),
            *_table(["environment", "namespace", "zone", "writers", "readers"],
                    [[n["environment"], n["namespace"], n["zone"],
                      ", ".join(n["writers"]) or "-", ", ".join(n["readers"]) or "-"]
                     for n in s["catalogNamespaces"]],
                    markdown, left=frozenset({0, 1, 2, 3, 4})),
            "",
        ]
    cost = s.get("cost")
    if cost and any(p["cloud"] != "onprem" for p in s["pools"]):
        per = cost["usdPerHour"]
        out += [
            h(f"Cloud cost (prices from the instance snapshot of {cost['priceSnapshot']})"),
            f"{_money(per['min'])}/h at minimum, {_money(per['desired'])}/h at desired, "
            f"{_money(per['max'])}/h at maximum size; {_money(cost['usdPerMonthDesired'])} a "
            f"month at desired size ({cost['hoursPerMonth']:g} h). Each pool at the price of "
            "its purchase option (spot: the median of the region's zones; spot prices move); "
            f"includes {_money(cost['controlPlaneUsdPerHour'])}/h of cluster fees for "
            + ", ".join(f"{n} {c.upper()} cluster{'s' * (n != 1)}"
                        for c, n in cost["clusters"].items()) + ".",
            *([f"Not priced: {', '.join(cost['unpricedPools'])} (no price in the snapshot, "
               "or a Capacity Block)."] if cost["unpricedPools"] else []),
            f"Not included: {', '.join(cost['notCosted'])}.",
            "",
        ]
    for site in s["sites"]:
        out += [
            h(f"Site {site['site']} ({site['country']}): {site['hosts']} hosts, "
              f"{site['gpus']} GPUs" + _storage(site)),
            f"IT load {site['hostsKw']:.1f} kW hosts + {site['otherKw']:.1f} kW other equipment "
            f"= {site['itKw']:.1f} kW x PUE {site['pue']} = facility load "
            f"{site['facilityKw']:.1f} kW of {site['budgetKw']:.1f} kW budget; headroom "
            f"{site['headroomKw']:.1f} kW ({site['headroomPct']:.1f}%).",
            "",
            *_table(["rack", "hosts kW", "other kW", "IT kW", "limit kW", "cooling"],
                    [[r["rack"], f"{r['hostsKw']:.1f}", f"{r['otherKw']:.1f}",
                      f"{r['itKw']:.1f}", f"{r['limitKw']:.1f}", r["cooling"]]
                     for r in site["racks"]], markdown),
            "",
        ]
        for fit in site.get("fitsMore") or []:
            feeds = "" if fit["feeds"] is None else f", feeds {fit['feeds']}"
            racks = ", ".join(f"{r} {n}" for r, n in fit["racks"].items())
            out += [f"Fits {fit['total']} more {fit['serverModel']} ({fit['serverKw']:g} kW "
                    f"each): budget {fit['budget']}{feeds}, racks {racks}.", ""]
    return "\n".join(out).rstrip() + "\n"
