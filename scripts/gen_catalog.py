#!/usr/bin/env python3
"""Generate catalog/instances.json from the public instance snapshot in ../shared/catalog.

    .venv/bin/python scripts/gen_catalog.py [--snapshot DIR] [--out FILE] [--check]

Every accelerator instance type of AWS and every GPU machine type of GCP, with its GPU model and
count, vCPUs, memory, and per region the zones that offer it with their on-demand and spot
prices (USD per hour, as the snapshot has them; a GCP price is the machine's plus its GPUs').
Also the GPUs GCP attaches to N1 machines, its TPU slices, and the quota codes (AWS, per
instance family) and metrics (GCP, per GPU) of the snapshot's mappings. The snapshot's commits
come from its SOURCES.md; the snapshot CSVs themselves are never committed.

The output is deterministic (sorted keys, fixed float formatting): tests/test_catalog.py checks
that the committed file equals this script's output whenever ../shared/catalog is present.
--check exits 1 (and writes nothing) when the committed file is not current.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.snapshot_map import (  # noqa: E402
    GCP_ATTACHABLE_HOST,
    accelerator_model,
    gcp_machine_accelerator,
)

DEFAULT_SNAPSHOT = ROOT.parent / "shared" / "catalog"
DEFAULT_OUT = ROOT / "catalog" / "instances.json"
SNAPSHOT_DATE = "2026-12-01"
"""The day the snapshot was read into ../shared/catalog (its files carry that date); the commits
in SOURCES.md pin exactly which versions of the upstream files were read."""
REPOSITORY = "skypilot-org/skypilot-catalog"
FILES = ("aws-gpu-vms.csv", "aws-instance_quota_mapping.csv",
         "aws-accelerator_quota_mapping.csv", "gcp-gpu-vms.csv", "gcp-gpu-host-vms.csv",
         "gcp-accelerator_quota_mapping.csv", "accelerators.csv")

Zones = dict[str, list[float | None]]
"""zone -> [on-demand USD/h, spot USD/h]."""


class SnapshotError(Exception):
    """The snapshot holds something the catalog's tables do not cover."""


def _gpu_info(text: str) -> dict[str, Any]:
    """The GpuInfo column: a Python-literal dict (TPU rows put the slice name there)."""
    return ast.literal_eval(text) if text.startswith("{") else {}


def _rows(snapshot: Path, name: str) -> list[dict[str, str]]:
    with (snapshot / name).open(newline="", encoding="utf-8") as f:
        return [{k.strip(): (v or "").strip() for k, v in row.items()}
                for row in csv.DictReader(f)]


def _price(text: str) -> float | None:
    return round(float(text), 6) if text else None


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a + b, 6)


def sources(snapshot: Path) -> list[dict[str, str]]:
    """The upstream path and commit of each snapshot file, from its SOURCES.md table."""
    text = (snapshot / "SOURCES.md").read_text(encoding="utf-8")
    out = []
    for name in FILES:
        row = re.search(rf"^\| {re.escape(name)} \| (\S+)[^|]*\| ([0-9a-f]{{40}}) \|", text, re.M)
        if row is None:
            raise SnapshotError(f"SOURCES.md has no row for {name} with its commit")
        out.append({"file": name, "path": row.group(1), "commit": row.group(2)})
    return out


def aws_instances(snapshot: Path) -> dict[str, Any]:
    """AWS accelerator instance types, per region the zones (AZ ids) with their prices."""
    out: dict[str, Any] = {}
    for r in _rows(snapshot, "aws-gpu-vms.csv"):
        name, accelerator = r["InstanceType"], r["AcceleratorName"]
        gpu = accelerator_model("aws", accelerator)
        if gpu is None:
            raise SnapshotError(f"aws-gpu-vms.csv: {name} carries {accelerator!r}, which "
                                "catalog/snapshot_map.py does not map to a GPU model")
        info = _gpu_info(r["GpuInfo"])
        memory = next((g.get("MemoryInfo", {}).get("SizeInMiB") for g in info.get("Gpus", [])),
                      None)
        entry = out.setdefault(name, {
            "accelerator": accelerator, "gpu": gpu, "count": _number(r["AcceleratorCount"]),
            "vcpus": _number(r["vCPUs"]), "memoryGib": _number(r["MemoryGiB"]),
            "acceleratorMemoryMib": memory, "arch": r["Arch"], "regions": {}})
        zones: Zones = entry["regions"].setdefault(r["Region"], {})
        zones[r["AvailabilityZone"]] = [_price(r["Price"]), _price(r["SpotPrice"])]
    return out


def aws_family_quota_codes(snapshot: Path) -> dict[str, Any]:
    """Quota codes per instance family: what most of the family's types count against in the
    snapshot's instance mapping (a type that disagrees is listed under `exceptions`)."""
    by_family: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in _rows(snapshot, "aws-instance_quota_mapping.csv"):
        name = r["InstanceType"]
        by_family[name.split(".")[0]].append((name, r["OnDemandInstanceCode"],
                                              r["SpotInstanceCode"]))
    out: dict[str, Any] = {}
    for family, rows in sorted(by_family.items()):
        (on_demand, spot), _ = Counter((o, s) for _, o, s in rows).most_common(1)[0]
        entry: dict[str, Any] = {"onDemand": on_demand, "spot": spot}
        odd = sorted(n for n, o, s in rows if (o, s) != (on_demand, spot))
        if odd:
            entry["exceptions"] = odd
        out[family] = entry
    return out


def aws_accelerator_quota_codes(snapshot: Path) -> dict[str, Any]:
    return {r["Accelerator Name"]: {"onDemand": r["On-Demand Service Quota Code"],
                                    "spot": r["Spot Instance Service Quota Code"]}
            for r in _rows(snapshot, "aws-accelerator_quota_mapping.csv")}


def _accelerator_prices(snapshot: Path) -> dict[tuple[str, int], dict[str, dict[str, Any]]]:
    """(accelerator, count) -> region -> zone -> [on-demand, spot] of the GPU rows."""
    out: dict[tuple[str, int], dict[str, dict[str, Any]]] = defaultdict(
        lambda: defaultdict(dict))
    for r in _rows(snapshot, "gcp-gpu-vms.csv"):
        key = (r["AcceleratorName"], int(float(r["AcceleratorCount"])))
        out[key][r["Region"]][r["AvailabilityZone"]] = [_price(r["Price"]),
                                                        _price(r["SpotPrice"])]
    return out


def _gpu_memory(snapshot: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in _rows(snapshot, "gcp-gpu-vms.csv"):
        info = _gpu_info(r["GpuInfo"])
        for g in info.get("Gpus", []):
            if "SizeInMiB" in g.get("MemoryInfo", {}):
                out.setdefault(r["AcceleratorName"], g["MemoryInfo"]["SizeInMiB"])
    return out


def gcp_machines(snapshot: Path) -> dict[str, Any]:
    """GCP GPU machine types: the host rows joined with the GPU rows of the same zone; a zone
    offers the type when it has both, at the sum of both prices."""
    accelerators = _accelerator_prices(snapshot)
    memory = _gpu_memory(snapshot)
    out: dict[str, Any] = {}
    for r in _rows(snapshot, "gcp-gpu-host-vms.csv"):
        name = r["InstanceType"]
        carried = gcp_machine_accelerator(name)
        if carried is None:
            raise SnapshotError(f"gcp-gpu-host-vms.csv: {name} is not a machine type "
                                "catalog/snapshot_map.py knows the GPUs of")
        accelerator, count = carried
        gpu = accelerator_model("gcp", accelerator)
        if gpu is None:
            raise SnapshotError(f"{name} carries {accelerator!r}, which "
                                "catalog/snapshot_map.py does not map to a GPU model")
        gpu_zone = accelerators.get((accelerator, count), {}).get(r["Region"], {}).get(
            r["AvailabilityZone"])
        entry = out.setdefault(name, {
            "accelerator": accelerator, "gpu": gpu, "count": count,
            "vcpus": _number(r["vCPUs"]), "memoryGib": _number(r["MemoryGiB"]),
            "acceleratorMemoryMib": memory.get(accelerator), "regions": {}})
        if gpu_zone is None:
            continue  # the machine's host is listed in a zone without its GPUs
        host = [_price(r["Price"]), _price(r["SpotPrice"])]
        zones: Zones = entry["regions"].setdefault(r["Region"], {})
        zones[r["AvailabilityZone"]] = [_sum(host[0], gpu_zone[0]), _sum(host[1], gpu_zone[1])]
    return out


def gcp_attachable(snapshot: Path, machines: dict[str, Any]) -> dict[str, Any]:
    """GPUs attached to N1 machines (no machine type of their own): per count, region, zone
    the GPU price only (the N1 machine is priced apart and not in the snapshot)."""
    built_in = {(m["accelerator"], m["count"]) for m in machines.values()}
    memory = _gpu_memory(snapshot)
    out: dict[str, Any] = {}
    for (accelerator, count), regions in sorted(_accelerator_prices(snapshot).items()):
        if accelerator.startswith("tpu-") or (accelerator, count) in built_in:
            continue
        if accelerator in {a for a, _ in built_in}:
            continue  # a count of a built-in GPU no machine type carries
        gpu = accelerator_model("gcp", accelerator)
        if gpu is None:
            raise SnapshotError(f"gcp-gpu-vms.csv: {accelerator!r} is not mapped to a GPU "
                                "model in catalog/snapshot_map.py")
        entry = out.setdefault(accelerator, {"gpu": gpu, "host": GCP_ATTACHABLE_HOST,
                                             "acceleratorMemoryMib": memory.get(accelerator),
                                             "counts": {}})
        entry["counts"][str(count)] = {region: dict(sorted(zones.items()))
                                       for region, zones in sorted(regions.items())}
    return out


def gcp_tpus(snapshot: Path) -> dict[str, Any]:
    """TPU slices: per region the zones with their prices (listed, not used by pools)."""
    out: dict[str, Any] = {}
    for (accelerator, _), regions in sorted(_accelerator_prices(snapshot).items()):
        if accelerator.startswith("tpu-"):
            out[accelerator] = {"regions": {region: dict(sorted(zones.items()))
                                            for region, zones in sorted(regions.items())}}
    return out


def gcp_quota_metrics(snapshot: Path) -> dict[str, Any]:
    return {r["Accelerator"]: {"onDemand": r["OnDemandInstanceCode"],
                               "spot": r["SpotInstanceCode"]}
            for r in _rows(snapshot, "gcp-accelerator_quota_mapping.csv")}


def build(snapshot: Path) -> dict[str, Any]:
    """The catalog data generated from the snapshot."""
    machines = gcp_machines(snapshot)
    return {
        "about": "Generated by scripts/gen_catalog.py from the public instance snapshot in "
        "../shared/catalog: do not edit by hand, regenerate. Prices are USD per hour as the "
        "snapshot has them; zones are listed as [on-demand, spot]. AWS zones are AZ ids "
        "(euw2-az1), which each account maps to its own zone names.",
        "source": {"repository": REPOSITORY, "snapshotDate": SNAPSHOT_DATE,
                   "files": sources(snapshot)},
        "aws": {
            "instances": aws_instances(snapshot),
            "familyQuotaCodes": aws_family_quota_codes(snapshot),
            "acceleratorQuotaCodes": aws_accelerator_quota_codes(snapshot),
        },
        "gcp": {
            "machines": machines,
            "attachable": gcp_attachable(snapshot, machines),
            "tpus": gcp_tpus(snapshot),
            "acceleratorQuotaMetrics": gcp_quota_metrics(snapshot),
        },
    }


def _is_zone_map(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(v, list) and len(v) == 2 for v in value.values())


def dumps(data: Any, indent: int = 0) -> str:
    """JSON with sorted keys; each zone map on one line, so a diff shows a region's change."""
    pad = " " * indent
    if isinstance(data, dict) and data and not _is_zone_map(data):
        items = [f'{pad} {json.dumps(k)}: {dumps(v, indent + 1).lstrip()}'
                 for k, v in sorted(data.items())]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    return pad + json.dumps(data, sort_keys=True, separators=(", ", ": "))


def render(snapshot: Path) -> str:
    """The text of catalog/instances.json for `snapshot`."""
    return dumps(build(snapshot)) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT,
                    help="folder of the snapshot CSVs (default ../shared/catalog)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="file to write (default catalog/instances.json)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the file differs from what would be written")
    args = ap.parse_args(argv)
    if not (args.snapshot / "SOURCES.md").exists():
        print(f"{args.snapshot}: no snapshot here (SOURCES.md and the CSVs it lists)",
              file=sys.stderr)
        return 2
    try:
        text = render(args.snapshot)
    except SnapshotError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is not current: run scripts/gen_catalog.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    data = json.loads(text)
    print(f"wrote {args.out}: {len(data['aws']['instances'])} AWS instance types, "
          f"{len(data['gcp']['machines'])} GCP machine types, "
          f"{len(data['gcp']['attachable'])} GCP attachable GPUs, "
          f"{len(data['gcp']['tpus'])} TPU slices", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
