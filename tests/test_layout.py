"""The layout keeps its promise: data flows one way, blueprints -> components -> plan -> policies
-> reports, and no module imports one that sits downstream of it (read from the import graph,
deferred imports inside functions included)."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Upstream first. A module may import its own stage or one before it, never one after it.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("catalog", ("catalog",)),
    ("blueprint language", ("blueprints",)),  # spec, errors, facts contract, stacks
    ("components", ("components",)),
    ("compose", ("blueprints.compose",)),
    ("plan", ("aifactory.plan",)),
    ("policies", ("policies",)),
    ("command line", ("aifactory",)),
)
PACKAGES = ("aifactory", "blueprints", "catalog", "components", "policies")


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def stage_of(module: str) -> int | None:
    """The stage of a module of ours: its longest matching prefix wins."""
    best: tuple[int, int] | None = None
    for i, (_, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            if _matches(module, prefix) and (best is None or len(prefix) > best[1]):
                best = (i, len(prefix))
    return None if best is None else best[0]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> set[str]:
    """Every module of ours `path` imports, at any depth of its code."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # `from pkg import module`
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.JoinedStr | ast.Constant)):
            first = node.args[0]
            literal = first.value if isinstance(first, ast.Constant) else (
                first.values[0].value if first.values and isinstance(first.values[0], ast.Constant)
                else "")
            found.add(str(literal).rstrip("."))
    return {m for m in found if m.split(".")[0] in PACKAGES}


def our_modules() -> dict[str, Path]:
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    return {module_name(ROOT / f): ROOT / f for f in files
            if f.split("/")[0] in PACKAGES and "/pack/" not in f and "/checkov/" not in f}


def upward_imports() -> list[str]:
    out = []
    for module, path in sorted(our_modules().items()):
        here = stage_of(module)
        assert here is not None, module
        for target in sorted(imports_of(path, module)):
            there = stage_of(target)
            if there is not None and there > here:
                out.append(f"{module} ({STAGES[here][0]}) imports {target} ({STAGES[there][0]})")
    return out


def test_no_module_imports_one_downstream_of_it() -> None:
    assert upward_imports() == []


def test_only_compose_imports_the_components() -> None:
    importers = sorted(
        module for module, path in our_modules().items()
        if not _matches(module, "components") and not _matches(module, "blueprints.compose")
        and any(_matches(t, "components") for t in imports_of(path, module)))
    assert importers == []


def test_policies_read_plans_never_components() -> None:
    readers = sorted(
        f"{module} imports {t}" for module, path in our_modules().items()
        if _matches(module, "policies") for t in imports_of(path, module)
        if _matches(t, "components") or _matches(t, "blueprints.compose"))
    assert readers == []


def test_every_module_has_a_stage() -> None:
    assert [m for m in our_modules() if stage_of(m) is None] == []


@pytest.mark.parametrize("gone", ["aifactory/components", "aifactory/spec", "aifactory/build",
                                  "aifactory/catalog", "aifactory/policies"])
def test_the_old_homes_are_gone(gone: str) -> None:
    tracked = subprocess.run(["git", "ls-files", gone], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    assert tracked == ""


def test_one_folder_holds_every_policy_rule() -> None:
    from policies.rules import RULES

    homes = {Path(__import__(r.check.__module__, fromlist=["_"]).__file__ or "").parent
             for r in RULES}
    assert homes == {ROOT / "policies" / "rules"}


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    # the check itself can fail: a component that imports a policy is caught
    bad = tmp_path / "bad.py"
    bad.write_text("from policies.engine import evaluate\nimport catalog\n")
    found = imports_of(bad, "components.aws.bad")
    assert "policies.engine" in found
    assert stage_of("policies.engine") > stage_of("components.aws.bad")  # type: ignore[operator]
    assert stage_of("blueprints.compose.aws") > stage_of("components.aws")  # type: ignore[operator]
    assert stage_of("blueprints.spec.models") < stage_of("components.aws")  # type: ignore[operator]
