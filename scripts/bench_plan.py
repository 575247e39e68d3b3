#!/usr/bin/env python3
"""Benchmark the offline plan against its floor: bare Pulumi mock registrations.

For each size, a blueprint is generated (AWS environments with many GPU pools and lakehouse
zones), planned in a fresh process, and the same registrations (same type tokens, names and
inputs, same count) are replayed as bare `CustomResource`s under Pulumi's stock MockMonitor in
another fresh process, after importing the same SDK modules: that is the floor, the least any
Pulumi program registering those resources under mocks pays. Each process reports its wall time
(after interpreter start, including SDK imports) and its peak RSS.

    .venv/bin/python scripts/bench_plan.py [--sizes 300,1000,2000,3000] [--repeat 3]

Prints a table; the target is plan/floor <= 1.25 at every size and linear growth.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REGIONS = ["eu-west-2", "us-east-1", "us-west-2", "eu-north-1"]


def blueprint_yaml(environments: int, pools_per_env: int, zones: int) -> str:
    """A valid blueprint with `environments` AWS environments of `pools_per_env` pools each."""
    lines = [
        "name: bench", "tags: {owner: bench, cost_centre: CC-1, data_classification: internal}",
        "environments:",
    ]
    for e in range(environments):
        region = REGIONS[e % len(REGIONS)]
        lines += [
            f"  env{e}:", "    kind: aws", f'    account_id: "{100000000000 + e}"',
            f"    region: {region}", f"    availability_zones: [{region}a, {region}b]",
            "    quotas: {on_demand_g_vt_vcpus: 100000, spot_g_vt_vcpus: 100000}",
        ]
    lines.append("pools:")
    for e in range(environments):
        for p in range(pools_per_env):
            lines += [f"  p{e}-{p}:", f"    environment: env{e}", "    instance_type: g6.xlarge",
                      "    min_nodes: 0", "    max_nodes: 4"]
    lines += ["lakehouse:", "  environment: env0", "  zones:"]
    lines += [f"    z{z}: {{retention_days: 365}}" for z in range(zones)]
    lines += ["registry: {environment: env0, repositories: [training, serving]}"]
    return "\n".join(lines) + "\n"


def child_plan(path: str) -> dict[str, float]:
    start = time.perf_counter()
    from aifactory.plan.document import dumps, plan_blueprint
    from aifactory.spec import load

    plan = plan_blueprint(load(path), path)
    text = dumps(plan)
    Path(path + ".plan.json").write_text(text)
    return {"seconds": time.perf_counter() - start, "resources": len(plan["resources"])}


def sdk_module(type_token: str) -> str | None:
    """The SDK module a resource type lives in (so the floor pays the same imports)."""
    package, module = type_token.split(":")[:2]
    if package == "aws" or package == "gcp":
        return f"pulumi_{package}.{module.split('/')[0]}"
    if package == "command":
        return f"pulumi_command.{module}"
    if package == "kubernetes":
        group, _, version = module.partition("/")
        group = {"core": "core", "helm.sh": "helm"}.get(group, group.split(".")[0])
        try:
            __import__(f"pulumi_kubernetes.{group}.{version}")
            return f"pulumi_kubernetes.{group}.{version}"
        except ImportError:
            return "pulumi_kubernetes.apiextensions"
    return None


def child_floor(plan_path: str) -> dict[str, float]:
    start = time.perf_counter()
    import importlib

    import pulumi
    from pulumi.runtime import mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    resources = json.loads(Path(plan_path).read_text())["resources"]
    for module in sorted({m for r in resources if (m := sdk_module(r["type"]))}):
        importlib.import_module(module)

    class Bare(mocks.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
            return f"{args.name}-id", args.inputs

        def call(self, args: mocks.MockCallArgs) -> dict:
            return {}

    pulumi.runtime.set_mocks(Bare(), project="bench", stack="floor", preview=False)

    def program() -> None:
        for r in resources:
            if r["type"].startswith("pulumi:providers:"):
                continue
            pulumi.CustomResource(r["type"], r["name"], dict(r["inputs"]))

    _sync_await(run_pulumi_func(program))
    return {"seconds": time.perf_counter() - start, "resources": len(resources)}


def child_program(path: str) -> dict[str, float]:
    """The same program under Pulumi's stock mocks: no recording, no plan document."""
    start = time.perf_counter()
    import pulumi
    from pulumi.runtime import mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from aifactory.build import build
    from aifactory.spec import load

    spec = load(path)

    class Bare(mocks.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
            return f"{args.name}-id", args.inputs

        def call(self, args: mocks.MockCallArgs) -> dict:
            return {}

    pulumi.runtime.set_mocks(Bare(), project="bench", stack="program", preview=False)
    _sync_await(run_pulumi_func(lambda: build(spec)))
    return {"seconds": time.perf_counter() - start, "resources": 0}


def measure(mode: str, path: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, path], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="300,1000,2000,3000",
                    help="approximate resource counts to plan")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size (best is reported)")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, path = args.child
        runner = {"plan": child_plan, "floor": child_floor, "program": child_program}[mode]
        result = runner(path)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0

    print("floor: the same registrations replayed as bare CustomResources (same SDK modules "
          "imported)\nstock: the same program under Pulumi's stock mocks, without the plan "
          "engine\n")
    print(f"{'target':>7} {'resources':>9} {'plan s':>7} {'floor s':>7} {'ratio':>6} "
          f"{'stock s':>7} {'ratio':>6} {'plan MB':>8} {'floor MB':>8} {'ms/res':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for target in (int(s) for s in args.sizes.split(",")):
            # measured: ~140 resources per environment and 7 per pool (see the plan summary)
            environments = max(1, target // 1500)
            pools = max(1, (target - 140 * environments) // (7 * environments))
            path = str(Path(tmp) / f"bench-{target}.yaml")
            Path(path).write_text(blueprint_yaml(environments, pools, zones=3))
            plans = [measure("plan", path) for _ in range(args.repeat)]
            floors = [measure("floor", path + ".plan.json") for _ in range(args.repeat)]
            stocks = [measure("program", path) for _ in range(args.repeat)]
            plan = min(plans, key=lambda r: r["seconds"])
            floor = min(floors, key=lambda r: r["seconds"])
            stock = min(stocks, key=lambda r: r["seconds"])
            n = int(plan["resources"])
            print(f"{target:>7} {n:>9} {plan['seconds']:>7.2f} {floor['seconds']:>7.2f} "
                  f"{plan['seconds'] / floor['seconds']:>6.2f} {stock['seconds']:>7.2f} "
                  f"{plan['seconds'] / stock['seconds']:>6.2f} {plan['peak_mb']:>8.0f} "
                  f"{floor['peak_mb']:>8.0f} {1000 * plan['seconds'] / n:>7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
