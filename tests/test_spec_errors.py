"""Every kind of bad blueprint gets the exact message a user sees, at its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import catalog
from blueprints.spec import BlueprintError, load
from blueprints.spec.inventory import parse_bmc
from policies.rules import BY_NAME, KNOWN_RULES

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
        load(path, rules=KNOWN_RULES)
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
        "environments, pools, lakehouse, registry, training_storage, queueing, platform, "
        "model_registry, serving, notebooks, pipelines, alerts, monitoring, sovereignty, policy)"
    ]


def test_model_registry_is_no_longer_mistaken_for_the_registry(tmp_path: Path) -> None:
    text = GOOD + "model_registry: {environment: prod}\n"
    assert problems(tmp_path, text) == [
        "bp.yaml:15: model_registry.database: required key 'database' is missing: add it",
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
    assert problems(tmp_path, text) == [
        "bp.yaml:12: pools.train.instance_type: 'p5.48xlarg' is not a cloud instance type the "
        "catalog knows; did you mean 'p5.48xlarge'? `aifactory catalog instances` lists all "
        f"{len(catalog.INSTANCE_TYPES)}"
    ]


def test_unknown_gpu_model(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    accelerator: h100")
    assert problems(tmp_path, text) == [
        "bp.yaml:15: pools.train.accelerator: 'h100' is not a GPU model the catalog knows; "
        "did you mean 'h100-sxm5'? known: " + ", ".join(sorted(catalog.GPUS))
    ]


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


def test_instance_type_not_offered_in_region_loads(tmp_path: Path) -> None:
    # Not a load error: the policy rule capacity-instance-availability reports it (and a
    # reviewed waiver can accept it); see test_cli.py for `aifactory check` failing on it.
    path = tmp_path / "bp.yaml"
    path.write_text(GOOD.replace("region: eu-west-2", "region: eu-central-1").replace(
        "[eu-west-2a, eu-west-2b]", "[eu-central-1a, eu-central-1b]"))
    assert load(path).pools["train"].instance_type == "p5.48xlarge"


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


def test_desired_nodes_outside_the_bounds(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    desired_nodes: 3")
    assert problems(tmp_path, text) == [
        "bp.yaml:15: pools.train.desired_nodes: desired_nodes (3) must lie between min_nodes "
        "(0) and max_nodes (2)"
    ]


def test_capacity_block_needs_a_reservation(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    capacity: capacity-block")
    assert problems(tmp_path, text) == [
        "bp.yaml:10: pools.train.reservation: capacity 'capacity-block' needs the capacity "
        "block's reservation id here"
    ]


def test_every_error_of_one_pool_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    desired_nodes: 5\n"
                        "    capacity: spot\n    accelerator: l4")
    assert problems(tmp_path, text) == [
        "bp.yaml:15: pools.train.desired_nodes: desired_nodes (5) must lie between min_nodes "
        "(0) and max_nodes (2)",
        "bp.yaml:16: pools.train.capacity: spot capacity can be reclaimed at any time: set "
        "interruption_tolerant: true if the workloads checkpoint, or use on-demand",
    ]  # the accelerator is checked against the environment once the pool itself is sound


@pytest.mark.parametrize(("value", "message"), [
    ("!Ref acme", "unknown YAML tag !Ref: a blueprint holds plain values; remove the tag "
     "(tags such as !Ref or !!python/object are not evaluated)"),
    ("!!python/object:os.system acme", "unknown YAML tag !!python/object:os.system: a "
     "blueprint holds plain values; remove the tag (tags such as !Ref or !!python/object are "
     "not evaluated)"),
    ("!!int abc", "'abc' cannot be read as !!int (invalid literal for int() with base 10: "
     "'abc'): quote it to keep it as text, or correct the value"),
    ("!Sub {a: b}", "YAML tag !Sub is not supported: a blueprint holds plain mappings, lists "
     "and values; remove the tag"),
])
def test_yaml_tags_are_errors_at_their_line(tmp_path: Path, value: str, message: str) -> None:
    assert problems(tmp_path, GOOD.replace("name: acme", f"name: {value}")) == [
        f"bp.yaml:1: name: {message}"]


def test_a_date_that_is_no_date(tmp_path: Path) -> None:
    text = GOOD.replace("name: acme", "name: acme\ndescription: 2024-13-45")
    assert problems(tmp_path, text) == [
        "bp.yaml:2: description: '2024-13-45' cannot be read as !!timestamp (month must be in "
        "1..12): quote it to keep it as text, or correct the value"
    ]


def test_keys_that_are_numbers_or_booleans(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    labels:\n      2: a\n"
                        "      yes: b")
    assert problems(tmp_path, text) == [
        "bp.yaml:16: pools.train.labels.2: key 2 is not text: YAML reads unquoted digits as "
        "numbers and yes/no/on/off/true/false as booleans; quote the key",
        "bp.yaml:17: pools.train.labels.True: key True is not text: YAML reads unquoted "
        "digits as numbers and yes/no/on/off/true/false as booleans; quote the key",
    ]


def test_complex_key(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2", "    max_nodes: 2\n    labels:\n      ? [a, b]\n"
                        "      : c")
    assert problems(tmp_path, text) == [
        "bp.yaml:16: pools.train.labels: a key must be a plain value such as a name, not a "
        "list: write the key as text"
    ]


def test_misspelt_required_key_is_reported_once(tmp_path: Path) -> None:
    text = GOOD.replace("    region: eu-west-2", "    regoin: eu-west-2")
    assert problems(tmp_path, text) == [
        "bp.yaml:7: environments.prod.regoin: unknown key 'regoin': did you mean 'region'?"
    ]


def test_archive_must_come_before_expiry(tmp_path: Path) -> None:
    text = GOOD + ("lakehouse:\n  environment: prod\n  zones:\n"
                   "    raw: {retention_days: 30, archive_after_days: 30}\n")
    assert problems(tmp_path, text) == [
        "bp.yaml:18: lakehouse.zones.raw.archive_after_days: archive_after_days (30) is not "
        "below retention_days (30): objects would be deleted before they are archived; lower "
        "archive_after_days or raise retention_days"
    ]


def test_vpc_of_at_least_a_slash_22_and_partition_of_the_region(tmp_path: Path) -> None:
    text = GOOD.replace("    region: eu-west-2", "    region: eu-west-2\n"
                        "    vpc_cidr: 10.0.0.0/24\n    partition: aws-eusc")
    assert problems(tmp_path, text) == [
        "bp.yaml:8: environments.prod.vpc_cidr: 10.0.0.0/24 is smaller than a /22: subnets "
        "would hold too few addresses for nodes and pods; use a /16 to /22 block such as "
        "10.0.0.0/16",
        "bp.yaml:9: environments.prod.partition: region eu-west-2 is in partition aws, but "
        "partition is 'aws-eusc': set partition: aws",
    ]


def test_each_repository_once(tmp_path: Path) -> None:
    text = GOOD + "registry:\n  environment: prod\n  repositories: [training, serving, training]\n"
    assert problems(tmp_path, text) == [
        "bp.yaml:17: registry.repositories[2]: 'training' repeats repositories[0]: list each "
        "repository once"
    ]


WAIVER = """\
policy:
  waivers:
    - rule: {rule}
      resource: "*"
      reason: accepted while the new site is built
      owner: platform-team
      approver: security-office
      ticket: RISK-42
      approved: 2029-12-01
      expires: 2030-01-31
"""


def test_waiver_of_an_unknown_rule_gets_did_you_mean(tmp_path: Path) -> None:
    rule = sorted(BY_NAME)[0]  # read from the registry: rules may be renamed
    misspelt = rule[:-2] + rule[-1] + rule[-2]
    assert problems(tmp_path, GOOD + WAIVER.format(rule=misspelt)) == [
        f"bp.yaml:17: policy.waivers[0].rule: {misspelt!r} is not a policy rule: did you mean "
        f"{rule!r}?"
    ]


def test_without_the_rule_set_a_waiver_is_checked_for_shape_only(tmp_path: Path) -> None:
    # the spec sits upstream of the policies: only a caller with the rule set checks names
    path = tmp_path / "bp.yaml"
    path.write_text(GOOD + WAIVER.format(rule="power-site-budgte"))
    assert load(path).policy.waivers[0].rule == "power-site-budgte"


@pytest.mark.parametrize("rule", [*sorted(BY_NAME), "manifest-schema-strict",
                                  "manifest-crd-schema-strict", "manifest-ckv-aif-2",
                                  "manifest-ckv2-k8s-5"])
def test_waiver_of_a_known_rule_loads(tmp_path: Path, rule: str) -> None:
    path = tmp_path / "bp.yaml"
    path.write_text(GOOD + WAIVER.format(rule=rule))
    assert load(path, rules=KNOWN_RULES).policy.waivers[0].rule == rule


def test_custom_taints_keep_the_gpu_taint(tmp_path: Path) -> None:
    path = tmp_path / "bp.yaml"
    path.write_text(GOOD + "    taints: [{key: dedicated, value: training}]\n")
    taints = [(t.key, t.value, t.effect) for t in load(path).pools["train"].taints]
    assert taints == [("nvidia.com/gpu", "present", "NoSchedule"),
                      ("dedicated", "training", "NoSchedule")]


def test_a_taint_that_would_replace_the_gpu_taint(tmp_path: Path) -> None:
    text = GOOD + "    taints: [{key: nvidia.com/gpu, value: yes-please}]\n"
    assert problems(tmp_path, text) == [
        "bp.yaml:15: pools.train.taints[0]: taint nvidia.com/gpu:NoSchedule is the pool's own "
        "GPU taint (value 'present'): remove it from taints, or give it another effect"
    ]


SITE = """\
name: acme
tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
environments:
  dc1:
    kind: onprem
    country: DE
    power_budget_kw: 60
    pue: 9
    racks: {r1: {power_limit_kw: 45, cooling: liquid}}
    hosts:
      - {hostname: gpu01, rack: r1, server_model: dgx-h100, bmc_credentials: bmc,
         bmc_address: "ipmi://10.20.8.12", boot_mac: "3c:fd:fe:b4:10:01"}
      - {hostname: gpu02, rack: r9, server_model: dgx-h100, bmc_credentials: bmc,
         bmc_address: "redfish+https://10.20.8.12/redfish/v1/Systems/1",
         boot_mac: "3c:fd:fe:b4:10:01"}
      - {hostname: gpu03, rack: r1, server_model: dgx-h100, bmc_credentials: bmc,
         bmc_address: "ipmi://10.20.8.313", boot_mac: "3c:fd:fe:b4:10:03"}
    provisioning:
      hook: metal3
      image_url: https://images.example/ubuntu.img
      image_checksum: sha256:{checksum}
    cluster: {kubeconfig: kc, api_endpoint: "https://k8s.example:6443", join_token: jt,
          storage_class: local-path,
          ca_cert_hash: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}
""".replace("{checksum}", "ab" * 32)


def test_inventory_checks_run_beside_field_errors(tmp_path: Path) -> None:
    assert problems(tmp_path, SITE) == [
        "bp.yaml:8: environments.dc1.pue: Input should be less than or equal to 3, got 9",
        "bp.yaml:13: environments.dc1.hosts[1].rack: gpu02 is in rack 'r9', which is not "
        "declared: racks are ['r1']",
        "bp.yaml:14: environments.dc1.hosts[1].bmc_address: 'redfish+https://10.20.8.12/"
        "redfish/v1/Systems/1' reaches the same BMC (10.20.8.12) as hosts[0].bmc_address: "
        "each host needs its own bmc_address",
        "bp.yaml:15: environments.dc1.hosts[1].boot_mac: '3c:fd:fe:b4:10:01' repeats "
        "hosts[0].boot_mac: each host needs its own boot_mac",
        "bp.yaml:17: environments.dc1.hosts[2].bmc_address: 'ipmi://10.20.8.313': "
        "host '10.20.8.313' is not an IPv4 address (four numbers 0-255, such as 10.20.8.12) "
        "nor a DNS name",
    ]


@pytest.mark.parametrize(("address", "endpoint"), [
    ("ipmi://10.20.8.12", "10.20.8.12"),
    ("redfish+https://10.20.8.12/redfish/v1/Systems/1", "10.20.8.12"),
    ("ipmi://10.20.8.12:6230", "10.20.8.12:6230"),
    ("redfish://BMC-01.dc1.Example.com/redfish/v1/Systems/1", "bmc-01.dc1.example.com"),
    ("idrac-redfish://[fd00::12]:443/redfish/v1/Systems/System.Embedded.1", "[fd00::12]:443"),
])
def test_bmc_endpoint_ignores_scheme_and_path(address: str, endpoint: str) -> None:
    assert parse_bmc(address).endpoint == endpoint


@pytest.mark.parametrize(("address", "message"), [
    ("ipmi://10.20.8.313", "'ipmi://10.20.8.313': host '10.20.8.313' is not an IPv4 address "
     "(four numbers 0-255, such as 10.20.8.12) nor a DNS name"),
    ("ipmi://10.20.8.12:70000", "'ipmi://10.20.8.12:70000' has a port that is not a number "
     "from 1 to 65535"),
    ("redfish://admin:pw@10.20.8.12", "'redfish://admin:pw@10.20.8.12' carries credentials: "
     "remove them; bmc_credentials names the secret that holds them"),
    ("redfish://bmc_01.example/x", "'redfish://bmc_01.example/x': host 'bmc_01.example' is "
     "not a DNS name (labels of letters, digits and '-', at most 63 characters each) nor an "
     "IP address"),
    ("https://10.20.8.12", "'https://10.20.8.12' does not start with a BMC scheme: use one of "
     "redfish://, redfish+http://, redfish+https://, ipmi://, idrac-redfish://, "
     "ilo5-redfish://"),
])
def test_malformed_bmc_addresses(address: str, message: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_bmc(address)
    assert str(e.value) == message


# ---------------------------------------------------------------------------------------------
# Zones, quota metrics and pool sizes the catalog and the site can check at load


GCP = """\
name: acme
tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
environments:
  prod:
    kind: gcp
    project: acme-ml-prod
    project_number: "314159265358"
    region: europe-west4
    zones: [europe-west4-a, europe-west4-b]
    gpu_quotas:
      NVIDIA_H100_GPUS: 16
pools:
  train:
    environment: prod
    instance_type: a3-highgpu-8g
    min_nodes: 0
    max_nodes: 2
"""


def test_an_aws_zone_the_region_does_not_have(tmp_path: Path) -> None:
    text = GOOD.replace("region: eu-west-2", "region: eu-west-3").replace(
        "[eu-west-2a, eu-west-2b]", "[eu-west-3a, eu-west-3d]")
    assert problems(tmp_path, text) == [
        "bp.yaml:8: environments.prod.availability_zones[1]: 'eu-west-3d' is not a zone of "
        "eu-west-3, which has eu-west-3a, eu-west-3b, eu-west-3c: use one of them"]


def test_a_gcp_zone_the_region_does_not_have(tmp_path: Path) -> None:
    text = GCP.replace("europe-west4-b]", "europe-west4-z]")
    assert problems(tmp_path, text) == [
        "bp.yaml:9: environments.prod.zones[1]: 'europe-west4-z' is not a zone of "
        "europe-west4, which has europe-west4-a, europe-west4-b, europe-west4-c: use one of "
        "them"]


def test_an_unknown_gcp_region(tmp_path: Path) -> None:
    text = GCP.replace("region: europe-west4", "region: europe-west44").replace(
        "zones: [europe-west4-a, europe-west4-b]", "zones: [europe-west44-a]")
    assert problems(tmp_path, text) == [
        "bp.yaml:8: environments.prod.region: 'europe-west44' is not a GCP region the catalog "
        "knows: did you mean 'europe-west4'?"]


def test_a_misspelt_gcp_quota_metric(tmp_path: Path) -> None:
    text = GCP.replace("NVIDIA_H100_GPUS: 16", "NVIDIA_H100_GPU: 16")
    assert problems(tmp_path, text) == [
        "bp.yaml:11: environments.prod.gpu_quotas.NVIDIA_H100_GPU: 'NVIDIA_H100_GPU' is not a "
        "GCP GPU quota metric: did you mean 'NVIDIA_H100_GPUS'?"]


def test_a_misspelt_aws_quota_key(tmp_path: Path) -> None:
    text = GOOD.replace("    availability_zones: [eu-west-2a, eu-west-2b]\n",
                        "    availability_zones: [eu-west-2a, eu-west-2b]\n"
                        "    quotas: {on_demand_trn_vcpu: 96}\n")
    assert problems(tmp_path, text) == [
        "bp.yaml:9: environments.prod.quotas.on_demand_trn_vcpu: unknown key "
        "'on_demand_trn_vcpu': did you mean 'on_demand_trn_vcpus'?"]


def test_an_onprem_pool_larger_than_its_hosts(tmp_path: Path) -> None:
    from test_baremetal_spec import site_yaml

    text = site_yaml().replace("    min_nodes: 2\n    max_nodes: 2\n",
                               "    min_nodes: 2\n    max_nodes: 3\n")
    assert problems(tmp_path, text) == [
        "bp.yaml:44: pools.dc1-h100.max_nodes: max_nodes (3) is more than the 2 hosts of dc1: "
        "lower max_nodes to 2 or add hosts to the inventory and the pool"]


def test_a_gcp_pool_in_a_zone_of_another_environment(tmp_path: Path) -> None:
    text = GCP.replace("    max_nodes: 2\n", "    max_nodes: 2\n    zones: [europe-west4-c]\n")
    assert problems(tmp_path, text) == [
        "bp.yaml:18: pools.train.zones[0]: 'europe-west4-c' is not one of the environment's "
        "zones ['europe-west4-a', 'europe-west4-b']: pick from them, or add it to "
        "environments.prod.zones"]


def test_aws_pools_take_no_zones(tmp_path: Path) -> None:
    text = GOOD.replace("    max_nodes: 2\n", "    max_nodes: 2\n    zones: [eu-west-2a]\n")
    assert problems(tmp_path, text) == [
        "bp.yaml:15: pools.train.zones: AWS pools span the environment's availability_zones: "
        "remove zones (compact_placement puts the nodes in one zone)"]


def test_a_pool_on_an_accelerator_the_platform_cannot_run(tmp_path: Path) -> None:
    text = GOOD.replace("p5.48xlarge", "trn2.48xlarge")
    assert problems(tmp_path, text) == [
        "bp.yaml:12: pools.train.instance_type: trn2.48xlarge carries 16 x Trainium2 (aws), "
        "which pools cannot run yet: the platform layer installs NVIDIA's GPU operator and "
        "schedules nvidia.com/gpu; choose an NVIDIA type (`aifactory catalog instances "
        "--cloud aws`)"]


def test_a_type_error_and_a_dangling_reference_in_one_run(tmp_path: Path) -> None:
    text = GOOD.replace("max_nodes: 2", "max_nodes: two").replace(
        "    environment: prod", "    environment: prd")
    assert problems(tmp_path, text) == [
        "bp.yaml:11: pools.train.environment: 'prd' is not an environment: declared are "
        "['prod']",
        "bp.yaml:14: pools.train.max_nodes: Input should be a valid integer, unable to parse "
        "string as an integer, got 'two'"]


def test_a_python_repository_needs_a_gcp_registry(tmp_path: Path) -> None:
    text = GOOD + "registry: {environment: prod, repositories: [training], " \
        "python_repository: true}\n"
    assert problems(tmp_path, text) == [
        "bp.yaml:15: registry.python_repository: ECR holds container images only: a Python "
        "repository needs a GCP registry (Artifact Registry); remove python_repository"]


def test_gcs_replication_needs_a_region_of_the_same_multi_region(tmp_path: Path) -> None:
    text = GCP + "lakehouse:\n  environment: prod\n  zones: {raw: {}}\n" \
        "  replication: {region: europe-west2}\n"
    assert problems(tmp_path, text) == [
        "bp.yaml:21: lakehouse.replication.region: 'europe-west2' is not a region that pairs "
        "with europe-west4 in a Cloud Storage dual-region: use another region of the EU "
        "multi-region: europe-central2, europe-north1, europe-north2, europe-southwest1, "
        "europe-west1, europe-west10, europe-west12, europe-west3, europe-west8, europe-west9"]
