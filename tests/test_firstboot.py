"""First-boot files: every host's cloud-init and iPXE script, parsed and (when installed)
validated with cloud-init's own schema check."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES
from test_baremetal_spec import site_spec

from blueprints.compose import firstboot
from blueprints.spec import Blueprint, load

LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def hybrid() -> Blueprint:
    return load(EXAMPLES / "hybrid.yaml")


def write_files(user_data: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {f["path"]: f["content"] for f in user_data["write_files"]}


def kubelet_args(user_data: dict) -> dict[str, str]:  # type: ignore[type-arg]
    line = write_files(user_data)["/etc/default/kubelet"].strip()
    assert line.startswith('KUBELET_EXTRA_ARGS="') and line.endswith('"')
    return dict(arg.removeprefix("--").split("=", 1) for arg in line[20:-1].split())


def test_site_files_of_the_hybrid_example() -> None:
    files = firstboot.render_site_files(hybrid())
    assert len(files) == 16 * 3
    assert sorted(p for p in files if p.startswith("firstboot/dc1/dc1-dgx01/")) == [
        "firstboot/dc1/dc1-dgx01/boot.ipxe", "firstboot/dc1/dc1-dgx01/meta-data",
        "firstboot/dc1/dc1-dgx01/user-data"]


@pytest.mark.parametrize("spec_of", [hybrid, lambda: site_spec("metal3"),
                                     lambda: site_spec("tinkerbell"),
                                     lambda: site_spec("command")],
                         ids=["hybrid", "metal3", "tinkerbell", "command"])
def test_every_cloud_init_parses_and_starts_with_cloud_config(spec_of) -> None:  # type: ignore[no-untyped-def]
    files = firstboot.render_site_files(spec_of())
    user_data = {p: t for p, t in files.items() if p.endswith("/user-data")}
    assert user_data
    for path, text in user_data.items():
        assert text.startswith("#cloud-config\n"), path
        doc = yaml.safe_load(text)
        assert isinstance(doc, dict), path
        assert doc["hostname"] == path.split("/")[2]
    for path, text in files.items():
        if path.endswith("/meta-data"):
            assert yaml.safe_load(text) == {"instance-id": f"dc1-{path.split('/')[2]}",
                                            "local-hostname": path.split("/")[2]}


def test_cloud_init_installs_the_gpu_node() -> None:
    doc = yaml.safe_load(firstboot.render_user_data(hybrid(), "dc1", "dc1-dgx05"))
    assert doc["hostname"] == "dc1-dgx05"
    setup = write_files(doc)["/usr/local/sbin/aifactory-node-setup"]
    assert "apt_install nvidia-driver-570-server-open nvidia-fabricmanager-570\n" in setup
    assert "apt_install containerd nvidia-container-toolkit kubelet kubeadm\n" in setup
    assert "https://pkgs.k8s.io/core:/stable:/v1.33/deb/" in setup
    # NVSwitch on an 8-GPU DGX: fabric manager runs before the join, and before the kubelet on
    # every later boot; the driver is loaded first (or the host reboots once it has joined)
    driver = setup.index("apt_install nvidia-driver-570-server-open")
    load = setup.index("modprobe nvidia || driver_loaded=no")
    start = setup.index("systemctl enable --now nvidia-fabricmanager\n")
    assert driver < load < start < setup.index("kubeadm join")
    assert "  touch /var/run/reboot-required\n" in setup
    assert doc["power_state"]["condition"] == "test -f /var/run/reboot-required"
    dropin = write_files(doc)[
        "/etc/systemd/system/kubelet.service.d/20-aifactory-fabricmanager.conf"]
    assert dropin.splitlines()[-3:] == ["[Unit]", "Wants=nvidia-fabricmanager.service",
                                        "After=nvidia-fabricmanager.service"]
    containerd = tomllib.loads(write_files(doc)["/etc/containerd/config.toml"])
    cri = containerd["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
    assert cri["default_runtime_name"] == "nvidia"
    assert cri["runtimes"]["nvidia"]["options"] == {
        "BinaryName": "/usr/bin/nvidia-container-runtime", "SystemdCgroup": True}
    assert doc["runcmd"][-1] == ["/usr/local/sbin/aifactory-node-setup"]


def test_fabric_manager_only_on_nvswitch_servers() -> None:
    def setup_of(server_model: str) -> str:
        spec = hybrid()
        site = spec.environments["dc1"]
        hosts = [h.model_copy(update={"server_model": server_model})
                 for h in site.hosts]  # type: ignore[union-attr]
        site = site.model_copy(update={"hosts": hosts})
        spec = spec.model_copy(update={"environments": {**spec.environments, "dc1": site}})
        doc = yaml.safe_load(firstboot.render_user_data(spec, "dc1", "dc1-dgx02"))
        files = write_files(doc)
        return "\n".join(files) + "\n" + files["/usr/local/sbin/aifactory-node-setup"]

    assert "systemctl enable --now nvidia-fabricmanager" in setup_of("hgx-h100-8gpu")
    pcie = setup_of("l40s-4gpu")  # no NVSwitch: no fabric manager, but the driver loads now
    assert "fabricmanager" not in pcie
    assert "modprobe nvidia || driver_loaded=no" in pcie


def test_kubelet_registers_with_the_gpu_taint_and_labels() -> None:
    doc = yaml.safe_load(firstboot.render_user_data(hybrid(), "dc1", "dc1-dgx05"))
    args = kubelet_args(doc)
    assert args["register-with-taints"] == "nvidia.com/gpu=present:NoSchedule"
    labels = dict(kv.split("=", 1) for kv in args["node-labels"].split(","))
    assert labels == {
        "aifactory.io/factory": "acme-hybrid", "aifactory.io/site": "dc1",
        "aifactory.io/rack": "r2", "aifactory.io/pool": "dc1-h100",
        "aifactory.io/server-model": "dgx-h100", "aifactory.io/gpu": "h100-sxm5",
        "aifactory.io/role": "gpu", "aifactory.io/fabric": "infiniband",
        "aifactory.io/fabric-leaf": "ib-leaf", "workload": "training"}
    for key, value in labels.items():
        assert LABEL_KEY.match(key) and LABEL_VALUE.match(value), (key, value)
        # the NodeRestriction admission plugin refuses kubelet-set labels in these domains
        assert not key.split("/")[0].endswith(("kubernetes.io", "k8s.io"))


def test_pool_taints_replace_the_default() -> None:
    spec = hybrid()
    pool = spec.pools["dc1-h100"].model_copy(update={"taints": []})
    spec = spec.model_copy(update={"pools": {**spec.pools, "dc1-h100": pool}})
    args = kubelet_args(yaml.safe_load(firstboot.render_user_data(spec, "dc1", "dc1-dgx01")))
    assert "register-with-taints" not in args


def test_join_reads_the_token_from_a_file_and_holds_no_secret() -> None:
    text = firstboot.render_user_data(hybrid(), "dc1", "dc1-dgx01")
    setup = write_files(yaml.safe_load(text))["/usr/local/sbin/aifactory-node-setup"]
    assert "token_file=/etc/aifactory/join-token\n" in setup
    assert ("kubeadm join k8s.dc1.acme.internal:6443 --node-name dc1-dgx01 \\\n"
            '  --token "$(cat "$token_file")" --discovery-token-ca-cert-hash "$ca_hash"') in setup
    assert ("ca_hash=sha256:8a4c1f0e6b2d93a7c5e4f1b0d2a3c6e9f8b7a6d5c4e3f2a1b0c9d8e7f6a5b4c3"
            in setup)
    # Metal3 delivers the token through the host's metaData
    assert "cloud-init query ds.meta_data.aifactory_join_token" in setup
    assert "dc1_join_token" not in text  # not even the config key: the host reads a file


def test_tinkerbell_site_reads_the_token_its_workflow_wrote() -> None:
    text = firstboot.render_user_data(site_spec("tinkerbell"), "dc1", "gpu01")
    assert ("# provisioner writes (the Tinkerbell workflow writes it from the host's join-token "
            "Secret).\n") in text
    setup = write_files(yaml.safe_load(text))["/usr/local/sbin/aifactory-node-setup"]
    assert f"token_file={firstboot.JOIN_TOKEN_PATH}\n" in setup
    assert "cloud-init query" not in setup
    assert "dc1_join_token" not in text


def test_joins_pin_the_cluster_ca_from_the_blueprint() -> None:
    spec = site_spec("command")
    setup = write_files(yaml.safe_load(firstboot.render_user_data(spec, "dc1", "gpu01")))[
        "/usr/local/sbin/aifactory-node-setup"]
    expected = spec.environments["dc1"].cluster.ca_cert_hash  # type: ignore[union-attr]
    assert f"ca_hash={expected}\n" in setup
    assert '--discovery-token-ca-cert-hash "$ca_hash"' in setup
    assert "cloud-init query" not in setup  # only Metal3 carries the token in metaData


def test_ipxe_boots_the_deploy_kernel_with_the_image_and_seed() -> None:
    script = firstboot.render_ipxe(site_spec("command"), "dc1", "gpu02")
    lines = script.splitlines()
    assert lines[0] == "#!ipxe"
    assert "set image-url https://images.dc1.example/ubuntu-24.04-server-cloudimg-amd64.img" \
        in lines
    assert "set seed-url http://10.20.0.5/firstboot/dc1/gpu02/" in lines
    kernel = next(line for line in lines if line.startswith("kernel "))
    assert kernel.startswith("kernel --name vmlinuz http://10.20.0.5/deploy/vmlinuz initrd=initrd")
    assert "BOOTIF=01-3c-fd-fe-b4-10-02" in kernel
    assert "ds=nocloud-net;s=${seed-url}" in kernel
    assert "aifactory.install_disk=/dev/nvme0n1" in kernel
    assert "initrd --name initrd http://10.20.0.5/deploy/initrd || goto local" in lines
    assert lines.index("boot || goto local") < lines.index(":local")
    assert lines[-1] == "exit"


def test_ipxe_without_netboot_boots_the_installed_system() -> None:
    script = firstboot.render_ipxe(hybrid(), "dc1", "dc1-dgx01")
    lines = script.splitlines()
    assert lines[0] == "#!ipxe"
    assert not any(line.startswith(("kernel ", "initrd ")) for line in lines)
    assert lines[-3:] == [":local", "echo ai-factory: booting dc1-dgx01 from its local disk",
                          "exit"]


def test_unknown_host_is_a_clear_error() -> None:
    with pytest.raises(ValueError) as e:
        firstboot.render_user_data(hybrid(), "dc1", "dc1-dgx99")
    assert str(e.value) == "'dc1-dgx99' is not in the inventory of 'dc1'"


@pytest.mark.skipif(shutil.which("cloud-init") is None,
                    reason="cloud-init is not installed (apt-get install cloud-init)")
@pytest.mark.parametrize("hook", ["metal3", "tinkerbell", "command"])
def test_cloud_init_schema_accepts_the_user_data(hook: str, tmp_path: Path) -> None:
    spec = hybrid() if hook == "metal3" else site_spec(hook)
    files = firstboot.render_site_files(spec)
    path = next(p for p in files if p.endswith("/user-data"))
    target = tmp_path / "user-data"
    target.write_text(files[path])
    result = subprocess.run(["cloud-init", "schema", "--config-file", str(target)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"Valid cloud-config: {target}"
