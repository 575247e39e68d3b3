"""The Pulumi program itself (`__main__.py`), the path `pulumi up` takes, under the same mocks,
with the stack config set as the Pulumi CLI sets it: every key a string, objects as JSON."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from aifactory.plan.document import plan_blueprint
from aifactory.plan.recorder import Registration, record
from blueprints import stacks

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"


def cli_config(config: dict[str, Any]) -> dict[str, str]:
    """Stack config as the Pulumi CLI hands it to a program (PULUMI_CONFIG): strings, with
    structured values JSON-encoded (what `Config.get_object` parses)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def run_program(stack: str, config: dict[str, Any]) -> list[Registration]:
    secrets = stack_secrets(config)
    return record(lambda: runpy.run_path(str(PROGRAM), run_name="__main__"),
                  stack=stack, config={**cli_config(config), **secrets},
                  secret_keys=list(secrets))


def stack_secrets(config: dict[str, Any]) -> dict[str, str]:
    """The stack secrets the stack's blueprint names, as `pulumi config set --secret` holds
    them (placeholders), when the blueprint loads."""
    from blueprints.compose.lifecycle import offline_config
    from blueprints.spec import BlueprintError, load

    try:
        return offline_config(load(ROOT / config["aifactory:blueprint"]))
    except (BlueprintError, KeyError):
        return {}


def stack_config(stack: str) -> dict[str, Any]:
    doc = yaml.safe_load(stacks.stack_file(stack).read_text(encoding="utf-8"))
    return dict(doc["config"])


def test_a_stack_with_overrides_runs_as_pulumi_up_runs_it() -> None:
    config = stack_config("aws-dev")
    assert config["aifactory:overrides"], "the test needs a stack that overrides something"
    registrations = run_program("aws-dev", config)
    pools = {r.inputs["pool"]: r.inputs for r in registrations
             if r.type == "aifactory:aws:GpuNodePool"}
    assert pools["train-h100"]["maxNodes"] == 1  # the stack's overrides
    assert pools["train-h100"]["desiredNodes"] == 0
    assert pools["batch-l4-spot"]["maxNodes"] == 4


def test_the_program_registers_what_the_offline_plan_shows() -> None:
    registrations = run_program("aws-dev", stack_config("aws-dev"))
    spec, path = stacks.load_for_stack(None, "aws-dev")
    plan = plan_blueprint(spec, path, stack="aws-dev")
    assert sorted(r.urn for r in registrations) == sorted(r["urn"] for r in plan["resources"])


def test_a_bad_blueprint_is_a_run_error_at_its_line(tmp_path: Path) -> None:
    good = (ROOT / "blueprints/examples/cloud-aws.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.replace("max_nodes: 4", "max_nodes: 0", 1), encoding="utf-8")
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1)
                if "max_nodes: 0" in text)
    with pytest.raises(pulumi.RunError) as e:
        run_program("bad", {"aifactory:blueprint": str(bad)})
    assert str(e.value).startswith(f"{bad}:{line}: pools.")
    assert ".max_nodes: Input should be greater than or equal to 1, got 0" in str(e.value)
    assert "Traceback" not in str(e.value)


def test_a_bad_override_is_a_run_error_at_the_blueprint_field() -> None:
    config = stack_config("aws-dev")
    config["aifactory:overrides"] = {"pools": {"train-h100": {"max_nodez": 2}}}
    with pytest.raises(pulumi.RunError) as e:
        run_program("aws-dev", config)
    blueprint = ROOT / config["aifactory:blueprint"]
    line = next(i for i, text in enumerate(blueprint.read_text().splitlines(), 1)
                if text.strip() == "train-h100:")
    # config from the CLI has no lines: the error points at the pool in the blueprint
    assert str(e.value) == (f"{blueprint}:{line}: pools.train-h100.max_nodez: unknown key "
                            "'max_nodez': did you mean 'max_nodes'?")


def test_a_waiver_of_an_unknown_rule_is_a_run_error() -> None:
    config = stack_config("aws-dev")
    config["aifactory:overrides"] = {"policy": {"waivers": [{
        "rule": "power-site-budgte", "resource": "*", "reason": "accepted for the pilot",
        "owner": "platform", "approver": "security", "ticket": "RISK-1",
        "approved": "2029-12-01", "expires": "2030-01-01"}]}}
    with pytest.raises(pulumi.RunError) as e:
        run_program("aws-dev", config)
    assert str(e.value).endswith(": policy.waivers[0].rule: 'power-site-budgte' is not a policy "
                                 "rule: did you mean 'power-site-budget'?")


def test_a_missing_blueprint_setting_says_which_key() -> None:
    with pytest.raises(pulumi.RunError, match="aifactory:blueprint"):
        run_program("empty", {})
