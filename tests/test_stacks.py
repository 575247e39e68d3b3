"""Stack files: the blueprint they name and the overrides they merge, with errors at their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from blueprints import stacks
from blueprints.errors import InputError
from blueprints.spec import BlueprintError


def test_every_stack_names_a_blueprint_that_loads() -> None:
    files = sorted(stacks.STACKS.glob("Pulumi.*.yaml"))
    assert files
    for f in files:
        name = f.name.removeprefix("Pulumi.").removesuffix(".yaml")
        spec, path = stacks.load_for_stack(None, name)
        assert Path(path).exists() and spec.name


def test_overrides_are_merged() -> None:
    spec, _ = stacks.load_for_stack(None, "aws-dev")
    assert spec.pools["train-h100"].max_nodes == 1
    assert spec.pools["train-h100"].instance_type == "p5.48xlarge"  # untouched keys kept


def test_unknown_stack_lists_known_ones() -> None:
    with pytest.raises(InputError, match=r"no such stack file; stacks are: .*aws-dev"):
        stacks.load_for_stack(None, "nope")


def test_bad_override_points_at_the_stack_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(stacks, "STACKS", tmp_path)
    blueprint = stacks.ROOT / "blueprints/examples/cloud-aws.yaml"
    (tmp_path / "Pulumi.t.yaml").write_text(
        f"config:\n  aifactory:blueprint: {blueprint}\n  aifactory:overrides:\n"
        "    pools:\n      train-h100: {max_nodes: 0}\n")
    with pytest.raises(BlueprintError) as e:
        stacks.load_for_stack(None, "t")
    assert [str(p) for p in e.value.problems] == [
        f"{tmp_path}/Pulumi.t.yaml:5: pools.train-h100.max_nodes: Input should be greater than "
        "or equal to 1, got 0"
    ]
