"""Stack files: stacks/Pulumi.<stack>.yaml names the blueprint and may override parts of it.

    config:
      aifactory:blueprint: blueprints/examples/cloud-aws.yaml
      aifactory:overrides:            # deep-merged into the blueprint before validation
        pools: {train-h100: {max_nodes: 1}}

The same merge runs under `pulumi up` (__main__.py) and in the offline plan, so both see the
same factory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blueprints.errors import InputError
from blueprints.spec.loader import (
    BlueprintError,
    Lines,
    Loc,
    Problem,
    parse_yaml,
    read_yaml,
    validate,
)
from blueprints.spec.models import Blueprint
from blueprints.spec.policy import KnownRules

ROOT = Path(__file__).resolve().parent.parent
STACKS = ROOT / "stacks"


def stack_file(stack: str) -> Path:
    """Path of a stack's config file."""
    return STACKS / f"Pulumi.{stack}.yaml"


def _merge(base: Any, override: Any, loc: Loc, lines: Lines, override_lines: Lines) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(base.get(key), value, loc + (key,), lines, override_lines)
        return out
    # the override wins: its lines replace the blueprint's below this path
    for path in [p for p in lines if p[: len(loc)] == loc]:
        del lines[path]
    lines.update({loc + p[len(loc):]: v for p, v in override_lines.items()})
    return override


def read_stack(stack: str) -> tuple[str | None, Any, Lines]:
    """The blueprint path and overrides (with their lines) a stack file declares."""
    path = stack_file(stack)
    if not path.exists():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                       for p in STACKS.glob("Pulumi.*.yaml"))
        raise InputError(f"{path}: no such stack file; stacks are: {', '.join(known)}")
    data, lines = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    config = (data or {}).get("config", {}) if isinstance(data, dict) else {}
    if not isinstance(config, dict):
        raise BlueprintError([Problem(str(path), lines.get(("config",), (str(path), 1))[1],
                                      "config", "expected a mapping of config keys")])
    overrides = config.get("aifactory:overrides")
    prefix: Loc = ("config", "aifactory:overrides")
    override_lines = {p[len(prefix):]: v for p, v in lines.items() if p[:2] == prefix}
    blueprint = config.get("aifactory:blueprint")
    return blueprint, overrides, override_lines


def load_with_overrides(blueprint: str | Path, overrides: Any = None,
                        override_lines: Lines | None = None, *,
                        rules: KnownRules | None = None) -> Blueprint:
    """Load a blueprint with a stack's overrides merged in; errors point at either file.
    With `rules`, every waiver must name one of them."""
    data, lines = read_yaml(blueprint)
    if overrides:
        data = _merge(data, overrides, (), lines, override_lines or {})
    return validate(data, lines, str(blueprint), rules=rules)


def source_lines(blueprint: str | Path, stack: str | None = None) -> Lines:
    """Where each value of a blueprint (with a stack's overrides merged in) came from."""
    data, lines = read_yaml(blueprint)
    if stack is not None:
        _, overrides, override_lines = read_stack(stack)
        if overrides:
            _merge(data, overrides, (), lines, override_lines or {})
    return lines


def locate(path: str, blueprint: str | Path, stack: str | None = None) -> tuple[str, int]:
    """The file and line of a dotted blueprint path (its nearest parent that has one)."""
    lines = source_lines(blueprint, stack)
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        for loc in (tuple(parts[:n]),
                    tuple(int(p) if p.isdigit() else p for p in parts[:n])):
            if loc in lines:
                return lines[loc]
    return (str(blueprint), 1)


def load_for_stack(blueprint: str | Path | None, stack: str | None, *,
                   rules: KnownRules | None = None) -> tuple[Blueprint, str]:
    """The blueprint for a command line: an explicit file, a stack's file, or both."""
    overrides, override_lines = None, None
    if stack is not None:
        named, overrides, override_lines = read_stack(stack)
        if blueprint is None:
            if not named:
                raise InputError(f"{stack_file(stack)}: config has no aifactory:blueprint; add "
                                 "the blueprint path, or pass BLUEPRINT on the command line")
            blueprint = ROOT / named if not Path(named).is_absolute() else Path(named)
    if blueprint is None:
        raise InputError("no blueprint: pass BLUEPRINT or --stack NAME")
    return load_with_overrides(blueprint, overrides, override_lines, rules=rules), str(blueprint)
