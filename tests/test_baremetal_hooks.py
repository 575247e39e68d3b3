"""Provisioning hooks, recorded: Metal3, Tinkerbell and command resources of an own site."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml
from conftest import SHARED, Recorded, spec_from_yaml
from test_baremetal_spec import site_spec, site_yaml

from aifactory.plan.recorder import SECRET_MASK, record
from blueprints.compose import firstboot
from blueprints.compose.facts import factory_facts
from blueprints.compose.onprem import build_environment
from blueprints.errors import ComponentArgsError
from blueprints.spec import Blueprint
from components.baremetal import (
    CommandHost,
    CommandHostArgs,
    GpuPool,
    GpuPoolArgs,
    Metal3Host,
    Metal3HostArgs,
    TinkerbellTemplate,
    TinkerbellTemplateArgs,
)
from components.baremetal.boot import digest
from components.baremetal.command import command_environment
from components.factory import Factory, FactoryArgs

BMC_PASSWORD = "bmc-pw-do-not-leak"
JOIN_TOKEN = "abcdef.0123456789abcdef"
KUBECONFIG = "apiVersion: v1\nkind: Config\n# kubeconfig-do-not-leak\n"
STACK_SECRETS = {
    "aifactory:dc1_bmc": f"admin:{BMC_PASSWORD}",
    "aifactory:dc1_join_token": JOIN_TOKEN,
    "aifactory:dc1_kubeconfig": KUBECONFIG,
}
CRDS = SHARED / "crds"
VALIDATE_CRS = SHARED / "tools" / "validate_crs.py"


def record_site(spec: Blueprint) -> Recorded:
    """Build the factory and its site with the stack secrets set, as `pulumi up` would."""

    def program() -> None:
        factory = Factory(spec.name, FactoryArgs(facts=factory_facts(spec)))
        build_environment(spec, "dc1", spec.environments["dc1"], factory)  # type: ignore[arg-type]

    return Recorded(record(program, project="test", stack="test",
                           config=STACK_SECRETS, secret_keys=list(STACK_SECRETS)))


@pytest.fixture(scope="module")
def metal3() -> Recorded:
    return record_site(site_spec("metal3"))


@pytest.fixture(scope="module")
def tinkerbell() -> Recorded:
    return record_site(site_spec("tinkerbell"))


@pytest.fixture(scope="module")
def command_hook() -> Recorded:
    return record_site(site_spec("command"))


def no_secret_in(rec: Recorded) -> None:
    text = json.dumps([r.to_json() for r in rec.all])
    for value in (BMC_PASSWORD, JOIN_TOKEN, "kubeconfig-do-not-leak"):
        assert value not in text


# --- the site and its cluster ----------------------------------------------------------------


def test_site_cluster_is_reached_through_a_secret_kubeconfig(metal3: Recorded) -> None:
    provider = metal3.one("pulumi:providers:kubernetes", "dc1-kubernetes")
    assert provider.inputs["kubeconfig"] == SECRET_MASK
    assert provider.inputs["clusterIdentifier"] == "https://k8s.dc1.example:6443"
    site = metal3.one("aifactory:baremetal:Site", "dc1")
    assert site.parent == metal3.one("aifactory:factory:Factory").urn
    bmh = metal3.one("kubernetes:metal3.io/v1alpha1:BareMetalHost", "dc1-gpu01-bmh")
    assert bmh.provider == provider.urn


def test_provisioning_namespace_is_protected(metal3: Recorded) -> None:
    ns = metal3.one("kubernetes:core/v1:Namespace", "dc1-provisioning")
    assert ns.protect is True
    assert ns.inputs["metadata"]["name"] == "baremetal"
    assert ns.inputs["metadata"]["labels"]["aifactory.io/site"] == "dc1"


def test_host_carries_its_facts_and_its_hook(metal3: Recorded) -> None:
    host = metal3.one("aifactory:baremetal:Host", "dc1-gpu01")
    assert host.inputs == {"environment": "dc1", "hostname": "gpu01", "rack": "r1",
                           "serverModel": "dgx-h100", "gpuModel": "h100-sxm5", "gpus": 8,
                           "itLoadKw": 10.2, "serverCooling": "air", "role": "gpu",
                           "storageTb": 0}
    assert host.parent == metal3.one("aifactory:baremetal:Site").urn
    hook = metal3.one("aifactory:baremetal:Metal3Host", "dc1-gpu01")
    assert hook.parent == host.urn


def test_cooling_facts_a_rule_needs_are_inputs(metal3: Recorded) -> None:
    # server cooling from the catalog on the Host, rack cooling and limit on the Site
    site = metal3.one("aifactory:baremetal:Site", "dc1")
    assert site.inputs["racks"] == [{"name": "r1", "powerLimitKw": 45, "cooling": "liquid",
                                     "otherKw": 0, "equipment": []}]
    host = metal3.one("aifactory:baremetal:Host", "dc1-gpu02")
    assert (host.inputs["rack"], host.inputs["serverCooling"]) == ("r1", "air")


def test_gpu_pool_carries_pool_facts_and_its_hosts(metal3: Recorded) -> None:
    pool = metal3.one("aifactory:baremetal:GpuPool", "dc1-h100")
    assert pool.parent == metal3.one("aifactory:baremetal:Site").urn
    assert pool.inputs["hosts"] == ["gpu01", "gpu02"]
    assert pool.inputs["cloud"] == "onprem"
    assert pool.inputs["region"] == "DE"
    assert (pool.inputs["gpuModel"], pool.inputs["gpusPerNode"]) == ("h100-sxm5", 8)
    assert (pool.inputs["minNodes"], pool.inputs["maxNodes"]) == (2, 2)


# --- Metal3 ----------------------------------------------------------------------------------


def test_metal3_baremetalhost(metal3: Recorded) -> None:
    bmh = metal3.one("kubernetes:metal3.io/v1alpha1:BareMetalHost", "dc1-gpu02-bmh")
    assert bmh.protect is True
    assert bmh.inputs["metadata"]["name"] == "gpu02"
    assert bmh.inputs["metadata"]["namespace"] == "baremetal"
    spec = bmh.inputs["spec"]
    assert spec["online"] is True
    assert spec["bootMACAddress"] == "3c:fd:fe:b4:10:02"
    assert spec["bmc"] == {"address": "redfish+https://10.20.8.12/redfish/v1/Systems/1",
                           "credentialsName": "gpu02-bmc"}
    assert spec["image"] == {
        "url": "https://images.dc1.example/ubuntu-24.04-server-cloudimg-amd64.img",
        "checksum": "ab" * 32, "checksumType": "sha256", "format": "qcow2"}
    assert spec["rootDeviceHints"] == {"deviceName": "/dev/nvme0n1"}
    assert spec["userData"] == {"name": "gpu02-user-data", "namespace": "baremetal"}
    assert spec["metaData"] == {"name": "gpu02-meta-data", "namespace": "baremetal"}
    assert spec["automatedCleaningMode"] == "metadata"


def test_metal3_secrets_are_masked(metal3: Recorded) -> None:
    bmc = metal3.one("kubernetes:core/v1:Secret", "dc1-gpu01-bmc")
    assert bmc.inputs["metadata"]["name"] == "gpu01-bmc"
    # a secret map keeps its keys, each value masked: a Secret stays a valid object
    assert bmc.inputs["stringData"] == {"password": SECRET_MASK, "username": SECRET_MASK}
    meta = metal3.one("kubernetes:core/v1:Secret", "dc1-gpu01-meta-data")
    assert meta.inputs["stringData"] == {"metaData": SECRET_MASK}
    bmh = metal3.one("kubernetes:metal3.io/v1alpha1:BareMetalHost", "dc1-gpu01-bmh")
    assert bmc.urn in bmh.dependencies and meta.urn in bmh.dependencies
    no_secret_in(metal3)


# --- Tinkerbell ------------------------------------------------------------------------------


def test_tinkerbell_hardware(tinkerbell: Recorded) -> None:
    hw = tinkerbell.one("kubernetes:tinkerbell.org/v1alpha1:Hardware", "dc1-gpu01-hardware")
    spec = hw.inputs["spec"]
    iface = spec["interfaces"][0]
    assert iface["netboot"] == {"allowPXE": True, "allowWorkflow": True}
    assert iface["dhcp"]["mac"] == "3c:fd:fe:b4:10:01"
    assert iface["dhcp"]["hostname"] == "gpu01"
    assert iface["dhcp"]["ip"] == {"address": "10.20.0.11", "netmask": "255.255.252.0",
                                   "gateway": "10.20.0.1", "family": 4}
    assert iface["dhcp"]["name_servers"] == ["10.20.0.2"]
    assert spec["disks"] == [{"device": "/dev/nvme0n1"}]
    assert spec["metadata"]["instance"]["hostname"] == "gpu01"
    assert spec["metadata"]["facility"] == {"facility_code": "dc1"}
    assert spec["userData"] == firstboot.render_user_data(site_spec("tinkerbell"), "dc1",
                                                          "gpu01")


def test_tinkerbell_template_images_and_points_cloud_init_at_hegel(tinkerbell: Recorded) -> None:
    template = tinkerbell.one("kubernetes:tinkerbell.org/v1alpha1:Template",
                              "dc1-tinkerbell-template")
    assert template.inputs["metadata"]["name"] == "acme-dc1"
    workflow = yaml.safe_load(template.inputs["spec"]["data"])
    task = workflow["tasks"][0]
    assert task["worker"] == "{{.device_1}}"
    actions = {a["name"]: a for a in task["actions"]}
    assert list(actions) == ["stream-image", "cloud-init-datasource", "cloud-init-ds-identify",
                             "join-token", "reboot"]
    assert actions["stream-image"]["image"] == "quay.io/tinkerbell/actions/qemuimg2disk:v1.0.0"
    assert actions["stream-image"]["environment"] == {
        "IMG_URL": "https://images.dc1.example/ubuntu-24.04-server-cloudimg-amd64.img",
        "DEST_DISK": "/dev/nvme0n1"}
    ds = actions["cloud-init-datasource"]["environment"]
    assert ds["DEST_DISK"] == "/dev/nvme0n1p1"
    assert yaml.safe_load(ds["CONTENTS"])["datasource"]["Ec2"]["metadata_urls"] == [
        "http://10.20.0.5:50061"]
    assert len(tinkerbell.of_type("kubernetes:tinkerbell.org/v1alpha1:Template")) == 1


def test_tinkerbell_delivers_the_join_token_from_a_referenced_secret(
        tinkerbell: Recorded) -> None:
    # the host's Secret holds the token (masked); its Hardware references it by name
    secret = tinkerbell.one("kubernetes:core/v1:Secret", "dc1-gpu02-join-token")
    assert secret.inputs["metadata"]["name"] == "gpu02-join-token"
    assert secret.inputs["metadata"]["namespace"] == "baremetal"
    assert secret.inputs["stringData"] == {"token": SECRET_MASK}
    hw = tinkerbell.one("kubernetes:tinkerbell.org/v1alpha1:Hardware", "dc1-gpu02-hardware")
    assert hw.inputs["spec"]["references"] == {"join_token": {
        "name": "gpu02-join-token", "namespace": "baremetal", "resource": "secrets",
        "version": "v1"}}
    # the site's Template writes it to the installed disk, where cloud-init's setup reads it
    template = tinkerbell.one("kubernetes:tinkerbell.org/v1alpha1:Template")
    actions = {a["name"]: a for a in yaml.safe_load(template.inputs["spec"]["data"])[
        "tasks"][0]["actions"]}
    assert actions["join-token"]["image"] == "quay.io/tinkerbell/actions/writefile:v1.0.0"
    assert actions["join-token"]["environment"] == {
        "DEST_DISK": "/dev/nvme0n1p1", "FS_TYPE": "ext4", "DEST_PATH": firstboot.JOIN_TOKEN_PATH,
        "CONTENTS": "{{ .references.join_token.data.token | b64dec }}", "UID": "0", "GID": "0",
        "MODE": "0600", "DIRMODE": "0700"}
    # the Workflow renders only once the Secret and the Hardware exist
    wf = tinkerbell.one("kubernetes:tinkerbell.org/v1alpha1:Workflow", "dc1-gpu02-workflow")
    assert {secret.urn, hw.urn} <= set(wf.dependencies)
    no_secret_in(tinkerbell)


def test_tinkerbell_workflow_per_host_is_protected(tinkerbell: Recorded) -> None:
    workflows = tinkerbell.of_type("kubernetes:tinkerbell.org/v1alpha1:Workflow")
    assert sorted(w.name for w in workflows) == ["dc1-gpu01-workflow", "dc1-gpu02-workflow"]
    wf = tinkerbell.one("kubernetes:tinkerbell.org/v1alpha1:Workflow", "dc1-gpu02-workflow")
    assert wf.protect is True
    assert wf.inputs["spec"] == {"templateRef": "acme-dc1", "hardwareRef": "gpu02",
                                 "hardwareMap": {"device_1": "3c:fd:fe:b4:10:02"}}
    no_secret_in(tinkerbell)


# --- command ---------------------------------------------------------------------------------


def test_command_hook_runs_the_sites_script_with_masked_secrets(command_hook: Recorded) -> None:
    cmd = command_hook.one("command:local:Command", "dc1-gpu01-provision")
    assert cmd.protect is True
    assert cmd.parent == command_hook.one("aifactory:baremetal:CommandHost", "dc1-gpu01").urn
    assert cmd.inputs["create"] == "./provision.sh"
    assert cmd.inputs["delete"] == "./deprovision.sh"
    # no `update` in the blueprint: a change of the first-boot files runs create again
    assert cmd.inputs["update"] == "./provision.sh"
    # the map holds the BMC credentials and the join token: it is secret as a whole, so every
    # value is masked (the variable names are kept)
    env = cmd.inputs["environment"]
    assert {"HOSTNAME", "BMC_CREDENTIALS", "JOIN_TOKEN", "USER_DATA"} <= set(env)
    assert set(env.values()) == {SECRET_MASK}
    # triggers are replace-on-change in pulumi-command, and a protected resource cannot be
    # replaced: changed first-boot files must reach the command as an in-place update
    assert "triggers" not in cmd.inputs
    assert not command_hook.of_type("kubernetes:core/v1:Namespace")  # no CRs, no namespace
    no_secret_in(command_hook)


def command_args(**changes: object) -> CommandHostArgs:
    spec = site_spec("command")
    fields: dict[str, object] = dict(
        hostname="gpu01", create="./provision.sh", update="./reseed.sh",
        delete="./deprovision.sh", bmc_address="redfish://10.20.8.11",
        bmc_credentials="admin:pw", boot_mac="3c:fd:fe:b4:10:01",
        image_url="https://images.example/u.img", image_checksum="sha256:" + "ab" * 32,
        user_data=firstboot.render_user_data(spec, "dc1", "gpu01"),
        ipxe_script=firstboot.render_ipxe(spec, "dc1", "gpu01"), join_token="t",
        join_token_path=firstboot.JOIN_TOKEN_PATH)
    fields.update(changes)
    return CommandHostArgs(**fields)  # type: ignore[arg-type]


def test_command_hook_runs_the_blueprints_update_command() -> None:
    text = site_yaml(hook="command").replace(
        "        delete: ./deprovision.sh\n",
        "        update: ./reseed.sh\n        delete: ./deprovision.sh\n")
    rec = record_site(spec_from_yaml(text))
    cmd = rec.one("command:local:Command", "dc1-gpu02-provision")
    assert (cmd.inputs["create"], cmd.inputs["update"]) == ("./provision.sh", "./reseed.sh")


def test_command_hook_environment(run) -> None:  # type: ignore[no-untyped-def]
    args = command_args()
    seen: dict[str, object] = {}
    run(lambda: seen.update(command_environment(args)))
    secret = {k for k, v in seen.items() if isinstance(v, pulumi.Output)}
    assert secret == {"BMC_CREDENTIALS", "JOIN_TOKEN"}
    assert {k: v for k, v in seen.items() if k not in secret} == {
        "HOSTNAME": "gpu01", "BMC_ADDRESS": "redfish://10.20.8.11",
        "BOOT_MAC": "3c:fd:fe:b4:10:01", "IMAGE_URL": "https://images.example/u.img",
        "IMAGE_CHECKSUM": "sha256:" + "ab" * 32, "USER_DATA": args.user_data,
        "USER_DATA_SHA256": digest(args.user_data), "IPXE_SCRIPT": args.ipxe_script,
        "IPXE_SCRIPT_SHA256": digest(args.ipxe_script),
        "JOIN_TOKEN_PATH": "/etc/aifactory/join-token"}
    assert args.ipxe_script.startswith("#!ipxe\n")
    assert "kernel --name vmlinuz" in args.ipxe_script  # the site's netboot, per host


def test_changed_first_boot_files_update_the_command_in_place(run) -> None:  # type: ignore[no-untyped-def]
    def provision(args: CommandHostArgs) -> dict[str, object]:
        rec = run(lambda: CommandHost("c", args))
        cmd = rec.one("command:local:Command", "c-provision")
        assert cmd.protect is True
        return cmd.inputs

    before = provision(command_args())
    after = provision(command_args(user_data=command_args().user_data + "# changed\n"))
    # only the (secret) environment differs: Pulumi plans an update, which runs `update`
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed <= {"environment"}
    assert after["update"] == "./reseed.sh"
    assert "triggers" not in after
    # a stack deployed with the old `triggers` keeps them in state: ignoring them there is what
    # keeps its first update from becoming a replacement
    options: list[pulumi.ResourceOptions] = []

    def capture(a: pulumi.ResourceTransformationArgs) -> None:
        if a.type_ == "command:local:Command":
            options.append(a.opts)

    run(lambda: CommandHost("c", command_args(),
                            pulumi.ResourceOptions(transformations=[capture])))
    assert [o.ignore_changes for o in options] == [["triggers"]]
    seen: list[dict[str, pulumi.Input[str]]] = []
    run(lambda: seen.extend([command_environment(command_args()), command_environment(
        command_args(user_data=command_args().user_data + "# changed\n"))]))
    assert seen[0]["USER_DATA_SHA256"] != seen[1]["USER_DATA_SHA256"]


# --- custom resources against the upstream CRD schemas ---------------------------------------


@pytest.mark.skipif(not CRDS.is_dir() or not VALIDATE_CRS.is_file(),
                    reason="../shared/crds (upstream CRD schemas) not present")
@pytest.mark.parametrize("hook", ["metal3", "tinkerbell"])
def test_custom_resources_validate_against_upstream_crds(
        hook: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    rec: Recorded = request.getfixturevalue(hook)
    group = {"metal3": "metal3.io/", "tinkerbell": "tinkerbell.org/"}[hook]
    docs = [{k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
            for r in rec.all if str(r.inputs.get("apiVersion", "")).startswith(group)]
    assert len(docs) == {"metal3": 2, "tinkerbell": 5}[hook]  # Template, Hardware, Workflow x2
    (tmp_path / "crs.yaml").write_text(yaml.safe_dump_all(docs))
    result = subprocess.run([sys.executable, str(VALIDATE_CRS), "--strict", str(tmp_path)],
                            capture_output=True, text=True, check=False)
    assert result.stdout.splitlines()[-1] == (
        f"{len(docs)} custom resources checked, 0 of other kinds skipped, 0 errors")
    assert result.returncode == 0


# --- argument errors -------------------------------------------------------------------------


def metal3_args(**changes: object) -> Metal3HostArgs:
    fields: dict[str, object] = dict(
        hostname="gpu01", namespace="baremetal", bmc_address="redfish://10.0.8.11",
        bmc_credentials="admin:pw", boot_mac="3c:fd:fe:b4:10:01",
        image_url="https://images.example/ubuntu.img", image_checksum="sha256:" + "ab" * 32,
        install_disk="/dev/nvme0n1", user_data="#cloud-config\n", join_token="t")
    fields.update(changes)
    return Metal3HostArgs(**fields)  # type: ignore[arg-type]


def test_metal3_rejects_a_checksum_without_algorithm(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: Metal3Host("h", metal3_args(image_checksum="ab" * 32)))
    assert str(e.value) == (f"Metal3Host h: `image_checksum` ('{'ab' * 32}') must read "
                            "sha256:<hex> or sha512:<hex>")


def test_metal3_rejects_a_bmc_it_cannot_drive(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: Metal3Host("h", metal3_args(bmc_address="https://10.0.8.11")))
    assert str(e.value) == (
        "Metal3Host h: `bmc_address` ('https://10.0.8.11') needs a scheme Metal3 drives: "
        "redfish, redfish+http, redfish+https, ipmi, idrac-redfish, ilo5-redfish")


def test_tinkerbell_template_rejects_a_disk_that_is_no_device(run) -> None:  # type: ignore[no-untyped-def]
    args = TinkerbellTemplateArgs(template_name="t", namespace="tink", image_url="http://i/x.img",
                                  install_disk="nvme0n1", root_partition=1,
                                  metadata_url="http://10.0.0.5:50061")
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: TinkerbellTemplate("t", args))
    assert str(e.value) == ("TinkerbellTemplate t: `install_disk` ('nvme0n1') must be a device "
                            "such as /dev/nvme0n1")


@pytest.mark.parametrize("field", ["create", "update", "delete"])
def test_command_hook_rejects_an_empty_command(run, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: CommandHost("c", command_args(**{field: " "})))
    assert str(e.value) == (f"CommandHost c: `{field}` is empty: give the command the site's "
                            "tooling runs")


def test_command_hook_rejects_a_script_that_is_no_ipxe(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: CommandHost("c", command_args(ipxe_script="kernel x\n")))
    assert str(e.value) == ("CommandHost c: `ipxe_script` must start with #!ipxe: pass "
                            "blueprints.compose.firstboot.render_ipxe()")


def test_gpu_pool_needs_hosts(run) -> None:  # type: ignore[no-untyped-def]
    from blueprints.compose.facts import pool_facts

    spec = site_spec()
    facts = pool_facts(spec, "dc1-h100", spec.pools["dc1-h100"])
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: GpuPool("p", GpuPoolArgs(facts=facts, hostnames=[])))
    assert str(e.value) == ("GpuPool p: `hostnames` is empty: a pool needs at least one host of "
                            "the site")
