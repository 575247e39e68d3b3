"""Every kind of bad blueprint gets the exact message a user sees, at its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from aifactory.spec import BlueprintError, load

GOOD = """\
name: acme
tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
environments:
  prod:
    kind: aws
    account_id: "123456789012"
    region: eu-west-2
    availability_zones: [eu-west-2a, eu-west-2b]
pools:
  train:
    environment: prod
    instance_type: p5.48xlarge
    min_nodes: 0
    max_nodes: 2
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bp.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(BlueprintError) as e:
        load(path)
    return [str(p).replace(str(path), "bp.yaml") for p in e.value.problems]


def test_good_blueprint_loads(tmp_path: Path) -> None:
    path = tmp_path / "bp.yaml"
    path.write_text(GOOD)
    spec = load(path)
    assert spec.pools["train"].max_nodes == 2
    assert spec.pools["train"].taints[0].key == "nvidia.com/gpu"


def test_missing_file() -> None:
    with pytest.raises(BlueprintError) as e:
        load("no/such/blueprint.yaml")
    assert str(e.value) == ("no/such/blueprint.yaml: no such file: check the path "
                            "(blueprints live in blueprints/examples/)")


def test_yaml_that_does_not_parse(tmp_path: Path) -> None:
    assert problems(tmp_path, "name: acme\ntags: {owner: ml\n") == [
        "bp.yaml:3: (file): not valid YAML: expected ',' or '}', but got '<stream end>'; "
        "check indentation and quoting"
    ]


def test_empty_file(tmp_path: Path) -> None:
    assert problems(tmp_path, "") == [
        "bp.yaml:1: (file): the file is empty: a blueprint is a mapping with name, tags and "
        "environments"
    ]


def test_list_where_a_mapping_belongs(tmp_path: Path) -> None:
    text = GOOD.replace("tags: {owner: ml, cost_centre: CC-1, data_classification: internal}",
                        "tags: [ml, CC-1]")
    assert problems(tmp_path, text) == [
        "bp.yaml:2: tags: expected a mapping (key: value), got a list"
    ]


def test_misspelt_key_gets_did_you_mean(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    min_node: 1")
    assert problems(tmp_path, text) == [
        "bp.yaml:15: pools.train.min_node: unknown key 'min_node': did you mean 'min_nodes'?"
    ]


def test_unknown_key_lists_allowed_keys(tmp_path: Path) -> None:
    text = GOOD.replace("name: acme", "name: acme\ncolour: blue")
    assert problems(tmp_path, text) == [
        "bp.yaml:2: colour: unknown key 'colour' (allowed: name, description, tags, "
        "environments, pools, lakehouse, registry, queueing, sovereignty, policy)"
    ]


def test_wrong_type(tmp_path: Path) -> None:
    text = GOOD.replace("max_nodes: 2", "max_nodes: two")
    assert problems(tmp_path, text) == [
        "bp.yaml:14: pools.train.max_nodes: Input should be a valid integer, unable to parse "
        "string as an integer, got 'two'"
    ]


def test_out_of_range_number(tmp_path: Path) -> None:
    text = GOOD.replace("max_nodes: 2", "max_nodes: 5000")
    assert problems(tmp_path, text) == [
        "bp.yaml:14: pools.train.max_nodes: Input should be less than or equal to 1000, "
        "got 5000"
    ]


def test_unknown_instance_type(tmp_path: Path) -> None:
    text = GOOD.replace("p5.48xlarge", "p5.48xlarg")
    [message] = problems(tmp_path, text)
    assert message.startswith(
        "bp.yaml:12: pools.train.instance_type: 'p5.48xlarg' is not a cloud instance type the "
        "catalog knows; did you mean 'p5.48xlarge'? known: a2-highgpu-1g, "
    )


def test_unknown_gpu_model(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    accelerator: h100")
    [message] = problems(tmp_path, text)
    assert message.startswith(
        "bp.yaml:15: pools.train.accelerator: 'h100' is not a GPU model the catalog knows; "
        "did you mean 'h100-sxm5'? known: a100-sxm4-40gb"
    )


def test_accelerator_must_match_instance_type(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    accelerator: l4")
    assert problems(tmp_path, text) == [
        "bp.yaml:15: pools.train.accelerator: 'l4' does not match p5.48xlarge, which has "
        "8 x h100-sxm5"
    ]


def test_min_above_max(tmp_path: Path) -> None:
    text = GOOD.replace("min_nodes: 0", "min_nodes: 4")
    assert problems(tmp_path, text) == [
        "bp.yaml:14: pools.train.max_nodes: max_nodes (2) is below min_nodes (4): raise "
        "max_nodes or lower min_nodes"
    ]


def test_spot_needs_interruption_tolerance(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    capacity: spot")
    assert problems(tmp_path, text) == [
        "bp.yaml:15: pools.train.capacity: spot capacity can be reclaimed at any time: set "
        "interruption_tolerant: true if the workloads checkpoint, or use on-demand"
    ]


def test_instance_type_not_offered_in_region(tmp_path: Path) -> None:
    text = GOOD.replace("region: eu-west-2", "region: eu-central-1").replace(
        "[eu-west-2a, eu-west-2b]", "[eu-central-1a, eu-central-1b]")
    assert problems(tmp_path, text) == [
        "bp.yaml:12: pools.train.instance_type: 'p5.48xlarge' is not offered in eu-central-1: "
        "offered in ap-northeast-1, ap-southeast-2, eu-north-1, eu-west-2, us-east-1, "
        "us-east-2, us-west-2"
    ]


def test_pool_in_unknown_environment(tmp_path: Path) -> None:
    text = GOOD.replace("    environment: prod", "    environment: prd")
    assert problems(tmp_path, text) == [
        "bp.yaml:11: pools.train.environment: 'prd' is not an environment: declared are "
        "['prod']"
    ]


def test_unknown_environment_kind(tmp_path: Path) -> None:
    text = GOOD.replace("kind: aws", "kind: azure")
    assert problems(tmp_path, text) == [
        "bp.yaml:5: environments.prod.kind: 'azure' is not a kind of environment: use one of "
        "'aws', 'gcp', 'onprem'"
    ]


def test_pattern_errors_name_the_expected_form(tmp_path: Path) -> None:
    text = GOOD.replace('"123456789012"', '"1234"')
    assert problems(tmp_path, text) == [
        "bp.yaml:6: environments.prod.account_id: '1234' is not valid: expected 12-digit AWS "
        "account id"
    ]


def test_zones_must_belong_to_region(tmp_path: Path) -> None:
    text = GOOD.replace("[eu-west-2a, eu-west-2b]", "[eu-west-2a, eu-west-1b]")
    assert problems(tmp_path, text) == [
        "bp.yaml:8: environments.prod.availability_zones: ['eu-west-1b'] are not zones of "
        "region 'eu-west-2': use names such as eu-west-2a"
    ]


def test_duplicate_key(tmp_path: Path) -> None:
    text = GOOD.replace("name: acme", "name: acme\nname: other")
    assert problems(tmp_path, text) == ["bp.yaml:2: name: key 'name' appears twice: keep one"]


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    text = (GOOD.replace("max_nodes: 2", "max_nodes: -1")
            .replace("data_classification: internal", "data_classification: secret")
            .replace("    environment: prod", "    environment: prod\n    capacty: spot"))
    assert problems(tmp_path, text) == [
        "bp.yaml:2: tags.data_classification: Input should be 'public', 'internal', "
        "'confidential' or 'restricted', got 'secret'",
        "bp.yaml:12: pools.train.capacty: unknown key 'capacty': did you mean 'capacity'?",
        "bp.yaml:15: pools.train.max_nodes: Input should be greater than or equal to 1, got -1",
    ]


def test_examples_load() -> None:
    for path in sorted((Path(__file__).parent.parent / "blueprints" / "examples").glob("*.yaml")):
        assert load(path).name
