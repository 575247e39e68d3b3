"""First-boot files of bare-metal hosts: cloud-init user data and an iPXE script per host.

Every provisioning hook (Metal3, Tinkerbell, command) hands a host the same files, rendered here
from the jinja2 templates in blueprints/compose/templates/firstboot/. They never hold a secret: the
kubeadm join token is read on the host from JOIN_TOKEN_PATH, which the provisioner writes
(Metal3 through the host's metaData secret, Tinkerbell through a workflow action that reads the
host's join-token Secret, the command hook through its JOIN_TOKEN variable).
The user data assumes an Ubuntu image (apt, Ubuntu's NVIDIA server driver packages).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jinja2

import catalog
from blueprints.compose.sharing import operator_sharing
from blueprints.spec.models import GPU_TAINT, Blueprint, GpuPool, Host, OnPremSite, Taint
from catalog.fabric import server_adapters
from components.baremetal.boot import JOIN_TOKEN_PATH, TOKEN_METADATA_KEY
from components.naming import label_value

NVIDIA_DRIVER_BRANCH = "570"
"""NVIDIA data-centre driver branch (R570 production branch: Hopper and Blackwell)."""

FABRIC_LABEL = "aifactory.io/fabric"
"""Node label: the site's compute fabric (infiniband, roce) the host's adapters attach to."""
LEAF_LABEL = "aifactory.io/fabric-leaf"
"""Node label: the leaf switch group the host's rack attaches to (a topology level)."""
LINK_TYPES = {"infiniband": 1, "roce": 2}
"""ConnectX port link type (mstconfig LINK_TYPE_P<n>): 1 InfiniBand, 2 Ethernet."""

USER_DATA = "user-data"
META_DATA = "meta-data"
IPXE = "boot.ipxe"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("blueprints.compose", "templates/firstboot"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # cloud-config and iPXE, not HTML
    )


@dataclass(frozen=True)
class HostContext:
    """Everything the templates need about one host, derived from the blueprint."""

    site: str
    site_spec: OnPremSite
    host: Host
    pool: str | None
    labels: dict[str, str]
    taints: list[Taint]


def pool_of(spec: Blueprint, site_name: str, hostname: str) -> tuple[str, GpuPool] | None:
    """The on-prem pool that holds a host (a pool without `hosts` holds every GPU host)."""
    site = spec.environments[site_name]
    gpu_host = isinstance(site, OnPremSite) and any(
        h.hostname == hostname for h in site.gpu_hosts)
    for name, pool in spec.pools.items():
        if pool.environment == site_name and (hostname in pool.hosts if pool.hosts is not None
                                              else gpu_host):
            return name, pool
    return None


def node_labels(spec: Blueprint, site_name: str, host: Host) -> dict[str, str]:
    """Labels the kubelet registers the node with (none in kubelet-restricted prefixes)."""
    server = catalog.server(host.server_model)
    labels = {
        "aifactory.io/factory": spec.name,
        "aifactory.io/site": site_name,
        "aifactory.io/rack": label_value(host.rack),
        "aifactory.io/server-model": host.server_model,
        "aifactory.io/role": host.role,
    }
    if server.gpus:
        labels["aifactory.io/gpu"] = server.gpu
    site = spec.environments[site_name]
    fabric = site.fabric if isinstance(site, OnPremSite) else None
    if fabric is not None:
        labels[FABRIC_LABEL] = fabric.kind
        leaf = fabric.leaf_of(host.rack)
        if leaf is not None:  # the topology level above the rack (Kueue's site Topology)
            labels[LEAF_LABEL] = leaf
    found = pool_of(spec, site_name, host.hostname)
    if found is not None:
        labels["aifactory.io/pool"] = found[0]
        labels.update(found[1].labels)
        sharing = operator_sharing(spec, found[0], found[1])
        if sharing is not None:  # the GPU operator shares the node's GPUs by these labels
            labels.update(sharing.node_labels())
    return labels


def host_context(spec: Blueprint, site_name: str, hostname: str) -> HostContext:
    """The template context of one host of one site."""
    site = spec.environments[site_name]
    if not isinstance(site, OnPremSite):
        raise ValueError(f"{site_name!r} is a {site.kind} environment, not an on-prem site")
    host = next((h for h in site.hosts if h.hostname == hostname), None)
    if host is None:
        raise ValueError(f"{hostname!r} is not in the inventory of {site_name!r}")
    found = pool_of(spec, site_name, hostname)
    # a GPU host outside every pool keeps GPU work off until a pool takes it; storage,
    # registry and management hosts carry no GPU taint (their services select them by role)
    taints = list(found[1].taints) if found is not None else \
        [GPU_TAINT] if host.role == "gpu" else []
    return HostContext(site=site_name, site_spec=site, host=host,
                       pool=found[0] if found else None,
                       labels=node_labels(spec, site_name, host), taints=taints)


def _api_endpoint(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 443}"


def _variables(ctx: HostContext) -> dict[str, Any]:
    site, host = ctx.site_spec, ctx.host
    server = catalog.server(host.server_model)
    # 8-GPU SXM baseboards (DGX/HGX) connect their GPUs through NVSwitch: fabric manager needed
    fabric_manager = server.gpus == 8 and host.server_model.startswith(("dgx-", "hgx-"))
    driver = [f"nvidia-driver-{NVIDIA_DRIVER_BRANCH}-server-open"]
    if fabric_manager:
        driver.append(f"nvidia-fabricmanager-{NVIDIA_DRIVER_BRANCH}")
    hook = site.provisioning.hook
    delivery = {
        "metal3": f"Metal3 puts it in the host's metaData as {TOKEN_METADATA_KEY}",
        "tinkerbell": "the Tinkerbell workflow writes it from the host's join-token Secret",
        "command": "the site's create command receives it as JOIN_TOKEN",
    }[hook]
    netboot = site.provisioning.netboot
    return {
        "site": ctx.site, "hostname": host.hostname, "rack": host.rack,
        "server_model": host.server_model, "gpu_model": server.gpu, "gpus": server.gpus,
        "boot_mac": host.boot_mac, "hook": hook,
        "image_url": site.provisioning.image_url,
        "image_checksum": site.provisioning.image_checksum,
        "install_disk": site.provisioning.install_disk,
        "netboot": netboot,
        "seed_url": f"{netboot.seed_url.rstrip('/')}/{ctx.site}/{host.hostname}/"
        if netboot else None,
        "node_labels": ",".join(f"{k}={v}" for k, v in sorted(ctx.labels.items())),
        "node_taints": ",".join(f"{t.key}={t.value}:{t.effect}" if t.value
                                else f"{t.key}:{t.effect}" for t in ctx.taints),
        "driver_branch": NVIDIA_DRIVER_BRANCH, "driver_packages": driver,
        "fabric_manager": fabric_manager,
        "kubernetes_version": site.cluster.kubernetes_version,
        "api_endpoint": _api_endpoint(site.cluster.api_endpoint),
        "ca_cert_hash": site.cluster.ca_cert_hash,
        "join_token_path": JOIN_TOKEN_PATH, "token_delivery": delivery,
        "token_from_metadata": hook == "metal3", "token_metadata_key": TOKEN_METADATA_KEY,
        "fabric": _fabric_variables(site, host.server_model),
    }


def _fabric_variables(site: OnPremSite, server_model: str) -> dict[str, Any] | None:
    """How first boot sets up the host's fabric adapters (None: no fabric, or none in it)."""
    fabric = site.fabric
    if fabric is None or not server_adapters(server_model):
        return None
    return {"kind": fabric.kind, "adapters": fabric.adapters_per_host,
            "adapter_model": fabric.adapter_model, "interface": fabric.interface,
            "mtu": fabric.mtu, "link_type": LINK_TYPES[fabric.kind]}


def render_user_data(spec: Blueprint, site_name: str, hostname: str) -> str:
    """The cloud-init user data (`#cloud-config`) of one host."""
    ctx = host_context(spec, site_name, hostname)
    return _environment().get_template("user-data.j2").render(_variables(ctx))


def render_meta_data(spec: Blueprint, site_name: str, hostname: str) -> str:
    """The NoCloud meta-data of one host (instance id and hostname)."""
    host_context(spec, site_name, hostname)
    return f"instance-id: {site_name}-{hostname}\nlocal-hostname: {hostname}\n"


def render_ipxe(spec: Blueprint, site_name: str, hostname: str) -> str:
    """The iPXE script of one host."""
    ctx = host_context(spec, site_name, hostname)
    return _environment().get_template("boot.ipxe.j2").render(_variables(ctx))


def host_dir(site_name: str, hostname: str) -> str:
    """Relative directory of a host's first-boot files."""
    return f"firstboot/{site_name}/{hostname}"


def render_site_files(spec: Blueprint) -> dict[str, str]:
    """Every host's first-boot files: relative path -> content, in inventory order."""
    files: dict[str, str] = {}
    for site_name, env in spec.environments.items():
        if not isinstance(env, OnPremSite):
            continue
        for host in env.hosts:
            base = host_dir(site_name, host.hostname)
            files[f"{base}/{USER_DATA}"] = render_user_data(spec, site_name, host.hostname)
            files[f"{base}/{META_DATA}"] = render_meta_data(spec, site_name, host.hostname)
            files[f"{base}/{IPXE}"] = render_ipxe(spec, site_name, host.hostname)
    return files
