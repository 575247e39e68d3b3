"""Golden plans: the plan of every example blueprint, reviewed like code when it changes.

After an intended change: scripts/update-golden, then review `git diff tests/golden`.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from aifactory.plan.document import dumps, plan_blueprint
from blueprints.spec import load

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "blueprints" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("blueprint", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_plan_matches_golden(blueprint: Path) -> None:
    rel = str(blueprint.relative_to(ROOT))
    actual = dumps(plan_blueprint(load(blueprint), rel))
    golden = ROOT / "tests" / "golden" / f"{blueprint.stem}.plan.json"
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(list(difflib.unified_diff(
            expected.splitlines(True), actual.splitlines(True), str(golden), "actual"))[:80])
        pytest.fail(f"plan of {rel} differs from {golden.name} (scripts/update-golden after "
                    f"reviewing):\n{diff}")


def test_every_example_has_a_golden_plan() -> None:
    golden_dir = ROOT / "tests" / "golden"
    goldens = {p.name.removesuffix(".plan.json") for p in golden_dir.glob("*.json")}
    assert goldens == {p.stem for p in EXAMPLES}


def test_golden_plans_mask_secrets() -> None:
    hybrid = (ROOT / "tests" / "golden" / "hybrid.plan.json").read_text()
    assert '"[secret]"' in hybrid  # the site's kubeconfig, BMC credentials, join token
    for golden in (ROOT / "tests" / "golden").glob("*.json"):
        text = golden.read_text()
        assert "BEGIN CERTIFICATE" not in text and "BEGIN RSA" not in text
