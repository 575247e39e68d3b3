"""What commands share: reading a blueprint or a plan, and writing output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from blueprints.errors import InputError


def add_source_args(p: argparse.ArgumentParser, *, plan_json: bool = False) -> None:
    """BLUEPRINT (or a plan JSON when `plan_json`) and --stack."""
    what = "blueprint YAML or plan JSON" if plan_json else "blueprint YAML"
    p.add_argument("source", metavar="BLUEPRINT" + ("_OR_PLAN_JSON" if plan_json else ""),
                   nargs="?", help=f"{what}; optional with --stack")
    p.add_argument("--stack", metavar="NAME",
                   help="stack in stacks/ (its blueprint and overrides)")


def add_output_args(p: argparse.ArgumentParser, formats: list[str], default: str) -> None:
    """--format and --out."""
    p.add_argument("--format", choices=formats, default=default, help=f"default: {default}")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")


def write_output(text: str, out: str | None) -> None:
    """Write to --out (creating folders) or standard output."""
    if out:
        path = Path(out)
        if path.is_dir():
            raise InputError(f"--out {out}: is a folder: name a file, e.g. {path / 'plan.json'}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as e:
            raise InputError(f"--out {out}: cannot write: {e.strerror or e}: choose a path "
                             "you can write to") from None
    else:
        sys.stdout.write(text)


def plan_for(args: argparse.Namespace) -> dict[str, Any]:
    """The plan for a command line: read a plan JSON, or plan a blueprint (with --stack)."""
    from aifactory.plan.document import load_plan, plan_blueprint
    from blueprints.stacks import load_for_stack
    from policies.rules import KNOWN_RULES

    source = args.source
    if source is not None and source.endswith(".json"):
        try:
            return load_plan(source)
        except FileNotFoundError:
            raise InputError(f"{source}: no such plan file") from None
        except ValueError as e:
            raise InputError(str(e)) from None
    spec, path = load_for_stack(source, args.stack, rules=KNOWN_RULES)
    with at_blueprint_lines(path, args.stack):
        return plan_blueprint(spec, path, stack=args.stack or "offline")


@contextmanager
def at_blueprint_lines(blueprint: str, stack: str | None) -> Iterator[None]:
    """A component's refusal of a blueprint field, reported as `file:line: path: message`
    like every other blueprint error (exit 2)."""
    from blueprints.errors import BlueprintFieldError
    from blueprints.spec.loader import BlueprintError, Problem
    from blueprints.stacks import locate

    try:
        yield
    except BlueprintFieldError as e:
        file, line = locate(e.path, blueprint, stack)
        raise BlueprintError([Problem(file, line, e.path, e.message)]) from None
