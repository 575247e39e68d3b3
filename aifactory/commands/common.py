"""What commands share: reading a blueprint or a plan, and writing output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


def add_sources_args(p: argparse.ArgumentParser, *, plan_json: bool = False) -> None:
    """BLUEPRINT... (or plan JSONs when `plan_json`) and --stack: several are done in one
    process."""
    what = "blueprint YAMLs or plan JSONs" if plan_json else "blueprint YAMLs"
    p.add_argument("sources", metavar="BLUEPRINT" + ("_OR_PLAN" if plan_json else ""),
                   nargs="*", help=f"one or more {what}, done in one process; optional with "
                   "--stack")
    p.add_argument("--stack", metavar="NAME",
                   help="stack in stacks/ (its blueprint and overrides)")


@dataclass
class Source:
    """One blueprint (or plan JSON) of a command line, planned."""

    given: str | None
    """As typed (None: the stack's blueprint)."""
    plan: dict[str, Any]
    blueprint_file: str | None
    """Where the blueprint lies on this machine (for its lines), when it can be found."""
    name: str
    """Its file stem, unique on the command line: names its output files."""


def blueprint_file_of(plan: dict[str, Any], given: str | None) -> str | None:
    """The blueprint file behind a plan: the file given, or the one the plan names (looked
    for from the plan file's repository and the current folder)."""
    from blueprints.paths import locate

    if given is not None and not given.endswith(".json"):
        return str(Path(given).resolve()) if Path(given).is_file() else None
    shown = plan.get("blueprint")
    if not isinstance(shown, str) or not shown:
        return None
    found = locate(shown, *([Path(given).resolve().parent] if given else []))
    return str(found) if found else None


def sources_for(args: argparse.Namespace) -> list[Source]:
    """Every source of a command line, planned; blueprint errors of all of them at once."""
    from blueprints.spec.loader import BlueprintError

    given: list[str | None] = list(args.sources) or [None]
    if given == [None] and args.stack is None:
        raise InputError("no blueprint: pass BLUEPRINT or --stack NAME")
    from aifactory.plan.recorder import few_full_collections

    out: list[Source] = []
    problems: list[Any] = []
    names: set[str] = set()
    with few_full_collections():  # each plan's heap lives on: full passes would walk it all
        for source in given:
            _plan_one(source, args.stack, out, problems, names)
    if problems:
        raise BlueprintError(problems)
    return out


def _plan_one(source: str | None, stack: str | None, out: list[Source], problems: list[Any],
              names: set[str]) -> None:
    """Plan one source into `out` (its blueprint errors into `problems`)."""
    from blueprints.spec.loader import BlueprintError

    try:
        plan = plan_for(argparse.Namespace(source=source, stack=stack))
    except BlueprintError as e:
        problems.extend(e.problems)
        return
    stem = Path(source).name.split(".")[0] if source else str(stack)
    name, n = stem, 2
    while name in names:
        name, n = f"{stem}-{n}", n + 1
    names.add(name)
    out.append(Source(given=source, plan=plan, blueprint_file=blueprint_file_of(plan, source),
                      name=name))


def write_outputs(texts: dict[str, str], out: str | None, suffix: str,
                  joiner: str = "\n") -> None:
    """One output per source: to --out when there is one source, else into the folder --out
    names (<name><suffix> each), else all to standard output."""
    if len(texts) == 1:
        write_output(next(iter(texts.values())), out)
        return
    if out is None:
        write_output(joiner.join(texts.values()), None)
        return
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {out}: several blueprints write one file each: name a folder")
    for name, text in texts.items():
        write_output(text, str(folder / f"{name}{suffix}"))
