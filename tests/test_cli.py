"""The command line: exit codes, error output, schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from aifactory.cli import main
from aifactory.commands.schema import blueprint_schema

ROOT = Path(__file__).resolve().parent.parent


def test_schema_is_committed_and_current() -> None:
    committed = json.loads((ROOT / "blueprints" / "schema.json").read_text())
    fix = "run: .venv/bin/aifactory schema --out blueprints/schema.json"
    assert committed == blueprint_schema(), fix


def test_examples_validate_against_the_schema() -> None:
    schema = blueprint_schema()
    for path in sorted((ROOT / "blueprints" / "examples").glob("*.yaml")):
        data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        jsonschema.validate(data, schema)


def test_bad_blueprint_exits_2_with_every_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x1\ntags: {owner: a, cost_centre: b, data_classification: internal}\n"
                   "environments: []\n")
    assert main(["plan", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == (f"{bad}:3: environments: expected a mapping (key: value), got a list\n"
                   "1 error: the blueprint was not loaded\n")


def test_missing_file_exits_2(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["plan", "missing.yaml"]) == 2
    assert "missing.yaml: no such file" in capsys.readouterr().err


def test_unknown_stack_exits_2(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["plan", "--stack", "nope"]) == 2
    assert "no such stack file" in capsys.readouterr().err


def test_not_a_plan_json_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "x.json"
    f.write_text('{"a": 1}')
    assert main(["plan", str(f)]) == 2
    assert "not an ai-factory plan" in capsys.readouterr().err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as e:
        main(["plan", "--format", "xml", "x.yaml"])
    assert e.value.code == 2
