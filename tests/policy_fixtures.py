"""Readable fixture plans for the policy tests (tests/fixtures/policies/*.yaml).

A fixture lists resources by type and name; parents, providers and dependencies are given by
name and turned into URNs here, so the files read like the component tree they stand for:

    resources:
      - {type: aifactory:factory:Factory, name: acme, inputs: {...}}
      - {type: aifactory:baremetal:Site, name: dc1, parent: acme, inputs: {...}}
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "policies"
STACK = "urn:pulumi:test::ai-factory::"
# What registers as a component (custom=False), as under Pulumi's mocks and engine: our own
# types and pulumi-kubernetes' helm v4 Chart (rendered inside the provider, no children).
PROVIDER_COMPONENTS = ("kubernetes:helm.sh/v4:Chart",)


def is_custom(type_token: str) -> bool:
    """A custom resource (not a component), by its type token."""
    return not type_token.startswith("aifactory:") and type_token not in PROVIDER_COMPONENTS


def expand(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Plan resources (as aifactory.plan.document writes them) from fixture entries."""
    by_name = {r["name"]: r for r in resources}
    if len(by_name) != len(resources):
        raise ValueError("fixture resource names must be unique (parents are named by them)")
    urns: dict[str, str] = {}

    def urn(name: str) -> str:
        if name not in urns:
            r = by_name[name]
            chain = [r["type"]]
            parent = r.get("parent")
            while parent:
                chain.insert(0, by_name[parent]["type"])
                parent = by_name[parent].get("parent")
            urns[name] = f"{STACK}{'$'.join(chain)}::{name}"
        return urns[name]

    out = []
    for r in resources:
        out.append({
            "urn": urn(r["name"]),
            "type": r["type"],
            "name": r["name"],
            "parent": urn(r["parent"]) if r.get("parent") else None,
            "custom": r.get("custom", is_custom(r["type"])),
            "protect": r.get("protect", False),
            "retainOnDelete": False,
            "provider": urn(r["provider"]) if r.get("provider") else None,
            "dependencies": sorted(urn(d) for d in r.get("dependsOn", [])),
            "inputs": copy.deepcopy(r.get("inputs", {})),
        })
    return out


def load(name: str) -> dict[str, Any]:
    """The plan document of fixture `name` (without .yaml)."""
    data = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))
    return {"version": 1, "blueprint": f"tests/fixtures/policies/{name}.yaml", "stack": "test",
            "factory": data.get("factory"), "summary": {},
            "resources": expand(data["resources"])}


def resource(plan: dict[str, Any], name: str) -> dict[str, Any]:
    """The resource named `name` in a plan (to tweak one input in a test)."""
    found = [r for r in plan["resources"] if r["name"] == name]
    assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
    return found[0]


def inputs(plan: dict[str, Any], name: str) -> dict[str, Any]:
    """The inputs of the resource named `name` (mutable)."""
    return resource(plan, name)["inputs"]


def add(plan: dict[str, Any], *entries: dict[str, Any]) -> None:
    """Append fixture-style resources (parent, provider, dependsOn by name) to a loaded plan."""
    names = {r["name"]: r for r in plan["resources"]}
    for e in entries:
        parent = names[e["parent"]] if e.get("parent") else None
        chain = f"{parent['urn'].split('::')[2]}${e['type']}" if parent else e["type"]
        r = {
            "urn": f"{STACK}{chain}::{e['name']}", "type": e["type"], "name": e["name"],
            "parent": parent["urn"] if parent else None,
            "custom": e.get("custom", is_custom(e["type"])),
            "protect": e.get("protect", False), "retainOnDelete": False,
            "provider": names[e["provider"]]["urn"] if e.get("provider") else None,
            "dependencies": sorted(names[d]["urn"] for d in e.get("dependsOn", [])),
            "inputs": copy.deepcopy(e.get("inputs", {})),
        }
        plan["resources"].append(r)
        names[r["name"]] = r
