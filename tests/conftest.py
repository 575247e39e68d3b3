"""Shared test fixtures: run components under recording mocks and query what they registered."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aifactory.plan.recorder import Registration, record
from aifactory.spec import Blueprint, parse_yaml, validate

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
    from aifactory.spec import load

    def _load(stem: str) -> Blueprint:
        return load(EXAMPLES / f"{stem}.yaml")

    return _load
