"""`aifactory catalog`: what the catalog knows, GPUs, servers and cloud instance types.

    aifactory catalog [gpus|servers|instances] [--cloud aws|gcp] [--region R] [--gpu G]

Instances are listed a row per type and region, with the zones that offer the type and its
on-demand and spot prices from the snapshot; GPUs with their board power; servers with the IT
load one server counts in a site's envelope.
"""

from __future__ import annotations

import argparse
import difflib
import json
from typing import Any

from aifactory.commands.common import write_output
from blueprints.errors import InputError

DEFAULT_OVERHEAD_W = 2000
"""Host overhead a server without an input figure is counted with (policy.host_overhead_w)."""


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [headers] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in cells]


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _gpu_models(query: str | None) -> set[str] | None:
    """Catalog GPU models a --gpu value names: a model, or every model containing it."""
    import catalog

    if query is None:
        return None
    q = query.lower()
    found = {m for m in catalog.GPUS if q in m}
    found |= {t.gpu for t in catalog.INSTANCE_TYPES.values() if t.accelerator.lower() == q}
    if not found:
        close = difflib.get_close_matches(q, sorted(catalog.GPUS), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InputError(f"--gpu {query}: no GPU model matches; {hint}`aifactory catalog gpus` "
                         "lists them")
    return found


def _check_region(cloud: str | None, region: str | None) -> None:
    import catalog
    from catalog import cloud as cloud_catalog

    if region is None:
        return
    known = {r for t in catalog.INSTANCE_TYPES.values()
             if cloud is None or t.cloud == cloud for r in t.regions}
    if cloud in (None, "gcp"):
        known |= set(cloud_catalog.gcp_regions())
    if cloud in (None, "aws"):
        known |= set(cloud_catalog.AWS_ZONE_LETTERS)
    if region not in known:
        close = difflib.get_close_matches(region, sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"--region {region}: not a region the catalog knows"
                         f"{' for ' + cloud if cloud else ''}{hint}")


def gpus(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    import catalog

    models = _gpu_models(args.gpu)
    rows: list[dict[str, Any]] = []
    for g in sorted(catalog.GPUS.values(), key=lambda g: g.model):
        if models is not None and g.model not in models:
            continue
        types = sorted(t.name for t in catalog.INSTANCE_TYPES.values() if t.gpu == g.model
                       and (args.cloud is None or t.cloud == args.cloud))
        if args.cloud is not None and not types:
            continue
        rows.append({"model": g.model, "vendor": g.vendor, "boardPowerW": g.board_power_w,
                     "memoryGb": g.memory_gb, "instanceTypes": types, "source": g.source})
    lines = _table(["GPU", "vendor", "board W", "memory GB", "cloud types"],
                   [[r["model"], r["vendor"], r["boardPowerW"] or "unpublished", r["memoryGb"],
                     len(r["instanceTypes"])] for r in rows])
    return lines, rows


def servers(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    import catalog

    models = _gpu_models(args.gpu)
    rows: list[dict[str, Any]] = []
    for s in sorted(catalog.SERVERS.values(), key=lambda s: s.model):
        if models is not None and s.gpu not in models:
            continue
        kw = catalog.server_it_load_kw(s.model, DEFAULT_OVERHEAD_W)
        rows.append({"model": s.model, "gpu": s.gpu, "gpus": s.gpus, "kw": kw,
                     "kwBasis": "maximum input" if s.max_input_kw is not None
                     else f"GPUs + {DEFAULT_OVERHEAD_W} W overhead",
                     "rackUnits": s.rack_units, "cooling": s.cooling, "source": s.source})
    lines = _table(["server", "GPU", "GPUs", "kW per server", "basis", "U", "cooling"],
                   [[r["model"], r["gpu"], r["gpus"], f"{r['kw']:g}", r["kwBasis"],
                     r["rackUnits"], r["cooling"]] for r in rows])
    return lines, rows


def instances(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    import catalog
    from catalog import cloud as cloud_catalog

    models = _gpu_models(args.gpu)
    _check_region(args.cloud, args.region)
    rows: list[dict[str, Any]] = []
    for t in sorted(catalog.INSTANCE_TYPES.values(), key=lambda t: (t.cloud, t.gpu, t.name)):
        if (args.cloud is not None and t.cloud != args.cloud) or \
                (models is not None and t.gpu not in models):
            continue
        board = catalog.instance_board_power_w(t)
        for region, offer in sorted(t.offers.items()):
            if args.region is not None and region != args.region:
                continue
            rows.append({
                "type": t.name, "cloud": t.cloud, "gpu": t.gpu, "accelerator": t.accelerator,
                "gpus": t.gpus * t.gpu_share, "vcpus": t.vcpus, "memoryGib": t.memory_gib,
                "gpuBoardKw": None if board is None else round(board / 1000, 3),
                "efaInterfaces": t.efa_interfaces, "quota": t.quota_class,
                "region": region, "zones": list(offer.zone_names),
                "onDemandUsdPerHour": offer.on_demand_usd_per_hour,
                "spotUsdPerHour": offer.spot_usd_per_hour})
    lines = _table(
        ["type", "GPU", "GPUs", "vCPUs", "GiB", "GPU kW", "EFA", "region", "zones",
         "on-demand $/h", "spot $/h"],
        [[r["type"], r["gpu"], f"{r['gpus']:g}", r["vcpus"], f"{r['memoryGib']:g}",
          "-" if r["gpuBoardKw"] is None else f"{r['gpuBoardKw']:g}",
          r["efaInterfaces"] or "-", r["region"], len(r["zones"]),
          _money(r["onDemandUsdPerHour"]), _money(r["spotUsdPerHour"])] for r in rows])
    if not rows:
        lines = []
    data = cloud_catalog.load()
    if args.cloud in (None, "gcp"):
        extra = []
        for a in sorted(data.attachable.values(), key=lambda a: a.accelerator):
            if models is not None and a.gpu not in models:
                continue
            for count, offers in sorted(a.counts.items()):
                for region, offer in sorted(offers.items()):
                    if args.region is not None and region != args.region:
                        continue
                    rows.append({
                        "type": f"{a.host} + {count} x {a.accelerator}", "cloud": "gcp",
                        "gpu": a.gpu, "accelerator": a.accelerator, "gpus": count,
                        "attached": True, "region": region, "zones": list(offer.zone_names),
                        "onDemandUsdPerHour": offer.on_demand_usd_per_hour,
                        "spotUsdPerHour": offer.spot_usd_per_hour})
                    extra.append([rows[-1]["type"], a.gpu, count, region, len(offer.zones),
                                  _money(offer.on_demand_usd_per_hour),
                                  _money(offer.spot_usd_per_hour)])
        if extra:
            lines += [*([""] if lines else []), "GCP GPUs attached to N1 machines (the GPUs' "
                      "price only; pools do not use them yet):",
                      *_table(["attached", "GPU", "GPUs", "region", "zones", "on-demand $/h",
                               "spot $/h"], extra)]
    src = data.source
    lines += ["", f"Prices: USD per hour from the public instance snapshot "
              f"({src['repository']}, read {src['snapshotDate']}); spot is the median of "
              "the region's zones. GPU kW: the GPUs' board power per node. AWS zones are AZ ids; "
              "each account names them its own way."]
    return lines, rows


SUBJECTS = {"gpus": gpus, "servers": servers, "instances": instances}


def run(args: argparse.Namespace) -> int:
    tpu = args.gpu is not None and args.gpu.lower().startswith("tpu")
    if tpu and args.subject == "instances":
        lines, rows = _tpu_listing(args)
    else:
        lines, rows = SUBJECTS[args.subject](args)
    if args.format == "json":
        text = json.dumps(rows, indent=2) + "\n"
    else:
        text = "\n".join(lines if rows or tpu else [f"no {args.subject} match"]) + "\n"
    write_output(text, args.out)
    return 0


def _tpu_listing(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    from catalog import cloud as cloud_catalog

    _check_region("gcp", args.region)
    data = cloud_catalog.load()
    q = args.gpu.lower()
    rows: list[dict[str, Any]] = [{"slice": s.name, "region": region, "zones": list(o.zone_names),
             "onDemandUsdPerHour": o.on_demand_usd_per_hour,
             "spotUsdPerHour": o.spot_usd_per_hour}
            for s in sorted(data.tpus.values(), key=lambda s: s.name)
            if s.name == q or (q not in data.tpus and s.name.startswith(q))
            for region, o in sorted(s.offers.items())
            if args.region is None or region == args.region]
    if not rows:
        raise InputError(f"--gpu {args.gpu}: no TPU slice matches")
    return ["GCP TPU slices (listed only: pools run GPU machine types):",
            *_table(["slice", "region", "zones", "on-demand $/h", "spot $/h"],
                    [[r["slice"], r["region"], len(r["zones"]), _money(r["onDemandUsdPerHour"]),
                      _money(r["spotUsdPerHour"])] for r in rows])], rows


def register(sub: Any) -> None:
    p = sub.add_parser(
        "catalog", help="list the GPUs, servers and cloud instance types the catalog knows",
        description="List what the catalog knows: GPUs with their board power, servers with "
        "the kW one counts in a site, cloud instance types per region with their zones and "
        "on-demand and spot prices (from the public snapshot, with its date).")
    p.add_argument("subject", nargs="?", choices=list(SUBJECTS), default="instances",
                   help="what to list (default: instances)")
    p.add_argument("--cloud", choices=["aws", "gcp"], help="only this cloud")
    p.add_argument("--region", metavar="R", help="only this region, e.g. eu-west-2")
    p.add_argument("--gpu", metavar="G", help="only this GPU (a model or part of one: h100, "
                   "l4, b200; tpu-v5p for TPU slices)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="default: text")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=run)
