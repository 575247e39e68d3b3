#!/usr/bin/env python3
"""Benchmark the offline plan against its floor: bare Pulumi mock registrations.

For each size, a blueprint is generated (AWS environments with many GPU pools and lakehouse
zones), planned in a fresh process, and the same registrations (same SDK classes, custom
resources of CRDs through the SDK's apiextensions.CustomResource as the program makes them,
type tokens, names, parents, protect flags, dependencies and inputs: checked with
BENCH_CHECK_FLOOR=1; a Helm chart constructed remotely, as the SDK's Chart is) are replayed,
with plain values and no providers, under the plan's own recorder in another fresh process: that
is the floor, the least any Pulumi program registering those resources through the SDK pays. Each
process reports its wall time (after interpreter start, including SDK imports), its CPU time
and its peak RSS.

    .venv/bin/python scripts/bench_plan.py [--sizes 300,1000,2000,3000] [--repeat 3]

Prints a table; the target is plan/floor <= 1.25 at every size and linear growth. The
generated factories run jobs (see blueprint_yaml): Karpenter pools, sharing, teams with quotas,
MultiKueue workers and workload operators, training storage (FSx for Lustre), the model
lifecycle (MLflow on RDS, served models with canaries, notebooks, alert routing, Grafana), and
the lakehouse's Iceberg catalog with its pipelines and drift watch; sizes grow by environments
past 60 pools.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REGIONS = ["eu-west-2", "us-east-1", "us-west-2", "eu-north-1"]
MAX_POOLS = 60
"""Pools of the generated factories: Kueue's ClusterQueue takes at most 64 flavors."""


def blueprint_yaml(environments: int, pools_per_env: int, zones: int) -> str:
    """A valid blueprint with `environments` AWS environments of `pools_per_env` pools each.

    Every part a factory that runs jobs has: a training pool with EFA in each environment,
    pools that scale from zero (Karpenter) and pools
    with a floor of nodes (a managed node group under Karpenter) sharing their GPUs by
    time-slicing; two teams with quotas on the first environment's pools; Kueue managing from
    the first environment, the others MultiKueue workers; the JobSet and KubeRay operators.
    """
    lines = [
        "name: bench", "tags: {owner: bench, cost_centre: CC-1, data_classification: internal}",
        "environments:",
    ]
    for e in range(environments):
        region = REGIONS[e % len(REGIONS)]
        lines += [
            f"  env{e}:", "    kind: aws", f'    account_id: "{100000000000 + e}"',
            f"    region: {region}", f"    availability_zones: [{region}a, {region}b]",
            "    quotas: {on_demand_g_vt_vcpus: 100000, spot_g_vt_vcpus: 100000, "
            "on_demand_p_vcpus: 100000}",
        ]
    lines.append("pools:")
    for e in range(environments):
        for p in range(pools_per_env):
            if p == 0:  # a training pool with its fabric: EFA, placement and security groups
                lines += [f"  p{e}-{p}:", f"    environment: env{e}",
                          "    instance_type: p5.48xlarge", "    min_nodes: 0",
                          "    max_nodes: 4", "    fabric: true"]
                continue
            lines += [f"  p{e}-{p}:", f"    environment: env{e}", "    instance_type: g6.xlarge",
                      f"    min_nodes: {p % 2}", "    max_nodes: 4"]
            if p % 2:
                lines += ["    gpu_sharing: {strategy: time-sharing, "
                          "max_shared_clients_per_gpu: 2}"]
    lines += ["lakehouse:", "  environment: env0", "  zones:"]
    lines += [f"    z{z}: {{retention_days: 365}}" for z in range(zones)]
    lines += ["    models: {}"]
    # the lakehouse's tables: an Iceberg catalog with a namespace per stage, granted per team
    lines += ["  catalog:", "    namespaces:",
              "      raw: {zone: z0, writers: [research]}",
              "      curated: {zone: z0, writers: [research], readers: [applied]}",
              "      features: {zone: models, writers: [research], readers: [applied]}"]
    lines += ["registry: {environment: env0, repositories: [training, serving]}",
              "platform: {workloads: [jobset, ray]}",
              "queueing:", "  environment: env0", "  teams:",
              "    research:", "      namespace: team-research", "      weight: 2",
              "      quotas: {p0-0: {nominal: 2, borrowing_limit: 2}}",
              "    applied:", "      namespace: team-applied",
              "      quotas: {p0-1: {nominal: 2, lending_limit: 1}}"]
    # training storage: FSx for Lustre linked to the first zone, a volume and claim per team
    lines += ["training_storage:", "  scratch:", "    environment: env0",
              "    kind: fsx-lustre", "    capacity_gib: 2400", "    zone: z0"]
    # the model lifecycle: MLflow on RDS, models served with a canary, notebooks, alerts
    lines += ["model_registry:", "  environment: env0",
              "  database: {password_secret: db-password}",
              "  basic_auth_secret: mlflow-admin",
              "serving:", "  environment: env0", "  models:"]
    for m in range(min(pools_per_env, 8)):
        lines += [f"    m{m}:", f"      pool: p0-{m}", "      revision: v2",
                  f"      source: {{mlflow: m{m}/2}}",
                  "      last_good: {revision: v1, source: {mlflow: " + f"m{m}/1" + "}}",
                  "      canary_percent: 10", "      max_replicas: 2",
                  f"      weights_gb: {60 if m % 2 else 16}", "      team: applied"]
    lines += ["notebooks:", "  environment: env0",
              "  login: {issuer: 'https://login.example', client_id: hub, "
              "client_secret: hub-secret}",
              "alerts:", "  receivers:",
              "    oncall: {kind: pagerduty, secret: pagerduty-key}",
              "    applied: {kind: slack, secret: slack-hook, channel: '#applied'}",
              "  routes:", "    - {team: applied, receiver: applied}", "    - {receiver: oncall}",
              "monitoring: {grafana: {admin_password_secret: grafana-admin}}",
              # pipelines over the catalog (Argo Workflows) and the drift watch
              "pipelines:", "  environment: env0", "  team: research",
              "  image: registry.example/pipelines@sha256:" + "0" * 64,
              "  artifacts_zone: z0", "  stages: {schedule: '0 2 * * *'}",
              "  drift: {team: applied}"]
    return "\n".join(lines) + "\n"


def child_plan(path: str) -> dict[str, float]:
    start = time.perf_counter()
    from aifactory.plan.document import dumps, plan_blueprint
    from blueprints.spec import load

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


def sdk_class(type_token: str) -> type | None:
    """The SDK's typed resource class for a type token, loading its module (None for untyped)."""
    import importlib

    module = sdk_module(type_token)
    if module is None:
        return None
    # pulumi_aws submodules are lazy: importing one runs nothing until an attribute is read.
    found = getattr(importlib.import_module(module), type_token.rsplit(":", 1)[-1], None)
    return found if isinstance(found, type) else None


@functools.cache
def _parameters(cls: type, args: type) -> tuple[dict[str, str], frozenset[str]]:
    from pulumi import _types

    names = {v: k for k, v in _types.input_type_py_to_pulumi_names(args).items()}
    return names, frozenset(inspect.signature(cls._internal_init).parameters)  # type: ignore[attr-defined]


def python_name(cls: type, args: type, key: str) -> str | None:
    """The keyword `cls` takes input `key` as (None for constants the class sets itself)."""
    names, parameters = _parameters(cls, args)
    name = names.get(key) or re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
    return name if name in parameters and name not in ("opts", "resource_name") else None


def floor_program(resources: list[dict[str, Any]]) -> None:
    """Register `resources` as they were planned: the same classes, names, parents and inputs."""
    import pulumi

    by_urn = {r["urn"]: r for r in resources}
    made: dict[str, pulumi.Resource] = {}

    def make(r: dict[str, Any]) -> pulumi.Resource | None:
        if r["urn"] in made or r["type"].startswith("pulumi:providers:"):
            return made.get(r["urn"])
        parent = make(by_urn[r["parent"]]) if r["parent"] in by_urn else None
        # the same dependencies on the registration (Output inputs and depends_on in the
        # program): the SDK resolves and sends them with every request
        needs = [d for d in (make(by_urn[u]) for u in r["dependencies"] if u in by_urn) if d]
        opts = pulumi.ResourceOptions(parent=parent, protect=r["protect"], depends_on=needs)
        inputs = dict(r["inputs"])
        cls = sdk_class(r["type"]) if r["custom"] else None
        args = getattr(sys.modules[cls.__module__], f"{cls.__name__}Args", None) if cls else None
        resource: pulumi.Resource
        if not r["custom"]:
            # a provider's component (a Helm chart) is constructed remotely, as the SDK does
            resource = pulumi.ComponentResource(r["type"], r["name"], inputs, opts,
                                                remote=not r["type"].startswith("aifactory:"))
        elif cls is None and r["type"].startswith("kubernetes:") \
                and set(inputs) <= {"apiVersion", "kind", "metadata", "spec"}:
            # A custom resource of a CRD (NodePool, ClusterQueue, ...): the SDK's class for
            # them, as the program uses it.
            import pulumi_kubernetes as k8s

            resource = k8s.apiextensions.CustomResource(
                r["name"], api_version=inputs["apiVersion"], kind=inputs["kind"],
                metadata=inputs.get("metadata"), spec=inputs.get("spec"), opts=opts)
        elif cls is not None and args is not None:
            # The typed class, given the same inputs under their Python names (its own
            # constants, such as a Kubernetes kind, it sets itself).
            resource = cls(r["name"], opts=opts, **{
                py: v for k, v in inputs.items() if (py := python_name(cls, args, k))})
        else:
            resource = pulumi.CustomResource(r["type"], r["name"], inputs, opts)
        made[r["urn"]] = resource
        return resource

    for r in resources:
        make(r)


def child_floor(plan_path: str) -> dict[str, float]:
    start = time.perf_counter()
    from aifactory.plan.recorder import record

    planned_doc = json.loads(Path(plan_path).read_text())
    resources = planned_doc["resources"]
    for r in resources:
        sdk_class(r["type"])
    # The plan's own recorder: the same mock monitor, SDK settings and stack as the plan.
    recorded = record(lambda: floor_program(resources), project="ai-factory",
                      stack=planned_doc["stack"])
    if os.environ.get("BENCH_CHECK_FLOOR"):
        planned = {(r["type"], r["name"]): (r["inputs"], r["dependencies"]) for r in resources}
        differ = [(r.type, r.name) for r in recorded
                  if planned.get((r.type, r.name)) != (r.inputs, r.dependencies)]
        print(f"floor: {len(recorded)} registrations, {len(differ)} with other inputs or "
              f"dependencies than planned: {differ[:5]}", file=sys.stderr)
    return {"seconds": time.perf_counter() - start, "resources": len(resources)}


def child_program(path: str) -> dict[str, float]:
    """The same program under Pulumi's stock mocks: no recording, no plan document."""
    start = time.perf_counter()
    import pulumi
    from pulumi.runtime import mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from aifactory.plan.recorder import _discard
    from blueprints.compose import compose
    from blueprints.spec import load

    spec = load(path)

    class Bare(mocks.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
            return f"{args.name}-id", args.inputs

        def call(self, args: mocks.MockCallArgs) -> tuple[dict, None]:
            return {}, None

    pulumi.runtime.set_mocks(Bare(), project="bench", stack="program", preview=False)
    from pulumi.runtime import config as pulumi_config

    from blueprints.compose.lifecycle import offline_config

    secrets = offline_config(spec)  # the stack secrets, as `pulumi config set --secret` holds
    pulumi_config.set_all_config(secrets, list(secrets))
    _sync_await(run_pulumi_func(lambda: _discard(compose(spec))))
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
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["peak_mb"] = usage.ru_maxrss / 1024
        # CPU time (all threads, from interpreter start) is steadier than wall time under load
        result["cpu"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(result))
        return 0

    print("floor: the same registrations replayed through the same SDK classes, with plain values, "
          "under the plan's recorder\nstock: the same program under Pulumi's stock mocks, "
          "without the plan engine\ncpu: user+system seconds of the process, best of the runs\n")
    print(f"{'target':>7} {'resources':>9} {'plan s':>7} {'floor s':>7} {'ratio':>6} "
          f"{'stock s':>7} {'ratio':>6} {'plan MB':>8} {'floor MB':>8} {'ms/res':>7} "
          f"{'plan cpu':>8} {'floor cpu':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for target in (int(s) for s in args.sizes.split(",")):
            # measured: ~150 resources for the first environment, ~135 for each further one
            # (a MultiKueue worker) and 7 per pool; one ClusterQueue holds at most 64 flavors
            # (pools), so larger factories have more environments, not more pools
            pools_total = min(MAX_POOLS, max(1, (target - 150) // 7))
            environments = 1 + max(0, min(19, round((target - 150 - 7 * pools_total) / 135)))
            pools = max(1, pools_total // environments)
            path = str(Path(tmp) / f"bench-{target}.yaml")
            Path(path).write_text(blueprint_yaml(environments, pools, zones=3))
            plans = [measure("plan", path) for _ in range(args.repeat)]
            floors = [measure("floor", path + ".plan.json") for _ in range(args.repeat)]
            stocks = [measure("program", path) for _ in range(args.repeat)]
            plan = min(plans, key=lambda r: r["seconds"])
            floor = min(floors, key=lambda r: r["seconds"])
            stock = min(stocks, key=lambda r: r["seconds"])
            n = int(plan["resources"])
            plan_cpu = min(r["cpu"] for r in plans)
            floor_cpu = min(r["cpu"] for r in floors)
            print(f"{target:>7} {n:>9} {plan['seconds']:>7.2f} {floor['seconds']:>7.2f} "
                  f"{plan['seconds'] / floor['seconds']:>6.2f} {stock['seconds']:>7.2f} "
                  f"{plan['seconds'] / stock['seconds']:>6.2f} {plan['peak_mb']:>8.0f} "
                  f"{floor['peak_mb']:>8.0f} {1000 * plan['seconds'] / n:>7.2f} {plan_cpu:>8.2f} "
                  f"{floor_cpu:>9.2f} {plan_cpu / floor_cpu:>6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
