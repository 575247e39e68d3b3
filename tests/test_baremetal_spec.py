"""The site model: what a blueprint with an own data centre may say, and what it may not."""

from __future__ import annotations

import pytest
from conftest import spec_from_yaml

from blueprints.spec import Blueprint, BlueprintError

HOST = """\
      - hostname: {hostname}
        rack: {rack}
        server_model: dgx-h100
        bmc_address: {bmc}
        boot_mac: "{mac}"
        bmc_credentials: dc1_bmc
        boot_ip: {ip}
"""

SITE = """\
name: acme
tags: {{owner: ml-platform, cost_centre: CC-1, data_classification: internal}}
environments:
  dc1:
    kind: onprem
    country: DE
    power_budget_kw: 60
    pue: 1.3
    feeds: {{a_kw: 40, b_kw: 40}}
    racks:
      r1: {{power_limit_kw: 45, cooling: liquid}}
    boot_network: {{cidr: 10.20.0.0/22, gateway: 10.20.0.1, name_servers: [10.20.0.2]}}
    hosts:
{hosts}    provisioning:
      hook: {hook}
      namespace: baremetal
      image_url: https://images.dc1.example/ubuntu-24.04-server-cloudimg-amd64.img
      image_checksum: sha256:{checksum}
{extra}    cluster:
      kubeconfig: dc1_kubeconfig
      api_endpoint: https://k8s.dc1.example:6443
      join_token: dc1_join_token
      storage_class: local-path
      ca_cert_hash: sha256:{checksum}
pools:
  dc1-h100:
    environment: dc1
    accelerator: h100-sxm5
    min_nodes: {n}
    max_nodes: {n}
    labels: {{workload: training}}
"""

HOOK_EXTRA = {
    "metal3": "",
    "tinkerbell": "      metadata_url: http://10.20.0.5:50061\n",
    "command": "      command:\n"
               "        create: ./provision.sh\n"
               "        delete: ./deprovision.sh\n"
               "      netboot:\n"
               "        kernel_url: http://10.20.0.5/deploy/vmlinuz\n"
               "        initrd_url: http://10.20.0.5/deploy/initrd\n"
               "        seed_url: http://10.20.0.5/firstboot\n",
}


def host(i: int, **changes: str) -> dict[str, str]:
    """Fields of the i-th host (1-based), with changes."""
    fields = {"hostname": f"gpu{i:02d}", "rack": "r1",
              "bmc": f"redfish+https://10.20.8.{10 + i}/redfish/v1/Systems/1",
              "mac": f"3c:fd:fe:b4:10:{i:02x}", "ip": f"10.20.0.{10 + i}"}
    fields.update(changes)
    return fields


def site_yaml(hosts: list[dict[str, str]] | None = None, hook: str = "metal3") -> str:
    """A one-site blueprint (default: two DGX H100 in one liquid-cooled rack)."""
    hosts = hosts if hosts is not None else [host(1), host(2)]
    return SITE.format(hosts="".join(HOST.format(**h) for h in hosts), hook=hook,
                       extra=HOOK_EXTRA[hook], checksum="ab" * 32, n=len(hosts))


def site_spec(hook: str = "metal3", hosts: list[dict[str, str]] | None = None) -> Blueprint:
    """The one-site blueprint, loaded."""
    return spec_from_yaml(site_yaml(hosts, hook))


def errors_of(text: str) -> list[str]:
    with pytest.raises(BlueprintError) as e:
        spec_from_yaml(text)
    return str(e.value).splitlines()


@pytest.mark.parametrize("hook", ["metal3", "tinkerbell", "command"])
def test_a_site_loads_with_each_hook(hook: str) -> None:
    spec = site_spec(hook)
    site = spec.environments["dc1"]
    assert site.kind == "onprem"
    assert site.provisioning.hook == hook
    assert [h.hostname for h in site.hosts] == ["gpu01", "gpu02"]
    assert site.boot_network is not None and site.boot_network.gateway == "10.20.0.1"


def test_host_in_an_undeclared_rack() -> None:
    assert errors_of(site_yaml([host(1), host(2, rack="r9")])) == [
        "test.yaml:22: environments.dc1.hosts[1].rack: gpu02 is in rack 'r9', which is not "
        "declared: racks are ['r1']"
    ]


def test_duplicate_hostname() -> None:
    assert errors_of(site_yaml([host(1), host(2, hostname="gpu01")])) == [
        "test.yaml:21: environments.dc1.hosts[1].hostname: 'gpu01' repeats hosts[0].hostname: "
        "each host needs its own hostname"
    ]


def test_duplicate_boot_mac() -> None:
    assert errors_of(site_yaml([host(1), host(2, mac="3c:fd:fe:b4:10:01")])) == [
        "test.yaml:25: environments.dc1.hosts[1].boot_mac: '3c:fd:fe:b4:10:01' repeats "
        "hosts[0].boot_mac: each host needs its own boot_mac"
    ]


def test_duplicate_bmc_address() -> None:
    bmc = "redfish+https://10.20.8.11/redfish/v1/Systems/1"
    assert errors_of(site_yaml([host(1), host(2, bmc=bmc)])) == [
        f"test.yaml:24: environments.dc1.hosts[1].bmc_address: '{bmc}' repeats "
        "hosts[0].bmc_address: each host needs its own bmc_address"
    ]


def test_duplicate_boot_ip() -> None:
    assert errors_of(site_yaml([host(1), host(2, ip="10.20.0.11")])) == [
        "test.yaml:27: environments.dc1.hosts[1].boot_ip: '10.20.0.11' repeats "
        "hosts[0].boot_ip: each host needs its own boot_ip"
    ]


def test_malformed_bmc_address() -> None:
    assert errors_of(site_yaml([host(1), host(2, bmc="https://10.20.8.12")])) == [
        "test.yaml:24: environments.dc1.hosts[1].bmc_address: 'https://10.20.8.12' is not "
        "valid: expected BMC address, e.g. redfish://10.0.0.5/redfish/v1/Systems/1"
    ]


def test_malformed_boot_mac() -> None:
    assert errors_of(site_yaml([host(1), host(2, mac="3c-fd-fe-b4-10-02")])) == [
        "test.yaml:25: environments.dc1.hosts[1].boot_mac: '3c-fd-fe-b4-10-02' is not valid: "
        "expected a MAC address in lower case, such as 3c:ec:ef:00:00:01"
    ]


def test_malformed_boot_ip() -> None:
    assert errors_of(site_yaml([host(1), host(2, ip="10.20.0.300")])) == [
        "test.yaml:27: environments.dc1.hosts[1].boot_ip: '10.20.0.300' is not an IPv4 "
        "address such as 10.10.0.21"
    ]


def test_boot_ip_outside_the_boot_network() -> None:
    assert errors_of(site_yaml([host(1), host(2, ip="10.30.0.12")])) == [
        "test.yaml:27: environments.dc1.hosts[1].boot_ip: 10.30.0.12 is outside the boot "
        "network 10.20.0.0/22"
    ]


def test_every_problem_is_reported_at_its_line() -> None:
    bad = host(2, rack="r9", hostname="gpu01", mac="3c:fd:fe:b4:10:01")
    assert errors_of(site_yaml([host(1), bad])) == [
        "test.yaml:21: environments.dc1.hosts[1].hostname: 'gpu01' repeats hosts[0].hostname: "
        "each host needs its own hostname",
        "test.yaml:22: environments.dc1.hosts[1].rack: gpu01 is in rack 'r9', which is not "
        "declared: racks are ['r1']",
        "test.yaml:25: environments.dc1.hosts[1].boot_mac: '3c:fd:fe:b4:10:01' repeats "
        "hosts[0].boot_mac: each host needs its own boot_mac",
    ]


def test_tinkerbell_needs_the_metadata_url() -> None:
    text = site_yaml(hook="tinkerbell").replace("      metadata_url: http://10.20.0.5:50061\n",
                                                "")
    assert errors_of(text) == [
        "test.yaml:29: environments.dc1.provisioning.hook: hook 'tinkerbell' needs "
        "`metadata_url`, the Hegel URL such as http://10.10.0.5:50061 the installed OS reads "
        "its cloud-init from"
    ]


def test_a_host_belongs_to_one_pool() -> None:
    text = site_yaml() + (
        "  dc1-spare:\n"
        "    environment: dc1\n"
        "    hosts: [gpu02]\n"
        "    max_nodes: 1\n"
    )
    assert errors_of(text) == [
        "test.yaml:48: pools.dc1-spare.hosts[0]: 'gpu02' is already in pool 'dc1-h100': a host "
        "belongs to one pool; list the hosts of each pool"
    ]
