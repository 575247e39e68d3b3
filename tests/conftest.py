"""Shared test fixtures: run components under recording mocks and query what they registered."""

from __future__ import annotations

import functools
import ipaddress
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import catalog
from aifactory.plan.recorder import Registration, record
from blueprints.spec import Blueprint, parse_yaml, validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "blueprints" / "examples"
SHARED = ROOT.parent / "shared"


class Recorded:
    """What a program registered, with small query helpers for assertions."""

    def __init__(self, registrations: list[Registration]):
        self.all = registrations

    def of_type(self, type_token: str) -> list[Registration]:
        """Every registration of one type token."""
        return [r for r in self.all if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Registration:
        """The single registration of a type (and name); fails the test otherwise."""
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        assert len(found) == 1, (
            f"expected one {type_token} {name or ''}, found {[r.name for r in found]}"
        )
        return found[0]

    def named(self, name: str) -> Registration:
        """The registration with this logical name."""
        found = [r for r in self.all if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]

    def children_of(self, parent: Registration) -> list[Registration]:
        """Direct children of a registration."""
        return [r for r in self.all if r.parent == parent.urn]

    def types(self) -> set[str]:
        """Every type token registered."""
        return {r.type for r in self.all}


@pytest.fixture(autouse=True)
def example_stack_secrets() -> Any:
    """The stack secrets the examples name, set (masked placeholders) as `pulumi config set
    --secret` sets them on a stack: tests that build an example's args outside `record`
    (platform_args, ...) read them like the program does."""
    from pulumi.runtime import config as pulumi_config

    config = _example_secrets()
    saved = (dict(pulumi_config.CONFIG.get()), set(pulumi_config._SECRET_KEYS.get()))
    pulumi_config.set_all_config({**saved[0], **config}, [*saved[1], *config])
    yield
    pulumi_config.set_all_config(saved[0], list(saved[1]))


@functools.cache
def _example_secrets() -> dict[str, str]:
    from blueprints.compose.lifecycle import offline_config
    from blueprints.spec import load

    config: dict[str, str] = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        config.update(offline_config(load(path)))
    return config


@pytest.fixture
def run() -> Callable[[Callable[[], Any]], Recorded]:
    """Run a function that creates resources under recording mocks."""

    def _run(program: Callable[[], Any]) -> Recorded:
        return Recorded(record(program, project="test", stack="test"))

    return _run


def spec_from_yaml(text: str, file: str = "test.yaml") -> Blueprint:
    """A Blueprint from inline YAML (dedented)."""
    data, lines = parse_yaml(textwrap.dedent(text), file)
    return validate(data, lines, file)


@pytest.fixture
def example_spec() -> Callable[[str], Blueprint]:
    """Load one of blueprints/examples/*.yaml by stem."""
    from blueprints.spec import load

    def _load(stem: str) -> Blueprint:
        return load(EXAMPLES / f"{stem}.yaml")

    return _load


def over_budget(data: dict[str, Any], more: int = 4) -> tuple[int, int]:
    """Fill the hybrid example's site dc1 (in `data`, the parsed YAML) with `more` servers than
    its power budget holds, in 50 kW liquid racks of four, all in pool dc1-h100.

    Returns (servers that fit, servers now in the site).
    """
    site = data["environments"]["dc1"]
    host = site["hosts"][0]
    per_server_kw = catalog.server_it_load_kw(host["server_model"], 2000) * site["pue"]
    fits = int(site["power_budget_kw"] // per_server_kw)
    count = fits + more
    site["racks"] = {f"r{i}": {"power_limit_kw": 50, "cooling": "liquid"}
                     for i in range(1, (count + 3) // 4 + 1)}
    if site.get("fabric"):  # the fabric's switches keep their network rack, serving every rack
        site["racks"]["net1"] = {"power_limit_kw": 25, "cooling": "air"}
        for switch in site["fabric"]["switches"]:
            switch.update(rack="net1", serves=[r for r in site["racks"] if r != "net1"])
    site["hosts"] = [
        dict(host, hostname=f"dc1-dgx{i:02d}", rack=f"r{(i - 1) // 4 + 1}",
             bmc_address=f"redfish://10.20.8.{10 + i}/redfish/v1/Systems/1",
             boot_mac=f"3c:fd:fe:b4:10:{i:02x}", bmc_credentials=f"dc1_bmc_r{(i - 1) // 4 + 1}",
             **({"boot_ip": str(ipaddress.IPv4Address(host["boot_ip"]) + i - 1)}
                if "boot_ip" in host else {}))
        for i in range(1, count + 1)]
    pool = data["pools"]["dc1-h100"]
    pool.update(min_nodes=count, max_nodes=count)
    pool.pop("desired_nodes", None)
    pool.pop("hosts", None)
    return fits, count
