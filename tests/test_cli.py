"""The command line: exit codes, error output, schema."""

from __future__ import annotations

import json
import subprocess
import sys
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


GOOD = ROOT / "blueprints" / "examples" / "cloud-aws.yaml"


def test_out_to_a_folder_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["schema", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"error: --out {tmp_path}: is a folder: name a file, "
                                       f"e.g. {tmp_path / 'plan.json'}\n")


def test_out_to_an_unwritable_path_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = blocker / "schema.json"  # a folder cannot be made under a file
    assert main(["schema", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"error: --out {out}: cannot write: File exists: "
                                       "choose a path you can write to\n")


def _plan_json(args: list[str], cwd: Path) -> bytes:
    exe = Path(sys.executable).parent / "aifactory"
    done = subprocess.run([str(exe), "plan", *args, "--format", "json"], cwd=cwd,
                          capture_output=True, check=True)
    return done.stdout


def test_plan_is_byte_identical_across_processes_and_path_spellings() -> None:
    relative = _plan_json(["blueprints/examples/cloud-aws.yaml"], ROOT)
    absolute = _plan_json([str(GOOD)], ROOT)
    assert relative == absolute
    assert json.loads(relative)["blueprint"] == "blueprints/examples/cloud-aws.yaml"


def test_plan_names_a_blueprint_by_its_path_in_its_repository_wherever_it_runs(
        tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from aifactory.plan.document import plan_blueprint
    from blueprints.spec import load

    spec = load(GOOD)
    for where in (tmp_path, ROOT / "blueprints", ROOT):
        monkeypatch.chdir(where)
        assert plan_blueprint(spec, str(GOOD))["blueprint"] == "blueprints/examples/cloud-aws.yaml"
    # outside any repository: from the current folder, else by its file name
    outside = tmp_path / "bps" / "mine.yaml"
    outside.parent.mkdir()
    shutil.copy(GOOD, outside)
    monkeypatch.chdir(tmp_path)
    assert plan_blueprint(spec, str(outside))["blueprint"] == "bps/mine.yaml"
    monkeypatch.chdir(ROOT)
    assert plan_blueprint(spec, str(outside))["blueprint"] == "mine.yaml"


def test_check_fails_on_an_instance_type_the_region_does_not_offer(
        tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # p4de.24xlarge (8 x A100 80 GB) is not offered in eu-north-1: a policy violation, not a
    # load error.
    text = (ROOT / "blueprints" / "examples" / "sovereign-eu.yaml").read_text()
    text = text.replace("instance_type: g6e.12xlarge", "instance_type: p4de.24xlarge").replace(
        "accelerator: l40s", "accelerator: a100-sxm4-80gb")
    blueprint = tmp_path / "sovereign-eu.yaml"
    blueprint.write_text(text)
    assert main(["check", str(blueprint), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    failed = [v for v in report["violations"] if v["rule"] == "capacity-instance-availability"]
    assert [(v["status"], v["resource"], v["message"]) for v in failed] == [(
        "failed", "aws-eu-burst-l40s", "pool burst-l40s: p4de.24xlarge is not offered in "
        "eu-north-1; eu-north-1 offers no type with a100-sxm4-80gb; p4de.24xlarge is offered "
        "in ap-northeast-1, ap-southeast-1, eu-central-1, us-east-1, us-west-2")]


def test_loading_a_blueprint_does_not_import_the_pulumi_sdks() -> None:
    # `aifactory schema` and every load error stay fast: the spec, the catalog and the chart
    # catalogue (read by the mirror's lock check) are plain Python.
    code = ("import sys; from blueprints.spec import load\n"
            "for p in sys.argv[1:]: load(p)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))")
    examples = sorted(str(p) for p in (ROOT / "blueprints" / "examples").glob("*.yaml"))
    result = subprocess.run([sys.executable, "-c", code, *examples], capture_output=True,
                            text=True, check=True, cwd=ROOT)
    assert result.stdout == "[]\n"


def test_a_component_refusal_is_reported_at_the_blueprint_field(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    text = (ROOT / "blueprints" / "examples" / "cloud-aws.yaml").read_text().replace(
        '    kubernetes_version: "1.33"\n',
        '    kubernetes_version: "1.33"\n    endpoint_public_access: true\n'
        '    public_access_cidrs: [0.0.0.0/0]\n', 1)
    blueprint = tmp_path / "bp.yaml"
    blueprint.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "public_access_cidrs" in t)
    assert main(["plan", str(blueprint)]) == 2
    assert capsys.readouterr().err == (
        f"{blueprint}:{line}: environments.aws-prod.public_access_cidrs: EksCluster "
        "aws-prod-eks: public_access_cidrs contains 0.0.0.0/0, which opens the Kubernetes API "
        "to the whole internet: list your operators' networks instead\n"
        "1 error: the blueprint was not loaded\n")


def test_blame_finds_the_field_a_message_names() -> None:
    from blueprints.compose.blame import POOL_ALIASES, field_path
    from blueprints.spec import load

    pool = load(ROOT / "blueprints" / "examples" / "cloud-aws.yaml").pools["train-h100"]
    assert field_path("pools.train-h100", "GpuNodePool x: reservation_id ('abc') is not a "
                      "capacity reservation id", pool, POOL_ALIASES) == \
        "pools.train-h100.reservation"
    assert field_path("pools.train-h100", "GpuNodePool x: disk_size_gb (10) is below",
                      pool) == "pools.train-h100.disk_size_gb"
    assert field_path("pools.train-h100", "something else", pool) == "pools.train-h100"
