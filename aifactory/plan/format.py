"""Human-readable forms of a plan: a terminal table and Markdown for PR comments and reviews."""

from __future__ import annotations

from typing import Any


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
            h("GPU pools (GPUs, IT power and cost at desired size)"),
            *_table(
                ["pool", "environment", "GPU", "GPUs", "max GPUs", "IT kW", "on-demand $/h"],
                [[p["pool"], p["environment"], p["gpu_model"], p["gpus_desired"], p["gpus_max"],
                  f"{p['it_kw_desired']:.1f}",
                  "owned" if p["cloud"] == "onprem" else _money(p["usd_per_hour_desired"])]
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
            f"Estimated IT power at desired size: {s['itKwDesired']:.1f} kW. "
            f"Cloud on-demand cost at desired size: {_money(s['cloudUsdPerHourDesired'])}/h"
            + (" (a type without a list price in the catalog)"
               if s["cloudUsdPerHourDesired"] is None else "") + ".",
            "",
        ]
    for site in s["sites"]:
        out += [
            h(f"Site {site['site']} ({site['country']}): {site['hosts']} hosts, "
              f"{site['gpus']} GPUs"),
            f"IT load {site['itKw']:.1f} kW x PUE {site['pue']} = facility load "
            f"{site['facilityKw']:.1f} kW of {site['budgetKw']:.1f} kW budget; headroom "
            f"{site['headroomKw']:.1f} kW ({site['headroomPct']:.1f}%).",
            "",
            *_table(["rack", "IT kW", "limit kW", "cooling"],
                    [[r["rack"], f"{r['itKw']:.1f}", f"{r['limitKw']:.1f}", r["cooling"]]
                     for r in site["racks"]], markdown),
            "",
        ]
    return "\n".join(out).rstrip() + "\n"
